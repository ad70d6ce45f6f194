"""Workload `predicate`: one eligibility predicate (research.md's) over 100,000 varied sale
facts, by every engine, all giving the same answers.

Variants: `hand_written` (the baseline: the predicate as a Python function over the same
facts), `numpy` (hand-written, vectorised over columns built beforehand — the ceiling of a
columnar design), `compiled` (one call per fact), `compiled_batch` (one call, the loop inside
generated code), `interpreter` (the reference interpreter over the AST), and the peers
`zen` (zen-engine's expression API) and `cel` (common-expression-language), from the `bench`
extra, over dict contexts built beforehand (so their timing leaves out the conversion a real
caller would pay).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from benchmarks.conftest import Measure
from dsl import interpreter as ip
from dsl import nodes as n
from dsl.compiler import compile_expr
from dsl.context import CustomerFacts, SaleFacts
from dsl.parser import parse

SIZES = {"gate": (100_000,), "full": (100_000,)}

PREDICATE = (
    "customer.age between 15 and 26 and channel in {hall, web} and area within GD"
    " and customer.vip_level >= 1"
)
ZEN = (
    'age != null and age >= 15 and age <= 26 and channel in ["hall", "web"]'
    ' and contains(lineage, "GD") and vip != null and vip >= 1'
)
CEL = (
    "age != null && age >= 15 && age <= 26 && channel in ['hall', 'web']"
    " && 'GD' in lineage && vip != null && vip >= 1"
)
LINEAGES = [("GD_SZ", "GD", "CN"), ("GD_GZ", "GD", "CN"), ("GD", "CN"), ("QH_XN", "QH", "CN")]
CHANNELS = ["hall", "web", "sms", "agent"]
HALL_WEB = frozenset({"hall", "web"})


def make_facts(count: int, seed: int = 7) -> list[SaleFacts]:
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


def condition() -> n.Expr:
    module = parse(f"offer x {{\n eligible all {{\n r: {PREDICATE}\n }}\n}}\n", "bench.tariff")
    offer = module.declarations[0]
    assert isinstance(offer, n.OfferDecl)
    assert offer.eligibility is not None
    return offer.eligibility.rules[0].condition


def run_all(predicate: Callable[[Any], object], items: Sequence[Any]) -> list[bool]:
    return [predicate(item) is True for item in items]


@pytest.fixture(scope="module")
def facts_list(size: int) -> list[SaleFacts]:
    return make_facts(size)


@pytest.fixture(scope="module")
def expected(facts_list: list[SaleFacts]) -> list[bool]:
    answers = run_all(hand_written, facts_list)
    assert any(answers)
    assert not all(answers)
    return answers


def _dicts(facts_list: list[SaleFacts]) -> list[dict[str, Any]]:
    return [
        {
            "age": f.customer.age,
            "vip": f.customer.vip_level,
            "channel": f.channel,
            "lineage": list(f.area_lineage),
        }
        for f in facts_list
    ]


def test_hand_written(measure: Measure, size: int, facts_list: list[SaleFacts]) -> None:
    answers = measure("predicate", "hand_written", size=size)(run_all, hand_written, facts_list)
    assert answers == run_all(hand_written, facts_list)


def test_compiled(
    measure: Measure, size: int, facts_list: list[SaleFacts], expected: list[bool]
) -> None:
    test = compile_expr(condition(), "bench.tariff").test
    assert test is not None
    assert measure("predicate", "compiled", size=size)(run_all, test, facts_list) == expected


def test_compiled_batch(
    measure: Measure, size: int, facts_list: list[SaleFacts], expected: list[bool]
) -> None:
    test_many = compile_expr(condition(), "bench.tariff").test_many
    assert test_many is not None
    assert measure("predicate", "compiled_batch", size=size)(test_many, facts_list) == expected


def test_interpreter(
    measure: Measure, size: int, facts_list: list[SaleFacts], expected: list[bool]
) -> None:
    expr = condition()

    def evaluate(facts: SaleFacts) -> object:
        return ip.evaluate(expr, facts)

    assert measure("predicate", "interpreter", size=size)(run_all, evaluate, facts_list) == expected


def test_numpy(
    measure: Measure, size: int, facts_list: list[SaleFacts], expected: list[bool]
) -> None:
    np = pytest.importorskip("numpy", reason="numpy comes with the `bench` extra")
    areas = sorted({f.area for f in facts_list})
    area_id = {a: i for i, a in enumerate(areas)}
    in_gd = np.array(
        [any("GD" in f.area_lineage for f in facts_list if f.area == a) for a in areas]
    )
    age = np.array([-1 if f.customer.age is None else f.customer.age for f in facts_list])
    vip = np.array(
        [-1 if f.customer.vip_level is None else f.customer.vip_level for f in facts_list]
    )
    channel = np.array([f.channel in HALL_WEB for f in facts_list])
    area = np.array([area_id[f.area] for f in facts_list])

    def columnar() -> Any:
        return (age >= 15) & (age <= 26) & channel & in_gd[area] & (vip >= 1)

    answers = measure("predicate", "numpy", size=size)(columnar)
    assert answers.tolist() == expected


def test_zen(
    measure: Measure, size: int, facts_list: list[SaleFacts], expected: list[bool]
) -> None:
    zen = pytest.importorskip("zen", reason="zen-engine comes with the `bench` extra")
    evaluate = zen.compile_expression(ZEN).evaluate
    assert measure("predicate", "zen", size=size)(run_all, evaluate, _dicts(facts_list)) == expected


def test_cel(
    measure: Measure, size: int, facts_list: list[SaleFacts], expected: list[bool]
) -> None:
    cel = pytest.importorskip("cel", reason="common-expression-language is in the `bench` extra")
    execute = cel.compile(CEL).execute
    assert measure("predicate", "cel", size=size)(run_all, execute, _dicts(facts_list)) == expected
