"""A published version as the sales path sees it: the snapshot's indexes plus the compiled
rule book and rule set (eligibility, prices and usage raters), the plan each offer uses in
each area, list price summaries and a cache of the candidate offers for a sale context.

Everything here is computed when the version is installed (or on the first request of a
context, for candidates) and never changes: requests only read it, so no lock is needed.
What a caller derives from a version (protobuf parts, the engines' per-combination
decisions) it keeps itself, by the version (`rules.per_version`).
"""

from __future__ import annotations

from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from threading import Lock
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from catalog.content import CatalogContent
from catalog.model import (
    CatalogVersionInfo,
    Combo,
    CustomerType,
    LifecycleStatus,
    Product,
    ProductKind,
)
from catalog.snapshot import Offer, Snapshot
from dsl import nodes as n
from dsl.compile_prices import CompiledPlan, quote_compiled
from dsl.context import CustomerFacts, SaleFacts
from dsl.eval_prices import price_line
from dsl.eval_prices_model import PricedLine, PriceError, Quote
from dsl.runtime import EvalError
from pricing.zones import ZoneTable as ZoneLookup
from rules.book import RuleBook, build_rule_book
from rules.checking import checked_catalog
from rules.collector import collector_paused
from rules.compiled import CompiledRuleSet, compile_rule_set
from rules.names import zone_lookups
from rules.offering_prices import OfferingPriceBook
from rules.sale import Sale

if TYPE_CHECKING:
    from rules.offer_checks import Checked

OfferKind = str  # "main" | "add_on" | "combo"
CANDIDATE_CACHE = 4096
NEUTRAL_TIME = datetime(2000, 1, 1, tzinfo=UTC)
_MISSING = object()


@dataclass(frozen=True, slots=True)
class PriceSummary:
    """List prices for a sales screen, tax included: the one-time total and the recurring
    total of the first recurring period kind (e.g. monthly), for the default options. A
    combo's are those of its default composition (`default_members`) after the bundle's
    alterations, members included: a bundle whose plan only alters its members' prices
    is not shown as free."""

    currency: str
    one_time: Decimal
    recurring: Decimal
    period: str  # "month", "3 months", "year" or "" when nothing recurs


def base_codes(offer: Offer) -> tuple[str, ...]:
    """The bases an add-on needs one of (empty for anything else)."""
    if isinstance(offer, Product) and offer.kind is ProductKind.ADD_ON:
        return offer.base_product_codes
    return ()


def offer_kind(offer: Offer) -> OfferKind:
    if isinstance(offer, Combo):
        return "combo"
    return "add_on" if offer.kind is ProductKind.ADD_ON else "main"


def _period_text(period: n.PeriodLit | None) -> str:
    if period is None:
        return ""
    return period.unit if period.count == 1 else f"{period.count} {period.unit}s"


def summarize(line: PricedLine) -> PriceSummary:
    """List prices of a priced line, on the tax-included basis."""
    one_time = Decimal(0)
    recurring = Decimal(0)
    period: n.PeriodLit | None = None
    for price in line.prices:
        amount = price.list_amount
        if not price.tax_included_basis and price.tax_rate:
            amount = amount * (1 + price.tax_rate / 100)
        if price.type == "one_time":
            one_time += amount
        elif period is None or price.period == period:
            period = price.period
            recurring += amount
    return PriceSummary(line.currency, one_time, recurring, _period_text(period))


def summarize_quote(quote: Quote) -> PriceSummary:
    """A combo's default composition priced (`summarize` for every line, final amounts:
    what the bundle leaves of its members' prices)."""
    one_time = Decimal(0)
    recurring = Decimal(0)
    period: n.PeriodLit | None = None
    for line in quote.lines:
        for price in line.prices:
            amount = price.tax_included * line.quantity
            if price.type == "one_time":
                one_time += amount
            elif period is None or price.period == period:
                period = price.period
                recurring += amount
    return PriceSummary(quote.currency, one_time, recurring, _period_text(period))


def _is_conditional(plan: n.PlanDecl) -> bool:
    """Whether any price or alteration of the plan has a `when` (its summary then depends
    on the sale's facts)."""
    return _has_conditional_prices(plan) or any(
        isinstance(item, n.Alteration) and item.condition is not None for item in plan.items
    )


def _has_conditional_prices(plan: n.PlanDecl) -> bool:
    for item in plan.items:
        if isinstance(item, n.Price) and item.condition is not None:
            return True
        if isinstance(item, n.OptionGroup) and any(
            p.condition is not None for c in item.choices for p in c.prices
        ):
            return True
    return False


