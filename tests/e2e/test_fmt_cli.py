"""`tariff fmt` as an author or a CI step uses it: in-place rewrite, --check, --diff, and
files with syntax errors reported and left untouched."""

from __future__ import annotations

from pathlib import Path

import pytest

from tariff.cli import main

UGLY = "offer a {eligible all{r:customer.age>=18 # adult\n}}\n"
CANONICAL = "offer a {\n  eligible all {\n    r: customer.age >= 18  # adult\n  }\n}\n"


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_rewrites_files_in_place_and_searches_folders(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ugly = _write(tmp_path / "rules" / "deep" / "a.tariff", UGLY)
    fine = _write(tmp_path / "rules" / "b.tariff", CANONICAL)
    other = _write(tmp_path / "rules" / "notes.txt", UGLY)
    assert main(["fmt", str(tmp_path / "rules")]) == 0
    assert ugly.read_text(encoding="utf-8") == CANONICAL
    assert fine.read_text(encoding="utf-8") == CANONICAL
    assert other.read_text(encoding="utf-8") == UGLY
    out, err = capsys.readouterr()
    assert f"reformatted {ugly.as_posix()}" in out
    assert "1 file(s) reformatted, 1 unchanged" in err
    assert main(["fmt", str(ugly)]) == 0  # a second run changes nothing
    assert ugly.read_text(encoding="utf-8") == CANONICAL


def test_check_lists_files_that_would_change_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ugly = _write(tmp_path / "a.tariff", UGLY)
    fine = _write(tmp_path / "b.tariff", CANONICAL)
    assert main(["fmt", "--check", str(ugly), str(fine)]) == 1
    assert ugly.read_text(encoding="utf-8") == UGLY
    out = capsys.readouterr().out
    assert f"would reformat {ugly.as_posix()}" in out
    assert fine.as_posix() not in out
    assert main(["fmt", "--check", str(fine)]) == 0


def test_diff_prints_a_unified_diff_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ugly = _write(tmp_path / "a.tariff", UGLY)
    assert main(["fmt", "--diff", str(ugly)]) == 0
    assert ugly.read_text(encoding="utf-8") == UGLY
    out = capsys.readouterr().out
    assert f"--- {ugly.as_posix()} (original)" in out
    assert f"+++ {ugly.as_posix()} (formatted)" in out
    assert "-offer a {eligible all{r:customer.age>=18 # adult" in out
    assert "+    r: customer.age >= 18  # adult" in out
    assert main(["fmt", "--diff", "--check", str(ugly)]) == 1


def test_a_syntax_error_is_reported_and_the_file_left_untouched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = _write(tmp_path / "bad.tariff", "offer a {\n  eligible {\n}\n")
    ugly = _write(tmp_path / "ugly.tariff", UGLY)
    assert main(["fmt", str(bad), str(ugly)]) == 1
    assert bad.read_text(encoding="utf-8") == "offer a {\n  eligible {\n}\n"
    assert ugly.read_text(encoding="utf-8") == CANONICAL  # the others are still formatted
    err = capsys.readouterr().err
    assert f"{bad.as_posix()}:2:" in err
    assert "error[syntax]" in err
    assert "  eligible {\n" in err
    assert "1 with errors (left untouched)" in err


def test_a_missing_path_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fmt", str(tmp_path / "nope.tariff")]) == 3  # not found
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "no such file or directory" in err[0]
