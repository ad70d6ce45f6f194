"""Valid requests against the demo catalog (tariff/demo): each sample cart of carts.json as
the command line builds it, and the demo's usage rows as UsageEvents. The fuzz tests mutate
them, the operations tests compare servers on them, the benchmarks load servers with them."""

from __future__ import annotations

import argparse
import csv
from datetime import datetime

from google.protobuf import message as pm

from tariff import demo
from tariff.demo.carts import load_carts
from tariff.eligible_cli import add_eligible_command, parse_item, sale_context
from tariff.v1 import (
    order_pb2,
    pricing_service_pb2,
    qualification_service_pb2,
    rules_service_pb2,
)


def usage_event(row: dict[str, str]) -> pricing_service_pb2.UsageEvent:
    """A row of tariff/demo/usage.csv as mediation sends it."""
    msg = pricing_service_pb2.UsageEvent(
        event_id=row["event_id"],
        subscriber_id=row["subscriber_id"],
        offer_code=row["offer_code"],
        business_code=row["business_code"],
        duration_ms=int(row["duration_ms"] or 0),
        volume_bytes=int(row["volume_bytes"] or 0),
        count=int(row["count"] or 0),
        origin_area_code=row["origin_area_code"],
        destination=row["destination"],
        roaming=row["roaming"] == "true",
    )
    msg.start_time.FromDatetime(datetime.fromisoformat(row["start_time"]))
    return msg


def usage_events(count: int) -> list[pricing_service_pb2.UsageEvent]:
    """The first `count` demo usage events."""
    with demo.USAGE.open(encoding="utf-8") as rows:
        return [
            usage_event(row) for row, _ in zip(csv.DictReader(rows), range(count), strict=False)
        ]


def sales() -> list[tuple[order_pb2.SaleContext, list[order_pb2.CartItem]]]:
    """Each demo cart's sale context and items, parsed by `tariff eligible check`'s parser."""
    parser = argparse.ArgumentParser()
    add_eligible_command(parser.add_subparsers(dest="command"))
    found = []
    for cart in load_carts().values():
        args = parser.parse_args(["eligible", "check", "--bundle", "-", *cart.args()])
        items = [parse_item(text, i) for i, text in enumerate(args.items, start=1)]
        found.append((sale_context(args), items))
    return found


def sales_requests(events: int = 8) -> dict[str, list[pm.Message]]:
    """Valid requests of the sales, rating and simulation methods, by method name."""
    carts = sales()
    quote = [pricing_service_pb2.QuoteRequest(context=c, items=i) for c, i in carts]
    check = [
        qualification_service_pb2.CheckEligibilityRequest(context=c, items=i) for c, i in carts
    ]
    listing = [qualification_service_pb2.ListEligibleOffersRequest(context=c) for c, _ in carts]
    rate = pricing_service_pb2.RateRequest(events=usage_events(events))
    return {
        "Quote": list(quote),
        "CheckEligibility": list(check),
        "ListEligibleOffers": list(listing),
        "Rate": [rate],
        "RateStream": [pricing_service_pb2.RateStreamRequest(batch_id="b", batch=rate)],
        "Simulate": [rules_service_pb2.SimulateRequest(quote=q) for q in quote[:3]],
    }
