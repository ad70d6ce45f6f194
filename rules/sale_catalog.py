"""A published version as the sales path sees it: the snapshot's indexes plus the compiled
rule book, the plan each offer uses in each area, list price summaries and a cache of the
candidate offers for a sale context.

Everything here is computed when the version is installed (or on the first request of a
context, for candidates) and never changes: requests only read it, so no lock is needed.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from threading import Lock

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
from dsl.context import CustomerFacts, SaleFacts
from dsl.eval_prices import price_line
from dsl.eval_prices_model import PricedLine, PriceError
from dsl.runtime import EvalError
from rules.book import RuleBook, build_rule_book
from rules.sale import Sale

OfferKind = str  # "main" | "add_on" | "combo"
CANDIDATE_CACHE = 4096
NEUTRAL_TIME = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class PriceSummary:
    """List prices for a sales screen, tax included: the one-time total and the recurring
    total of the first recurring period kind (e.g. monthly), for the default options."""

    currency: str
    one_time: Decimal
    recurring: Decimal
    period: str  # "month", "3 months", "year" or "" when nothing recurs


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

    __slots__ = ("_candidates", "_lock", "_summaries", "book", "kinds", "rank")

    def __init__(self, info: CatalogVersionInfo, content: CatalogContent) -> None:
        super().__init__(info, content)
        self.book: RuleBook = build_rule_book(content)
        self.kinds = {code: offer_kind(offer) for code, offer in self.offers.items()}
        self.rank = {code: index for index, code in enumerate(sorted(self.offers))}
        self._summaries: dict[tuple[str, str], PriceSummary | None] = {}
        for offer in self.offers.values():
            for plan_name in {offer.tariff_plan, *(o.tariff_plan for o in offer.tariff_overrides)}:
                plan = self.book.plans.get(plan_name)
                if plan is not None and not _has_conditional_prices(plan):
                    self._summaries[(offer.code, plan_name)] = self._price_summary(
                        offer.code, plan, _neutral_facts()
                    )
        self._candidates: OrderedDict[tuple[object, ...], tuple[str, ...]] = OrderedDict()
        self._lock = Lock()

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
        plan_name = self.plan_name(offer, self.tree.lineage(sale.area))
        key = (offer.code, plan_name)
        if key in self._summaries:
            return self._summaries[key]
        plan = self.book.plans.get(plan_name)
        if plan is None:
            return None
        return self._price_summary(offer.code, plan, facts)

    def _price_summary(self, code: str, plan: n.PlanDecl, facts: SaleFacts) -> PriceSummary | None:
        try:
            line = price_line(plan, n.CartLine(offer=code), facts, env=self.book.env)
        except (PriceError, EvalError):
            return None
        return summarize(line)

    # -- candidates ----------------------------------------------------------------------

    def candidates(self, sale: Sale, category: str = "", kind: OfferKind = "") -> tuple[str, ...]:
        """Launched offers sold in the sale's area, through its channel, to its audience
        (segments and customer type), filtered by category and kind, in code order.
        Validity dates and rules are the caller's: they depend on the time and the facts."""
        customer = sale.customer
        key = (sale.area, sale.channel, customer.segments, customer.type, category, kind)
        found = self._candidates.get(key)
        if found is None:
            found = self._compute_candidates(sale, category, kind)
            with self._lock:
                self._candidates[key] = found
                if len(self._candidates) > CANDIDATE_CACHE:
                    self._candidates.popitem(last=False)
        return found

    def _compute_candidates(self, sale: Sale, category: str, kind: OfferKind) -> tuple[str, ...]:
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
            kept.append(code)
        kept.sort(key=self.rank.__getitem__)
        return tuple(kept)


def admits_type(offer: Offer, customer: CustomerFacts) -> bool:
    types = offer.audience.customer_types
    if not types:
        return True
    if customer.type is None:
        return False
    return CustomerType(customer.type) in types


def _neutral_facts() -> SaleFacts:
    return SaleFacts(CustomerFacts(), "", (), "", NEUTRAL_TIME)


def is_product(offer: Offer) -> bool:
    return isinstance(offer, Product)
