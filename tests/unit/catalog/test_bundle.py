"""Catalog bundles: exact, byte-stable round trips, and every malformed bundle refused with
violations that name the file (and line or JSON path) at fault."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import stat
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from catalog import bundle, codec
from catalog.bundle import (
    bundle_files,
    from_zip_bytes,
    parse_files,
    read_directory,
    read_path,
    to_zip_bytes,
    write_directory,
)
from catalog.bundle_layout import entity_path
from catalog.content import CatalogContent
from catalog.errors import ValidationError, Violation
from catalog.model import (
    EntityKind,
    LifecycleStatus,
    Product,
    RuleSource,
    VersionedEntity,
    ZoneTable,
)
from tests.support.catalogs import YOUTH_PLAN, sample_content
from tests.support.strategies import contents

YOUTH = "products/youth_plan.json"
ZONES = "zones/cn_zones.csv"


# --- helpers ---------------------------------------------------------------------------------


def sample_files() -> dict[str, bytes]:
    return dict(bundle_files(sample_content()))


def raw_zip(files: Mapping[str, bytes], mode: int = 0o100644) -> bytes:
    """A zip holding exactly these entries, names untouched (unsafe ones included)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.create_system = 3
            info.external_attr = mode << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


def problems(files: Mapping[str, bytes]) -> list[Violation]:
    """The violations reading these files as a zip bundle raises."""
    with pytest.raises(ValidationError) as caught:
        from_zip_bytes(raw_zip(files))
    return list(caught.value.violations)


def assert_problem(found: list[Violation], field: str, fragment: str) -> None:
    assert any(v.field == field and fragment in v.description for v in found), found


def json_bytes(data: object) -> bytes:
    return codec.dumps(data).encode()


def catalog_doc(files: Mapping[str, bytes]) -> dict[str, Any]:
    document = json.loads(files["catalog.json"])
    assert isinstance(document, dict)
    return document


def with_entity(
    content: CatalogContent, definition: Product, status: LifecycleStatus = LifecycleStatus.LAUNCHED
) -> CatalogContent:
    entities = dict(content.entities)
    entities[(definition.entity_kind, definition.code)] = VersionedEntity(definition, status, 1)
    return dataclasses.replace(content, entities=entities)


# --- round trips -----------------------------------------------------------------------------


def test_zip_round_trip_is_exact_and_byte_stable() -> None:
    content = sample_content()
    data = to_zip_bytes(content)
    assert to_zip_bytes(content) == data
    read = from_zip_bytes(data)
    assert read == content
    assert codec.encode_content(read) == codec.encode_content(content)
    assert to_zip_bytes(read) == data


def test_directory_round_trip_is_exact(tmp_path: Path) -> None:
    content = sample_content()
    write_directory(content, tmp_path / "bundle")
    assert read_directory(tmp_path / "bundle") == content
    assert read_path(tmp_path / "bundle") == content
    on_disk = {
        p.relative_to(tmp_path / "bundle").as_posix(): p.read_bytes()
        for p in (tmp_path / "bundle").rglob("*")
        if p.is_file()
    }
    assert on_disk == bundle_files(content)


def test_read_path_accepts_a_zip_file(tmp_path: Path) -> None:
    (tmp_path / "catalog.zip").write_bytes(to_zip_bytes(sample_content()))
    assert read_path(tmp_path / "catalog.zip") == sample_content()


def test_empty_catalog_round_trips() -> None:
    empty = CatalogContent.build()
    assert from_zip_bytes(to_zip_bytes(empty)) == empty
    assert set(bundle_files(empty)) == {"catalog.json"}


def test_zip_is_deterministic_sorted_with_fixed_metadata() -> None:
    with zipfile.ZipFile(io.BytesIO(to_zip_bytes(sample_content()))) as archive:
        infos = archive.infolist()
    names = [i.filename for i in infos]
    assert names == sorted(names)
    assert names == list(bundle_files(sample_content()))
    for info in infos:
        assert info.date_time == (1980, 1, 1, 0, 0, 0)
        assert info.external_attr >> 16 == stat.S_IFREG | 0o644
        assert info.create_system == 3
        assert info.compress_type == zipfile.ZIP_DEFLATED