class SaleCatalog(Snapshot):
    """A Snapshot with what eligibility, listing and quoting need, built at install."""

    __slots__ = (
        "__weakref__",  # what callers derive from a version is kept by them (rules.per_version)
        "_candidate",
        "_candidates",
        "_lock",
        "_summaries",
        "_zone_lookups",
        "book",
        "compiled",
        "excluded_by",
        "kinds",
        "offering_prices",
        "rank",
        "rule_reasons",
    )

    def __init__(self, info: CatalogVersionInfo, content: CatalogContent) -> None:
        with collector_paused():
            self._install(info, content)

    def _install(self, info: CatalogVersionInfo, content: CatalogContent) -> None:
        super().__init__(info, content)
        self.book: RuleBook = build_rule_book(content)
        self._lock = Lock()
        self._zone_lookups: Mapping[str, ZoneLookup] | None = None
        #: Every compiled unit of the version: requests read it and never compile.
        self.compiled: CompiledRuleSet = compile_rule_set(
            self.book, self.offers, checked_catalog(content).modules, self.zone_lookups
        )
        #: The plans' prices as data (TMF620), each made when first read.
        self.offering_prices = OfferingPriceBook(
            self.compiled, self.book.plan_paths, self.book.texts
        )
        self.kinds = {code: offer_kind(offer) for code, offer in self.offers.items()}
        self.rank = {code: index for index, code in enumerate(sorted(self.offers))}
        self._summaries: dict[tuple[str, str], PriceSummary | None] = {}
        neutral = _neutral_facts()
        for offer in self.offers.values():
            if isinstance(offer, Combo):
                self._install_combo_summaries(offer, neutral)
                continue
            for plan_name in {offer.tariff_plan, *(o.tariff_plan for o in offer.tariff_overrides)}:
                plan = self.book.plans.get(plan_name)
                if plan is not None and not _has_conditional_prices(plan):
                    self._summaries[(offer.code, plan_name)] = self._price_summary(
                        offer.code, plan, neutral
                    )
        self._candidate = {code: self._make_candidate(o) for code, o in self.offers.items()}
        excluded_by: dict[str, set[str]] = {}
        for offer in self.offers.values():
            for code in offer.excludes_codes:
                excluded_by.setdefault(code, set()).add(offer.code)
        #: offer code -> the codes of the offers that exclude it (the reverse of `excludes`)
        self.excluded_by = {code: frozenset(by) for code, by in excluded_by.items()}
        self._candidates: OrderedDict[tuple[object, ...], _Window] = OrderedDict()
        #: The reasons of a written rule's answer (offer code, answer), built once per
        #: version and answer (`rules.offer_checks`).
        self.rule_reasons: dict[tuple[str, Hashable], Checked] = {}

    # -- plans and prices ----------------------------------------------------------------

    def plan_name(self, offer: Offer, lineage: Iterable[str]) -> str:
        """The offer's plan in an area: the override of the nearest area that has one."""
        if offer.tariff_overrides:
            overrides = {o.area_code: o.tariff_plan for o in offer.tariff_overrides}
            for area in lineage:
                if area in overrides:
                    return overrides[area]
        return offer.tariff_plan

    def plan_for(self, offer: Offer, lineage: Iterable[str]) -> n.PlanDecl | None:
        return self.book.plans.get(self.plan_name(offer, lineage))

    def summary(self, offer: Offer, sale: Sale, facts: SaleFacts) -> PriceSummary | None:
        """List prices where `sale` happens (None: the offer has no priceable plan)."""
        return self.summary_in(offer, self.tree.lineage(sale.area), facts)

    def summary_in(
        self, offer: Offer, lineage: tuple[str, ...], facts: SaleFacts
    ) -> PriceSummary | None:
        """`summary` for a sale whose area has `lineage` (read once per listing, not per
        offer)."""
        plan_name = offer.tariff_plan
        if offer.tariff_overrides:
            plan_name = self.plan_name(offer, lineage)
        found = self._summaries.get((offer.code, plan_name), _MISSING)
        if found is _MISSING and isinstance(offer, Combo):
            return self._combo_summary(offer, lineage, facts)
        if found is not _MISSING:
            return found  # type: ignore[return-value]
        plan = self.book.plans.get(plan_name)
        if plan is None:
            return None
        return self._price_summary(offer.code, plan, facts)

    def _price_summary(self, code: str, plan: n.PlanDecl, facts: SaleFacts) -> PriceSummary | None:
        """On the compiled plan (the interpreter's answer, faster), or, for a plan that
        does not compile, the interpreter."""
        compiled = self.compiled.plans.get(plan.name)
        try:
            if compiled is not None and compiled.plan is plan:
                line = compiled.price_line(n.CartLine(offer=code), facts, env=self.book.env)
            else:
                line = price_line(plan, n.CartLine(offer=code), facts, env=self.book.env)
        except (PriceError, EvalError):
            return None
        return summarize(line)

    def default_members(self, combo: Combo, lineage: tuple[str, ...]) -> tuple[n.CartLine, ...]:
        """A combo's default composition: each member slot at its default count (else its
        minimum), each choice group at its minimum with its cheapest alternative where the
        sale happens (by recurring, then one-time list price; the first on a tie)."""
        lines = [
            n.CartLine(offer=m.offer_code, quantity=m.default_count or m.min_count)
            for m in combo.members
            if (m.default_count or m.min_count) > 0 and m.offer_code in self.offers
        ]
        for group in combo.choice_groups:  # bounded by the combo
            codes = [c for c in group.offer_codes if c in self.offers]
            if group.min_count < 1 or not codes:
                continue
            cheapest = min(codes, key=lambda code: self._cost(code, lineage))
            lines.append(n.CartLine(offer=cheapest, quantity=group.min_count))
        return tuple(lines)

    def _cost(self, code: str, lineage: tuple[str, ...]) -> tuple[Decimal, Decimal]:
        """(recurring, one-time) list prices of an offer alone, for ordering alternatives
        (an offer without prices costs nothing; one that cannot be priced, the most)."""
        most = Decimal("Infinity")
        offer = self.offers[code]
        summary = self.summary_in(offer, lineage, _neutral_facts())
        if summary is None:
            plan = self.plan_for(offer, lineage)
            return (most, most) if plan is not None else (Decimal(0), Decimal(0))
        return summary.recurring, summary.one_time

    def _install_combo_summaries(self, combo: Combo, neutral: SaleFacts) -> None:
        """Kept at install when the summary cannot depend on the sale: no override of the
        combo or of any member, no `when` in any of their plans."""
        codes = (combo.code, *combo.member_codes())
        offers = [self.offers[c] for c in codes if c in self.offers]
        if any(o.tariff_overrides for o in offers):
            return
        plans = [self.book.plans.get(o.tariff_plan) for o in offers if o.tariff_plan]
        if any(p is None or _is_conditional(p) for p in plans):
            return
        self._summaries[(combo.code, combo.tariff_plan)] = self._combo_summary(combo, (), neutral)

    def _combo_summary(
        self, combo: Combo, lineage: tuple[str, ...], facts: SaleFacts
    ) -> PriceSummary | None:
        """The default composition quoted on the compiled plans where the sale happens (None:
        the combo has no plan, or a plan involved does not compile or cannot price it)."""
        if self.plan_for(combo, lineage) is None:
            return None
        members = self.default_members(combo, lineage)
        plans: dict[str, CompiledPlan] = {}
        for code in (combo.code, *(m.offer for m in members)):
            name = self.plan_name(self.offers[code], lineage)
            if name in self.compiled.plan_errors:
                return None
            compiled = self.compiled.plans.get(name)
            if compiled is not None:
                plans[code] = compiled
        line = n.CartLine(offer=combo.code, members=members)
        try:
            quote = quote_compiled([line], plans, facts, env=self.book.env)
        except (PriceError, EvalError):
            return None
        return summarize_quote(quote)

    # -- candidates ----------------------------------------------------------------------

    def candidates(
        self, sale: Sale, category: str = "", kind: OfferKind = "", *, add_ons: bool = True
    ) -> tuple[Candidate, ...]:
        """Launched offers sold in the sale's area, through its channel, to its audience
        (segments and customer type), valid at the sale's time, filtered by category and
        kind, in code order. Their written rules are the caller's: they depend on the facts.

        Cached per context, then per stretch of time in which no candidate's validity
        starts or ends: a repeated context costs two dict lookups and a bisect. Without
        `add_ons`, offers that need a base are left out (a listing for a customer who holds
        nothing)."""
        customer = sale.customer
        key = (sale.area, sale.channel, customer.segments, customer.type, category, kind)
        entry = self._candidates.get(key)
        if entry is None:
            entry = _Window.of(self._compute_candidates(sale, category, kind))
            with self._lock:
                self._candidates[key] = entry
                if len(self._candidates) > CANDIDATE_CACHE:
                    self._candidates.popitem(last=False)
        return entry.at(sale.time, add_ons)

    def _compute_candidates(self, sale: Sale, category: str, kind: OfferKind) -> list[Candidate]:
        codes = self.sold_in(sale.area) & self.sold_through(sale.channel)
        codes &= self.aimed_at(sale.customer.segments)
        kept = []
        for code in codes:
            offer = self.offers[code]
            if self.status.get(code) is not LifecycleStatus.LAUNCHED:
                continue
            if category and offer.category != category:
                continue
            if kind and self.kinds[code] != kind:
                continue
            if not admits_type(offer, sale.customer):
                continue
            kept.append(self._candidate[code])
        kept.sort(key=lambda c: self.rank[c.code])
        return kept

    def zone_lookups(self) -> Mapping[str, ZoneLookup]:
        """The version's zone tables built for longest-prefix lookups, once, on first use
        (a million-prefix table takes about a second: not at install)."""
        found = self._zone_lookups
        if found is None:
            with self._lock:
                found = self._zone_lookups
                if found is None:
                    found = self._zone_lookups = MappingProxyType(zone_lookups(self.content))
        return found

    def candidate(self, code: str) -> Candidate:
        """One offer's resolved listing data (KeyError for an unknown code)."""
        return self._candidate[code]

    def _make_candidate(self, offer: Offer) -> Candidate:
        rules = self.book.rules_of(offer.code)
        compiled = rules.eligibility if rules is not None else None
        block = compiled.block if compiled is not None else None
        return Candidate(
            code=offer.code,
            offer=offer,
            kind=self.kinds[offer.code],
            bases=base_codes(offer),
            check=compiled.check if compiled is not None else None,
            every=block is None or block.mode == "all",
            allows=tuple(b.allow for b in block.branches) if block is not None else (),
            reads_item=rules is not None and rules.reads_item,
            broken=rules is not None and rules.broken,
        )


