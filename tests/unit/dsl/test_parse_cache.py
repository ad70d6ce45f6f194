"""`dsl.parser.parse` answers a text it has parsed from memory, keyed by what decides the
result (grammar and limits, path, text) and never by the parse tree (issue 16)."""

from __future__ import annotations

import pytest

from dsl import nodes as n
from dsl import parser
from dsl.diagnostics import DslError

TEXT = "offer a {\n  eligible all { adult: customer.age >= 18 }\n}\n"


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    parser.clear_parse_cache()


def test_the_same_text_and_path_give_the_same_module_once_parsed() -> None:
    first = parser.parse(TEXT, "a.tariff")
    assert parser.parse(TEXT, "a.tariff") is first
    assert parser.cached_parse(parser.source_key(TEXT, "a.tariff")) is first


def test_another_path_is_another_entry_with_its_own_path() -> None:
    first = parser.parse(TEXT, "a.tariff")
    other = parser.parse(TEXT, "b.tariff")
    assert other is not first
    assert (first.path, other.path) == ("a.tariff", "b.tariff")


def test_texts_with_equal_trees_keep_their_own_spans() -> None:
    """Keyed by text, not tree: the same rules moved down a line keep their own positions."""
    first = parser.parse(TEXT, "a.tariff")
    moved = parser.parse("\n" + TEXT, "a.tariff")
    assert moved == first  # node equality ignores spans
    assert moved is not first
    assert moved.declarations[0].span.line == first.declarations[0].span.line + 1


def test_a_failed_parse_raises_the_same_diagnostics_every_time() -> None:
    bad = "offer a { eligible { } }"
    with pytest.raises(DslError) as first:
        parser.parse(bad, "bad.tariff")
    with pytest.raises(DslError) as again:
        parser.parse(bad, "bad.tariff")
    assert again.value.diagnostics == first.value.diagnostics
    assert str(again.value) == str(first.value)
    with pytest.raises(DslError) as uncached:
        parser.parse_uncached(bad, "bad.tariff")
    assert uncached.value.diagnostics == first.value.diagnostics


def test_the_key_covers_the_grammar_and_the_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    key = parser.source_key(TEXT, "a.tariff")
    assert parser.source_key(TEXT + " ", "a.tariff") != key
    assert parser.source_key(TEXT, "b.tariff") != key
    monkeypatch.setattr(parser, "MAX_DEPTH", parser.MAX_DEPTH - 1)
    assert parser.source_key(TEXT, "a.tariff") != key


def test_the_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parser, "PARSE_CACHE_SIZE", 2)
    texts = [f"offer o{i} {{ }}\n" for i in range(3)]
    modules = [parser.parse(t, "x.tariff") for t in texts]
    assert parser.cached_parse(parser.source_key(texts[0], "x.tariff")) is None
    assert parser.parse(texts[2], "x.tariff") is modules[2]
    assert all(isinstance(m, n.Module) for m in modules)


def test_a_cached_module_knows_its_key() -> None:
    module = parser.parse(TEXT, "a.tariff")
    assert parser.key_of(module) == parser.source_key(TEXT, "a.tariff")
    assert parser.key_of(parser.parse_uncached(TEXT, "a.tariff")) is None  # equal, not cached
    parser.clear_parse_cache()
    assert parser.key_of(module) is None


def test_an_evicted_module_forgets_its_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parser, "PARSE_CACHE_SIZE", 1)
    first = parser.parse(TEXT, "a.tariff")
    second = parser.parse(TEXT, "b.tariff")
    assert parser.key_of(first) is None
    assert parser.key_of(second) == parser.source_key(TEXT, "b.tariff")