def test_catalog_json_layout() -> None:
    files = sample_files()
    document = catalog_doc(files)
    assert document["format"] == "tariff-bundle/1"
    assert document["zone_tables"] == [
        {
            "name": "cn_zones",
            "description": "被叫号码前缀 → 资费区 (longest prefix wins)",
            "file": "zones/cn_zones.csv",
        }
    ]
    assert document["rule_sources"] == ["rules/common.tariff", "rules/holidays.tariff"]
    assert [a["code"] for a in document["areas"]] == sorted(sample_content().areas)
    assert files["catalog.json"].decode() == codec.dumps(document)
    assert "中国" in files["catalog.json"].decode()  # ensure_ascii=False


def test_entity_file_layout() -> None:
    files = sample_files()
    document = json.loads(files[YOUTH])
    assert document["status"] == "launched"
    assert document["version"] == 1
    assert document["definition"]["rule_sources"] == ["products/youth_plan.tariff"]
    expected = codec.encode_definition(YOUTH_PLAN)
    expected["rule_sources"] = ["products/youth_plan.tariff"]
    assert document["definition"] == expected
    assert files[YOUTH].decode() == codec.dumps(document)
    assert files["products/youth_plan.tariff"].decode() == YOUTH_PLAN.rule_sources[0].text
    assert "rule_sources" not in json.loads(files["products/family_plan.json"])["definition"]


def test_zone_file_layout() -> None:
    text = sample_files()[ZONES].decode()
    assert text.splitlines()[:3] == ["prefix,zone", "00,international", "010,national"]
    assert text.endswith("1390,mobile\n")


def test_zone_names_with_commas_and_quotes_round_trip() -> None:
    table = ZoneTable("odd", (("1", "a,b"), ("2", 'say "hi"'), ("3", " spaced ")))
    content = CatalogContent.build(zone_tables={"odd": table})
    assert from_zip_bytes(to_zip_bytes(content)) == content


def test_readme_files_at_the_top_are_ignored() -> None:
    files = sample_files()
    files.update({"README": b"x", "README.md": b"# Bundle", "README.txt": b"\xff not utf-8"})
    assert from_zip_bytes(raw_zip(files)) == sample_content()


def test_directory_entries_in_a_zip_are_fine() -> None:
    files = sample_files()
    files["products/"] = b""
    assert from_zip_bytes(raw_zip(files)) == sample_content()


def test_hand_edited_bundle_without_optional_parts_reads() -> None:
    catalog = json_bytes(
        {"format": "tariff-bundle/1", "zone_tables": [{"name": "z", "file": "zones/z.csv"}]}
    )
    files = {"catalog.json": catalog, "zones/z.csv": b"prefix,zone\r\n1,a\r\n"}
    content = parse_files(files)
    assert content.zone_tables["z"] == ZoneTable("z", (("1", "a"),))


# --- writing refuses what it could not read back ---------------------------------------------


def test_write_directory_refuses_a_non_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "stale.json").write_text("{}")
    with pytest.raises(FileExistsError):
        write_directory(sample_content(), tmp_path)


def unwritable(content: CatalogContent) -> list[Violation]:
    with pytest.raises(ValidationError) as caught:
        to_zip_bytes(content)
    return list(caught.value.violations)


def test_writer_refuses_a_rule_source_path_used_twice() -> None:
    shared = RuleSource("products/youth_plan.tariff", "# again")
    content = dataclasses.replace(sample_content(), rule_sources=(shared,))
    assert_problem(
        unwritable(content),
        "products/youth_plan.json: definition.rule_sources[products/youth_plan.tariff]",
        "already used by catalog.json",
    )


def test_writer_refuses_unsafe_codes_and_paths() -> None:
    bad = dataclasses.replace(YOUTH_PLAN, code="../etc", rule_sources=(RuleSource("a.txt", ""),))
    found = unwritable(with_entity(sample_content(), bad))
    assert_problem(found, "products/../etc.json: definition.code", "cannot be used as a file")
    assert_problem(found, "products/../etc.json: definition.rule_sources[a.txt]", ".tariff")


def test_writer_refuses_a_product_and_combo_sharing_a_code() -> None:
    content = sample_content()
    clash = dataclasses.replace(YOUTH_PLAN, code="family_bundle", rule_sources=())
    assert_problem(unwritable(with_entity(content, clash)), "products/family_bundle.json", "also")


def test_writer_refuses_bad_zone_rows() -> None:
    table = ZoneTable("z", (("12a", "x"), ("12a", ""), ("3", "a\nb")))
    found = unwritable(CatalogContent.build(zone_tables={"z": table}))
    assert_problem(found, "zones/z.csv: line 2", "digits only")
    assert_problem(found, "zones/z.csv: line 3", "duplicate prefix")
    assert_problem(found, "zones/z.csv: line 3", "must not be empty")
    assert_problem(found, "zones/z.csv: line 4", "printable")


