"""`tariff diff` as a product manager reviews a change: per offer, then the rule files line
by line; versions, `live`, `draft` and bundles as sides; exit 0 same, 1 different, 2 a side
that is nothing, 3 a version that does not exist."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tariff.cli import main

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "tariff" / "demo" / "catalog"
OLD_RATE = "rate * *: 0.20 per minute increments 60s then 6s"
NEW_RATE = "rate * *: 0.25 per minute increments 60s then 6s"


@pytest.fixture
def dearer(tmp_path: Path) -> Path:
    """The demo bundle with 畅享 39's long distance at 0.25 a minute."""
    copy = tmp_path / "dearer"
    shutil.copytree(DEMO, copy)
    rules = copy / "products" / "mobile_39.tariff"
    text = rules.read_text(encoding="utf-8")
    assert OLD_RATE in text
    rules.write_text(text.replace(OLD_RATE, NEW_RATE), encoding="utf-8")
    return copy


def test_two_bundles_per_offer_then_line_by_line(
    dearer: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["diff", str(DEMO), str(dearer)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "product mobile_39: modified"
    assert out[1] == "  prices:"
    assert out[2].startswith("    ~ usage ")
    assert "0.20 per minute" in out[2]
    assert "-> " in out[2]
    assert "0.25 per minute" in out[2].partition("-> ")[2]
    header = next(i for i, line in enumerate(out) if line.startswith("--- "))
    assert out[header] == "--- products/mobile_39.tariff (product:mobile_39): modified"
    assert f"-  {OLD_RATE}" in out or any(line.startswith("-") and OLD_RATE in line for line in out)
    assert any(line.startswith("+") and NEW_RATE in line for line in out)


def test_json_is_the_structured_diff(dearer: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", str(DEMO), str(dearer), "--format", "json"]) == 1
    found = json.loads(capsys.readouterr().out)
    [offer] = found["offers"]
    assert (offer["code"], offer["kind"], offer["change"]) == ("mobile_39", "product", "modified")
    assert offer["items"][0]["aspect"] == "prices"
    assert [f["path"] for f in found["files"]] == ["products/mobile_39.tariff"]


def test_the_same_catalog_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", str(DEMO), str(DEMO)]) == 0
    assert capsys.readouterr().out.startswith("no differences between")


def test_versions_live_and_draft_of_a_store(
    dearer: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = ["--database-url", f"sqlite:///{tmp_path / 'diff.sqlite'}"]
    assert main(["bundle", "import", str(DEMO), *db]) == 0
    assert main(["publish", "--effective-from", "2026-01-01T00:00:00Z", *db]) == 0
    assert main(["diff", *db]) == 0  # live (version 1) against the draft: the same
    assert main(["bundle", "import", str(dearer), *db]) == 0
    capsys.readouterr()
    assert main(["diff", *db]) == 1
    assert capsys.readouterr().out.startswith("product mobile_39: modified")
    assert main(["diff", "v1", "draft", *db]) == 1
    assert main(["diff", "1", "1", *db]) == 0
    assert main(["diff", "1", str(dearer), *db]) == 1
    capsys.readouterr()
    assert main(["diff", "7", *db]) == 3
    assert "7" in capsys.readouterr().err
    assert main(["diff", "yesterday", *db]) == 2
    err = capsys.readouterr().err
    assert "'yesterday' is not a version number" in err
