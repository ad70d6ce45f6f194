"""`tariff eligible list|check`: ListEligibleOffers and CheckEligibility from the command line,
against a running server (`--server HOST:PORT`) or a catalog bundle read in process
(`--bundle PATH`, answered by the same servicer code the server runs).

Cart items are written `[ACTION:]OFFER[=MEMBER,...][@GROUP=CHOICE,...]`: ACTION is add
(default), modify or remove; a combo's members are `[N*]OFFER`, e.g.
`family_bundle=fixed_line_basic,broadband_basic,2*family_plan`; options pick price choices,
e.g. `broadband_basic@payment=annual_prepay`.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import re
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import json_format
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from catalog.errors import ValidationError
from catalog.snapshot import SnapshotRegistry, registry_of
from rules.sale_catalog import SaleCatalog
from tariff import exits
from tariff.bootstrap import bundle_catalog
from tariff.instants import instant_argument
from tariff.mappers.common import datetime_to_timestamp, wire_error
from tariff.mappers.money import money_text
from tariff.output import Listing, add_output_option, mode_of, show
from tariff.security.client import add_client_arguments, channel_for
from tariff.servicers.pricing import PricingServicer
from tariff.servicers.qualification import QualificationServicer
from tariff.settings import Settings
from tariff.v1 import (
    catalog_pb2,
    common_pb2,
    order_pb2,
    pricing_service_pb2_grpc,
    qualification_service_pb2_grpc,
)
from tariff.v1 import qualification_service_pb2 as pb

ACTIONS = {
    "add": order_pb2.CART_ACTION_ADD,
    "modify": order_pb2.CART_ACTION_MODIFY,
    "remove": order_pb2.CART_ACTION_REMOVE,
}
KINDS = {
    "main": pb.OFFER_KIND_MAIN_PRODUCT,
    "add_on": pb.OFFER_KIND_ADD_ON,
    "combo": pb.OFFER_KIND_COMBO,
}
TYPES = {
    "personal": catalog_pb2.CUSTOMER_TYPE_PERSONAL,
    "enterprise": catalog_pb2.CUSTOMER_TYPE_ENTERPRISE,
}
RESULTS = {
    pb.QUALIFICATION_RESULT_QUALIFIED: "qualified",
    pb.QUALIFICATION_RESULT_UNQUALIFIED: "unqualified",
    pb.QUALIFICATION_RESULT_ALTERNATE: "alternate",
}
PROPOSALS = {
    pb.PROPOSAL_KIND_ADD_OFFER: "add",
    pb.PROPOSAL_KIND_REMOVE_OFFER: "remove",
    pb.PROPOSAL_KIND_ALTERNATE_OFFER: "instead",
}
KIND_NAMES = {v: k for k, v in KINDS.items()}
_ITEM = re.compile(
    r"^(?:(?P<action>add|modify|remove):)?(?P<code>[^=@\s]+)"
    r"(?:=(?P<members>[^@\s]+))?(?:@(?P<options>\S+))?$"
)
_MEMBER = re.compile(r"^(?:(?P<count>[0-9]+)\*)?(?P<code>[^,*\s]+)$")
MAX_COUNT = 100
NOT_QUALIFIED = exits.FINDINGS  # `check`'s exit status for a cart that does not qualify
PAGE = 1000


class UsageError(ValueError):
    """A command line that cannot become a request."""


def parse_item(text: str, index: int) -> order_pb2.CartItem:
    match = _ITEM.match(text)
    if match is None:
        raise UsageError(f"cart item {text!r}: write [ACTION:]OFFER[=MEMBER,...][@GROUP=CHOICE]")
    item = order_pb2.CartItem(
        item_id=str(index), offer_code=match["code"], action=ACTIONS[match["action"] or "add"]
    )
    for part in (match["members"] or "").split(",") if match["members"] else ():
        member = _MEMBER.match(part)
        if member is None:
            raise UsageError(f"cart item {text!r}: member {part!r} is not [N*]OFFER")
        count = int(member["count"] or 1)
        if not 1 <= count <= MAX_COUNT:
            raise UsageError(f"cart item {text!r}: {count} members of one offer is too many")
        for _ in range(count):
            item.members.add(offer_code=member["code"])
    for option in (match["options"] or "").split(",") if match["options"] else ():
        group, _, choice = option.partition("=")
        if not group or not choice:
            raise UsageError(f"cart item {text!r}: option {option!r} is not GROUP=CHOICE")
        item.options[group] = choice
    return item


def sale_context(args: argparse.Namespace) -> order_pb2.SaleContext:
    customer = order_pb2.Customer(
        id="cli",
        segment_codes=args.segment or [],
        credit_class=args.credit or "",
        held_products=[order_pb2.HeldProduct(offer_code=c) for c in args.held or []],
    )
    if args.customer_type:
        customer.type = TYPES[args.customer_type]
    for name, value in (("age", args.age), ("vip_level", args.vip), ("tenure_months", args.tenure)):
        if value is not None:
            setattr(customer, name, value)
    for pair in args.attr or []:
        name, _, value = pair.partition("=")
        if not name or not value:
            raise UsageError(f"--attr {pair!r}: write NAME=VALUE")
        customer.attributes[name].CopyFrom(_value(value))
    context = order_pb2.SaleContext(
        customer=customer, area_code=args.area, channel_code=args.channel
    )
    if args.time:
        stamp = datetime_to_timestamp(args.time)  # parsed by tariff.instants
        assert stamp is not None
        context.time.CopyFrom(stamp)
    return context


def _value(text: str) -> common_pb2.Value:
    if text in ("true", "false"):
        return common_pb2.Value(bool_value=text == "true")
    if re.fullmatch(r"-?[0-9]+", text):
        return common_pb2.Value(int_value=int(text))
    if re.fullmatch(r"-?[0-9]+\.[0-9]+", text):
        value = common_pb2.Value()
        value.decimal_value.value = text
        return value
    return common_pb2.Value(string_value=text)


# -- answering ------------------------------------------------------------------------------


class _Context:
    """The servicer's context when it runs in process: it is never aborted (errors raise)."""


