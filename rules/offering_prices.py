"""An offer's prices as data (TMF620 ProductOfferingPrice), read off the checked plans of a
version, so order systems need not read the DSL.

Derived from the plans the version compiled (`CompiledRuleSet.plans`, each holding its
checked tree), never by parsing text per request: each plan once per version, the first
time it is asked for, kept in the version's `OfferingPriceBook`. An amount that is a
constant is given exactly (money, a percentage, a quantity); one that is an expression over
the sale's facts is given as its rule text and location, never guessed. A plan that does not
compile is given with its error and no prices.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from threading import Lock
from typing import TYPE_CHECKING, Literal

from catalog.model import Combo
from catalog.snapshot import Offer
from dsl import nodes as n
from dsl.eval_prices_model import plan_currency, plan_rounding, plan_tax
from rules.compiled import CompiledRuleSet

if TYPE_CHECKING:
    from rules.sale_catalog import SaleCatalog


@dataclass(frozen=True, slots=True)
class Expression:
    """Rule text that is not a constant (or a condition), and where it is written."""

    text: str
    path: str
    span: n.Span


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str


@dataclass(frozen=True, slots=True)
class Percent:
    value: Decimal  # 20 for 20%


Amount = Money | Percent | Expression


@dataclass(frozen=True, slots=True)
class UsageQuantity:
    """`amount` `unit` as written (60 s, 1 MB, 1 message), or an expression."""

    amount: Decimal | None
    unit: str
    expression: Expression | None = None


@dataclass(frozen=True, slots=True)
class ListPrice:
    name: str
    kind: Literal["one_time", "recurring"]
    amount: Amount
    period: n.PeriodLit | None
    business: str
    starts_next_period: bool
    covering: n.PeriodLit | None
    prorated: bool
    condition: Expression | None
    option: str  # "" for the plan's own prices
    choice: str
    span: n.Span


@dataclass(frozen=True, slots=True)
class Option:
    name: str
    default: str
    choices: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Alteration:
    name: str
    kind: n.AlterationKind
    target_price: str
    target_offer: str
    each_line: bool
    amount: Amount | None
    condition: Expression | None
    priority: int
    duration: n.PeriodLit | None
    label: str
    credit: bool
    replaces: bool
    span: n.Span


@dataclass(frozen=True, slots=True)
class UsageRate:
    zone: str
    band: str
    price: Amount
    per: UsageQuantity
    first_increment: UsageQuantity | None
    next_increment: UsageQuantity | None
    connection: Amount | None
    minimum: Amount | None
    maximum: Amount | None
    condition: Expression | None
    span: n.Span


@dataclass(frozen=True, slots=True)
class UsageTier:
    low: UsageQuantity
    high: UsageQuantity | None
    price: Amount
    per: UsageQuantity


@dataclass(frozen=True, slots=True)
class UsageTiers:
    mode: str
    period: n.PeriodLit
    tiers: tuple[UsageTier, ...]


@dataclass(frozen=True, slots=True)
class UsageAllowance:
    name: str
    amount: UsageQuantity
    period: n.PeriodLit
    zones: tuple[str, ...]
    bands: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class UsageCap:
    amount: Amount
    period: n.PeriodLit


@dataclass(frozen=True, slots=True)
class UsagePricing:
    business: str
    zones: str
    bands: str
    rates: tuple[UsageRate, ...]
    tiers: UsageTiers | None
    allowances: tuple[UsageAllowance, ...]
    caps: tuple[UsageCap, ...]
    rounding: n.Rounding | None
    span: n.Span


@dataclass(frozen=True, slots=True)
class PlanPrices:
    """One plan's prices as data; `error` set (and nothing else) for a plan that does not
    compile."""

    plan: str
    path: str
    title: str = ""
    currency: str = ""
    tax_rate: Decimal = Decimal(0)  # percent, as written: 6 for `tax 6%`
    tax_included: bool = False
    rounding: n.Rounding | None = None
    commitment: n.PeriodLit | None = None
    prices: tuple[ListPrice, ...] = ()
    options: tuple[Option, ...] = ()
    alterations: tuple[Alteration, ...] = ()
    usage: tuple[UsagePricing, ...] = ()
    span: n.Span = n.NOWHERE
    error: str = ""


def rule_text(text: str, span: n.Span) -> str:
    """The source a span covers, its lines joined by single spaces."""
    lines = text.splitlines()
    if not 1 <= span.line <= len(lines) or span.end_line < span.line:
        return ""
    last = min(span.end_line or span.line, len(lines))
    chunk = lines[span.line - 1 : last]
    if span.end_column and last == span.end_line:
        chunk[-1] = chunk[-1][: span.end_column - 1]
    chunk[0] = chunk[0][span.column - 1 :]
    return " ".join(part.strip() for part in chunk if part.strip())


class _Reader:
    """Turns one plan's nodes into data; `text` is its rule file's source."""

    def __init__(self, path: str, text: str, currency: str) -> None:
        self.path = path
        self.text = text
        self.currency = currency

    def expression(self, node: n.Node) -> Expression:
        return Expression(rule_text(self.text, node.span), self.path, node.span)

    def condition(self, node: n.Expr | None) -> Expression | None:
        return None if node is None else self.expression(node)

    def amount(self, node: n.Expr) -> Amount:
        negative = False
        value = node
        if isinstance(value, n.Neg):
            negative, value = True, value.operand
        if isinstance(value, n.MoneyLit):
            amount = -value.amount if negative else value.amount
            return Money(amount, value.currency or self.currency)
        if isinstance(value, n.PercentLit):
            return Percent(-value.value if negative else value.value)
        if negative and isinstance(value, n.DecimalLit | n.IntLit):  # `-1.00`: money too
            return Money(-Decimal(value.value), self.currency)
        return self.expression(node)

    def optional(self, node: n.Expr | None) -> Amount | None:
        return None if node is None else self.amount(node)

    def quantity(self, node: n.Expr) -> UsageQuantity:
        value = node.value if isinstance(node, n.Quantity) else node
        if isinstance(value, n.DurationLit | n.DataLit):
            return UsageQuantity(value.amount, value.unit)
        if isinstance(value, n.CountLit):
            return UsageQuantity(Decimal(value.amount), value.unit)
        return UsageQuantity(None, "", self.expression(node))

    def maybe_quantity(self, node: n.Expr | None) -> UsageQuantity | None:
        return None if node is None else self.quantity(node)

    def price(self, price: n.Price, option: str = "", choice: str = "") -> ListPrice:
        return ListPrice(
            name=price.name,
            kind=price.kind,
            amount=self.amount(price.amount),
            period=price.period,
            business=price.business,
            starts_next_period=price.starting == "next_period",
            covering=price.covering,
            prorated=price.prorated,
            condition=self.condition(price.condition),
            option=option,
            choice=choice,
            span=price.span,
        )

    def alteration(self, alt: n.Alteration) -> Alteration:
        target = alt.target
        return Alteration(
            name=alt.name,
            kind=alt.kind,
            target_price=target.price,
            target_offer=target.offer,
            each_line=target.each,
            amount=self.optional(alt.amount),
            condition=self.condition(alt.condition),
            priority=alt.priority,
            duration=alt.duration,
            label=alt.label,
            credit=alt.credit,
            replaces=alt.replaces,
            span=alt.span,
        )

    def rate(self, rate: n.Rate) -> UsageRate:
        return UsageRate(
            zone=rate.zone.text,
            band=rate.band.text,
            price=self.amount(rate.price),
            per=self.quantity(rate.per),
            first_increment=self.maybe_quantity(rate.first_increment),
            next_increment=self.maybe_quantity(rate.next_increment),
            connection=self.optional(rate.connection),
            minimum=self.optional(rate.minimum),
            maximum=self.optional(rate.maximum),
            condition=self.condition(rate.condition),
            span=rate.span,
        )

    def usage(self, usage: n.Usage) -> UsagePricing:
        tiers = None
        if usage.tiers is not None:
            steps = tuple(
                UsageTier(
                    self.quantity(t.low),
                    self.maybe_quantity(t.high),
                    self.amount(t.price),
                    self.quantity(t.per),
                )
                for t in usage.tiers.tiers
            )
            tiers = UsageTiers(usage.tiers.mode, usage.tiers.period, steps)
        return UsagePricing(
            business=usage.business,
            zones=usage.zones,
            bands=usage.bands,
            rates=tuple(self.rate(r) for r in usage.rates),
            tiers=tiers,
            allowances=tuple(
                UsageAllowance(
                    a.name,
                    self.quantity(a.amount),
                    a.period,
                    tuple(p.text for p in a.zones),
                    tuple(p.text for p in a.bands),
                )
                for a in usage.allowances
            ),
            caps=tuple(UsageCap(self.amount(c.amount), c.period) for c in usage.caps),
            rounding=usage.rounding,
            span=usage.span,
        )


def plan_prices(plan: n.PlanDecl, path: str, text: str) -> PlanPrices:
    """`plan`'s prices as data (`text`: the source of `path`, for conditions and
    expressions)."""
    currency = plan_currency(plan)
    reader = _Reader(path, text, currency)
    tax = plan_tax(plan)
    prices: list[ListPrice] = []
    options: list[Option] = []
    alterations: list[Alteration] = []
    usage: list[UsagePricing] = []
    commitment: n.PeriodLit | None = None
    for item in plan.items:
        if isinstance(item, n.Price):
            prices.append(reader.price(item))
        elif isinstance(item, n.OptionGroup):
            options.append(Option(item.name, item.default, tuple(c.name for c in item.choices)))
        elif isinstance(item, n.Alteration):
            alterations.append(reader.alteration(item))
        elif isinstance(item, n.Usage):
            usage.append(reader.usage(item))
        elif isinstance(item, n.Commitment):
            commitment = item.term
    for item in plan.items:  # the choices' prices after the plan's own, as the engines do
        if isinstance(item, n.OptionGroup):
            for choice in item.choices:
                prices += [reader.price(p, item.name, choice.name) for p in choice.prices]
    return PlanPrices(
        plan=plan.name,
        path=path,
        title=plan.title,
        currency=currency,
        tax_rate=tax.rate.value if tax is not None else Decimal(0),
        tax_included=tax is not None and tax.included,
        rounding=plan_rounding(plan),
        commitment=commitment,
        prices=tuple(prices),
        options=tuple(options),
        alterations=tuple(alterations),
        usage=tuple(usage),
        span=plan.span,
    )


class OfferingPriceBook:
    """A version's plans as data, each made the first time it is asked for and kept for the
    version's life (pure results of immutable plans: a race makes equal values)."""

    __slots__ = ("_compiled", "_lock", "_paths", "_plans", "_texts")

    def __init__(
        self, compiled: CompiledRuleSet, paths: Mapping[str, str], texts: Mapping[str, str]
    ) -> None:
        self._compiled = compiled
        self._paths = paths
        self._texts = texts
        self._plans: dict[str, PlanPrices] = {}
        self._lock = Lock()

    def plan(self, name: str) -> PlanPrices | None:
        """The plan's prices (None: the version has no plan of that name)."""
        found = self._plans.get(name)
        if found is not None:
            return found
        made = self._make(name)
        if made is not None:
            with self._lock:
                made = self._plans.setdefault(name, made)
        return made

    def _make(self, name: str) -> PlanPrices | None:
        path = self._paths.get(name, "<rules>")
        error = self._compiled.plan_errors.get(name)
        if error is not None:
            return PlanPrices(plan=name, path=path, error=error.message)
        compiled = self._compiled.plans.get(name)
        if compiled is None:
            return None
        return plan_prices(compiled.plan, compiled.path, self._texts.get(compiled.path, ""))


