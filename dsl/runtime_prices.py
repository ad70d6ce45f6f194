"""What compiled price plans run on at quote time, besides their generated code.

1. The helpers generated code may call (`PRICE_EXPORTS`, on top of `dsl.runtime.EXPORTS`).
   A compiled waterfall keeps its running amount as a `Decimal` and steps it only with
   `minus` and `times`, which compute in `UNBOUNDED`: a context whose precision no sum,
   difference or product of two finite decimals can reach, so every step is exact, as the
   interpreter's `Fraction` arithmetic is. None of them reads attributes by name, loops, or
   reaches builtins, files or imports.
2. The finishing of each price the generated `run` hands back (`Tables.finish`): tax,
   rounding where the plan declares it, start date and proration, and the interpreter's own
   result dataclasses. Only a division that may not terminate (the duty-free part of a
   tax-included amount, a prorated first period) goes through `Fraction`; `exact` spells
   every other value the way `pricing.rounding.to_decimal` spells it, so compiled and
   interpreted results are equal down to their `repr`.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from decimal import Decimal
from fractions import Fraction
from types import MappingProxyType
from typing import Any, NoReturn

from dsl import nodes as n
from dsl.eval_prices_model import (
    AppliedAlteration,
    AppliedKind,
    Due,
    PricedPrice,
    PriceError,
    Stage,
    money_value,
    month_timing,
    shown,
)
from dsl.runtime import EXPORTS, fresh_namespace
from pricing.rounding import EXACT, RoundingMode, round_amount

__all__ = [
    "MEMO_SIZE",
    "PRICE_EXPORTS",
    "UNBOUNDED",
    "ZERO",
    "Clock",
    "PriceInfo",
    "Spelling",
    "Step",
    "Tables",
    "exact",
    "fail",
    "fresh_price_namespace",
    "minus",
    "money_value",
    "no_choice",
    "no_lower",
    "times",
]

ZERO = Decimal(0)

#: Exact for +, - and *: results never need more digits than MAX_PREC (and anything that
#: would round or overflow raises instead). Never divide in it: 1/3 would not terminate.
UNBOUNDED = decimal.Context(
    prec=decimal.MAX_PREC,
    Emax=decimal.MAX_EMAX,
    Emin=decimal.MIN_EMIN,
    traps=[
        decimal.InvalidOperation,
        decimal.DivisionByZero,
        decimal.Overflow,
        decimal.Underflow,
        decimal.Inexact,
        decimal.Rounded,
    ],
)

minus = UNBOUNDED.subtract
times = UNBOUNDED.multiply


def exact(value: Decimal) -> Decimal:
    """`value` spelled as `to_decimal(Fraction(value))` spells it: no trailing fractional
    zeros, a whole number with exponent 0 (`700`, never `7E+2`), zero without a sign."""
    if not value:
        return ZERO
    if value == value.to_integral_value():
        return Decimal(int(value))
    return value.normalize(EXACT)


def no_lower(new: Decimal, amount: Decimal) -> Decimal:
    """A step's result without `credit`: never below zero, nor below an amount that is
    already below zero (the interpreter's `max(new, min(amount, 0))`)."""
    if new >= ZERO or new >= amount:
        return new
    return amount if amount < ZERO else ZERO


def fail(message: str) -> NoReturn:
    """Raise what the compiler found would fail once reached (a constant in the wrong
    currency, an alteration without an amount)."""
    raise PriceError(message)


def no_choice(name: str, group: str) -> NoReturn:
    """A cart line picked a choice its option group does not have."""
    raise PriceError(f"`{name}` is not a choice of option `{group}`")


#: What compiled price plans see besides `dsl.runtime.EXPORTS`.
PRICE_EXPORTS: Mapping[str, object] = MappingProxyType(
    {
        "ZERO": ZERO,
        "minus": minus,
        "times": times,
        "no_lower": no_lower,
        "money_of": money_value,
        "fail": fail,
        "no_choice": no_choice,
    }
)

if set(PRICE_EXPORTS) & set(EXPORTS):  # pragma: no cover - a programming error
    raise RuntimeError("dsl.runtime_prices shadows a name of dsl.runtime")


def fresh_price_namespace() -> dict[str, object]:
    """A new exec namespace for a compiled plan: both modules' exports, no builtins."""
    namespace = fresh_namespace()
    namespace.update(PRICE_EXPORTS)
    return namespace


# -- finishing the prices `run` hands back -----------------------------------------------------

Changes = tuple[tuple[int, Decimal], ...]  # (slot, change) of each applied alteration
Shown = tuple[Decimal, Decimal, Decimal, Decimal]  # final, duty free, tax included, first
MEMO_SIZE = 4096  # results `Tables` keeps, per kind


@dataclass(frozen=True, slots=True)
class Step:
    """What an applied alteration shows besides its change: known before any sale."""

    kind: AppliedKind
    name: str
    label: str
    plan: str
    stage: Stage
    span: n.Span
    percent: Decimal | None
    priority: int
    duration: n.PeriodLit | None
    credit: bool

    def applied(self, change: Decimal) -> AppliedAlteration:
        """The alteration as applied, `change` spelled as the interpreter spells it."""
        return AppliedAlteration(
            self.kind, self.name, self.label, self.plan, self.stage, self.span,
            exact(change), self.percent, self.priority, self.duration, self.credit,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class PriceInfo:
    """What a price shows that no sale changes, and how its tax is worked out."""

    price: n.Price
    currency: str
    tax_rate: Decimal
    included: bool
    untaxed: bool  # the rate is 0: both bases are the final amount
    divisor: Fraction  # 1 + rate: the duty-free part of a tax-included amount
    factor: Decimal  # 1 + rate: the tax-included amount of a duty-free one
    due: Due
    prorated: bool
    next_month: bool
    where: str

    @classmethod
    def of(cls, plan: str, price: n.Price, currency: str, tax: n.Tax | None) -> PriceInfo:
        rate = tax.rate.value if tax is not None else ZERO
        fraction = Fraction(rate) / 100
        period = price.period
        per_month = period is not None and (period.count, period.unit) == (1, "month")
        return cls(
            price=price,
            currency=currency,
            tax_rate=rate,
            included=tax is None or tax.included,
            untaxed=fraction == 0,
            divisor=1 + fraction,
            factor=EXACT.add(1, rate.scaleb(-2, context=EXACT)),
            due="now" if price.kind == "one_time" else "every_period",
            prorated=price.prorated and per_month,
            next_month=price.kind == "one_time" and price.starting != "now",
            where=f"price `{price.name}` of plan `{plan}`",
        )


@dataclass(frozen=True, slots=True)
class Spelling:
    """How shown amounts are spelled: rounded as the plan declares, else exact. `show`
    takes exact Decimals; `node` is what `shown` needs for the Fraction of a division."""

    node: n.Rounding | None
    show: Callable[[Decimal], Decimal]

    @classmethod
    def of(cls, node: n.Rounding | None) -> Spelling:
        if node is None:
            return cls(None, exact)
        mode, decimals = RoundingMode(node.mode), node.decimals
        return cls(node, lambda value: round_amount(value, mode, decimals))


class Clock:
    """The sale's local time as prices need it (the first instant of the next month, the
    proration of the current one): worked out once per quote, and only if a price asks."""

    __slots__ = ("_timing", "moment", "tz")

    def __init__(self, moment: datetime, tz: tzinfo | None) -> None:
        self.moment = moment
        self.tz = tz
        self._timing: tuple[datetime, Fraction] | None = None

    def timing(self) -> tuple[datetime, Fraction]:
        if self._timing is None:
            self._timing = month_timing(self.moment, self.tz)
        return self._timing


@dataclass(frozen=True, slots=True, eq=False)
class Tables:
    """A unit's prices and alteration slots, and what it remembers of pure functions of a
    price's final amount and of a step's change (equal values give equal results, whatever
    their spelling; bounded, as amounts that read the facts may take any value)."""

    prices: tuple[PriceInfo, ...]
    steps: tuple[Step, ...]
    shown: dict[tuple[int, Decimal, Fraction | None], Shown] = field(default_factory=dict)
    applied: dict[tuple[int, Decimal], AppliedAlteration] = field(default_factory=dict)

    @property
    def timing(self) -> bool:
        """Whether some price starts next month or is prorated: the local time is needed."""
        return any(p.prorated or p.next_month for p in self.prices)

    def finish(
        self,
        spelling: Spelling,
        moment: datetime,
        starts: datetime,
        proration: Fraction | None,
        index: int,
        listed: Decimal,
        amount: Decimal,
        changes: Changes,
    ) -> PricedPrice:
        """Tax, rounding and timing of price `index` after its waterfall: what the generated
        `run` calls (bound to the first four arguments) as `finish(index, listed, amount,
        changes)` for each listed price. Raises PriceError as the interpreter does."""
        info = self.prices[index]
        price = info.price
        prorate = proration if info.prorated else None
        key = (index, amount, prorate)
        amounts = self.shown.get(key)
        if amounts is None:
            amounts = shown_amounts(info, amount, prorate, spelling)
            _remember(self.shown, key, amounts)
        final, duty_free, tax_included, first = amounts
        applied = []
        for step in changes:
            done = self.applied.get(step)
            if done is None:
                done = self.steps[step[0]].applied(step[1])
                _remember(self.applied, step, done)
            applied.append(done)
        return PricedPrice(  # positional: the frozen dataclass's keywords cost more
            price.name,
            price.business,
            price.kind,
            price.period,
            info.currency,
            listed,
            final,
            info.tax_rate,
            info.included,
            duty_free,
            tax_included,
            info.due,
            starts if info.next_month else moment,
            price.covering,
            prorate,
            first,
            tuple(applied),
            price.span,
        )


def _remember(memo: dict[Any, Any], key: object, value: object) -> None:
    if len(memo) >= MEMO_SIZE:
        memo.clear()
    memo[key] = value


def shown_amounts(
    info: PriceInfo, amount: Decimal, prorate: Fraction | None, spelling: Spelling
) -> Shown:
    """The final, duty-free, tax-included and first-period amounts of a price whose
    waterfall ended at `amount`, computed (and failing) as the interpreter computes them."""
    show = spelling.show
    if info.untaxed:
        duty_free = tax_included = show(amount)
        gross = amount
    elif info.included:
        what = f"the duty-free amount of {info.where}"
        duty_free = shown(Fraction(amount) / info.divisor, spelling.node, what)
        tax_included = show(amount)
        gross = amount
    else:
        duty_free = show(amount)
        gross = times(amount, info.factor)
        tax_included = show(gross)
    first = tax_included
    if prorate is not None:
        what = f"the first period of {info.where}"
        first = shown(Fraction(gross) * prorate, spelling.node, what)
    return exact(amount), duty_free, tax_included, first
