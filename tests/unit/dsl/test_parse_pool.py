"""`dsl.parse_pool`: texts parsed in spawned workers give exactly what parsing here gives
(modules node for node and span for span, diagnostics word for word)."""

from __future__ import annotations

import zlib
from collections.abc import Iterator

import pytest

from dsl import parse_pool, parser
from dsl.diagnostics import DslError
from dsl.node_codec import decode_module
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


def test_the_workers_encodings_are_kept_once_for_the_store(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A cold install's save stores the bytes the workers sent instead of encoding again."""
    items = [(f"offer o{i} {{ }}\n", "x.tariff") for i in range(3)] + [BAD]
    monkeypatch.setattr(parse_pool, "MIN_TEXTS", 2)
    parse_pool.forget_encoded()
    assert parse_pool.parse_all(items, processes=2) == len(items)
    key = parser.source_key(*items[0])
    body = parse_pool.take_encoded(key)
    assert body is not None
    assert decode_module(zlib.decompress(body)) == parser.cached_parse(key)
    assert parse_pool.take_encoded(key) is None  # taken once
    assert parse_pool.take_encoded(parser.source_key(*BAD)) is None  # no module, no body


def test_the_kept_encodings_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    parse_pool.forget_encoded()
    monkeypatch.setattr(parse_pool, "ENCODED_BYTES", 10)
    parse_pool._keep_encoded("a", b"12345")
    parse_pool._keep_encoded("b", b"12345")
    parse_pool._keep_encoded("c", b"12345")
    assert parse_pool.take_encoded("a") is None
    assert parse_pool.take_encoded("c") == b"12345"
    parse_pool.forget_encoded()
    assert parse_pool.take_encoded("b") is None
