"""Property: for random well-typed conditions over the context names and random facts
(unknowns included: facts absent), the compiled path gives exactly the interpreter's value.
The conditions divide, by literals, by zero and by expressions that may be zero at run time
(`cart.count(x)`, `a - a`), so unknown from a division meets unknown from a missing fact."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from dsl import interpreter as ip
from dsl import nodes as n
from dsl.compiler import compile_eligibility, compile_expr
from dsl.context import CustomerFacts, ItemFacts, SaleFacts
from tests.support.fuzz import fuzz_settings
from tests.unit.dsl.test_eval_support import AREAS, ATTRIBUTES, ENV, money, name

CODES = {
    "channel": ["hall", "web", "sms", "agent"],
    "area": list(AREAS),
    "customer.type": ["personal", "enterprise"],
    "time.weekday": ["mon", "sat", "sun"],
}
SEGMENTS = ["vip", "student", "senior"]
OFFERS = ["youth_plan", "mobile_basic", "family_bundle"]
INTS = ["customer.age", "customer.vip_level", "item.quantity", "bundle.lines"]

small_ints = st.integers(min_value=-2, max_value=40)


def int_value() -> st.SearchStrategy[n.Expr]:
    leaf = st.one_of(
        st.sampled_from(INTS).map(name),
        small_ints.map(lambda v: n.IntLit(value=v)),
        st.sampled_from(OFFERS).map(
            lambda o: n.Call(target=name("cart"), method="count", args=(name(o),))
        ),
        st.decimals(min_value=-5, max_value=50, places=1).map(lambda v: n.DecimalLit(value=v)),
        st.just(name("customer.score")),
    )
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.builds(
                lambda op, a, b: n.Arith(op=op, left=a, right=b),
                st.sampled_from(["+", "-", "*", "/"]),
                inner,
                inner,
            ),
            st.builds(lambda a, b: n.Arith(op="/", left=a, right=b), inner, divisors(inner)),
            inner.map(lambda a: n.Neg(operand=a)),
        ),
        max_leaves=4,
    )


def divisors(values: st.SearchStrategy[n.Expr]) -> st.SearchStrategy[n.Expr]:
    """Zero, or expressions that may be zero at run time."""
    return st.one_of(
        st.sampled_from([n.IntLit(value=0), n.DecimalLit(value=Decimal("0.0"))]),
        st.sampled_from(OFFERS).map(
            lambda o: n.Call(target=name("cart"), method="count", args=(name(o),))
        ),
        values.map(lambda a: n.Arith(op="-", left=a, right=a)),
        st.sampled_from(INTS).map(name),
    )


def money_value() -> st.SearchStrategy[n.Expr]:
    """The money attribute (often absent), scaled and divided."""
    spend = name("customer.spend")
    return st.one_of(
        st.just(spend),
        st.builds(lambda d: n.Arith(op="/", left=spend, right=d), divisors(int_value())),
        st.builds(lambda f: n.Arith(op="*", left=spend, right=f), int_value()),
        st.builds(lambda d: n.Arith(op="/", left=money("9.00"), right=d), divisors(int_value())),
    )


def comparison() -> st.SearchStrategy[n.Expr]:
    ops = st.sampled_from(["==", "!=", "<", "<=", ">", ">="])
    numbers = st.builds(lambda op, a, b: n.Compare(op=op, left=a, right=b),
                        ops, int_value(), int_value())  # fmt: skip
    moneys = st.builds(
        lambda op, a, b: n.Compare(op=op, left=a, right=b),
        ops,
        money_value(),
        st.one_of(money_value(), st.just(money("4.50"))),
    )
    betweens = st.builds(
        lambda v, lo, hi, neg: n.Between(value=v, low=lo, high=hi, negated=neg),
        int_value(), int_value(), int_value(), st.booleans(),
    )  # fmt: skip
    codes = st.sampled_from(sorted(CODES)).flatmap(
        lambda key: st.one_of(
            st.builds(lambda op, c: n.Compare(op=op, left=name(key), right=name(c)),
                      st.sampled_from(["==", "!="]), st.sampled_from(CODES[key])),
            st.builds(lambda cs, neg: n.In(value=name(key), negated=neg,
                                           container=n.SetLit(items=tuple(map(name, cs)))),
                      st.lists(st.sampled_from(CODES[key]), max_size=3), st.booleans()),
        )
    )  # fmt: skip
    sets = st.one_of(
        st.builds(lambda s, neg: n.In(value=n.StringLit(value=s), container=name(
            "customer.segments"), negated=neg), st.sampled_from(SEGMENTS), st.booleans()),
        st.builds(lambda o, c: n.In(value=name(o), container=name(c)),
                  st.sampled_from(OFFERS), st.sampled_from(["cart", "customer.products"])),
        st.builds(lambda a, neg: n.Within(value=name("area"), area=name(a), negated=neg),
                  st.sampled_from(list(AREAS)), st.booleans()),
        st.builds(lambda a: n.Within(value=name("customer.home"), area=name(a)),
                  st.sampled_from(list(AREAS))),
        st.builds(lambda m: n.Compare(op=">=", left=name("customer.tenure"),
                                      right=n.PeriodLit(count=m, unit="month")), small_ints),
        st.builds(lambda c: n.Compare(op="==", left=name("customer.credit_class"),
                                      right=n.StringLit(value=c)), st.sampled_from("AB")),
        st.just(name("customer.installable")),
        st.booleans().map(lambda b: n.BoolLit(value=b)),
    )  # fmt: skip
    return st.one_of(numbers, moneys, betweens, codes, sets)


conditions: st.SearchStrategy[n.Expr] = st.recursive(
    comparison(),
    lambda inner: st.one_of(
        inner.map(lambda e: n.Not(operand=e)),
        st.lists(inner, min_size=2, max_size=3).map(lambda es: n.And(operands=tuple(es))),
        st.lists(inner, min_size=2, max_size=3).map(lambda es: n.Or(operands=tuple(es))),
    ),
    max_leaves=8,
)


def maybe(strategy: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    return st.one_of(st.none(), strategy)


customers = st.builds(
    CustomerFacts,
    type=maybe(st.sampled_from(CODES["customer.type"])),
    segments=st.frozensets(st.sampled_from(SEGMENTS)),
    age=maybe(small_ints),
    vip_level=maybe(st.integers(0, 6)),
    tenure_months=maybe(st.integers(0, 40)),
    credit_class=maybe(st.sampled_from("ABC")),
    products=st.frozensets(st.sampled_from(OFFERS)),
    attributes=st.fixed_dictionaries(
        {},
        optional={
            "installable": st.booleans(),
            "home": st.sampled_from(list(AREAS)),
            "score": st.decimals(min_value=-3, max_value=3, places=1),
            "spend": st.decimals(min_value=0, max_value=20, places=2).map(lambda d: (d, "CNY")),
        },
    ),
)
sales = st.builds(
    lambda customer, area, channel, hours, cart, quantity, bundle: SaleFacts(
        customer=customer,
        area=area,
        area_lineage=AREAS[area],
        channel=channel,
        time=datetime(2026, 3, 2, tzinfo=timezone(timedelta(hours=8))) + timedelta(hours=hours),
        cart=cart,
        item=None if quantity is None else ItemFacts(offer="youth_plan", quantity=quantity),
        bundle=bundle,
    ),
    customers,
    st.sampled_from(list(AREAS)),
    st.sampled_from(CODES["channel"]),
    st.integers(0, 24 * 7),
    st.dictionaries(st.sampled_from(OFFERS), st.integers(0, 3)),
    maybe(st.integers(1, 5)),
    maybe(st.dictionaries(st.sampled_from(OFFERS), st.integers(0, 3))),
)


@fuzz_settings(300)
@given(conditions, st.lists(sales, min_size=1, max_size=4))
def test_compiled_equals_interpreted(condition: n.Expr, facts_list: list[SaleFacts]) -> None:
    compiled = compile_expr(condition, "props.tariff", ATTRIBUTES)
    expected = [ip.evaluate(condition, sale, ENV) for sale in facts_list]
    assert [compiled.value(sale, AREAS) for sale in facts_list] == expected
    assert compiled.test_many is not None
    assert compiled.test_many(facts_list, AREAS) == [v is True for v in expected]


@fuzz_settings(100)
@given(st.lists(conditions, min_size=1, max_size=4), st.booleans(), sales)
def test_compiled_blocks_equal_interpreted(
    conds: list[n.Expr], every: bool, sale: SaleFacts
) -> None:
    if every:
        rules = tuple(n.Rule(name=f"r{i}", condition=c) for i, c in enumerate(conds))
        block = n.Eligibility(mode="all", rules=rules)
    else:
        branches = tuple(n.Branch(condition=c, allow=i % 2 == 0) for i, c in enumerate(conds))
        block = n.Eligibility(mode="first", branches=branches)
    compiled = compile_eligibility(block, "props.tariff", ATTRIBUTES)
    for trace in (False, True):
        assert compiled.outcome(sale, ENV, trace=trace) == ip.eligibility(
            block, sale, ENV, trace=trace
        )


def test_decimal_literals_stay_decimal() -> None:
    expr = n.Compare(op="<", left=name("customer.age"), right=n.DecimalLit(value=Decimal("1.5")))
    assert "Decimal('1.5')" in compile_expr(expr).program.source