@functools.cache
def local_registry(path: Path) -> SnapshotRegistry[SaleCatalog]:
    """A bundle as a server would answer once it is published. Built once per path and
    process (pages, repeated asks)."""
    return registry_of(bundle_catalog(path))


def ask(args: argparse.Namespace, method: str, request: Any, service: str = "qualification") -> Any:
    """The response from the server or the bundle; ValidationError / RpcError otherwise."""
    settings = Settings()
    if args.bundle:
        registry = local_registry(Path(args.bundle).resolve())
        local: Any
        if service == "pricing":
            local = PricingServicer(registry, lambda: datetime.now(UTC), settings.zone)
        else:
            local = QualificationServicer(registry, lambda: datetime.now(UTC), settings.zone)
        try:
            return asyncio.run(getattr(local, method)(request, _Context()))
        except ValidationError as error:  # the paths the server would send: lowerCamelCase
            raise wire_error(error) from None
    with channel_for(args, args.server) as channel:
        stub: Any
        if service == "pricing":
            stub = pricing_service_pb2_grpc.PricingServiceStub(channel)
        else:
            stub = qualification_service_pb2_grpc.QualificationServiceStub(channel)
        return getattr(stub, method)(request, timeout=args.timeout)


def rpc_error_line(error: grpc.RpcError) -> str:
    """One line for a failed call: the first field violation when there is one."""
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    if status is not None:
        bad = error_details_pb2.BadRequest()
        for detail in status.details:
            if detail.Unpack(bad) and bad.field_violations:
                first = bad.field_violations[0]
                more = len(bad.field_violations) - 1
                extra = f" (and {more} more)" if more else ""
                return f"{first.field}: {first.description}{extra}"
        failure = error_details_pb2.PreconditionFailure()
        for detail in status.details:
            if detail.Unpack(failure) and failure.violations:
                first_failure = failure.violations[0]
                return f"{status.message}: {first_failure.subject}: {first_failure.description}"
    code = error.code()
    return f"{code.name if code else 'error'}: {error.details()}"


# -- printing -------------------------------------------------------------------------------


def offers_listing(offers: Sequence[pb.EligibleOffer], version: int) -> Listing:
    rows = []
    for offer in offers:
        currency = offer.prices.recurring.currency_code or offer.prices.one_time.currency_code
        recurring = money_text(offer.prices.recurring)
        if recurring:
            recurring += f" {currency}"
        if recurring and offer.prices.recurring_period:
            recurring += f" / {offer.prices.recurring_period}"
        rows.append(
            (
                offer.offer_code,
                offer.name,
                KIND_NAMES.get(offer.kind, "?"),
                offer.category,
                f"{money_text(offer.prices.one_time)} {currency}".strip(),
                recurring,
            )
        )
    return Listing(
        f"Eligible offers (catalog version {version})",
        ("offer", "name", "kind", "category", "one-time", "recurring"),
        rows,
        numeric=frozenset({"one-time", "recurring"}),
        caption=f"{len(rows)} offer(s)",
    )


def check_listing(response: pb.CheckEligibilityResponse) -> Listing:
    rows: list[tuple[str, ...]] = []
    for item in response.items:
        _item_rows(rows, item, "")
    return Listing("", ("item", "offer", "result", "reasons", "proposals"), rows)


def check_heading(response: pb.CheckEligibilityResponse) -> str:
    verdict = "qualified" if response.qualified else "not qualified"
    return f"Cart {verdict} (catalog version {response.catalog_version})"


def trace_lines(response: pb.CheckEligibilityResponse) -> list[str]:
    lines = []
    for item in response.items:
        for step in item.trace:
            where = f"{step.rule.location.path}:{step.rule.location.line}"
            outcome = "true" if step.outcome else "not true"
            seen = ", ".join(step.observed)
            line = f"  {item.item_id} {step.rule.name} ({where}): {step.condition} -> {outcome}"
            lines.append(line + (f"  [{seen}]" if seen else ""))
    return lines


