"""Runs the price expectations of an example (`due now`, `monthly`, `price NAME`) on the
compiled price plans (`dsl.compile_prices`), the code quotes run on; they agree exactly with
the reference interpreter (`dsl.eval_prices`), which the tests hold them to.

Every compared amount is tax included (what the customer pays), after the plan's declared
rounding, and compared exactly (`63` equals `63.00`; the currency must match):

- `due now A`: the quote's `due_now` (one-time prices, prepayments included);
- `monthly A`: the quote's `monthly` (recurring prices billed every month, first full month);
- `price NAME A`: the tax-included amount of the price NAME, for a full period (not prorated),
  taken from the first top-level line that has it, else from the first member line.

A bare expected amount takes the currency of the plan the example sits in, else the quote's.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Literal

from dsl import nodes as n
from dsl.codegen import CompileError
from dsl.compile_prices import compile_plans, quote_compiled
from dsl.context import SaleFacts
from dsl.eval_prices_model import Quote, plan_currency
from dsl.runtime import EvalError
from dsl.symbols import Scope

Status = Literal["passed", "failed", "not_run"]
PRICE_KINDS = frozenset({"due_now", "monthly", "price"})


def price_verdict(
    example: n.Example,
    plans_by_offer: Mapping[str, n.PlanDecl],
    scope: Scope,
    facts: SaleFacts,
    *,
    seen: list[tuple[str, n.Span]] | None = None,
) -> tuple[Status, str, str]:
    """(status, expected, actual) of the example's price expectations; other kinds are left
    to the caller. `not_run` when it has none. An offer missing from `plans_by_offer` falls
    back to a plan of the same name in `scope`. Pricing and compile errors make it `failed`.
    `seen` receives ("plan:NAME", span) of every price and alteration the cart applied."""
    wanted = [e for e in example.expect if e.kind in PRICE_KINDS]
    if not wanted:
        return "not_run", "", "no price expectation"
    plans: dict[str, n.PlanDecl] = {}  # the plans the cart needs: compiled for this example
    for line in _all_lines(example.cart):
        plan = plans_by_offer.get(line.offer) or scope.plans.get(line.offer)
        if plan is not None:
            plans[line.offer] = plan
    expected_all = "; ".join(_describe(e, "") for e in wanted)
    attributes = {key: decl.type for key, decl in scope.attributes.items()}
    try:
        compiled = compile_plans(plans, "<examples>", attributes)
    except CompileError as error:
        return "failed", expected_all, f"cannot compile the plans: {error}"
    try:
        priced = quote_compiled(example.cart, compiled, facts)
    except EvalError as error:
        return "failed", expected_all, f"cannot price the cart: {error}"
    if seen is not None:
        for priced_line in priced.lines:
            for price in priced_line.prices:
                seen.append((f"plan:{priced_line.plan}", price.span))
                seen.extend((f"plan:{a.plan}", a.span) for a in price.alterations)
    home = _home_currency(example, scope) or priced.currency
    expected_parts: list[str] = []
    actual_parts: list[str] = []
    failed = False
    for expectation in wanted:
        want = _amount(expectation, home)
        got = _actual(expectation, priced, home)
        expected_parts.append(_describe(expectation, _show(want)))
        actual_parts.append(_describe(expectation, _show(got) if got else "none"))
        failed = failed or got is None or want is None or got != want
    status: Status = "failed" if failed else "passed"
    return status, "; ".join(expected_parts), "; ".join(actual_parts)


Money = tuple[Decimal, str]


def _all_lines(lines: tuple[n.CartLine, ...]) -> list[n.CartLine]:
    found: list[n.CartLine] = []
    for line in lines:
        found.append(line)
        found.extend(line.members)
    return found


def _home_currency(example: n.Example, scope: Scope) -> str:
    for plan in scope.plans.values():
        if any(e is example for e in plan.examples):
            return plan_currency(plan)
    return ""


def _amount(expectation: n.Expectation, home: str) -> Money | None:
    value = expectation.value
    if isinstance(value, n.MoneyLit):
        return value.amount, value.currency or home
    if isinstance(value, n.IntLit | n.DecimalLit):
        return Decimal(value.value), home
    return None


def _actual(expectation: n.Expectation, priced: Quote, home: str) -> Money | None:
    currency = priced.currency or home  # a cart without prices costs nothing in any currency
    if expectation.kind == "due_now":
        return priced.due_now, currency
    if expectation.kind == "monthly":
        return priced.monthly, currency
    found = priced.prices_named(expectation.subject)
    return (found[0].tax_included, found[0].currency) if found else None


def _describe(expectation: n.Expectation, amount: str) -> str:
    head = {"due_now": "due now", "monthly": "monthly"}.get(
        expectation.kind, f"price {expectation.subject}"
    )
    return f"{head} {amount}".rstrip()


def _show(money: Money | None) -> str:
    if money is None:
        return "?"
    amount, currency = money
    return f"{amount} {currency}".rstrip()
