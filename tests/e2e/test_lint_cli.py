"""`tariff lint`: what a rule set declares and never uses, what no example exercises, and a
coverage figure per file; exit 1 with findings, 0 without."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tariff.cli import main

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "tariff" / "demo" / "catalog"

RULES = """offer youth_plan {
  eligible all {
    age: customer.age >= 18 else "minor"
    youth: "youth" in customer.segments or customer.age > 30
  }
  example adult {
    given customer.age = 40, customer.segments = {youth}
    expect eligible youth_plan
  }
  example nothing {
    given area = CN
    expect eligible ring_tone_addon
  }
}

zones spare_zones {
  "0755": local
}

zones used_zones {
  "0755": local
  "010": far
}

bands day_night {
  day: 08:00 .. 20:00
  night: otherwise
}

plan youth_plan {
  currency CNY
  price rent: recurring 10.00 per month
  price extra: one_time 5.00 when customer.age > 60
  usage local_voice {
    zones used_zones
    rate local *: 0.10 per minute
  }
  example rent_only {
    given customer.age = 40, cart = [youth_plan]
    expect monthly 10.00 CNY
  }
}
"""


def test_the_demo_catalog_lints_with_a_coverage_figure_per_file(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["lint", str(DEMO), "--output", "json"])
    report = json.loads(capsys.readouterr().out)
    assert code == (0 if report["ok"] else 1)
    files = {f["path"]: f for f in report["coverage"]["files"]}
    youth = files["products/youth_plan.tariff"]
    assert youth["rules"] > 0
    assert 0 < youth["covered"] <= youth["rules"]
    assert report["coverage"]["rules"] == sum(f["rules"] for f in files.values())
    for finding in report["findings"]:
        assert finding["severity"] == "warning"
        assert finding["rendered"].startswith(finding["path"])


def test_findings_and_coverage_of_a_small_rule_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "youth.tariff"
    rules.write_text(RULES, encoding="utf-8")
    assert main(["lint", str(rules), "--catalog", str(DEMO)]) == 1
    out = capsys.readouterr().out
    found = {
        line.split("]: ")[0].split("[")[1] + ": " + line.split("]: ")[1]
        for line in out.splitlines()
        if "warning[" in line
    }
    path = rules.as_posix()
    assert "unused-zones: no usage block names zones `spare_zones`" in found
    assert any(f.startswith("unused-zone: ") and "`far`" in f for f in found)
    assert "unused-bands: no usage block names bands `day_night`" in found
    assert (
        "example-covers-nothing: example `nothing` evaluates no rule: what does it test?" in found
    )
    unexercised = sorted(f for f in found if f.startswith("unexercised-rule: "))
    assert unexercised == [
        "unexercised-rule: no example exercises price `extra` of `youth_plan`",
        "unexercised-rule: no example exercises rate `local *` of local_voice of `youth_plan`",
    ]
    assert not any("`age`" in f or "`youth`" in f or "`rent`" in f for f in unexercised)
    coverage = out.split("# coverage (rules an example evaluates)\n")[1].splitlines()
    assert coverage[0].split("\t") == ["file", "rules", "covered", "%"]
    assert coverage[1].split("\t") == [path, "5", "3", "60.0%"]
    assert coverage[-1].split("\t") == ["total", "5", "3", "60.0%"]
    assert main(["lint", str(rules), "--catalog", str(DEMO), "--output", "csv"]) == 1
    tables = capsys.readouterr().out.split("\n\n")
    assert tables[0].startswith("path,line,column,code,message\n")
    assert tables[1].splitlines()[-1] == "total,5,3,60.0%"


CLEAN = """offer youth_plan {
  eligible all {
    age: customer.age >= 18 or "personal" in customer.segments
  }
  example adult {
    given customer.age = 40
    expect eligible youth_plan
  }
}
"""


def test_a_fully_covered_rule_set_and_fail_under(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clean = tmp_path / "clean.tariff"
    clean.write_text(CLEAN, encoding="utf-8")
    assert main(["lint", str(clean), "--catalog", str(DEMO), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["findings"] == []
    assert report["coverage"]["percent"] == 100.0
    assert main(["lint", str(clean), "--catalog", str(DEMO), "--fail-under", "100"]) == 0
    # a price no example reaches: shown, counted, and judged by --fail-under alone
    partial = tmp_path / "partial.tariff"
    partial.write_text(
        CLEAN + "\nplan youth_plan {\n  currency CNY\n  price rent: recurring 9.00 per month\n}\n",
        encoding="utf-8",
    )
    capsys.readouterr()
    assert main(["lint", str(partial), "--catalog", str(DEMO)]) == 0
    out = capsys.readouterr().out
    assert "warning[unexercised-rule]: no example exercises price `rent` of `youth_plan`" in out
    assert main(["lint", str(partial), "--catalog", str(DEMO), "--fail-under", "60"]) == 1
    assert main(["lint", str(partial), "--catalog", str(DEMO), "--fail-under", "50"]) == 0
