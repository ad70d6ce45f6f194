"""CheckEligibility: every cart item qualified, unqualified or alternate, with all reasons.

What a line is checked for depends on its action:
- `add`: the offer may be sold here (rules.offer_checks: lifecycle, validity, area, channel,
  audience, written rules) and fits the cart (below);
- `modify`: the customer holds it, and it fits the cart (its market checks are not redone: a
  held offer stays with its customer even after it is retired);
- `remove`: the customer holds it, and no remaining add-on loses its last base by it.

Fitting the cart, against what is *present* — the held products, minus the removed ones,
plus every added or modified line and its members: an add-on needs one of its bases; an
offer's `requires` must be present and its `excludes` (and whatever excludes it) absent; a
combo's members must fill its slots and choice groups, be its members, pass their own checks
(as members: no channel or audience check) and its written `composition` rules.

An offer code the version does not know is an item result, not an error: the line is
`unqualified` with reason `unknown_offer`, is left out of what the rest of the cart sees as
present, and a combo member that is unknown makes its combo `member_unqualified`.

Proposals: "add X" for a missing base, required offer or member (only offers this customer
may buy here), "remove X" for a conflict or a surplus member, and, when the offer itself
cannot be sold to this customer here, up to three alternates of the same category and kind:
the item is then `alternate` instead of `unqualified`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from catalog.model import Combo, Product
from catalog.snapshot import Offer
from dsl import nodes as n
from dsl.context import EMPTY, SaleFacts
from dsl.runtime import EvalError
from rules.offer_checks import check_offer, item_facts, market_reasons, passes_rules, sellable
from rules.sale import CartItem, Sale
from rules.sale_catalog import Candidate, SaleCatalog, base_codes
from rules.verdicts import (
    CartVerdict,
    ItemVerdict,
    Proposal,
    ProposalKind,
    Reason,
    Result,
    TraceStep,
)

MAX_ALTERNATES = 3


@dataclass(frozen=True, slots=True)
class _Cart:
    counts: Mapping[str, int]  # added or modified top-level lines per offer
    present: frozenset[str]
    removed: frozenset[str]
    #: (category, kind) -> the alternates found so far, shared by the cart's items
    alternates: dict[tuple[str, str], _Alternates] = field(default_factory=dict)

    @classmethod
    def of(cls, sale: Sale, items: Sequence[CartItem], known: Mapping[str, Offer]) -> _Cart:
        counts: dict[str, int] = {}
        present: set[str] = set()
        removed = {i.offer_code for i in items if i.action == "remove"}
        for item in items:
            if item.action == "remove" or item.offer_code not in known:
                continue
            counts[item.offer_code] = counts.get(item.offer_code, 0) + item.quantity
            present.add(item.offer_code)
            present.update(
                m.offer_code for m in item.members if m.action != "remove" and m.offer_code in known
            )
        return cls(counts, frozenset((sale.held - removed) | present), frozenset(removed))


@dataclass(slots=True)
class _Findings:
    """What one item collects: `market` reasons make it a candidate for alternates."""

    market: list[Reason] = field(default_factory=list)
    fit: list[Reason] = field(default_factory=list)
    proposals: list[Proposal] = field(default_factory=list)
    trace: list[TraceStep] = field(default_factory=list)

    def propose(self, kind: ProposalKind, offer: Offer, message: str) -> None:
        code = offer.code
        for p in self.proposals:
            if p.offer_code == code and p.kind == kind:
                return
        self.proposals.append(Proposal(kind, code, offer.name, message))


def sale_facts(catalog: SaleCatalog, sale: Sale, cart: Mapping[str, int] = EMPTY) -> SaleFacts:
    lineage = catalog.tree.lineage(sale.area)
    return SaleFacts(sale.customer, sale.area, lineage, sale.channel, sale.time, cart)


def check_cart(
    catalog: SaleCatalog, sale: Sale, items: Sequence[CartItem], *, explain: bool = False
) -> CartVerdict:
    """Every item's verdict, in cart order; an unknown offer code is an `unknown_offer` one."""
    cart = _Cart.of(sale, items, catalog.offers)
    base = sale_facts(catalog, sale, cart.counts)
    verdicts = tuple(_check_item(catalog, sale, base, cart, item, explain) for item in items)
    return CartVerdict(all(v.qualified for v in verdicts), verdicts, catalog.number)