def test_writer_refuses_a_file_that_is_also_a_directory() -> None:
    sources = (RuleSource("a.tariff", ""), RuleSource("a.tariff/b.tariff", ""))
    found = unwritable(CatalogContent.build(rule_sources=sources))
    assert_problem(found, "a.tariff/b.tariff", "is a file, not a directory")


def test_writer_refuses_text_that_is_not_unicode() -> None:
    content = CatalogContent.build(rule_sources=(RuleSource("a.tariff", "\ud800"),))
    assert_problem(unwritable(content), "a.tariff", "not encodable as UTF-8")


# --- malformed bundles -----------------------------------------------------------------------


def test_missing_catalog_json() -> None:
    files = sample_files()
    del files["catalog.json"]
    found = problems(files)
    assert_problem(found, "catalog.json", "missing")
    assert not any(v.description == "unexpected file" for v in found)


def test_bundle_zipped_with_its_folder_gets_a_hint() -> None:
    files = {f"bundle/{name}": data for name, data in sample_files().items()}
    assert_problem(problems(files), "catalog.json", "found bundle/catalog.json")


def test_unparsable_catalog_json_names_line_and_column() -> None:
    files = sample_files()
    files["catalog.json"] = b'{\n  "format": "tariff-bundle/1",\n  "areas": [,]\n}\n'
    assert_problem(problems(files), "catalog.json: line 3 column 13", "Expecting value")


def test_catalog_json_must_be_an_object() -> None:
    files = sample_files()
    files["catalog.json"] = b"[]"
    assert_problem(problems(files), "catalog.json", "expected a JSON object")


def test_missing_format() -> None:
    files = sample_files()
    document = catalog_doc(files)
    del document["format"]
    files["catalog.json"] = json_bytes(document)
    assert_problem(problems(files), "catalog.json: format", "is required")


def test_unknown_format_stops_the_reading() -> None:
    files = sample_files()
    files["catalog.json"] = json_bytes({**catalog_doc(files), "format": "tariff-bundle/9"})
    files["stray.txt"] = b""
    found = problems(files)
    assert found == [
        Violation(
            "catalog.json: format",
            "unknown bundle format 'tariff-bundle/9'; expected 'tariff-bundle/1'",
        )
    ]


def test_unknown_field_and_bad_reference_data_in_catalog_json() -> None:
    files = sample_files()
    document = catalog_doc(files)
    document["extra"] = 1
    document["areas"] = [{"code": "CN", "name": "中国", "level": "planet"}]
    document["channels"] = {"hall": {}}
    files["catalog.json"] = json_bytes(document)
    found = problems(files)
    assert_problem(found, "catalog.json: extra", "unknown field")
    assert_problem(found, "catalog.json: areas[0].level", "'planet' is not one of")
    assert_problem(found, "catalog.json: channels", "expected a list")


def test_invalid_json_in_an_entity_file_names_line_and_column() -> None:
    files = sample_files()
    files[YOUTH] = b'{\n  "status": "launched",\n  "version": 1,\n  oops\n}\n'
    assert_problem(problems(files), f"{YOUTH}: line 4 column 3", "Expecting property name")


def test_duplicate_json_keys_are_refused() -> None:
    files = sample_files()
    files[YOUTH] = files[YOUTH].replace(b"{\n", b'{\n  "version": 7,\n', 1)
    assert_problem(problems(files), YOUTH, "duplicate key 'version'")


def test_non_utf8_text_is_refused_with_its_line() -> None:
    files = sample_files()
    files["rules/common.tariff"] = b"# ok\n# \xff\xfe\n"
    files[YOUTH] = files[YOUTH].replace("新势力".encode(), "新势力".encode("gbk"))
    found = problems(files)
    assert_problem(
        found, "rules/common.tariff: line 2 column 3", "not valid UTF-8 (byte 0xff at offset 7)"
    )
    assert any(v.field.startswith(f"{YOUTH}: line") and "UTF-8" in v.description for v in found)


def test_entity_file_name_must_match_its_code() -> None:
    files = sample_files()
    files["products/youth.json"] = files.pop(YOUTH)
    assert_problem(
        problems(files),
        "products/youth.json: definition.code",
        "'youth_plan' does not match the file name ('youth')",
    )


