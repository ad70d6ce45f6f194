"""`dsl.parse_pool`: texts parsed in spawned workers give exactly what parsing here gives
(modules node for node and span for span, diagnostics word for word)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dsl import parse_pool, parser
from dsl.diagnostics import DslError
from tariff.gen.catalogs import CatalogSpec, generate_catalog

BAD = ("offer a { eligible { } }\n", "bad.tariff")


@pytest.fixture(autouse=True)
def _cold() -> Iterator[None]:
    parser.clear_parse_cache()
    yield
    parser.clear_parse_cache()


def test_workers_parse_as_this_process_does(monkeypatch: pytest.MonkeyPatch) -> None:
    content = generate_catalog(CatalogSpec(offers=24, areas=4, seed=7, combos=2))
    items = [(s.text, s.path) for _, s in content.all_rule_sources()] + [BAD]
    monkeypatch.setattr(parse_pool, "MIN_TEXTS", 10)
    monkeypatch.setattr(parse_pool, "CHUNK", 7)
    assert parse_pool.parse_all(items, processes=2) == len(items)
    for text, path in items[:-1]:
        pooled = parser.cached_parse(parser.source_key(text, path))
        here = parser.parse_uncached(text, path)
        assert pooled == here
        assert isinstance(pooled, type(here))
        assert [m.span for m in pooled.walk()] == [m.span for m in here.walk()]
    with pytest.raises(DslError) as here_error:
        parser.parse_uncached(*BAD)
    assert parser.cached_parse(parser.source_key(*BAD)) == tuple(here_error.value.diagnostics)
    assert parse_pool.parse_all(items, processes=2) == 0  # all cached now


def test_few_texts_or_one_core_are_left_to_parse_here() -> None:
    assert parse_pool.parse_all([BAD], processes=2) == 0
    many = [(f"offer o{i} {{ }}\n", "x.tariff") for i in range(parse_pool.MIN_TEXTS)]
    assert parse_pool.parse_all(many, processes=1) == 0
    assert parser.cached_parse(parser.source_key(*many[0])) is None
