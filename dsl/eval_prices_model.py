"""What the reference price interpreter returns, and the plan-level helpers it shares.

Money is exact `Decimal` on every result. Arithmetic runs on `Fraction` and each shown amount
is converted once, at its documented place (see `dsl.eval_prices`): rounded there when the
plan declares `rounding`, else converted exactly. A shown amount that is not a terminating
decimal in a plan without `rounding` (the duty-free part of a tax-included price, a prorated
first period) raises `PriceError`: declare `rounding` in such plans.
"""

from __future__ import annotations

import calendar
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import Decimal
from fractions import Fraction
from typing import Literal

from dsl import nodes as n
from dsl.runtime import EvalError
from pricing.rounding import EXACT, InexactAmountError, RoundingMode, round_exact, to_decimal

PriceType = Literal["one_time", "recurring"]
Due = Literal["now", "every_period"]  # one-time: paid at the sale; recurring: billed per period
AppliedKind = Literal["discount", "waive", "override", "cap", "floor", "replace"]
Stage = Literal["product", "bundle", "limit"]
ZERO = Decimal(0)


class PriceError(EvalError):
    """A plan cannot be priced for these facts: an unknown amount, a currency missing or
    mixed, an unknown option choice, or a non-terminating amount in a plan without
    `rounding`."""


@dataclass(frozen=True, slots=True)
class AppliedAlteration:
    """One step of a price's waterfall. `change` is what it did to the amount before tax
    (negative for a discount); `percent` is the written percentage (`10%` -> 10) or None."""

    kind: AppliedKind
    name: str  # the alteration's name ("" when unnamed)
    label: str  # its "label" ("" when none)
    plan: str  # the plan that declares it (the combo's plan in the bundle stage)
    stage: Stage
    span: n.Span
    change: Decimal
    percent: Decimal | None
    priority: int
    duration: n.PeriodLit | None  # `for 12 months`: applies for that many periods
    credit: bool


@dataclass(frozen=True, slots=True)
class PricedPrice:
    """One price of a line after the waterfall.

    `list_amount` and `final_amount` are in the plan's price basis (tax included when the
    plan says `tax R% included`, else duty free), before rounding. `duty_free` and
    `tax_included` are the final amount on both bases, rounded when the plan rounds.
    `first_period` is what the first period costs, tax included: `tax_included` for a
    one-time price, and for a recurring price the (prorated) first period."""

    name: str
    business: str
    type: PriceType
    period: n.PeriodLit | None
    currency: str
    list_amount: Decimal
    final_amount: Decimal
    tax_rate: Decimal  # percent: 9 for `tax 9% included`; 0 without `tax`
    tax_included_basis: bool  # True when list prices include tax
    duty_free: Decimal
    tax_included: Decimal
    due: Due
    starts: datetime
    covering: n.PeriodLit | None
    proration: Fraction | None  # remaining days / days in month, for `prorated` monthly prices
    first_period: Decimal
    alterations: tuple[AppliedAlteration, ...]
    span: n.Span

    @property
    def monthly(self) -> bool:
        """A recurring price billed every single month (per quarter or per year is not)."""
        p = self.period
        return self.type == "recurring" and p is not None and (p.count, p.unit) == (1, "month")


@dataclass(frozen=True, slots=True)
class PricedLine:
    """`quantity` equal units of a cart line, priced once: prices and totals are one unit's
    (tax included), and the quote counts them `quantity` times. Units are priced
    arithmetically so a quote's work and size never grow with a quantity: a line of
    quantity N is one PricedLine of quantity N; a combo's member offer is its first unit
    (which an extra-line discount may spare) and one line for the units after it, each
    times the combo line's quantity. `member_of` is the combo's offer for a member line."""

    offer: str
    plan: str  # "" when the offer has no plan: the line has no prices
    member_of: str
    options: tuple[tuple[str, str], ...]
    prices: tuple[PricedPrice, ...]
    currency: str
    due_now: Decimal
    monthly: Decimal
    first_bill: Decimal
    quantity: int = 1


@dataclass(frozen=True, slots=True)
class Quote:
    """Every priced line in cart order (a combo line, then its members), and the totals:
    each is the sum of the lines' same total times the line's quantity."""

    lines: tuple[PricedLine, ...]
    currency: str
    due_now: Decimal
    monthly: Decimal
    first_bill: Decimal

    def prices_named(self, name: str) -> list[PricedPrice]:
        """Prices called `name`: those of top-level lines first, then of member lines."""
        top = [p for line in self.lines if not line.member_of for p in line.prices]
        members = [p for line in self.lines if line.member_of for p in line.prices]
        return [p for p in top + members if p.name == name]


