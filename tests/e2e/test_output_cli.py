"""`--output table|plain|json|csv` on every command that prints results, and the one table
of exit statuses, command by command, against the starter bundle in process."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from rich.cells import cell_len

from tariff import exits
from tariff.cli import main
from tariff.gen.usage import UsageSpec, write_usage

ROOT = Path(__file__).resolve().parents[2]
STARTER = ROOT / "examples" / "starter"
DEMO = ROOT / "tariff" / "demo" / "catalog"
SALE = ["--area", "GD_SZ", "--channel", "hall", "--time", "2026-03-02T10:00:00+08:00"]
YOUTH = ["--segment", "youth", "--age", "20", "--customer-type", "personal"]
OLD = ["--segment", "youth", "--age", "40", "--customer-type", "personal"]


@pytest.fixture(scope="module")
def usage(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from catalog import bundle

    path = tmp_path_factory.mktemp("usage") / "usage.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        write_usage(bundle.read_path(DEMO), UsageSpec(events=300, subscribers=20, seed=3), out)
    return path


def commands(usage: Path, tmp: Path) -> dict[str, tuple[list[str], list[str]]]:
    """name -> (argv, headers its table shows)."""
    bundle = ["--bundle", str(STARTER)]
    return {
        "eligible list": (
            ["eligible", "list", *bundle, *SALE, *YOUTH],
            ["offer", "name", "kind", "category", "one-time", "recurring"],
        ),
        "eligible check": (
            ["eligible", "check", *bundle, *SALE, *YOUTH, "youth_plan"],
            ["item", "offer", "result", "reasons", "proposals"],
        ),
        "quote": (
            ["quote", "--bundle", str(DEMO), *SALE, *YOUTH, "mobile_59"],
            ["item", "offer", "price", "type", "list", "incl. tax", "excl. tax", "tax", "steps"],
        ),
        "rate": (
            ["rate", str(usage), "--bundle", str(DEMO), "--out", str(tmp / "r.csv")],
            ["offer", "currency", "events", "total"],
        ),
        "shadow": (
            ["shadow", str(usage), "--version", str(DEMO), "--version", str(DEMO)],
            ["currency", "A", "B", "difference", "%"],
        ),
        "test": (["test", str(STARTER)], ["result", "example", "where", "expected", "actual"]),
    }


NAMES = ["eligible list", "eligible check", "quote", "rate", "shadow", "test"]


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    status = main([*argv, *(["--no-progress"] if argv[0] in ("rate", "shadow") else [])])
    return status, capsys.readouterr().out


@pytest.mark.parametrize("name", NAMES)
def test_a_table_fits_80_columns_and_never_breaks_a_header(
    name: str,
    usage: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    argv, headers = commands(usage, tmp_path)[name]
    status, out = run([*argv, "--output", "table"], capsys)
    assert status == exits.OK, out
    table_lines = [line for line in out.splitlines() if not line.startswith("  ")]
    widest = max(cell_len(line) for line in table_lines)
    assert widest <= 80, "\n".join(line for line in table_lines if cell_len(line) > 80)
    for header in headers:  # whole, on one line: never broken
        assert any(header in line for line in out.splitlines()), header


@pytest.mark.parametrize("name", NAMES)
def test_plain_is_tab_separated_with_a_header_line(
    name: str, usage: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv, headers = commands(usage, tmp_path)[name]
    status, out = run(argv, capsys)  # piped: plain is the default
    assert status == exits.OK
    if name == "test":
        assert out.splitlines()[0].startswith("PASS ")
        return
    lines = out.splitlines()
    assert "\t".join(headers) in lines
    width = len(headers)
    start = lines.index("\t".join(headers))
    row = lines[start + 1]
    assert len(row.split("\t")) == width, row
    assert "│" not in out
    assert "─" not in out


@pytest.mark.parametrize("name", NAMES)
def test_json_is_one_document(
    name: str, usage: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv, _ = commands(usage, tmp_path)[name]
    status, out = run([*argv, "--output", "json"], capsys)
    assert status == exits.OK
    assert isinstance(json.loads(out), dict)


@pytest.mark.parametrize("name", NAMES)
def test_csv_has_the_headers_and_parses(
    name: str, usage: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv, headers = commands(usage, tmp_path)[name]
    status, out = run([*argv, "--output", "csv"], capsys)
    assert status == exits.OK
    blocks = [list(csv.reader(io.StringIO(block))) for block in out.split("\n\n")]
    assert [headers] == [b[0] for b in blocks if b and b[0] == headers]
    assert all(len(row) == len(block[0]) for block in blocks for row in block)


def test_check_speaks_every_mode(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    broken = tmp_path / "bundle"
    shutil.copytree(STARTER, broken)
    youth = broken / "products" / "youth_plan.tariff"
    youth.write_text(
        youth.read_text(encoding="utf-8").replace("customer.age", "customer.agee", 1),
        encoding="utf-8",
    )
    assert main(["check", str(broken), "--output", "plain"]) == exits.FINDINGS
    assert "error[unknown-name]" in capsys.readouterr().out
    assert main(["check", str(broken), "--output", "json"]) == exits.FINDINGS
    assert json.loads(capsys.readouterr().out)["ok"] is False
    assert main(["check", str(broken), "--output", "csv"]) == exits.FINDINGS
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0] == ["path", "line", "column", "severity", "code", "message", "hint"]
    assert any(row[4] == "unknown-name" for row in rows[1:])
    assert main(["check", str(STARTER), "--output", "csv"]) == exits.OK


def test_exit_statuses_are_one_table(
    usage: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same situation, the same status, whichever command meets it."""
    bundle = ["--bundle", str(STARTER)]
    nowhere = ["--server", "127.0.0.1:1", "--timeout", "5"]
    cases = {
        "qualifies": (["eligible", "check", *bundle, *SALE, *YOUTH, "youth_plan"], exits.OK),
        "does not qualify (check)": (
            ["eligible", "check", *bundle, *SALE, *OLD, "youth_plan"],
            exits.FINDINGS,
        ),
        "does not qualify (quote)": (["quote", *bundle, *SALE, *OLD, "youth_plan"], exits.FINDINGS),
        "an unknown flag": (["eligible", "list", *bundle, *SALE, "--colour"], exits.USAGE),
        "a bad date": (
            ["eligible", "list", *bundle, "--area", "GD_SZ", "--channel", "hall", "--time", "soon"],
            exits.USAGE,
        ),
        "an unknown area (eligible)": (
            ["eligible", "list", *bundle, "--area", "XX", "--channel", "hall"],
            exits.USAGE,
        ),
        "an unknown area (quote)": (
            ["quote", *bundle, "--area", "XX", "--channel", "hall", "youth_plan"],
            exits.USAGE,
        ),
        "a missing file (check)": (["check", str(tmp_path / "none.tariff")], exits.NOT_FOUND),
        "a missing file (rate)": (
            ["rate", str(tmp_path / "none.csv"), *bundle, "--no-progress"],
            exits.NOT_FOUND,
        ),
        "a missing file (fmt)": (["fmt", str(tmp_path / "none.tariff")], exits.NOT_FOUND),
        "no server (eligible)": (["eligible", "list", *nowhere, *SALE], exits.UNREACHABLE),
        "no server (quote)": (["quote", *nowhere, *SALE, "youth_plan"], exits.UNREACHABLE),
        "no server (health)": (
            ["health", "--server", "127.0.0.1:1", "--timeout", "5"],
            exits.UNREACHABLE,
        ),
        "no server (review)": (["review", "show", *nowhere], exits.UNREACHABLE),
        "no server (audit)": (["audit", *nowhere], exits.UNREACHABLE),
    }
    found = {}
    for name, (argv, _) in cases.items():
        found[name] = main(argv)
        capsys.readouterr()
    assert found == {name: status for name, (_, status) in cases.items()}


