"""`tariff gen catalog` and `tariff gen usage` through the command line entry point."""

from __future__ import annotations

from pathlib import Path

import pytest

from tariff.cli import main


def test_gen_catalog_then_usage_then_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cat"
    args = ["--offers", "20", "--areas", "3", "--seed", "4", "--combos", "2"]
    assert main(["gen", "catalog", str(out), *args, "--zone-prefixes", "30"]) == 0
    assert (out / "catalog.json").is_file()
    assert len(list((out / "products").glob("*.json"))) == 20
    assert len(list((out / "combos").glob("*.json"))) == 2
    assert "20 products, 2 combos" in capsys.readouterr().out
    assert main(["check", str(out)]) == 0
    assert "0 error(s)" in capsys.readouterr().err

    csv_path = tmp_path / "usage.csv"
    usage = ["--catalog", str(out), "--events", "500", "--subscribers", "10", "--seed", "1"]
    assert main(["gen", "usage", str(csv_path), *usage]) == 0
    assert len(csv_path.read_text(encoding="utf-8").splitlines()) == 501
    again = tmp_path / "again.csv"
    assert main(["gen", "usage", str(again), *usage]) == 0
    assert again.read_bytes() == csv_path.read_bytes()


@pytest.mark.parametrize(
    "argv",
    [
        ["gen", "catalog", "OUT", "--offers", "-1", "--areas", "2", "--seed", "1"],
        ["gen", "catalog", "OUT", "--offers", "5", "--areas", "0", "--seed", "1"],
        ["gen", "catalog", "OUT", "--offers", "5", "--areas", "2", "--seed", "1", "--combos", "-2"],
    ],
)
def test_bad_catalog_arguments_exit_2_with_one_line(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [str(tmp_path / "out") if a == "OUT" else a for a in argv]
    assert main(argv) == 2  # bad input
    err = capsys.readouterr().err
    assert err.startswith("tariff: error: --")
    assert err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_bad_usage_arguments_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["gen", "usage", str(tmp_path / "u.csv"), "--catalog", str(tmp_path / "none")]
    assert main([*argv, "--events", "-5", "--subscribers", "3", "--seed", "1"]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert main([*argv, "--events", "5", "--subscribers", "3", "--seed", "1"]) == 3  # not found
    assert not (tmp_path / "u.csv").exists()


def test_non_numeric_argument_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["gen", "catalog", "x", "--offers", "many", "--areas", "2", "--seed", "1"]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()  # one line, not the usage block
    assert "invalid int value" in line