def money_value(value: object, currency: str, what: str) -> Decimal:
    """The amount of an evaluated money expression in the plan's `currency`: a bare number
    takes it, a written currency must be it. Raises PriceError, with the interpreter's
    messages, for an unknown value, a value that is not money and a currency missing or
    different. Used at compile time for constants and at run time for the rest."""
    if value is None:
        raise PriceError(f"the amount of {what} is unknown")
    if isinstance(value, tuple):
        amount, written = value
        written = written or currency
    elif isinstance(value, int | Decimal) and not isinstance(value, bool):
        amount, written = Decimal(value), currency
    else:
        raise PriceError(f"the amount of {what} is not money: {value!r}")
    if not written:
        raise PriceError(f"{what} has no currency: declare `currency` in the plan")
    if written != currency:
        raise PriceError(f"{what} is in {written}, the plan's currency is {currency or 'none'}")
    if not isinstance(amount, Decimal):
        amount = Decimal(amount)
    return amount


def quote_of(priced: Sequence[PricedLine]) -> Quote:
    """A cart's priced lines as a quote: one currency (PriceError when lines mix them) and
    totals that are the lines' exact sums. Shared by the interpreter and compiled plans."""
    currencies = {p.currency for p in priced if p.prices}
    if len(currencies) > 1:
        raise PriceError(f"the cart mixes currencies: {', '.join(sorted(currencies))}")
    return Quote(
        lines=tuple(priced),
        currency=currencies.pop() if currencies else "",
        due_now=exact_sum([times(p.due_now, p.quantity) for p in priced]),
        monthly=exact_sum([times(p.monthly, p.quantity) for p in priced]),
        first_bill=exact_sum([times(p.first_bill, p.quantity) for p in priced]),
    )


def counted(line: PricedLine, quantity: int) -> PricedLine:
    """`line` counted `quantity` times more (a cart line of that quantity holds it)."""
    if quantity == 1:
        return line
    return dataclasses.replace(line, quantity=line.quantity * quantity)


def times(amount: Decimal, quantity: int) -> Decimal:
    """`quantity` units of `amount`, exactly (one unit keeps the amount as it is)."""
    return amount if quantity == 1 else EXACT.multiply(amount, Decimal(quantity))


def month_timing(moment: datetime, tz: tzinfo | None) -> tuple[datetime, Fraction]:
    """The first instant of the month after `moment` (local to `tz`, default the moment's
    own zone), and the share of the current month left from the moment's day (included):
    where a price `starting next month` starts and how a `prorated` monthly price is cut."""
    local = moment.astimezone(tz) if tz is not None else moment
    year, month = local.year, local.month
    following = (year + 1, 1) if month == 12 else (year, month + 1)
    days = calendar.monthrange(year, month)[1]
    return datetime(*following, 1, tzinfo=local.tzinfo), Fraction(days - local.day + 1, days)


# -- plan settings -----------------------------------------------------------------------------


def plan_currency(plan: n.PlanDecl) -> str:
    return next((i.code for i in plan.items if isinstance(i, n.Currency)), "")


def plan_tax(plan: n.PlanDecl) -> n.Tax | None:
    return next((i for i in plan.items if isinstance(i, n.Tax)), None)


def plan_rounding(plan: n.PlanDecl) -> n.Rounding | None:
    return next((i for i in plan.items if isinstance(i, n.Rounding)), None)


def shown(value: Fraction, rounding: n.Rounding | None, what: str) -> Decimal:
    """An amount as shown on the quote: rounded when `rounding` is given, else exact."""
    if rounding is not None:
        return round_exact(value, RoundingMode(rounding.mode), rounding.decimals)
    try:
        return to_decimal(value)
    except InexactAmountError as err:
        raise PriceError(
            f"{what} is {value}, not a terminating decimal: declare `rounding`"
        ) from err


def exact_sum(values: list[Decimal]) -> Decimal:
    """The exact sum of decimals, keeping their scale (an inexact sum would raise)."""
    total = ZERO
    for value in values:
        total = EXACT.add(total, value)
    return total