def test_entity_definition_errors_carry_the_json_path() -> None:
    files = sample_files()
    document = json.loads(files[YOUTH])
    document["definition"]["kind"] = "bundle"
    document["definition"]["audience"]["segment_codes"] = "youth"
    document["status"] = "selling"
    document["version"] = True
    document["comment"] = "?"
    files[YOUTH] = json_bytes(document)
    found = problems(files)
    assert_problem(found, f"{YOUTH}: definition.kind", "'bundle' is not one of")
    assert_problem(found, f"{YOUTH}: definition.audience.segment_codes", "expected a list")
    assert_problem(found, f"{YOUTH}: status", "'selling' is not one of")
    assert_problem(found, f"{YOUTH}: version", "whole number")
    assert_problem(found, f"{YOUTH}: comment", "unknown field")


def test_entity_file_needs_status_version_and_definition() -> None:
    files = sample_files()
    files[YOUTH] = b"{}"
    found = problems(files)
    for key in ("status", "version", "definition"):
        assert_problem(found, f"{YOUTH}: {key}", "is required")


def test_product_and_combo_may_not_share_a_code() -> None:
    files = sample_files()
    document = json.loads(files["products/family_plan.json"])
    document["definition"]["code"] = "family_bundle"
    files["products/family_bundle.json"] = json_bytes(document)
    del files["products/family_plan.json"]
    assert_problem(
        problems(files),
        "products/family_bundle.json: definition.code",
        "also used by combos/family_bundle.json",
    )


def test_duplicate_reference_codes_and_zone_tables() -> None:
    files = sample_files()
    document = catalog_doc(files)
    document["segments"] = [*document["segments"], document["segments"][0]]
    document["zone_tables"] = [*document["zone_tables"], document["zone_tables"][0]]
    files["catalog.json"] = json_bytes(document)
    found = problems(files)
    assert_problem(found, "catalog.json: segments[5].code", "duplicate code")
    assert_problem(found, "catalog.json: zone_tables[1].name", "duplicate name 'cn_zones'")


def test_referenced_rule_source_and_zone_files_must_exist() -> None:
    files = sample_files()
    del files["products/youth_plan.tariff"]
    del files["rules/holidays.tariff"]
    del files[ZONES]
    found = problems(files)
    assert_problem(
        found, f"{YOUTH}: definition.rule_sources[0]", "'products/youth_plan.tariff' is missing"
    )
    assert_problem(found, "catalog.json: rule_sources[1]", "'rules/holidays.tariff' is missing")
    assert_problem(found, "catalog.json: zone_tables[0].file", "'zones/cn_zones.csv' is missing")


def test_zone_file_must_be_named_after_its_table() -> None:
    files = sample_files()
    document = catalog_doc(files)
    document["zone_tables"][0]["file"] = "zones/other.csv"
    files["catalog.json"] = json_bytes(document)
    assert_problem(problems(files), "catalog.json: zone_tables[0].file", "must be 'zones/cn_zones")


def test_rule_source_path_must_end_in_tariff() -> None:
    files = sample_files()
    document = catalog_doc(files)
    document["rule_sources"] = ["rules/common.tariff", "rules/holidays.txt"]
    files["catalog.json"] = json_bytes(document)
    files["rules/holidays.txt"] = files.pop("rules/holidays.tariff")
    found = problems(files)
    assert_problem(found, "catalog.json: rule_sources[1]", "must end in .tariff")
    assert not any(v.field == "rules/holidays.txt" for v in found)


def test_rule_source_path_may_not_be_used_twice() -> None:
    files = sample_files()
    document = catalog_doc(files)
    document["rule_sources"] = [*document["rule_sources"], "products/youth_plan.tariff"]
    files["catalog.json"] = json_bytes(document)
    assert_problem(
        problems(files),
        f"{YOUTH}: definition.rule_sources[0]",
        "already used by catalog.json: rule_sources[2]",
    )


def test_unreferenced_rule_source_and_unexpected_files() -> None:
    files = sample_files()
    files["rules/forgotten.tariff"] = b"# nobody uses me"
    files["notes.txt"] = b""
    files["products/youth_plan.yaml"] = b""
    files["docs/README.md"] = b""
    found = problems(files)
    assert_problem(found, "rules/forgotten.tariff", "not referenced")
    for path in ("notes.txt", "products/youth_plan.yaml", "docs/README.md"):
        assert_problem(found, path, "unexpected file")


