"""The `tariff` command as an administrator uses it: one-line errors, non-zero exits, and a
catalog left as it was when a command is refused."""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from catalog.versions import VersionNumber
from tariff import exits
from tariff.cli import main
from tariff.instants import FORMATS

ROOT = Path(__file__).resolve().parents[2]
STARTER = ROOT / "examples" / "starter"


@pytest.fixture
def db(tmp_path: Path) -> list[str]:
    return ["--database-url", f"sqlite:///{tmp_path / 'cli.sqlite'}"]


def _one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("tariff: ")
    return err[0]


def test_import_publish_export_round_trip(
    db: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["bundle", "import", str(STARTER), *db]) == 0
    assert main(["publish", "--effective-from", "2026-01-01T00:00:00Z", *db]) == 0
    assert "published version 1, in force from 2026-01-01T00:00:00Z" in capsys.readouterr().out
    assert main(["bundle", "export", "--version", "1", str(tmp_path / "v1"), *db]) == 0
    exported = sorted(p.relative_to(tmp_path / "v1") for p in (tmp_path / "v1").rglob("*"))
    assert exported == sorted(p.relative_to(STARTER) for p in STARTER.rglob("*"))
    for name in exported:
        if (STARTER / name).is_file():
            assert (tmp_path / "v1" / name).read_bytes() == (STARTER / name).read_bytes()


