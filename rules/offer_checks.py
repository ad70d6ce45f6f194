"""Whether one offer may be sold in one sale context, and why not: the catalog's own checks
(lifecycle, validity dates, area, channel, audience) and then the offer's written
eligibility rules. Shared by CheckEligibility, ListEligibleOffers and the proposals.

Checks in order, all reported (an order system shows every reason at once):
lifecycle -> validity -> area -> channel -> customer type -> segment -> written rules.
A combo's members are checked without channel and audience: the combo is what is sold
through the channel and to the customer; its members must still be launched, valid, sold in
the area and pass their own rules.
"""

from __future__ import annotations

from dataclasses import dataclass

from catalog.model import LifecycleStatus
from catalog.snapshot import Offer
from dsl.context import ItemFacts, SaleFacts
from dsl.runtime import EvalError
from rules.book import OfferRules
from rules.sale import CartItem, Sale
from rules.sale_catalog import SaleCatalog, admits_type
from rules.verdicts import Reason, TraceStep


@dataclass(frozen=True, slots=True)
class Checked:
    reasons: tuple[Reason, ...]
    trace: tuple[TraceStep, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.reasons


PASSED = Checked(())


def market_reasons(
    catalog: SaleCatalog, offer: Offer, sale: Sale, *, member: bool = False
) -> list[Reason]:
    """The catalog's checks (module docstring); `member`: skip channel and audience."""
    reasons: list[Reason] = []
    code, name = offer.code, offer.name
    status = catalog.status.get(code)
    if status is LifecycleStatus.RETIRED:
        reasons.append(
            Reason("retired", f"{name} is no longer sold to new customers", "catalog.lifecycle")
        )
    elif status is not LifecycleStatus.LAUNCHED:
        reasons.append(Reason("not_launched", f"{name} is not on sale", "catalog.lifecycle"))
    period = offer.valid_for
    if period.start is not None and sale.time < period.start:
        reasons.append(
            Reason(
                "not_yet_available",
                f"{name} is sold from {period.start.date().isoformat()}",
                "catalog.valid_for",
            )
        )
    elif period.end is not None and sale.time >= period.end:
        reasons.append(
            Reason(
                "no_longer_available",
                f"{name} was sold until {period.end.date().isoformat()}",
                "catalog.valid_for",
            )
        )
    lineage = catalog.tree.lineage(sale.area)
    if not any(area in lineage for area in offer.area_codes or (offer.owner_area_code,)):
        area = catalog.tree.areas.get(sale.area)
        where = f"{area.name} ({sale.area})" if area else sale.area
        reasons.append(Reason("area", f"{name} is not sold in {where}", "catalog.area"))
    if member:
        return reasons
    if offer.channel_codes and sale.channel not in offer.channel_codes:
        channel = catalog.content.channels.get(sale.channel)
        how = channel.name if channel else sale.channel
        reasons.append(Reason("channel", f"{name} is not sold through {how}", "catalog.channel"))
    if not admits_type(offer, sale.customer):
        wanted = ", ".join(t.value for t in offer.audience.customer_types)
        reasons.append(
            Reason("customer_type", f"{name} is for {wanted} customers", "catalog.audience")
        )
    segments = offer.audience.segment_codes
    if segments and not (sale.customer.segments & set(segments)):
        names = ", ".join(_segment_name(catalog, s) for s in segments)
        reasons.append(
            Reason("segment", f"{name} is for customers in: {names}", "catalog.audience")
        )
    return reasons


def _segment_name(catalog: SaleCatalog, code: str) -> str:
    segment = catalog.content.segments.get(code)
    return segment.name if segment else code


def rule_reasons(
    rules: OfferRules | None, facts: SaleFacts, catalog: SaleCatalog, *, explain: bool = False
) -> Checked:
    """The offer's written `eligible` block on `facts` (nothing to check: qualified)."""
    if rules is None:
        return PASSED
    if rules.broken:
        message = f"the rules of {rules.code} have errors and cannot be evaluated"
        prefix = f"{rules.code}.eligibility"
        return Checked((Reason("rules_not_compiled", message, prefix, rules.path),))
    compiled = rules.eligibility
    if compiled is None:
        return PASSED
    prefix = f"{rules.code}.eligibility"
    if not explain:
        # The reasons depend only on which rules failed (`all`) or which branch decided
        # (`first`): built once per version and answer, then shared.
        try:
            answer = compiled.check(facts, catalog.book.env.areas)
        except EvalError as error:
            return Checked((Reason("rule_error", str(error), prefix, rules.path),))
        if not answer and compiled.block.mode == "all":
            return PASSED
        key = (rules.code, answer)
        found = catalog.rule_reasons.get(key)
        if found is not None:
            return found
        checked = _rule_reasons(rules, prefix, facts, catalog, explain=False)
        catalog.rule_reasons[key] = checked
        return checked
    return _rule_reasons(rules, prefix, facts, catalog, explain=True)


def _rule_reasons(
    rules: OfferRules, prefix: str, facts: SaleFacts, catalog: SaleCatalog, *, explain: bool
) -> Checked:
    assert rules.eligibility is not None
    try:
        outcome = rules.eligibility.outcome(facts, catalog.book.env, trace=explain)
    except EvalError as error:
        return Checked((Reason("rule_error", str(error), prefix, rules.path),))
    reasons = tuple(
        Reason(f.code, f.message, f"{prefix}.{f.rule}", rules.path, f.span) for f in outcome.reasons
    )
    trace = tuple(TraceStep.of(prefix, rules.path, e) for e in outcome.trace or ())
    return Checked(reasons, trace)


def passes_rules(catalog: SaleCatalog, code: str, facts: SaleFacts) -> bool:
    """`rule_reasons(...).ok` without building reasons (the listing's own test)."""
    return catalog.candidate(code).admits(facts, catalog.book.env.areas)


def item_facts(base: SaleFacts, item: CartItem) -> SaleFacts:
    """`base` with `item` set to the cart line `item` (built directly: dataclasses.replace
    costs ~10x more, and this runs once per candidate offer)."""
    line = ItemFacts(item.offer_code, item.quantity, dict(item.options), dict(item.attributes))
    return SaleFacts(
        base.customer,
        base.area,
        base.area_lineage,
        base.channel,
        base.time,
        base.cart,
        line,
        base.bundle,
    )


def check_offer(
    catalog: SaleCatalog,
    offer: Offer,
    sale: Sale,
    facts: SaleFacts,
    *,
    member: bool = False,
    explain: bool = False,
) -> Checked:
    """Catalog checks, then the written rules (evaluated even when a catalog check failed,
    so every reason is reported at once)."""
    reasons = market_reasons(catalog, offer, sale, member=member)
    written = rule_reasons(catalog.book.rules_of(offer.code), facts, catalog, explain=explain)
    return Checked((*reasons, *written.reasons), written.trace)


def sellable(catalog: SaleCatalog, offer: Offer, sale: Sale, facts: SaleFacts) -> bool:
    """May `offer` be sold here (no reasons), e.g. as a proposal or an alternate?"""
    if market_reasons(catalog, offer, sale):
        return False
    return passes_rules(catalog, offer.code, facts)
