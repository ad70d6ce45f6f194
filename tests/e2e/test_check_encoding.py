"""A rule file that is not UTF-8, wherever it is read from (loose files, `--catalog`
bundles, bundle folders and zips): the first bad byte is reported at its line and column,
never as a decode error without a place or a traceback."""

from __future__ import annotations

import json
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from catalog import bundle
from catalog.errors import ValidationError
from tariff.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "dsl" / "examples"

#: The byte 0xFF is column 24 of line 3: columns count code points (`亲情` is two).
BAD = "offer youth_plan {\n  eligible all {\n    亲情: customer.age > \udcff 1\n  }\n}\n"


def write_bad(path: Path) -> Path:
    data = BAD.encode("utf-8", "surrogateescape")
    assert data.count(b"\xff") == 1
    path.write_bytes(data)
    return path


def test_check_puts_the_bad_byte_at_its_line_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = write_bad(tmp_path / "bad.tariff")
    assert main(["check", str(bad), "--catalog", str(EXAMPLES)]) == 1
    captured = capsys.readouterr()
    assert f"{bad.as_posix()}:3:24: error[encoding]: invalid UTF-8 byte 0xFF" in captured.out
    assert "    亲情: customer.age > \ufffd 1\n" in captured.out  # shown, not crashing stdout
    wide = len("    ") + 2 * len("亲情") + len(": customer.age > ")
    assert "\n" + " " * wide + "^\n" in captured.out  # under the byte: 亲情 is 4 wide
    assert "hint: save the file as UTF-8" in captured.out
    assert "1 error(s)" in captured.err


def test_check_json_puts_the_bad_byte_at_its_line_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = write_bad(tmp_path / "bad.tariff")
    assert main(["check", str(bad), "--catalog", str(EXAMPLES), "--format", "json"]) == 1
    payload = json.loads(capsys.readouterr().out)
    assert payload["ok"] is False
    [problem] = payload["diagnostics"]
    assert (problem["code"], problem["line"], problem["column"]) == ("encoding", 3, 24)


def test_test_reports_the_bad_byte_and_runs_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = write_bad(tmp_path / "bad.tariff")
    assert main(["test", str(bad), "--catalog", str(EXAMPLES)]) == 1
    out = capsys.readouterr().out
    assert f"{bad.as_posix()}:3:24: error[encoding]" in out


def bundle_with_bad_rule_file(tmp_path: Path) -> Path:
    folder = tmp_path / "bundle"
    shutil.copytree(EXAMPLES, folder)
    rules = folder / "eligibility.tariff"
    text = rules.read_bytes()
    rules.write_bytes(text + b"\n# \xe4\xba\xb2\xe6\x83\x85 \xff\n")  # "# 亲情 " then 0xFF
    return folder


def zipped(folder: Path, target: Path) -> Path:
    with zipfile.ZipFile(target, "w") as archive:
        for file in sorted(folder.rglob("*")):
            if file.is_file():
                archive.write(file, file.relative_to(folder).as_posix())
    return target


def test_a_bundle_names_the_line_and_column_of_the_bad_byte(tmp_path: Path) -> None:
    folder = bundle_with_bad_rule_file(tmp_path)
    line = (EXAMPLES / "eligibility.tariff").read_bytes().count(b"\n") + 2
    where = f"eligibility.tariff: line {line} column 6"
    archive = zipped(folder, tmp_path / "b.zip")
    readers: list[Callable[[], object]] = [
        lambda: bundle.read_path(folder),
        lambda: bundle.read_path(archive),
        lambda: bundle.from_zip_bytes(archive.read_bytes()),
    ]
    for read in readers:
        with pytest.raises(ValidationError) as caught:
            read()
        [violation] = caught.value.violations
        assert violation.field == where
        assert violation.description.startswith("not valid UTF-8 (byte 0xff")


@pytest.mark.parametrize("command", ["check", "test"])
def test_check_of_such_a_bundle_is_one_located_line(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = bundle_with_bad_rule_file(tmp_path)
    for path in (folder, zipped(folder, tmp_path / "b.zip")):
        assert main([command, str(path)]) == 2  # unreadable input (README, Exit statuses)
        [line] = capsys.readouterr().err.strip().splitlines()
        assert line.startswith("tariff: error: eligibility.tariff: line ")
        assert " column 6: not valid UTF-8" in line
    loose = tmp_path / "ok.tariff"
    loose.write_text("offer youth_plan {\n}\n", encoding="utf-8")
    assert main([command, str(loose), "--catalog", str(folder)]) == 2
    assert " column 6: not valid UTF-8" in capsys.readouterr().err
