"""The `tariff` command as an administrator uses it: one-line errors, non-zero exits, and a
catalog left as it was when a command is refused."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from catalog.versions import VersionNumber
from tariff.cli import main

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
    assert main(["bundle", "import", str(bad), *db]) == 1
    assert ".." in _one_error_line(capsys)
    assert main(["bundle", "export", str(tmp_path / "empty"), *db]) == 0
    assert not list((tmp_path / "empty").glob("products/*"))


def test_publishing_nothing_new_is_refused(
    db: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["bundle", "import", str(STARTER), *db]) == 0
    assert main(["publish", *db]) == 0
    capsys.readouterr()
    assert main(["publish", *db]) == 1
    assert "nothing to publish" in _one_error_line(capsys)


def test_bad_instants_and_unreachable_databases_are_one_line(
    db: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["publish", "--effective-from", "tomorrow", *db]) == 1
    assert "tomorrow" in _one_error_line(capsys)
    unreachable = ["--database-url", "postgresql+psycopg://nobody@127.0.0.1:1/none"]
    assert main(["db", "upgrade", *unreachable]) == 1
    assert "the catalog database is unavailable: " in _one_error_line(capsys)


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
    assert main(["check", "/no/such/rules.tariff", "--catalog", str(STARTER)]) == 1
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
