"""dsl/examples/ is a catalog bundle of its own: `tariff check` finds no error in it and
`tariff test` passes every example written in its rule files."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog.bundle import read_path
from tariff.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "dsl" / "examples"


def test_the_examples_folder_reads_as_a_bundle_with_every_rule_file() -> None:
    content = read_path(EXAMPLES)
    listed = {source.path for _, source in content.all_rule_sources()}
    assert listed == {p.relative_to(EXAMPLES).as_posix() for p in EXAMPLES.rglob("*.tariff")}


def test_check_finds_no_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(EXAMPLES)]) == 0
    captured = capsys.readouterr()
    assert "0 error(s)" in captured.err
    assert "error" not in captured.out


def test_every_example_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["test", str(EXAMPLES)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert not [line for line in lines if line.startswith(("FAIL", "NOT RUN"))]
    assert sum(line.startswith("PASS ") for line in lines) >= 10
    assert lines[-1].endswith("0 failed, 0 not run")