@pytest.mark.parametrize(
    "name",
    ["/etc/passwd", "../escape.tariff", "rules/../../escape.json", "rules\\common.tariff", "C:/x"],
)
def test_zip_entries_that_could_escape_are_refused(name: str) -> None:
    files = sample_files()
    files[name] = b"x"
    assert_problem(problems(files), name, "path traversal")


def test_symlinks_in_a_zip_are_refused() -> None:
    files = sample_files()
    data = raw_zip(files)
    buffer = io.BytesIO(data)
    with zipfile.ZipFile(buffer, "a") as archive:
        info = zipfile.ZipInfo("rules/link.tariff", date_time=(1980, 1, 1, 0, 0, 0))
        info.create_system = 3
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(info, "/etc/passwd")
    with pytest.raises(ValidationError) as caught:
        from_zip_bytes(buffer.getvalue())
    assert_problem(list(caught.value.violations), "rules/link.tariff", "symbolic links")


def test_symlinks_in_a_directory_bundle_are_refused(tmp_path: Path) -> None:
    root = tmp_path / "bundle"
    write_directory(sample_content(), root)
    (tmp_path / "secret.txt").write_text("secret")
    (root / "rules" / "link.tariff").symlink_to(tmp_path / "secret.txt")
    (root / "outside").symlink_to(tmp_path, target_is_directory=True)
    with pytest.raises(ValidationError) as caught:
        read_directory(root)
    found = list(caught.value.violations)
    assert_problem(found, "rules/link.tariff", "symbolic links")
    assert_problem(found, "outside", "symbolic links")


def test_duplicate_and_encrypted_zip_entries_are_refused() -> None:
    buffer = io.BytesIO(to_zip_bytes(sample_content()))
    with zipfile.ZipFile(buffer, "a") as zf:
        with pytest.warns(UserWarning, match="Duplicate name"):
            zf.writestr("rules/common.tariff", "# twice")
        zf.writestr("rules/secret.tariff", "")
        zf.getinfo("rules/secret.tariff").flag_bits |= 0x1  # central directory: encrypted
    with pytest.raises(ValidationError) as caught:
        from_zip_bytes(buffer.getvalue())
    found = list(caught.value.violations)
    assert_problem(found, "rules/common.tariff", "duplicate entry")
    assert_problem(found, "rules/secret.tariff", "encrypted")


def test_zip_with_a_file_that_is_also_a_directory_is_refused() -> None:
    files = sample_files()
    files["rules/common.tariff/x.tariff"] = b""
    assert_problem(problems(files), "rules/common.tariff/x.tariff", "is a file, not a directory")


def test_not_a_zip_at_all() -> None:
    for data in (b"", b"hello, world", b"PK\x03\x04 truncated"):
        with pytest.raises(ValidationError) as caught:
            from_zip_bytes(data)
        assert_problem(list(caught.value.violations), "archive", "not a zip archive")


def test_too_many_files_is_refused_before_reading() -> None:
    data = to_zip_bytes(sample_content())
    with pytest.raises(ValidationError) as caught:
        from_zip_bytes(data, max_files=3)
    assert caught.value.violations == (Violation("archive", "bundle has more than 3 files"),)


def test_declared_size_over_the_limit_is_refused_before_reading() -> None:
    bomb = raw_zip({"catalog.json": b"{}", "zones/z.csv": b"0" * 1_000_000})
    assert len(bomb) < 10_000
    with pytest.raises(ValidationError) as caught:
        from_zip_bytes(bomb, max_total_bytes=100_000)
    assert_problem(list(caught.value.violations), "archive", "too large")


def test_actual_size_over_the_limit_stops_the_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    """A size header that lies low must not let more than the limit be decompressed."""
    monkeypatch.setattr(bundle, "_declared_size", lambda infos: 0)
    bomb = raw_zip({"catalog.json": b"{}", "zones/z.csv": b"0" * 1_000_000})
    with pytest.raises(ValidationError) as caught:
        from_zip_bytes(bomb, max_total_bytes=100_000)
    assert caught.value.violations == (Violation("archive", "bundle is too large"),)


def test_directory_limits(tmp_path: Path) -> None:
    write_directory(sample_content(), tmp_path / "b")
    with pytest.raises(ValidationError, match="more than 2 files"):
        read_directory(tmp_path / "b", max_files=2)
    with pytest.raises(ValidationError, match="too large"):
        read_directory(tmp_path / "b", max_total_bytes=1000)