def _item_rows(rows: list[tuple[str, ...]], item: pb.ItemQualification, indent: str) -> None:
    reasons = "\n".join(
        f"{r.code}: {r.message}"
        + (f" ({r.rule.location.path}:{r.rule.location.line})" if r.rule.location.path else "")
        for r in item.reasons
    )
    proposals = "\n".join(
        f"{PROPOSALS.get(p.kind, '?')} {p.offer_code} ({p.offer_name})" for p in item.proposals
    )
    rows.append(
        (indent + item.item_id, item.offer_code, RESULTS.get(item.result, "?"), reasons, proposals)
    )
    for member in item.members:
        _item_rows(rows, member, indent + "  ")


# -- commands -------------------------------------------------------------------------------


def run_list(args: argparse.Namespace) -> int:
    request = pb.ListEligibleOffersRequest(
        context=sale_context(args),
        category=args.category or "",
        kind=KINDS[args.kind] if args.kind else pb.OFFER_KIND_UNSPECIFIED,
        page_size=PAGE,
        explain=args.explain,
    )
    return _answer(args, "ListEligibleOffers", request)


def run_check(args: argparse.Namespace) -> int:
    items = [parse_item(text, i) for i, text in enumerate(args.items, start=1)]
    request = pb.CheckEligibilityRequest(
        context=sale_context(args), items=items, explain=args.explain
    )
    return _answer(args, "CheckEligibility", request)


def _answer(args: argparse.Namespace, method: str, request: Any) -> int:
    try:
        response = ask(args, method, request)
        pages = [response]
        while method == "ListEligibleOffers" and pages[-1].next_page_token:  # bounded by pages
            request.page_token = pages[-1].next_page_token
            pages.append(ask(args, method, request))
    except grpc.RpcError as error:
        print(f"tariff: error: {rpc_error_line(error)}", file=sys.stderr)
        return exits.for_rpc(error.code())
    mode = mode_of(args)
    if method == "ListEligibleOffers":
        whole = pb.ListEligibleOffersResponse()
        whole.CopyFrom(pages[0])
        for page in pages[1:]:
            whole.offers.extend(page.offers)
        whole.next_page_token = ""
        document = json_format.MessageToJson(whole, ensure_ascii=False, indent=2)
        show([offers_listing(whole.offers, whole.catalog_version)], mode, document=document)
        return exits.OK
    document = json_format.MessageToJson(response, ensure_ascii=False, indent=2)
    show(
        [check_listing(response)],
        mode,
        document=document,
        heading=check_heading(response),
        notes=trace_lines(response),
    )
    return exits.OK if response.qualified else NOT_QUALIFIED


def add_eligible_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    eligible = sub.add_parser(
        "eligible", help="which offers a customer may buy; is a cart eligible"
    )
    commands = eligible.add_subparsers(dest="eligible_command", required=True)
    listing = commands.add_parser("list", help="every offer the customer may buy there")
    listing.add_argument("--category", help="only offers of this category")
    listing.add_argument("--kind", choices=sorted(KINDS), help="only this kind of offer")
    listing.set_defaults(run=run_list)
    check = commands.add_parser(
        "check",
        help="is this cart eligible, and why not",
        description=f"Exit status 0: the cart qualifies; {NOT_QUALIFIED}: it does not; "
        "2: the request is invalid; 4: no server answers (README, Exit statuses).",
    )
    check.add_argument(
        "items", nargs="+", metavar="ITEM", help="[ACTION:]OFFER[=MEMBER,...][@GROUP=CHOICE,...]"
    )
    check.set_defaults(run=run_check)
    for parser in (listing, check):
        add_sale_arguments(parser)


def add_sale_arguments(parser: argparse.ArgumentParser) -> None:
    """Where the answer comes from and who buys where: shared by `eligible` and `quote`."""
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--server", help="HOST:PORT of a running tariff server")
    source.add_argument("--bundle", help="a catalog bundle (directory or .zip), in process")
    parser.add_argument("--area", required=True, help="sales area code, e.g. GD_SZ")
    parser.add_argument("--channel", required=True, help="channel code, e.g. hall")
    parser.add_argument("--customer-type", choices=sorted(TYPES))
    parser.add_argument("--segment", action="append", help="a segment code (repeatable)")
    parser.add_argument("--age", type=int)
    parser.add_argument("--vip", type=int, help="VIP level")
    parser.add_argument("--tenure", type=int, help="months as a customer")
    parser.add_argument("--credit", help="credit class, e.g. A")
    parser.add_argument("--held", action="append", help="an offer already held (repeatable)")
    parser.add_argument("--attr", action="append", help="customer attribute NAME=VALUE")
    parser.add_argument(
        "--time",
        type=instant_argument,
        metavar="INSTANT",
        help="the sale's instant: 2026-03-10, 2026-03-10T10:00:00+08:00 or +1d (default: now)",
    )
    parser.add_argument("--explain", action="store_true", help="show the conditions")
    add_output_option(parser)
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds (server)")
    add_client_arguments(parser)