@dataclass(frozen=True, slots=True)
class Candidate:
    """What the listing needs of one offer, resolved once at install: its bases (add-ons),
    its compiled eligibility check and how to read the check's answer."""

    code: str
    offer: Offer
    kind: OfferKind
    bases: tuple[str, ...]
    check: Callable[..., Any] | None
    every: bool  # `eligible all`: the answer is the failing rules (empty = pass)
    allows: tuple[bool, ...]  # `eligible first`: whether each branch allows
    reads_item: bool
    broken: bool

    def admits(self, facts: SaleFacts, areas: Mapping[str, tuple[str, ...]]) -> bool:
        """Whether the written rules pass on `facts` (the listing's inner loop: no reasons
        are built; a failing or erroring rule just leaves the offer out)."""
        check = self.check
        if check is None:
            return not self.broken
        try:
            answer = check(facts, areas)
        except EvalError:
            return False
        if self.every:
            return not answer
        return bool(answer >= 0 and self.allows[answer])

    @property
    def start(self) -> datetime | None:
        return self.offer.valid_for.start

    @property
    def end(self) -> datetime | None:
        return self.offer.valid_for.end


@dataclass(slots=True)
class _Window:
    """A context's candidates and, per stretch between validity edges, those valid then
    (under the stretch's index; under its complement `~index`, those without add-ons)."""

    candidates: list[Candidate]
    edges: list[datetime]
    stretches: dict[int, tuple[Candidate, ...]] = field(default_factory=dict)

    @classmethod
    def of(cls, candidates: list[Candidate]) -> _Window:
        edges = {t for c in candidates for t in (c.start, c.end) if t is not None}
        return cls(candidates, sorted(edges))

    def at(self, time: datetime, add_ons: bool = True) -> tuple[Candidate, ...]:
        index = bisect_right(self.edges, time)
        found = self.stretches.get(index if add_ons else ~index)
        if found is None:
            found = tuple(c for c in self.candidates if c.offer.valid_for.contains(time))
            self.stretches[index] = found
            if not add_ons:
                found = self.stretches[~index] = tuple(c for c in found if not c.bases)
        return found


def admits_type(offer: Offer, customer: CustomerFacts) -> bool:
    types = offer.audience.customer_types
    if not types:
        return True
    if customer.type is None:
        return False
    wanted = _TYPES.get(customer.type)  # the enum by value, without calling the enum
    if wanted is None:
        wanted = CustomerType(customer.type)  # raises for an unknown type, as it did
    return wanted in types


_TYPES = {t.value: t for t in CustomerType}


def _neutral_facts() -> SaleFacts:
    return SaleFacts(CustomerFacts(), "", (), "", NEUTRAL_TIME)
