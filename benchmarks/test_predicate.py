"""The research.md predicate, compiled vs hand-written, over 100,000 varied facts.

Run with `pytest benchmarks/test_predicate.py --benchmark-enable`. Every engine must give the
same answers (0 mismatches); timings are reported by pytest-benchmark, never asserted.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pytest

from dsl.compiler import compile_expr
from dsl.context import CustomerFacts, SaleFacts
from dsl.nodes import OfferDecl
from dsl.parser import parse

PREDICATE = (
    "customer.age between 15 and 26 and channel in {hall, web} and area within GD"
    " and customer.vip_level >= 1"
)
LINEAGES = [("GD_SZ", "GD", "CN"), ("GD_GZ", "GD", "CN"), ("GD", "CN"), ("QH_XN", "QH", "CN")]
CHANNELS = ["hall", "web", "sms", "agent"]
SIZE = 100_000

Benchmark = Callable[..., object]


def make_facts(count: int = SIZE, seed: int = 7) -> list[SaleFacts]:
    rng = random.Random(seed)
    moment = datetime(2026, 3, 2, 10, tzinfo=timezone(timedelta(hours=8)))
    result = []
    for _ in range(count):
        lineage = rng.choice(LINEAGES)
        customer = CustomerFacts(
            age=rng.choice([None, *range(10, 40)]), vip_level=rng.choice([None, 0, 1, 2, 5])
        )
        result.append(SaleFacts(customer, lineage[0], lineage, rng.choice(CHANNELS), moment))
    return result


HALL_WEB = frozenset({"hall", "web"})


def hand_written(facts: SaleFacts) -> bool:
    customer = facts.customer
    age = customer.age
    vip = customer.vip_level
    return (
        age is not None
        and 15 <= age <= 26
        and facts.channel in HALL_WEB
        and "GD" in facts.area_lineage
        and vip is not None
        and vip >= 1
    )


def compiled_predicate() -> Callable[[SaleFacts], bool]:
    decl = parse(f"offer x {{\n eligible all {{\n r: {PREDICATE}\n }}\n}}\n", "bench.tariff")
    offer = decl.declarations[0]
    assert isinstance(offer, OfferDecl)
    assert offer.eligibility is not None
    compiled = compile_expr(offer.eligibility.rules[0].condition, "bench.tariff")
    assert compiled.test is not None
    return compiled.test


@pytest.fixture(scope="module")
def facts_list() -> list[SaleFacts]:
    return make_facts()


def run_all(predicate: Callable[[SaleFacts], bool], facts_list: list[SaleFacts]) -> list[bool]:
    return [predicate(facts) for facts in facts_list]


def test_hand_written(benchmark: Benchmark, facts_list: list[SaleFacts]) -> None:
    results = benchmark(run_all, hand_written, facts_list)
    assert results == run_all(compiled_predicate(), facts_list)


def test_compiled(benchmark: Benchmark, facts_list: list[SaleFacts]) -> None:
    results = benchmark(run_all, compiled_predicate(), facts_list)
    assert isinstance(results, list)
    expected = run_all(hand_written, facts_list)
    assert sum(a != b for a, b in zip(results, expected, strict=True)) == 0
    assert any(expected)
    assert not all(expected)


def test_compiled_batch(benchmark: Benchmark, facts_list: list[SaleFacts]) -> None:
    decl = parse(f"offer x {{\n eligible all {{\n r: {PREDICATE}\n }}\n}}\n", "bench.tariff")
    offer = decl.declarations[0]
    assert isinstance(offer, OfferDecl)
    assert offer.eligibility is not None
    compiled = compile_expr(offer.eligibility.rules[0].condition, "bench.tariff")
    assert compiled.test_many is not None
    results = benchmark(compiled.test_many, facts_list)
    assert results == run_all(hand_written, facts_list)