def _check_item(
    catalog: SaleCatalog, sale: Sale, base: SaleFacts, cart: _Cart, item: CartItem, explain: bool
) -> ItemVerdict:
    offer = catalog.offers.get(item.offer_code)
    if offer is None:
        return _unknown(catalog, item)
    found = _Findings()
    facts = item_facts(base, item)
    members: tuple[ItemVerdict, ...] = ()
    if item.action in ("modify", "remove") and offer.code not in sale.held:
        found.fit.append(
            Reason("not_held", f"{offer.name} is not held by the customer", "cart.action")
        )
    if item.action == "remove":
        _removal(catalog, offer, sale, cart, found)
        return _verdict(item, found, ())
    if isinstance(offer, Combo):
        counts = _member_counts(item.members)
        facts = _with_bundle(facts, counts)
        members = tuple(
            _check_member(catalog, sale, base, offer, member, counts, explain)
            for member in item.members
        )
        _members_fit(catalog, sale, base, offer, counts, members, cart, found)
    if item.action == "add":
        checked = check_offer(catalog, offer, sale, facts, explain=explain)
        found.market.extend(checked.reasons)
        found.trace.extend(checked.trace)
    _fits_cart(catalog, sale, base, offer, cart, found)
    if found.market and item.action == "add":
        _alternates(catalog, sale, base, offer, cart, found)
    return _verdict(item, found, members)


def _unknown(catalog: SaleCatalog, item: CartItem) -> ItemVerdict:
    """The verdict of a line whose offer this version does not have (its members unread)."""
    code = item.offer_code
    where = f"catalog version {catalog.number}" if catalog.number else "the draft"
    reason = Reason("unknown_offer", f"{where} has no offer {code!r}", "catalog.offers")
    return ItemVerdict(item.item_id, code, "unqualified", (reason,))


def _verdict(item: CartItem, found: _Findings, members: tuple[ItemVerdict, ...]) -> ItemVerdict:
    reasons = (*found.market, *found.fit)
    result: Result = "qualified"
    if reasons:
        result = "unqualified"
        for p in found.proposals:
            if p.kind == "alternate_offer":
                result = "alternate"
                break
    return ItemVerdict(
        item.item_id,
        item.offer_code,
        result,
        reasons,
        tuple(found.proposals),
        members,
        tuple(found.trace),
    )


# -- fitting the cart ----------------------------------------------------------------------


def _fits_cart(
    catalog: SaleCatalog, sale: Sale, base: SaleFacts, offer: Offer, cart: _Cart, found: _Findings
) -> None:
    name = offer.name
    needed = base_codes(offer)
    if needed and cart.present.isdisjoint(needed):
        bases = [catalog.offers[b] for b in needed if b in catalog.offers]
        listed = ", ".join(b.name for b in bases) or ", ".join(needed)
        found.fit.append(
            Reason("addon_without_base", f"{name} needs one of: {listed}", "catalog.base_products")
        )
        for b in bases:
            if sellable(catalog, b, sale, base):
                found.propose("add_offer", b, f"add {b.name} to buy {name}")
    for code in offer.requires_codes:
        if code not in cart.present:
            other = catalog.offers.get(code)
            label = other.name if other else code
            found.fit.append(
                Reason("requires", f"{name} requires {label}", "catalog.requires", offer=code)
            )
            if other is not None and sellable(catalog, other, sale, base):
                found.propose("add_offer", other, f"add {other.name}: {name} requires it")
    for code in sorted(_conflicts(catalog, offer, cart.present)):
        other = catalog.offers.get(code)
        label = other.name if other else code
        where = (
            "held by the customer"
            if code in sale.held and code not in cart.counts
            else "in the cart"
        )
        found.fit.append(
            Reason(
                "excludes",
                f"{name} cannot be combined with {label} ({where})",
                "catalog.excludes",
                offer=code,
            )
        )
        if other is not None:
            found.propose("remove_offer", other, f"remove {other.name} to buy {name}")


def _conflicts(catalog: SaleCatalog, offer: Offer, present: frozenset[str]) -> set[str]:
    """Present offers that `offer` excludes or that exclude it."""
    conflicts = {code for code in offer.excludes_codes if code in present}
    by = catalog.excluded_by.get(offer.code)
    if by:
        conflicts |= by & present
    conflicts.discard(offer.code)
    return conflicts


