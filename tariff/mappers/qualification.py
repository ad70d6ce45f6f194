"""Qualification requests and answers: CheckEligibility and ListEligibleOffers <-> rules."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dsl.nodes import Span
from rules.listing import ListedOffer, OfferPage
from rules.per_version import PerVersion
from rules.sale_catalog import PriceSummary, SaleCatalog
from rules.verdicts import CartVerdict, ItemVerdict, Proposal, Reason, TraceStep
from tariff.mappers.common import Problems
from tariff.mappers.money import money_to_proto
from tariff.mappers.rules import location, source_text
from tariff.v1 import common_pb2
from tariff.v1 import qualification_service_pb2 as pb

RESULTS = {
    "qualified": pb.QUALIFICATION_RESULT_QUALIFIED,
    "unqualified": pb.QUALIFICATION_RESULT_UNQUALIFIED,
    "alternate": pb.QUALIFICATION_RESULT_ALTERNATE,
}
PROPOSALS = {
    "add_offer": pb.PROPOSAL_KIND_ADD_OFFER,
    "remove_offer": pb.PROPOSAL_KIND_REMOVE_OFFER,
    "alternate_offer": pb.PROPOSAL_KIND_ALTERNATE_OFFER,
}
KINDS = {
    "main": pb.OFFER_KIND_MAIN_PRODUCT,
    "add_on": pb.OFFER_KIND_ADD_ON,
    "combo": pb.OFFER_KIND_COMBO,
}
KIND_NAMES = {v: k for k, v in KINDS.items()}
MAX_PAGE = 1000


def rule_ref(name: str, path: str, span: Span) -> common_pb2.RuleRef:
    if not path:
        return common_pb2.RuleRef(name=name)
    return common_pb2.RuleRef(name=name, location=location(path, span))


def reason_to_proto(reason: Reason) -> pb.EligibilityReason:
    return pb.EligibilityReason(
        code=reason.code,
        message=reason.message,
        rule=rule_ref(reason.rule, reason.path, reason.span),
        offer_code=reason.offer,
    )


def proposal_to_proto(proposal: Proposal) -> pb.Proposal:
    return pb.Proposal(
        kind=PROPOSALS[proposal.kind],
        offer_code=proposal.offer_code,
        offer_name=proposal.offer_name,
        message=proposal.message,
    )


def trace_to_proto(step: TraceStep, texts: Mapping[str, str]) -> pb.TraceStep:
    return pb.TraceStep(
        rule=rule_ref(step.rule, step.path, step.span),
        condition=source_text(texts.get(step.path, ""), step.span),
        outcome=step.outcome is True,
        observed=[f"{name} = {_shown(value)}" for name, value in step.observed],
    )


def _shown(value: object) -> str:
    if value is None:
        return "unknown"
    if isinstance(value, frozenset):
        return "{" + ", ".join(sorted(map(str, value))) + "}"
    return str(value)


def item_to_proto(verdict: ItemVerdict, texts: Mapping[str, str]) -> pb.ItemQualification:
    message = pb.ItemQualification()
    _fill_item(message, verdict, texts, None)
    return message


def cart_to_proto(
    verdict: CartVerdict, texts: Mapping[str, str], version: ListingParts | None = None
) -> pb.CheckEligibilityResponse:
    """With `version` (the version's parts, `listing_parts`), each distinct reason's message
    (with its rule and source location) and proposal's are built once and copied into the
    answers that give them."""
    response = pb.CheckEligibilityResponse(
        qualified=verdict.qualified, catalog_version=verdict.version
    )
    parts = version.bounded_reasons() if version is not None else None
    add = response.items.add
    for item in verdict.items:
        _fill_item(add(), item, texts, parts)
    return response


PARTS_MEMO_LIMIT = 8192


#: reason or proposal -> its message (a pure function of the value)
Parts = dict[Reason | Proposal, Any]


@dataclass(slots=True, eq=False)
class ListingParts:
    """A version's answer parts, built once and copied into every answer that gives them:
    reasons and proposals (bounded: emptied when full), and each listed offer without a
    trace, as a message and encoded, per price summary (the same offer is listed to
    thousands of customers)."""

    reasons: Parts = field(default_factory=dict)
    #: offer code -> (the summary object it was last built for, the message)
    last_offer: dict[str, tuple[PriceSummary | None, pb.EligibleOffer]] = field(
        default_factory=dict
    )
    offers: dict[tuple[str, PriceSummary | None], pb.EligibleOffer] = field(default_factory=dict)
    #: offer code -> (the summary object, the offer encoded as a one-offer page)
    encoded: dict[str, tuple[PriceSummary | None, bytes]] = field(default_factory=dict)

    def bounded_reasons(self) -> Parts:
        if len(self.reasons) >= PARTS_MEMO_LIMIT:
            self.reasons = {}
        return self.reasons


#: Each version's parts, kept by the edge (`rules.per_version`).
VERSION_PARTS: PerVersion[ListingParts] = PerVersion(lambda _catalog: ListingParts())


def listing_parts(catalog: SaleCatalog) -> ListingParts:
    """The version's listing and eligibility answer parts."""
    return VERSION_PARTS(catalog)


def _fill_item(
    message: pb.ItemQualification,
    verdict: ItemVerdict,
    texts: Mapping[str, str],
    parts: Parts | None,
) -> None:
    """Writes `verdict` into the (empty) `message` in place: no message is built twice."""
    message.item_id = verdict.item_id
    message.offer_code = verdict.offer_code
    message.result = RESULTS[verdict.result]
    if verdict.reasons:
        add_reason = message.reasons.add
        for reason in verdict.reasons:
            if parts is None:
                add_reason().CopyFrom(reason_to_proto(reason))
                continue
            found = parts.get(reason)
            if found is None:
                found = parts[reason] = reason_to_proto(reason)
            add_reason().CopyFrom(found)
    if verdict.proposals:
        add_proposal = message.proposals.add
        for proposal in verdict.proposals:
            if parts is None:
                add_proposal().CopyFrom(proposal_to_proto(proposal))
                continue
            made = parts.get(proposal)
            if made is None:
                made = parts[proposal] = proposal_to_proto(proposal)
            add_proposal().CopyFrom(made)
    if verdict.members:
        add_member = message.members.add
        for member in verdict.members:
            _fill_item(add_member(), member, texts, parts)
    if verdict.trace:
        message.trace.extend([trace_to_proto(s, texts) for s in verdict.trace])


def summary_to_proto(summary: PriceSummary) -> pb.PriceSummary:
    return pb.PriceSummary(
        one_time=money_to_proto(summary.one_time, summary.currency),
        recurring=money_to_proto(summary.recurring, summary.currency),
        recurring_period=summary.period,
    )


def listed_to_proto(
    listed: ListedOffer, texts: Mapping[str, str], version: ListingParts | None = None
) -> pb.EligibleOffer:
    """With `version` (the version's parts), an offer without a trace is built once per
    price summary and reused: the same offer is listed to thousands of customers."""
    if version is not None and not listed.trace:
        prices = listed.prices
        code = listed.offer.code
        last = version.last_offer.get(code)  # the same summary object
        if last is not None and last[0] is prices:
            return last[1]
        key = (code, prices)
        found = version.offers.get(key)
        if found is None:
            found = version.offers[key] = _listed(listed, texts)
        version.last_offer[code] = (prices, found)
        return found
    return _listed(listed, texts)


def _listed(listed: ListedOffer, texts: Mapping[str, str]) -> pb.EligibleOffer:
    offer = listed.offer
    message = pb.EligibleOffer(
        offer_code=offer.code,
        name=offer.name,
        category=offer.category,
        kind=KINDS[listed.kind],
        trace=[trace_to_proto(s, texts) for s in listed.trace],
    )
    if listed.prices is not None and listed.prices.currency:
        message.prices.CopyFrom(summary_to_proto(listed.prices))
    return message


def page_to_proto(
    page: OfferPage, texts: Mapping[str, str], version: ListingParts | None = None
) -> pb.ListEligibleOffersResponse:
    """With `version` (the version's parts), the page is one parse of its offers'
    encodings, each encoded once per offer and price summary (as `listed_to_proto` builds
    it once)."""
    if version is None:
        response = pb.ListEligibleOffersResponse(
            offers=[listed_to_proto(o, texts) for o in page.offers]
        )
    else:
        chunks = []
        for listed in page.offers:
            if listed.trace:
                offer = listed_to_proto(listed, texts)
                chunks.append(pb.ListEligibleOffersResponse(offers=[offer]).SerializeToString())
                continue
            prices = listed.prices
            code = listed.offer.code
            last = version.encoded.get(code)  # the same summary object: the same bytes
            if last is None or last[0] is not prices:
                offer = listed_to_proto(listed, texts, version)
                encoded = pb.ListEligibleOffersResponse(offers=[offer]).SerializeToString()
                last = version.encoded[code] = (prices, encoded)
            chunks.append(last[1])
        response = pb.ListEligibleOffersResponse.FromString(b"".join(chunks))
    if page.after:
        response.next_page_token = encode_page_token(page.version, page.after)
    response.catalog_version = page.version
    return response


def encode_page_token(version: int, after: str) -> str:
    """Opaque to clients: the version the listing started on and the last code shown, so the
    next page reads the same version even if another is published meanwhile."""
    raw = json.dumps({"v": version, "a": after}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_page_token(token: str, field: str, problems: Problems) -> tuple[int, str] | None:
    if not token:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
        version, after = data["v"], data["a"]
        if not isinstance(version, int) or not isinstance(after, str) or version < 0:
            raise ValueError("bad fields")
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError):
        problems.add(field, "is not a page token this server issued")
        return None
    return version, after
