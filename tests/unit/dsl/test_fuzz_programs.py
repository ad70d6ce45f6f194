"""Fuzzing whole programs: typed eligibility rules written as Tariff text go through parse ->
check -> compile -> both evaluators, which must agree on every sale.

The rules divide (by literals, by zero, and by what may be zero at run time: `cart.count(x)`,
`a - a`) and read facts that are often absent, so unknown from a division meets unknown from
a missing fact (issue 21: the interpreter raised where the compiled code said "not
qualified"). The generator is typed, so the checker must find no error but `division-by-zero`,
and that exactly where a divisor is zero whatever the facts.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from dsl import interpreter as ip
from dsl import nodes as n
from dsl.checker import check
from dsl.compiler import compile_eligibility
from dsl.context import SaleFacts
from dsl.parser import parse
from dsl.runtime import EvalError
from tests.support.fuzz import fuzz_settings
from tests.unit.dsl.test_checker_helpers import CATALOG
from tests.unit.dsl.test_eval_props import sales
from tests.unit.dsl.test_eval_support import ENV

OFFERS = ["youth_plan", "mobile_basic", "family_bundle"]
HEADER = """attribute customer.score: decimal
attribute customer.spend: money
attribute customer.installable: bool
attribute customer.home: area
"""
ATTRIBUTES = {
    "customer.score": "decimal",
    "customer.spend": "money",
    "customer.installable": "bool",
    "customer.home": "area",
}


@dataclass(frozen=True)
class Text:
    """Generated source, and its value when it is a constant (None: not one, or unknown)."""

    source: str
    const: object = None
    zero_divisors: int = 0  # divisions inside by a divisor that is always zero


def _fold(op: str, left: Text, right: Text) -> object:
    if left.const is None or right.const is None:
        return None
    try:
        return ip.arith(op, left.const, right.const)
    except EvalError:
        return None


def _is_zero(value: object) -> bool:
    if isinstance(value, tuple):
        value = value[0]
    return isinstance(value, int | Decimal) and not isinstance(value, bool) and value == 0


def _binary(op: str, left: Text, right: Text) -> Text:
    zeros = left.zero_divisors + right.zero_divisors + (op == "/" and _is_zero(right.const))
    source = f"({left.source} {op} {right.source})"
    return Text(source, _fold(op, left, right), zeros)


def _negate(operand: Text) -> Text:
    const = None if operand.const is None else ip.arith("*", operand.const, -1)
    return Text(f"(-{operand.source})", const, operand.zero_divisors)


count_of = st.sampled_from(OFFERS).map(lambda o: Text(f"cart.count({o})"))
int_lit = st.integers(0, 40).map(lambda v: Text(str(v), v))
decimal_lit = st.tuples(st.integers(0, 9), st.integers(0, 9)).map(
    lambda p: Text(f"{p[0]}.{p[1]}", Decimal(f"{p[0]}.{p[1]}"))
)
number_leaf = st.one_of(
    st.sampled_from(["customer.age", "customer.vip_level", "item.quantity", "customer.score"]).map(
        Text
    ),
    int_lit,
    decimal_lit,
    count_of,
)


def _numbers(inner: st.SearchStrategy[Text]) -> st.SearchStrategy[Text]:
    return st.one_of(
        st.builds(_binary, st.sampled_from("+-*/"), inner, inner),
        st.builds(lambda a, d: _binary("/", a, d), inner, divisors(inner)),
        inner.map(_negate),
    )


def divisors(values: st.SearchStrategy[Text]) -> st.SearchStrategy[Text]:
    """Zero, or what may be zero at run time."""
    return st.one_of(
        st.sampled_from([Text("0", 0), Text("0.0", Decimal("0.0"))]),
        count_of,
        values.map(lambda a: _binary("-", a, a)),
        st.sampled_from(["customer.age", "customer.vip_level"]).map(Text),
    )


numbers = st.recursive(number_leaf, _numbers, max_leaves=5)
moneys = st.one_of(
    st.just(Text("customer.spend")),
    st.builds(lambda d: _binary("/", Text("customer.spend"), d), divisors(numbers)),
    st.builds(lambda f: _binary("*", Text("customer.spend"), f), numbers),
    st.builds(
        lambda d: _binary("/", Text("9.00 CNY", (Decimal("9.00"), "CNY")), d), divisors(numbers)
    ),
    st.just(Text("4.50 CNY", (Decimal("4.50"), "CNY"))),
)
compare_ops = st.sampled_from(["==", "!=", "<", "<=", ">", ">="])


def _compare(op: str, left: Text, right: Text) -> Text:
    return Text(
        f"{left.source} {op} {right.source}", None, left.zero_divisors + right.zero_divisors
    )


def _between(value: Text, low: Text, high: Text, negated: bool) -> Text:
    word = "not between" if negated else "between"
    zeros = value.zero_divisors + low.zero_divisors + high.zero_divisors
    return Text(f"{value.source} {word} {low.source} and {high.source}", None, zeros)


plain_conditions = st.sampled_from(
    [
        "channel in {hall, web}",
        "channel not in {sms}",
        "area within GD",
        "area not within QH",
        '"vip" in customer.segments',
        "mobile_basic in cart",
        "youth_plan in customer.products",
        "customer.installable",
        "customer.home within GD",
        "customer.tenure >= 12 months",
        'customer.credit_class == "A"',
        "customer.type == personal",
        "true",
        "false",
    ]
).map(Text)
comparisons = st.one_of(
    st.builds(_compare, compare_ops, numbers, numbers),
    st.builds(_compare, compare_ops, moneys, moneys),
    st.builds(_between, numbers, numbers, numbers, st.booleans()),
    plain_conditions,
)


def _junction(word: str, operands: list[Text]) -> Text:
    source = f" {word} ".join(f"({o.source})" for o in operands)
    return Text(source, None, sum(o.zero_divisors for o in operands))


conditions = st.recursive(
    comparisons,
    lambda inner: st.one_of(
        inner.map(lambda c: Text(f"not ({c.source})", None, c.zero_divisors)),
        st.lists(inner, min_size=2, max_size=3).map(lambda cs: _junction("and", cs)),
        st.lists(inner, min_size=2, max_size=3).map(lambda cs: _junction("or", cs)),
    ),
    max_leaves=6,
)


@st.composite
def programs(draw: st.DrawFn) -> tuple[str, int]:
    """A rule file of one or two offers (`eligible all` or `first`), and how many divisions
    by a constant zero it holds."""
    lines = [HEADER]
    zeros = 0
    for offer in draw(st.lists(st.sampled_from(["youth_plan", "vip_plan"]), min_size=1,
                               max_size=2, unique=True)):  # fmt: skip
        rules = draw(st.lists(conditions, min_size=1, max_size=3))
        zeros += sum(r.zero_divisors for r in rules)
        lines.append(f"offer {offer} {{")
        if draw(st.booleans()):
            lines.append("  eligible all {")
            lines += [f"    r{i}: {r.source}" for i, r in enumerate(rules)]
        else:
            lines.append("  eligible first {")
            lines += [
                f"    when {r.source}: {('allow', 'deny')[i % 2]}" for i, r in enumerate(rules)
            ]
            if draw(st.booleans()):
                lines.append('    otherwise: deny "no"')
        lines += ["  }", "}", ""]
    return "\n".join(lines), zeros


@fuzz_settings(300)
@given(programs(), st.lists(sales, min_size=1, max_size=4))
def test_generated_programs_check_compile_and_evaluate_alike(
    program: tuple[str, int], facts_list: list[SaleFacts]
) -> None:
    text, zeros = program
    module = parse(text, "fuzz.tariff")
    found = check([module], CATALOG)
    assert [d.code for d in found if d.severity == "error"] == ["division-by-zero"] * zeros, (
        text,
        found,
    )
    for decl in module.declarations:
        if not isinstance(decl, n.OfferDecl) or decl.eligibility is None:
            continue
        compiled = compile_eligibility(decl.eligibility, "fuzz.tariff", ATTRIBUTES, decl.code)
        for sale in facts_list:
            for trace in (False, True):
                expected = ip.eligibility(decl.eligibility, sale, ENV, trace=trace)
                assert compiled.outcome(sale, ENV, trace=trace) == expected, text