@pytest.mark.parametrize(
    ("rows", "line", "fragment"),
    [
        (b"prefix,zone\n010,national\n020\n", 3, "expected 2 columns (prefix,zone), found 1"),
        (b"prefix,zone\n010,national,extra\n", 2, "found 3"),
        (b"prefix,zone\n01x,national\n", 2, "prefix '01x' must be digits only"),
        (b"prefix,zone\n\xef\xbc\x91,national\n", 2, "must be digits only"),  # full-width 1
        (b"prefix,zone\n010,\n", 2, "zone must not be empty"),
        (b"prefix,zone\n010,a\n020,b\n010,c\n", 4, "duplicate prefix '010' (first on line 2)"),
        (b"prefix,zone\n010,a\n\n", 3, "found 0"),
        (b"zone,prefix\n010,a\n", 1, "header must be 'prefix,zone'"),
        (b"", 1, "header must be 'prefix,zone'"),
        (b'prefix,zone\n010,"a"b\n', 2, "malformed CSV"),
    ],
)
def test_bad_zone_rows_are_reported_with_their_line(rows: bytes, line: int, fragment: str) -> None:
    files = sample_files()
    files[ZONES] = rows
    assert_problem(problems(files), f"{ZONES}: line {line}", fragment)


def test_every_problem_is_reported_at_once() -> None:
    files = sample_files()
    files[YOUTH] = b"{"
    files["combos/family_bundle.json"] = files["combos/family_bundle.json"].replace(
        b'"launched"', b'"sold"'
    )
    files[ZONES] += b"x,y\n"
    files["../evil"] = b""
    files["stray.bin"] = b"\x00"
    found = problems(files)
    fields = {v.field for v in found}
    assert {
        f"{YOUTH}: line 1 column 2",
        "combos/family_bundle.json: status",
        f"{ZONES}: line 10",
        "../evil",
        "stray.bin",
    } <= fields
    assert "products/youth_plan.tariff" not in fields  # its owner is broken, not the file


def test_read_path_on_nothing_raises_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_path(tmp_path / "missing.zip")


def test_read_path_on_a_text_file_is_not_a_zip(tmp_path: Path) -> None:
    (tmp_path / "catalog.json").write_text("{}")
    with pytest.raises(ValidationError, match="not a zip archive"):
        read_path(tmp_path / "catalog.json")


def test_entity_files_are_found_only_directly_in_their_folder() -> None:
    files = sample_files()
    files["products/old/youth_plan.json"] = files[YOUTH]
    assert_problem(problems(files), "products/old/youth_plan.json", "unexpected file")


# --- properties ------------------------------------------------------------------------------


@given(contents())
@settings(max_examples=150, deadline=None)
def test_any_content_round_trips_through_a_zip_exactly(content: CatalogContent) -> None:
    data = to_zip_bytes(content)
    read = from_zip_bytes(data)
    assert read == content
    assert codec.encode_content(read) == codec.encode_content(content)
    assert to_zip_bytes(read) == data
    assert to_zip_bytes(content) == data


@given(contents(max_entities=3))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_content_round_trips_through_a_directory(content: CatalogContent) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = os.path.join(tmp, "bundle")
        write_directory(content, root)
        assert read_path(root) == content


def test_kinds_have_their_own_folders() -> None:
    assert entity_path(EntityKind.COMBO, "x") == "combos/x.json"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "invalid JSON"),
        (b'{"version": NaN}', "NaN is not valid JSON"),
        (b'{"version": ' + b"9" * 5000 + b"}", "invalid JSON"),
    ],
)
def test_hostile_json_is_a_violation_not_a_crash(text: bytes, fragment: str) -> None:
    files = sample_files()
    files[YOUTH] = text
    assert_problem(problems(files), YOUTH, fragment)


def test_instant_out_of_range_is_a_violation_not_a_crash() -> None:
    files = sample_files()
    document = json.loads(files[YOUTH])
    document["definition"]["valid_for"]["start"] = "0001-01-01T00:00:00+01:00"
    files[YOUTH] = json_bytes(document)
    assert_problem(problems(files), f"{YOUTH}: definition.valid_for.start", "is out of range")


def test_zone_file_pointing_at_another_file_does_not_swallow_it() -> None:
    files = sample_files()
    document = catalog_doc(files)
    document["zone_tables"][0]["file"] = YOUTH
    files["catalog.json"] = json_bytes(document)
    found = problems(files)
    assert_problem(found, "catalog.json: zone_tables[0].file", "must be 'zones/cn_zones.csv'")
    assert_problem(found, ZONES, "unexpected file")
    assert not any(v.field.startswith(YOUTH) for v in found)
