"""The starter catalog with the youth plan's prices made to order, for tests that must tell
versions apart by what they charge: a monthly fee and a per-minute local call rate (no
allowance), everything else as the starter has it. Quote a 20-year-old in Shenzhen buying it
in a hall (`QUOTE`), rate one local call (`local_call`)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from google.protobuf import timestamp_pb2

from catalog import bundle
from catalog.content import CatalogContent
from catalog.model import EntityKind, Product, RuleSource
from tariff.v1 import (
    catalog_pb2,
    order_pb2,
    pricing_service_pb2,
    qualification_service_pb2,
)

STARTER = Path(__file__).resolve().parents[2] / "examples" / "starter"
OFFER = "youth_plan"
PLAN = """\
plan youth_39 {{
  currency CNY
  price monthly: recurring {fee} per month
  usage local_voice {{
    rate * *: {rate} per minute
  }}
}}
"""

CONTEXT = order_pb2.SaleContext(
    customer=order_pb2.Customer(
        type=catalog_pb2.CUSTOMER_TYPE_PERSONAL, segment_codes=["youth"], age=20
    ),
    area_code="GD_SZ",
    channel_code="hall",
)
ITEMS = [order_pb2.CartItem(offer_code=OFFER)]
QUOTE = pricing_service_pb2.QuoteRequest(context=CONTEXT, items=ITEMS)
CHECK = qualification_service_pb2.CheckEligibilityRequest(context=CONTEXT, items=ITEMS)


def priced_starter(fee: Decimal, rate: Decimal) -> CatalogContent:
    """The starter catalog whose youth plan costs `fee` a month and `rate` a minute."""
    content = bundle.read_path(STARTER)
    key = (EntityKind.PRODUCT, OFFER)
    entity = content.entities[key]
    product = entity.definition
    assert isinstance(product, Product)
    [source] = product.rule_sources
    offer_part, _, _ = source.text.partition("plan youth_39")
    text = offer_part + PLAN.format(fee=f"{fee:.2f}", rate=f"{rate:.2f}")
    changed = dataclasses.replace(product, rule_sources=(RuleSource(source.path, text),))
    entities = {**content.entities, key: dataclasses.replace(entity, definition=changed)}
    return dataclasses.replace(content, entities=entities)


def local_call(event_id: str, start: datetime, minutes: int = 1) -> pricing_service_pb2.UsageEvent:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(start)
    return pricing_service_pb2.UsageEvent(
        event_id=event_id,
        subscriber_id=f"1380000{event_id[-4:]:0>4}",
        offer_code=OFFER,
        business_code="local_voice",
        start_time=stamp,
        duration_ms=minutes * 60_000,
        origin_area_code="GD_SZ",
        destination="075512345678",
    )
