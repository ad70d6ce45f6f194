"""Every request's work is bounded by its own size: instants at the edges of the timestamp
range, quantities and batch sizes are refused with the limit (INVALID_ARGUMENT naming the
field, or a per-event rejection), never INTERNAL, through a real server on 127.0.0.1.

The catalog is tests/support/quote_catalog.py, published effective 2025-01-01.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import grpc
import pytest
from google.protobuf import timestamp_pb2
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from catalog import bundle
from tariff.mappers.common import SALE_MAX, SALE_MIN
from tariff.v1 import (
    catalog_pb2,
    catalog_service_pb2,
    catalog_service_pb2_grpc,
    common_pb2,
    order_pb2,
    pricing_service_pb2_grpc,
    qualification_service_pb2,
    qualification_service_pb2_grpc,
)
from tariff.v1 import pricing_service_pb2 as pb
from tests.support.quote_catalog import quote_content

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from google.protobuf.message import Message

    from tariff.v1.pricing_service_pb2_grpc import PricingServiceAsyncStub
    from tariff.v1.qualification_service_pb2_grpc import QualificationServiceAsyncStub

#: The proto's own extremes: 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999999999Z.
FIRST = timestamp_pb2.Timestamp(seconds=-62_135_596_800)
LAST = timestamp_pb2.Timestamp(seconds=253_402_300_799, nanos=999_999_999)


def stamp(moment: datetime) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(moment)
    return ts


@pytest.fixture
async def stubs(
    channel: grpc.aio.Channel,
) -> tuple[PricingServiceAsyncStub, QualificationServiceAsyncStub]:
    catalog = catalog_service_pb2_grpc.CatalogServiceStub(channel)
    await catalog.ImportCatalogBundle(
        catalog_service_pb2.ImportCatalogBundleRequest(
            archive=bundle.to_zip_bytes(quote_content()),
            mode=catalog_service_pb2.IMPORT_MODE_REPLACE,
        )
    )
    await catalog.PublishCatalog(
        catalog_service_pb2.PublishCatalogRequest(effective_from=stamp(datetime(2025, 1, 1)))
    )
    return (
        pricing_service_pb2_grpc.PricingServiceStub(channel),
        qualification_service_pb2_grpc.QualificationServiceStub(channel),
    )


def context(time: timestamp_pb2.Timestamp) -> order_pb2.SaleContext:
    who = order_pb2.Customer(type=catalog_pb2.CUSTOMER_TYPE_PERSONAL, age=30, credit_class="A")
    return order_pb2.SaleContext(customer=who, area_code="GD_SZ", channel_code="hall", time=time)


def cart() -> list[order_pb2.CartItem]:
    return [order_pb2.CartItem(offer_code="fixed_line_basic")]


async def violations(call: Awaitable[Message]) -> dict[str, str]:
    """The field violations of an INVALID_ARGUMENT answer (fails on any other outcome)."""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT, caught.value.details()
    status = rpc_status.from_call(caught.value)  # type: ignore[arg-type]
    assert status is not None
    bad = error_details_pb2.BadRequest()
    assert any(d.Unpack(bad) for d in status.details)
    return {v.field: v.description for v in bad.field_violations}


@pytest.mark.parametrize("edge", [FIRST, LAST], ids=["first", "last"])
async def test_the_timestamp_range_edges_are_invalid_argument_naming_the_field(
    stubs: tuple[PricingServiceAsyncStub, QualificationServiceAsyncStub],
    edge: timestamp_pb2.Timestamp,
) -> None:
    """The largest valid Timestamp once overflowed converting to the tariff's time zone
    (INTERNAL) on all four sales calls."""
    pricing, qualification = stubs
    calls: dict[str, Callable[[], Awaitable[Message]]] = {
        "Quote": lambda: pricing.Quote(pb.QuoteRequest(context=context(edge), items=cart())),
        "CheckEligibility": lambda: qualification.CheckEligibility(
            qualification_service_pb2.CheckEligibilityRequest(context=context(edge), items=cart())
        ),
        "ListEligibleOffers": lambda: qualification.ListEligibleOffers(
            qualification_service_pb2.ListEligibleOffersRequest(context=context(edge))
        ),
        "Quote as_of": lambda: pricing.Quote(
            pb.QuoteRequest(
                context=context(stamp(datetime(2026, 3, 2, tzinfo=UTC))),
                items=cart(),
                selector=common_pb2.VersionSelector(as_of=edge),
            )
        ),
    }
    for name, call in calls.items():
        said = await violations(call())
        field = "selector.as_of" if "as_of" in name else "context.time"
        assert list(said) == [field], name
        assert SALE_MIN.date().isoformat() in said[field], name
        assert SALE_MAX.date().isoformat() in said[field], name


async def test_an_event_at_the_timestamp_range_edges_is_rejected_as_malformed(
    stubs: tuple[PricingServiceAsyncStub, QualificationServiceAsyncStub],
) -> None:
    pricing, _ = stubs
    events = [
        pb.UsageEvent(
            event_id=f"e{i}",
            subscriber_id="s1",
            offer_code="fixed_line_basic",
            business_code="local_voice",
            start_time=edge,
            duration_ms=60_000,
            destination="075512345678",
        )
        for i, edge in enumerate([FIRST, LAST])
    ]
    response = await pricing.Rate(pb.RateRequest(events=events))
    assert [r.status for r in response.results] == [pb.RATING_STATUS_REJECTED] * 2
    assert [r.rejection for r in response.results] == [pb.REJECTION_REASON_MALFORMED] * 2
    assert all("start_time" in r.message for r in response.results)
    assert all(SALE_MAX.date().isoformat() in r.message for r in response.results)