def test_store_commands_speak_every_mode(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = ["--database-url", f"sqlite:///{tmp_path / 'store.sqlite'}"]
    assert main(["bundle", "import", str(STARTER), *db, "--dry-run", "--output", "csv"]) == 0
    [header, row] = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert header == ["dry_run", "created", "updated", "obsoleted"]
    assert "product:youth_plan" in row[1].split(";")
    assert main(["bundle", "import", str(STARTER), *db, "--output", "json"]) == 0
    assert "product:youth_plan" in json.loads(capsys.readouterr().out)["created"]
    assert main(["diff", "live", "draft", *db, "--output", "csv"]) == exits.FINDINGS
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0][:3] == ["offer", "kind", "change"]
    assert any(row[0] == "youth_plan" for row in rows[1:])
    assert main(["diff", "live", "draft", *db, "--output", "json"]) == exits.FINDINGS
    assert json.loads(capsys.readouterr().out)["offers"]
    publish = ["publish", "--effective-from", "2026-01-01", *db, "--output", "json"]
    assert main(publish) == 0
    published = json.loads(capsys.readouterr().out)
    assert (published["version"], published["effective_from"]) == (1, "2025-12-31T16:00:00Z")
    assert main(["publish", *db]) == exits.FINDINGS  # nothing new
    assert main(["diff", "live", "draft", *db, "--output", "plain"]) == exits.OK


def test_fmt_and_gen_speak_json_and_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "ugly.tariff").write_text("offer   youth_plan {\n}\n", encoding="utf-8")
    from dsl.formatter import format_source

    fine = format_source("offer youth_plan {\n}\n", "fine.tariff")
    (rules / "fine.tariff").write_text(fine, encoding="utf-8")
    capsys.readouterr()
    assert main(["fmt", str(rules), "--check", "--output", "json"]) == exits.FINDINGS
    report = json.loads(capsys.readouterr().out)
    assert report["changed"] == [(rules / "ugly.tariff").as_posix()]
    assert report["unchanged"] == [(rules / "fine.tariff").as_posix()]
    assert main(["fmt", str(rules), "--check", "--output", "csv"]) == exits.FINDINGS
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0] == ["file", "result"]
    assert [(rules / "ugly.tariff").as_posix(), "would reformat"] in rows
    out = tmp_path / "generated"
    argv = ["gen", "catalog", str(out), "--offers", "2", "--areas", "1", "--seed", "1"]
    assert main([*argv, "--output", "json"]) == exits.OK
    assert json.loads(capsys.readouterr().out)["products"] >= 2
