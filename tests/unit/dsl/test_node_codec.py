"""`dsl.node_codec`: parsed modules as JSON data and back, equal node for node and span for
span, for every rule file of the repository and generated catalogs; anything else refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dsl import nodes as n
from dsl.node_codec import FORMAT, CodecError, decode_module, encode_module
from dsl.parser import parse_uncached
from tariff.gen.catalogs import CatalogSpec, generate_catalog

ROOT = Path(__file__).resolve().parents[3]
FILES = sorted(p for p in ROOT.glob("**/*.tariff") if ".venv" not in p.parts)


def assert_same(decoded: n.Module, module: n.Module) -> None:
    assert decoded == module
    pairs = list(zip(decoded.walk(), module.walk(), strict=True))
    assert all(type(a) is type(b) and a.span == b.span for a, b in pairs)
    assert decoded.path == module.path


def test_there_are_rule_files_to_read() -> None:
    assert len(FILES) >= 10


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_rule_file_round_trips(path: Path) -> None:
    module = parse_uncached(path.read_text(encoding="utf-8"), path.name)
    assert_same(decode_module(encode_module(module)), module)


def test_generated_catalog_rules_round_trip() -> None:
    content = generate_catalog(CatalogSpec(offers=60, areas=4, seed=3, combos=3))
    for _, source in content.all_rule_sources():
        module = parse_uncached(source.text, source.path)
        assert_same(decode_module(encode_module(module)), module)


def test_literals_keep_their_exact_types_and_digits() -> None:
    text = (
        "offer o {\n  eligible all {\n"
        "    a: customer.monthly_spend >= 50.00 CNY\n"
        "    b: sale.time >= 2026-03-02T10:00:00+08:00\n"
        "    c: sale.date >= 2026-10-01\n"
        '    d: customer.region in {"GD", "GX"}\n'
        "  }\n}\n"
    )
    module = parse_uncached(text, "lit.tariff")
    decoded = decode_module(encode_module(module))
    assert_same(decoded, module)
    assert repr(decoded) == repr(module)


@pytest.mark.parametrize(
    "document",
    [
        "not json",
        json.dumps({"format": FORMAT + 1, "module": ["Module", 1, 1, 1, 1, "x", ["T"]]}),
        json.dumps({"format": FORMAT, "module": ["Popen", 1, 1, 1, 1]}),
        json.dumps({"format": FORMAT, "module": ["Module", 1, 1, 1, 1]}),
        json.dumps({"format": FORMAT, "module": ["Module", 1, 1, 1, "1", "x", ["T"]]}),
        json.dumps({"format": FORMAT, "module": ["IntLit", 1, 1, 1, 1, 3]}),
        json.dumps({"format": FORMAT, "module": ["Module", 1, 1, 1, 1, "x", ["D", "nan?"]]}),
        json.dumps({"format": FORMAT, "module": ["Module", 1, 1, 1, 1, "x", {"a": 1}]}),
        json.dumps({"format": FORMAT, "module": ["Module", 1, 1, 1, 1, "x", ["T", ["__class__"]]]}),
    ],
)
def test_anything_else_is_refused(document: str) -> None:
    with pytest.raises(CodecError):
        decode_module(document)
