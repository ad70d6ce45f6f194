"""`tariff quote`: an itemised quote for a cart from the command line, against a running server
(`--server`) or a catalog bundle in process (`--bundle`), as a readable table or JSON.

Items are written as for `tariff eligible check` (`OFFER[=MEMBER,...][@GROUP=CHOICE,...]`);
a usage profile entry as `--usage BUSINESS[:ZONE[:BAND]]=NAME=N,...` with NAME one of events,
seconds, minutes, bytes, kb, mb, gb, e.g. `--usage local_voice:local:peak=events=100,minutes=400`,
`--usage mobile_data=events=30,mb=2048`, `--usage sms=events=120`.
"""

from __future__ import annotations

import argparse
import sys
from decimal import Decimal

import grpc
from google.protobuf import json_format

from tariff import exits
from tariff.eligible_cli import (
    UsageError,
    add_sale_arguments,
    ask,
    parse_item,
    rpc_error_line,
    sale_context,
)
from tariff.errors import Refused
from tariff.mappers.money import money_text
from tariff.output import Listing, mode_of, show
from tariff.v1 import pricing_service_pb2 as pb

PRICE_TYPES = {
    pb.PRICE_TYPE_ONE_TIME: "one-time",
    pb.PRICE_TYPE_RECURRING: "recurring",
    pb.PRICE_TYPE_USAGE: "usage",
}
PERIODS = {
    pb.PERIOD_DAY: "day",
    pb.PERIOD_WEEK: "week",
    pb.PERIOD_MONTH: "month",
    pb.PERIOD_QUARTER: "quarter",
    pb.PERIOD_YEAR: "year",
}
KINDS = {
    pb.ALTERATION_KIND_DISCOUNT: "discount",
    pb.ALTERATION_KIND_WAIVER: "waiver",
    pb.ALTERATION_KIND_OVERRIDE: "override",
    pb.ALTERATION_KIND_CAP: "cap",
    pb.ALTERATION_KIND_FLOOR: "floor",
}
UNITS = {
    "events": ("events", 1),
    "seconds": ("duration_ms", 1000),
    "minutes": ("duration_ms", 60_000),
    "bytes": ("volume_bytes", 1),
    "kb": ("volume_bytes", 1024),
    "mb": ("volume_bytes", 1024**2),
    "gb": ("volume_bytes", 1024**3),
}


def parse_usage(text: str) -> pb.UsageProfile.Entry:
    where, _, amounts = text.partition("=")
    business, zone, band = [*where.split(":"), "", ""][:3]
    if not business or not amounts:
        raise UsageError(f"--usage {text!r}: write BUSINESS[:ZONE[:BAND]]=events=N,minutes=M")
    entry = pb.UsageProfile.Entry(business_code=business, zone=zone, band=band)
    for part in amounts.split(","):
        name, _, value = part.partition("=")
        if name not in UNITS or not value.isascii() or not value.isdigit():
            known = ", ".join(UNITS)
            raise UsageError(f"--usage {text!r}: {part!r} is not NAME=N ({known})")
        field, scale = UNITS[name]
        setattr(entry, field, getattr(entry, field) + int(value) * scale)
    return entry


def quote_listings(response: pb.QuoteResponse) -> list[Listing]:
    """The priced lines, then the totals (tax included)."""
    rows: list[tuple[str, ...]] = []
    for item in response.items:
        _rows(rows, item, "")
    totals = response.totals
    return [
        Listing(
            "",
            ("item", "offer", "price", "type", "list", "incl. tax", "excl. tax", "tax", "steps"),
            rows,
            numeric=frozenset({"list", "incl. tax", "excl. tax", "tax"}),
        ),
        Listing(
            "Totals (tax included)",
            ("due now", "monthly", "usage estimate", "first bill"),
            [
                (
                    money_text(totals.due_now.tax_included_amount),
                    money_text(totals.monthly_recurring.tax_included_amount),
                    money_text(totals.usage_estimate.tax_included_amount),
                    money_text(totals.first_bill_estimate.tax_included_amount),
                )
            ],
            numeric=frozenset({"due now", "monthly", "usage estimate", "first bill"}),
        ),
    ]


