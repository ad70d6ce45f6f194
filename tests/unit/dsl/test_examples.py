"""Every shipped rule source parses: the language samples and the starter catalog's files."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsl import nodes as n
from dsl.parser import parse

ROOT = Path(__file__).resolve().parents[3]
SAMPLES = sorted((ROOT / "dsl" / "examples").glob("*.tariff"))
STARTER = sorted((ROOT / "examples" / "starter").rglob("*.tariff"))


def _id(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("path", SAMPLES + STARTER, ids=_id)
def test_parses(path: Path) -> None:
    module = parse(path.read_text(encoding="utf-8"), _id(path))
    assert module.path == _id(path)
    assert module.declarations


def test_there_are_samples_and_starter_sources() -> None:
    assert len(SAMPLES) >= 5
    assert len(STARTER) == 6


def test_the_samples_cover_every_construct() -> None:
    """Each node type of the language appears in at least one sample."""
    seen: set[type[n.Node]] = set()
    kinds: set[str] = set()
    for path in SAMPLES:
        for node in parse(path.read_text(encoding="utf-8"), str(path)).walk():
            seen.add(type(node))
            if isinstance(node, n.Expectation | n.Alteration):
                kinds.add(node.kind)
    wanted = {
        cls
        for cls in vars(n).values()
        if isinstance(cls, type) and issubclass(cls, n.Node) and cls not in (n.Node, n.Expr)
    }
    wanted -= {n.Quantity}  # quantities are written as DurationLit/DataLit/CountLit directly
    assert wanted - seen == set()
    assert kinds >= {
        "eligible",
        "not_eligible",
        "due_now",
        "monthly",
        "price",
        "charge",
        "zone",
        "band",
        "allowance_used",
        "discount",
        "waive",
        "override",
        "cap",
        "floor",
    }