def test_a_malformed_bundle_is_one_line_and_imports_nothing(
    db: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as archive:
        archive.writestr("../../etc/evil.tariff", "x")
    assert main(["bundle", "import", str(bad), *db]) == exits.USAGE
    assert ".." in _one_error_line(capsys)
    assert main(["bundle", "export", str(tmp_path / "empty"), *db]) == exits.NOT_FOUND
    assert "no catalog store" in _one_error_line(capsys)  # not even an empty one was made


def test_publishing_nothing_new_is_refused(
    db: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["bundle", "import", str(STARTER), *db]) == 0
    assert main(["publish", *db]) == 0
    capsys.readouterr()
    assert main(["publish", *db]) == exits.FINDINGS
    assert "nothing to publish" in _one_error_line(capsys)


def test_bad_instants_and_unreachable_databases_are_one_line(
    db: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["bundle", "import", str(STARTER), *db]) == 0
    for bad in ("tomorrow", "2026-03-10T10:00:00", "10/03/2026", "+1y"):
        assert main(["publish", "--effective-from", bad, *db]) == exits.USAGE
        line = _one_error_line(capsys)
        assert f"argument --effective-from: {bad!r}" in line
        assert FORMATS in line  # which formats are accepted
        assert "Invalid isoformat" not in line
    assert main(["bundle", "export", "--version", "1", "v1.zip", *db]) == exits.NOT_FOUND
    assert "version 1" in _one_error_line(capsys)  # nothing was published
    unreachable = ["--database-url", "postgresql+psycopg://nobody@127.0.0.1:1/none"]
    assert main(["db", "upgrade", *unreachable]) == exits.UNREACHABLE
    assert "the catalog database is unavailable: " in _one_error_line(capsys)


def test_instants_are_dates_zoned_times_or_offsets_from_now(
    db: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["bundle", "import", str(STARTER), *db]) == 0
    assert main(["publish", "--effective-from", "2026-01-01", *db]) == 0
    # midnight in the operator's zone (Asia/Shanghai)
    assert "in force from 2025-12-31T16:00:00Z" in capsys.readouterr().out
    other = ["--database-url", f"sqlite:///{tmp_path / 'other.sqlite'}"]
    assert main(["bundle", "import", str(STARTER), *other]) == 0
    before = datetime.now(UTC)
    assert main(["publish", "--effective-from", "+1d", *other]) == 0
    stamp = capsys.readouterr().out.strip().rsplit(" ", 1)[-1]
    effective = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    assert before + timedelta(days=1) - timedelta(seconds=1) <= effective
    assert effective <= datetime.now(UTC) + timedelta(days=1)


READ_ONLY = {
    "bundle export": ["bundle", "export", "out"],
    "publish": ["publish"],
    "check loose files": ["check", "rules.tariff"],
    "test loose files": ["test", "rules.tariff"],
    "rate": ["rate", "usage.csv", "--no-progress"],
    "shadow": ["shadow", "usage.csv", "--version", "1", "--version", "draft", "--no-progress"],
    "audit": ["audit"],
    "diff": ["diff", "live", "draft"],
}


@pytest.mark.parametrize("command", sorted(READ_ONLY))
def test_reading_a_store_that_is_not_there_creates_nothing(
    command: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TARIFF_DATABASE_URL", raising=False)
    (tmp_path / "rules.tariff").write_text("offer youth_plan {\n}\n", encoding="utf-8")
    (tmp_path / "usage.csv").write_bytes((ROOT / "tariff" / "demo" / "usage.csv").read_bytes())
    assert main(READ_ONLY[command]) == exits.NOT_FOUND
    line = _one_error_line(capsys)
    assert "no catalog store at tariff.sqlite" in line
    assert "tariff bundle import BUNDLE" in line  # how to create one
    if command.endswith("loose files"):
        assert "--catalog" in line  # what loose files can be checked against instead
    assert not (tmp_path / "tariff.sqlite").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rules.tariff", "usage.csv"]


def test_check_a_bundle_and_loose_files(
    db: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", str(STARTER)]) == 0
    summary = capsys.readouterr().err
    assert "0 error(s)" in summary
    bad = tmp_path / "typo.tariff"
    bad.write_text(
        "offer youth_plan {\n  eligible all {\n    age: customer.agee between 15 and 26\n  }\n}\n",
        encoding="utf-8",
    )
    assert main(["check", str(bad), "--catalog", str(STARTER)]) == 1
    out = capsys.readouterr().out
    assert f"{bad.as_posix()}:3:10: error[unknown-name]" in out
    assert "    age: customer.agee between 15 and 26\n         ^~~~~~~~~~~~~" in out
    assert "hint: did you mean `customer.age`?" in out


def test_check_speaks_json_for_editors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    bad = tmp_path / "broken.tariff"
    bad.write_text("offer youth_plan {\n", encoding="utf-8")
    assert main(["check", str(bad), "--catalog", str(STARTER), "--format", "json"]) == 1
    payload = json.loads(capsys.readouterr().out)
    assert payload["ok"] is False
    [first, *_] = payload["diagnostics"]
    assert first["code"] == "syntax"
    assert first["path"] == bad.as_posix()
    assert first["line"] >= 1


def test_check_of_a_missing_path_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "/no/such/rules.tariff", "--catalog", str(STARTER)]) == exits.NOT_FOUND
    assert "no such file" in _one_error_line(capsys)


def test_test_runs_the_examples_and_fails_on_a_wrong_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["test", str(STARTER)]) == 0
    out = capsys.readouterr().out
    assert "PASS youth_ok (products/youth_plan.tariff:7)" in out
    assert out.rstrip().splitlines()[-1].startswith("2 passed, 0 failed")
    import shutil

    copy = tmp_path / "bundle"
    shutil.copytree(STARTER, copy)
    youth = copy / "products" / "youth_plan.tariff"
    youth.write_text(
        youth.read_text(encoding="utf-8").replace("customer.age = 20", "customer.age = 40"),
        encoding="utf-8",
    )
    assert main(["test", str(copy)]) == 1
    out = capsys.readouterr().out
    assert "FAIL youth_ok (products/youth_plan.tariff:7)" in out
    assert "  actual:   not eligible because age_out_of_range" in out
    assert "age (line 4): false (customer.age = 40)" in out


def test_the_language_samples_are_a_catalog_that_imports_and_publishes(
    db: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    samples = ROOT / "dsl" / "examples"
    assert main(["bundle", "import", str(samples), *db]) == 0
    assert main(["publish", *db]) == 0
    assert "published version 1" in capsys.readouterr().out


def test_the_demo_loads_into_an_empty_database_only(tmp_path: Path) -> None:
    from tariff.bootstrap import bootstrap
    from tariff.cli import load_demo
    from tariff.settings import Settings

    app = bootstrap(Settings(database_url=f"sqlite:///{tmp_path / 'demo.sqlite'}"))
    try:
        assert load_demo(app)
        [version] = app.catalog.list_versions()
        assert version.number == 1
        assert "family_bundle" in app.snapshots.get(VersionNumber(1)).offers
        assert not load_demo(app)  # a catalog is there now: left alone
        assert len(app.catalog.list_versions()) == 1
    finally:
        app.close()