def _rows(rows: list[tuple[str, ...]], item: pb.QuoteItem, indent: str) -> None:
    first = True
    for price in item.prices:
        kind = PRICE_TYPES.get(price.price_type, "?")
        if price.price_type == pb.PRICE_TYPE_RECURRING:
            kind += f" / {PERIODS.get(price.recurring_period, '?')}"
        listed = price.list_price
        amount = (
            listed.tax_included_amount
            if listed.HasField("tax_included_amount")
            else listed.duty_free_amount
        )
        rows.append(
            (
                indent + item.item_id if first else "",
                item.offer_code if first else "",
                price.name if price.quantity <= 1 else f"{price.name} × {price.quantity:,}",
                kind,
                money_text(amount),
                money_text(price.price.tax_included_amount),
                money_text(price.price.duty_free_amount),
                _percent(price.price.tax_rate.value),
                "\n".join(_step(a) for a in price.alterations),
            )
        )
        first = False
    if first:
        rows.append((indent + item.item_id, item.offer_code, "(no prices)", *[""] * 6))
    for member in item.members:
        _rows(rows, member, indent + "  ")


def _percent(fraction: str) -> str:
    """The wire's tax rate (a fraction, "0.09") as people read it ("9%")."""
    return f"{(Decimal(fraction or '0') * 100).normalize():f}%"


def _step(alteration: pb.PriceAlteration) -> str:
    amount = alteration.amount
    money = (
        amount.tax_included_amount
        if amount.HasField("tax_included_amount")
        else amount.duty_free_amount
    )
    text = f"{KINDS.get(alteration.kind, '?')} {alteration.name} {money_text(money)}"
    if alteration.HasField("percentage"):
        text += f" ({alteration.percentage.value}%)"
    if alteration.HasField("duration"):
        text += (
            f" for {alteration.duration.count} {PERIODS.get(alteration.duration.period, '?')}(s)"
        )
    return text


def run_quote(args: argparse.Namespace) -> int:
    items = [parse_item(text, i) for i, text in enumerate(args.items, start=1)]
    profile = pb.UsageProfile(entries=[parse_usage(u) for u in args.usage or []])
    request = pb.QuoteRequest(
        context=sale_context(args), items=items, usage_profile=profile, explain=args.explain
    )
    try:
        response = ask(args, "Quote", request, service="pricing")
    except grpc.RpcError as error:
        print(f"tariff: error: {rpc_error_line(error)}", file=sys.stderr)
        return exits.for_rpc(error.code())
    except Refused as refused:  # in process (--bundle): what FAILED_PRECONDITION says
        first = refused.violations[0] if refused.violations else None
        detail = f": {first.field}: {first.description}" if first is not None else ""
        print(f"tariff: error: {refused}{detail}", file=sys.stderr)
        return exits.FINDINGS
    currency = response.currency_code or "-"
    show(
        quote_listings(response),
        mode_of(args),
        document=json_format.MessageToJson(response, ensure_ascii=False, indent=2),
        heading=f"Quote in {currency} (catalog version {response.catalog_version})",
    )
    return exits.OK


def add_quote_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    quote = sub.add_parser("quote", help="an itemised quote for a cart")
    quote.add_argument(
        "items", nargs="+", metavar="ITEM", help="OFFER[=MEMBER,...][@GROUP=CHOICE,...]"
    )
    quote.add_argument(
        "--usage",
        action="append",
        metavar="BUSINESS[:ZONE[:BAND]]=N,...",
        help="a usage profile entry, e.g. local_voice:local:peak=events=100,minutes=400",
    )
    add_sale_arguments(quote)
    quote.set_defaults(run=run_quote)
