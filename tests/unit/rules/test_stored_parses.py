"""`rules.stored_parses`: an install reuses the parses another process left in the store and
leaves its own; an entry it cannot read, or of another format, is parsed again (issue 16)."""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from catalog.content import CatalogContent
from catalog.model import CatalogVersionInfo, RuleSource
from catalog.versions import VersionNumber
from dsl import parser
from dsl.diagnostics import Diagnostic
from dsl.node_codec import FORMAT, CodecError
from rules import checking
from rules.checking import forget_checked
from rules.sale_catalog import SaleCatalog
from rules.stored_parses import (
    StoredParses,
    check_key,
    decode_diagnostics,
    encode_diagnostics,
)
from tariff.bootstrap import bootstrap
from tariff.cli import load_demo
from tariff.gen.catalogs import CatalogSpec, generate_catalog
from tariff.settings import Settings

MOMENT = datetime(2026, 3, 1, tzinfo=UTC)
INFO = CatalogVersionInfo(1, MOMENT, MOMENT, "test", "", 0, 0, 0)


class MemoryStore:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, int], bytes] = {}
        self.reads = 0

    def get(self, keys: Iterable[str], format: int) -> dict[str, bytes]:
        self.reads += 1
        return {k: self.rows[(k, format)] for k in keys if (k, format) in self.rows}

    def present(self, keys: Iterable[str], format: int) -> set[str]:
        return {k for k in keys if (k, format) in self.rows}

    def put(self, entries: Mapping[str, bytes], format: int) -> None:
        for key, body in entries.items():
            self.rows.setdefault((key, format), body)


@pytest.fixture(autouse=True)
def _cold() -> Iterator[None]:
    parser.clear_parse_cache()
    forget_checked()
    yield
    parser.clear_parse_cache()
    forget_checked()


@pytest.fixture
def content() -> CatalogContent:
    return generate_catalog(CatalogSpec(offers=30, areas=4, seed=3, combos=2))


def no_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Neither a text parsed nor a catalog checked from here on."""

    def refuse(text: str, path: str) -> None:
        raise AssertionError(f"parsed {path} again")

    def refuse_check(*args: object) -> None:
        raise AssertionError("checked again")

    monkeypatch.setattr(parser, "parse_uncached", refuse)
    monkeypatch.setattr(checking, "check_sources", refuse_check)


def fresh_process() -> None:
    parser.clear_parse_cache()
    forget_checked()


def test_a_second_process_installs_from_the_store_without_parsing(
    content: CatalogContent, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = MemoryStore()
    first = StoredParses(store).around(SaleCatalog)(INFO, content)
    sources = list(content.all_rule_sources())
    assert len(store.rows) == len(sources) + 1  # and the check
    assert (check_key(content), FORMAT) in store.rows
    fresh_process()
    no_parsing(monkeypatch)
    second = StoredParses(store).around(SaleCatalog)(INFO, content)
    assert second.book.diagnostics == first.book.diagnostics
    assert dict(second.book.plans) == dict(first.book.plans)
    assert second.book.offers.keys() == first.book.offers.keys()
    for code, rules in first.book.offers.items():
        again = second.book.offers[code]
        assert (again.broken, again.reads_item) == (rules.broken, rules.reads_item)
        if rules.eligibility is not None:
            assert again.eligibility is not None
            assert again.eligibility.program.source == rules.eligibility.program.source


def test_nothing_is_written_twice_and_nothing_read_after_a_warm(content: CatalogContent) -> None:
    store = MemoryStore()
    parses = StoredParses(store)
    assert parses.warm(content) == 0
    parses.around(SaleCatalog)(INFO, content)
    assert parses.save(content) == 0


def test_unreadable_and_other_format_entries_are_parsed_again(content: CatalogContent) -> None:
    store = MemoryStore()
    StoredParses(store).around(SaleCatalog)(INFO, content)
    keys = sorted(k for k, _ in store.rows if k != check_key(content))
    store.rows[(keys[0], FORMAT)] = zlib.compress(b'{"format": 1, "module": ["Popen"]}')
    store.rows[(keys[1], FORMAT)] = b"not zlib"
    moved = store.rows.pop((keys[2], FORMAT))
    store.rows[(keys[2], FORMAT + 1)] = moved
    fresh_process()
    parses = StoredParses(store)
    assert parses.warm(content) == len(keys) - 3
    catalog = SaleCatalog(INFO, content)  # the three are parsed from their texts
    for key in keys[:3]:
        assert parser.cached_parse(key) is not None
    assert catalog.book.ok


def test_a_check_is_reused_only_for_the_same_content(content: CatalogContent) -> None:
    store = MemoryStore()
    first = StoredParses(store).around(SaleCatalog)(INFO, content)
    fresh_process()
    StoredParses(store).warm(content)
    assert checking.last_checked(content) is not None
    assert checking.checked_catalog(content).diagnostics == first.book.diagnostics
    other = replace(content, rule_sources=(RuleSource("extra.tariff", "offer extra { }\n"),))
    fresh_process()
    StoredParses(store).warm(other)
    assert checking.last_checked(other) is None  # another content: checked, not read


def test_an_unreadable_check_is_checked_again(content: CatalogContent) -> None:
    store = MemoryStore()
    StoredParses(store).around(SaleCatalog)(INFO, content)
    store.rows[(check_key(content), FORMAT)] = zlib.compress(b'{"format": 1, "diagnostics": [[1]]}')
    fresh_process()
    StoredParses(store).warm(content)
    assert checking.last_checked(content) is None
    with pytest.raises(CodecError):
        decode_diagnostics(zlib.compress(b'{"format": 1, "diagnostics": [["error", 1]]}'))
    diagnostics = [Diagnostic("error", "syntax", "m", "p.tariff", 1, 2, 3, 4, "h")]
    assert decode_diagnostics(encode_diagnostics(diagnostics)) == diagnostics


def test_a_syntax_error_is_not_stored(content: CatalogContent) -> None:
    broken = replace(content, rule_sources=(RuleSource("bad.tariff", "offer x { eligible { } }"),))
    store = MemoryStore()
    catalog = StoredParses(store).around(SaleCatalog)(INFO, broken)
    assert not catalog.book.ok
    assert parser.source_key("offer x { eligible { } }", "bad.tariff") not in {
        k for k, _ in store.rows
    }


def test_a_restarted_service_installs_from_the_database_without_parsing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'store.sqlite3'}", refresh_seconds=0)
    app = bootstrap(settings)
    try:
        assert load_demo(app)
        installed = app.snapshots.get(VersionNumber(app.snapshots.timeline.versions[-1].number))
    finally:
        app.close()
    fresh_process()
    no_parsing(monkeypatch)
    again = bootstrap(settings)
    try:
        number = again.snapshots.timeline.versions[-1].number
        assert again.snapshots.installed() == (number,)
        restarted = again.snapshots.get(VersionNumber(number))
        assert restarted.book.ok
        assert restarted.book.diagnostics == installed.book.diagnostics
        assert dict(restarted.book.plans) == dict(installed.book.plans)
    finally:
        again.close()
