"""`catalog.parse_store`: the store's cache of parsed rules on SQLite and PostgreSQL; a store
that cannot answer is a miss, never a failure."""

from __future__ import annotations

from pathlib import Path

from catalog.parse_store import BATCH, ParsedRuleStore
from catalog.sqlstore import create_engine_for


def test_entries_are_read_back_by_key_and_format(database_url: str) -> None:
    engine = create_engine_for(database_url)
    try:
        store = ParsedRuleStore(engine)
        store.put({"a" * 64: b"one", "b" * 64: b"\x00two"}, 1)
        store.put({"a" * 64: b"other format"}, 2)
        assert store.get(["a" * 64, "b" * 64, "c" * 64], 1) == {
            "a" * 64: b"one",
            "b" * 64: b"\x00two",
        }
        assert store.get(["a" * 64, "b" * 64], 2) == {"a" * 64: b"other format"}
        assert store.present(["a" * 64, "c" * 64], 1) == {"a" * 64}
        store.put({"a" * 64: b"one again"}, 1)  # an entry never changes: the first stays
        assert store.get(["a" * 64], 1) == {"a" * 64: b"one"}
        assert store.get([], 1) == {}
    finally:
        engine.dispose()


def test_more_keys_than_one_batch(database_url: str) -> None:
    engine = create_engine_for(database_url)
    try:
        store = ParsedRuleStore(engine)
        entries = {f"{i:064d}": str(i).encode() for i in range(BATCH * 2 + 7)}
        store.put(entries, 1)
        assert store.get(entries, 1) == entries
        assert store.present(entries, 1) == set(entries)
    finally:
        engine.dispose()


def test_a_store_without_the_table_is_a_miss(tmp_path: Path) -> None:
    engine = create_engine_for(f"sqlite:///{tmp_path / 'unmigrated.sqlite3'}")
    try:
        store = ParsedRuleStore(engine)
        store.put({"a" * 64: b"x"}, 1)  # logged, not raised
        assert store.get(["a" * 64], 1) == {}
        assert store.present(["a" * 64], 1) == set()
    finally:
        engine.dispose()