def _removal(catalog: SaleCatalog, offer: Offer, sale: Sale, cart: _Cart, found: _Findings) -> None:
    """Removing a base must not strand a held add-on that keeps no other base."""
    for code in sorted(sale.held - cart.removed):
        addon = catalog.offers.get(code)
        if not isinstance(addon, Product) or offer.code not in addon.base_product_codes:
            continue
        if not any(b in cart.present for b in addon.base_product_codes):
            message = f"{addon.name} needs {offer.name}: remove it too or keep {offer.name}"
            found.fit.append(
                Reason("base_still_needed", message, "catalog.base_products", offer=code)
            )
            found.propose("remove_offer", addon, f"remove {addon.name} as well")


# -- combos -------------------------------------------------------------------------------


def _member_counts(members: Iterable[CartItem]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for member in members:
        if member.action != "remove":
            counts[member.offer_code] = counts.get(member.offer_code, 0) + member.quantity
    return counts


def _with_bundle(facts: SaleFacts, counts: Mapping[str, int]) -> SaleFacts:
    """`facts` inside a combo with `counts` (built directly: dataclasses.replace costs more)."""
    return SaleFacts(
        facts.customer,
        facts.area,
        facts.area_lineage,
        facts.channel,
        facts.time,
        facts.cart,
        facts.item,
        counts,
    )


def _check_member(
    catalog: SaleCatalog,
    sale: Sale,
    base: SaleFacts,
    combo: Combo,
    member: CartItem,
    counts: Mapping[str, int],
    explain: bool,
) -> ItemVerdict:
    offer = catalog.offers.get(member.offer_code)
    if offer is None:
        return _unknown(catalog, member)
    found = _Findings()
    if member.offer_code not in combo.member_codes():
        found.fit.append(
            Reason(
                "not_a_member",
                f"{offer.name} is not a member of {combo.name}",
                "catalog.members",
                offer=combo.code,
            )
        )
    elif member.action == "add":
        facts = _with_bundle(item_facts(base, member), counts)
        checked = check_offer(catalog, offer, sale, facts, member=True, explain=explain)
        found.market.extend(checked.reasons)
        found.trace.extend(checked.trace)
    return _verdict(member, found, ())


def _members_fit(
    catalog: SaleCatalog,
    sale: Sale,
    base: SaleFacts,
    combo: Combo,
    counts: Mapping[str, int],
    members: Sequence[ItemVerdict],
    cart: _Cart,
    found: _Findings,
) -> None:
    for slot in combo.members:
        _slot(
            catalog,
            sale,
            base,
            combo,
            (slot.offer_code,),
            slot.offer_code,
            slot.min_count,
            slot.upper,
            counts,
            found,
            "members",
        )
    for group in combo.choice_groups:
        _slot(
            catalog,
            sale,
            base,
            combo,
            group.offer_codes,
            group.name,
            group.min_count,
            group.upper,
            counts,
            found,
            "in_group",
        )
    for verdict in members:
        if not verdict.qualified:
            member = catalog.offers.get(verdict.offer_code)
            name = member.name if member is not None else verdict.offer_code
            found.fit.append(
                Reason(
                    "member_unqualified",
                    f"{name} cannot be part of {combo.name} here",
                    "catalog.members",
                    offer=verdict.offer_code,
                )
            )
    rules = catalog.book.rules_of(combo.code)
    if rules is None or rules.composition is None:
        return
    try:
        failures = rules.composition.failures(counts, sale.held - cart.removed, cart.counts)
    except EvalError as error:
        found.fit.append(Reason("rule_error", str(error), f"{combo.code}.composition", rules.path))
        return
    block = rules.composition.block
    for failure in failures:
        rule = next((r for r in block.rules if r.span == failure.span), None)
        found.fit.append(
            Reason(
                failure.code,
                failure.message or _default_message(failure.rule),
                f"{combo.code}.composition.{failure.rule}",
                rules.path,
                failure.span,
            )
        )
        if rule is not None:
            _composition_proposal(catalog, sale, base, combo, rule, counts, cart, found)


def _default_message(label: str) -> str:
    return f"composition rule `{label}` is not met"


def _slot(
    catalog: SaleCatalog,
    sale: Sale,
    base: SaleFacts,
    combo: Combo,
    codes: Sequence[str],
    label: str,
    low: int,
    high: int,
    counts: Mapping[str, int],
    found: _Findings,
    kind: str,
) -> None:
    total = sum(counts.get(c, 0) for c in codes)
    names = " or ".join(catalog.offers[c].name if c in catalog.offers else c for c in codes)
    if total < low:
        found.fit.append(
            Reason(
                f"too_few_{kind}",
                f"{combo.name} needs at least {low} of {names} (has {total})",
                f"catalog.{kind}.{label}",
            )
        )
        for code in codes:
            offer = catalog.offers.get(code)
            if offer is not None and _member_sellable(catalog, offer, sale, base):
                found.propose("add_offer", offer, f"add {offer.name} to {combo.name}")
                break
    elif total > high:
        found.fit.append(
            Reason(
                f"too_many_{kind}",
                f"{combo.name} takes at most {high} of {names} (has {total})",
                f"catalog.{kind}.{label}",
            )
        )
        for code in codes:
            if counts.get(code, 0) and code in catalog.offers:
                offer = catalog.offers[code]
                found.propose("remove_offer", offer, f"remove one {offer.name} from {combo.name}")
                break


def _member_sellable(catalog: SaleCatalog, offer: Offer, sale: Sale, base: SaleFacts) -> bool:
    if market_reasons(catalog, offer, sale, member=True):
        return False
    return passes_rules(catalog, offer.code, base)


def _composition_proposal(
    catalog: SaleCatalog,
    sale: Sale,
    base: SaleFacts,
    combo: Combo,
    rule: n.CompositionRule,
    counts: Mapping[str, int],
    cart: _Cart,
    found: _Findings,
) -> None:
    present = set(counts) | cart.present
    verb: ProposalKind
    targets: Sequence[str]
    match rule:
        case n.MemberRule(offers=offers, cardinality=card):
            total = sum(counts.get(o, 0) for o in offers)
            targets = offers if total < card.low else [o for o in offers if counts.get(o, 0)]
            verb = "add_offer" if total < card.low else "remove_offer"
        case n.RequiresRule(offers=offers) | n.AddOnRule(bases=offers):
            targets, verb = [o for o in offers if o not in present], "add_offer"
        case n.ExcludesRule(offers=offers):
            targets, verb = [o for o in offers if o in present], "remove_offer"
    for code in targets:
        offer = catalog.offers.get(code)
        if offer is None:
            continue
        if verb == "add_offer" and not _member_sellable(catalog, offer, sale, base):
            continue
        word = "add" if verb == "add_offer" else "remove"
        found.propose(verb, offer, f"{word} {offer.name} ({combo.name})")
        break


# -- alternates ---------------------------------------------------------------------------


def _alternates(
    catalog: SaleCatalog, sale: Sale, base: SaleFacts, offer: Offer, cart: _Cart, found: _Findings
) -> None:
    """Up to MAX_ALTERNATES offers of the same category and kind this customer may buy."""
    kind = catalog.kinds[offer.code]
    key = (offer.category, kind)
    shared = cart.alternates.get(key)
    if shared is None:
        rest = iter(catalog.candidates(sale, offer.category, kind))
        shared = cart.alternates[key] = _Alternates(rest, [])
    listed = 0
    index = 0
    while listed < MAX_ALTERNATES:
        candidate = shared.at(index, catalog, base, cart.present)
        if candidate is None:
            return
        index += 1
        if candidate.code == offer.code:
            continue
        other = candidate.offer
        found.propose("alternate_offer", other, f"{other.name} is available instead")
        listed += 1


@dataclass(slots=True)
class _Alternates:
    """The candidates of one category and kind that a cart's customer may buy instead, in
    candidate order, found lazily: every added item of the cart sees the same cart (what is
    present) and the same facts, so its items share one search."""

    rest: Iterator[Candidate]
    found: list[Candidate]

    def at(
        self, index: int, catalog: SaleCatalog, base: SaleFacts, present: frozenset[str]
    ) -> Candidate | None:
        """The `index`-th alternate, None when there are no more."""
        found = self.found
        areas = catalog.book.env.areas
        while len(found) <= index:
            for candidate in self.rest:
                code = candidate.code
                if code in present:
                    continue
                if candidate.bases and present.isdisjoint(candidate.bases):
                    continue
                own = item_facts(base, CartItem("", code)) if candidate.reads_item else base
                if candidate.admits(own, areas):
                    found.append(candidate)
                    break
            else:
                return None
        return found[index]
