"""ListEligibleOffers: every offer a customer may buy here, through this channel, now.

The hot path of every sales screen. Candidates come from the version's pre-indexed sets
(area lineage, channel, segments; launched; customer type; category and kind), cached per
context in the SaleCatalog; per request only the validity dates and the written rules of
those candidates are evaluated, on facts built once (with an `item` only for offers whose
rules read it). Add-ons are listed only when the customer holds one of their bases (there is
no cart to bring one). Combos are listed on their own checks; their composition is a cart
question. Offers come in code order; a page ends after `page_size` offers and the next one
starts after the last code shown.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

from catalog.snapshot import Offer
from dsl.runtime import EvalError
from rules.offer_checks import item_facts, rule_reasons
from rules.qualification import sale_facts
from rules.sale import CartItem, Sale
from rules.sale_catalog import OfferKind, PriceSummary, SaleCatalog
from rules.verdicts import TraceStep

DEFAULT_PAGE = 100
MAX_PAGE = 1000


@dataclass(frozen=True, slots=True)
class ListedOffer:
    offer: Offer
    kind: OfferKind
    prices: PriceSummary | None
    trace: tuple[TraceStep, ...] = ()


@dataclass(frozen=True, slots=True)
class OfferPage:
    offers: tuple[ListedOffer, ...]
    after: str  # the last code of this page when more follow, else ""
    version: int


def list_offers(
    catalog: SaleCatalog,
    sale: Sale,
    *,
    category: str = "",
    kind: OfferKind = "",
    page_size: int = DEFAULT_PAGE,
    after: str = "",
    explain: bool = False,
) -> OfferPage:
    """One page of the offers `sale`'s customer may buy (module docstring)."""
    size = min(page_size or DEFAULT_PAGE, MAX_PAGE)
    held = sale.held
    candidates = catalog.candidates(sale, category, kind, add_ons=bool(held))
    start = 0
    if after:
        ranks = [catalog.rank[c.code] for c in candidates]  # sorted: candidates are in rank order
        start = bisect_right(ranks, catalog.rank.get(after, -1))
    facts = sale_facts(catalog, sale)
    areas = catalog.book.env.areas
    lineage = facts.area_lineage
    summary = catalog.summary_in
    listed: list[ListedOffer] = []
    more = False
    for candidate in candidates[start:]:  # bounded: stops once the page is full
        if candidate.bases and held.isdisjoint(candidate.bases):
            continue
        own = facts
        if candidate.reads_item:
            own = item_facts(facts, CartItem("", candidate.code))
        check = candidate.check  # Candidate.admits, inlined: this loop is the listing
        if check is None:
            if candidate.broken:
                continue
        else:
            try:
                answer = check(own, areas)
            except EvalError:
                continue
            if candidate.every:
                if answer:
                    continue
            elif answer < 0 or not candidate.allows[answer]:
                continue
        if len(listed) == size:
            more = True
            break
        offer = candidate.offer
        trace: tuple[TraceStep, ...] = ()
        if explain:
            trace = rule_reasons(
                catalog.book.rules_of(offer.code), own, catalog, explain=True
            ).trace
        listed.append(ListedOffer(offer, candidate.kind, summary(offer, lineage, own), trace))
    last = listed[-1].offer.code if more and listed else ""
    return OfferPage(tuple(listed), last, catalog.number)