@dataclass(frozen=True, slots=True)
class BundledPrices:
    """A combo member's own plan's prices (None: it has no plan)."""

    offer: str
    plan: PlanPrices | None


@dataclass(frozen=True, slots=True)
class OfferingPrices:
    """An offer's prices: `plans` the one in force first, then its area overrides (with
    their areas), and for a combo its members' own."""

    offer: str
    version: int
    plans: tuple[tuple[PlanPrices, tuple[str, ...]], ...]
    members: tuple[BundledPrices, ...] = ()


def offering_prices(
    catalog: SaleCatalog, offer: Offer, lineage: tuple[str, ...] | None = None
) -> OfferingPrices:
    """`offer`'s prices in `catalog`: with `lineage` (a sale's area and its ancestors) only
    the plan in force there, else its own plan and then each area override."""
    book = catalog.offering_prices
    plans: list[tuple[PlanPrices, tuple[str, ...]]] = []
    if lineage is not None:
        found = book.plan(catalog.plan_name(offer, lineage))
        plans += [(found, ())] if found is not None else []
    else:
        own = book.plan(offer.tariff_plan)
        plans += [(own, ())] if own is not None else []
        areas: dict[str, list[str]] = {}
        for override in offer.tariff_overrides:
            areas.setdefault(override.tariff_plan, []).append(override.area_code)
        for name, codes in areas.items():
            found = book.plan(name)
            if found is not None:
                plans.append((found, tuple(codes)))
    members: list[BundledPrices] = []
    if isinstance(offer, Combo):
        for code in offer.member_codes():
            member = catalog.offers.get(code)
            if member is None:
                continue
            name = member.tariff_plan if lineage is None else catalog.plan_name(member, lineage)
            members.append(BundledPrices(code, book.plan(name) if name else None))
    return OfferingPrices(offer.code, catalog.number, tuple(plans), tuple(members))
