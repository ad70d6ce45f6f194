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
from rules.projection import MAX_EVENTS as MAX_PROFILE_EVENTS
from tariff.mappers.common import SALE_MAX, SALE_MIN
from tariff.mappers.sale import MAX_CART_LINES, MAX_MEMBERS
from tariff.settings import Settings
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
        field = "selector.asOf" if "as_of" in name else "context.time"
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


def texts(count: int, id_length: int) -> list[pb.UsageEvent]:
    """`count` SMS of youth_plan (0.10 each), event ids `id_length` characters long."""
    moment = stamp(datetime(2026, 3, 2, 10, tzinfo=UTC))
    return [
        pb.UsageEvent(
            event_id=f"{i:0{id_length}d}",
            subscriber_id=f"s{i % 500}",
            offer_code="youth_plan",
            business_code="sms",
            start_time=moment,
            count=1,
            destination="13800138000",
        )
        for i in range(count)
    ]


async def test_a_full_rate_batch_fits_a_default_client_and_one_more_event_is_refused(
    stubs: tuple[PricingServiceAsyncStub, QualificationServiceAsyncStub],
) -> None:
    """The `channel` fixture is a client with gRPC's default 4 MiB receive limit: the most
    events a Rate call may carry, rated, with 64-character ids, reach it. 100,000 events
    (the old limit) answered 6.1 MB, which no default client could read."""
    pricing, _ = stubs
    most = Settings().max_rate_events
    response = await pricing.Rate(pb.RateRequest(events=texts(most, 64)))
    assert response.rated_count == most
    assert response.ByteSize() <= Settings().max_response_bytes
    said = await violations(pricing.Rate(pb.RateRequest(events=texts(most + 1, 8))))
    assert said == {
        "events": f"at most {most:,} events per call: send more as batches of a RateStream"
    }


async def test_an_answer_over_the_client_limit_is_refused_with_what_to_do(
    stubs: tuple[PricingServiceAsyncStub, QualificationServiceAsyncStub],
) -> None:
    """Event ids are echoed: 5,000 ids of 1,000 characters make a 5 MB answer. It is not
    sent (a default client would fail to read it); the status says why and what fits."""
    pricing, _ = stubs
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await pricing.Rate(pb.RateRequest(events=texts(5_000, 1_000)))
    assert caught.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    details = caught.value.details() or ""
    assert "over the 4,194,304 a gRPC client accepts by default" in details
    assert "of 5,000 events" in details  # refused as soon as it was too big, not at the end
    assert "RateStream" in details
    again = await pricing.Rate(pb.RateRequest(events=texts(10, 8)))  # still serving
    assert again.rated_count == 10


async def test_a_cart_is_bounded_by_its_lines_members_included(
    stubs: tuple[PricingServiceAsyncStub, QualificationServiceAsyncStub],
) -> None:
    """1,000 items of 100 members each once made one Quote price 100,000 lines."""
    pricing, _ = stubs
    combo = order_pb2.CartItem(
        offer_code="family_bundle",
        members=[order_pb2.CartItem(offer_code="family_mobile") for _ in range(MAX_MEMBERS)],
    )
    count = MAX_CART_LINES // (MAX_MEMBERS + 1) + 1
    request = pb.QuoteRequest(context=context(stamp(datetime(2026, 3, 2))), items=[combo] * count)
    said = await violations(pricing.Quote(request))
    assert said == {
        "items": f"at most {MAX_CART_LINES} lines per cart, items and members together "
        f"({count * (MAX_MEMBERS + 1)})"
    }


async def test_a_usage_profile_is_bounded_by_the_events_it_is_rated_as(
    stubs: tuple[PricingServiceAsyncStub, QualificationServiceAsyncStub],
) -> None:
    """A profile's `events` is a number inside the request: once 100,000 of them were rated
    per offer (seconds of CPU for one Quote). Now the estimate is rated as at most
    MAX_PROFILE_EVENTS records in all; past that the entry is refused, nothing rated."""
    pricing, _ = stubs
    youth = [order_pb2.CartItem(offer_code="youth_plan")]
    young = context(stamp(datetime(2026, 3, 2, tzinfo=UTC)))
    young.customer.age, young.customer.segment_codes[:] = 20, ["youth"]

    def quote(events: int) -> Awaitable[pb.QuoteResponse]:
        entry = pb.UsageProfile.Entry(business_code="sms", events=events)
        profile = pb.UsageProfile(entries=[entry])
        return pricing.Quote(pb.QuoteRequest(context=young, items=youth, usage_profile=profile))

    within = await quote(MAX_PROFILE_EVENTS)
    assert within.totals.usage_estimate.tax_included_amount.units == MAX_PROFILE_EVENTS // 10
    said = await violations(quote(MAX_PROFILE_EVENTS + 1))
    assert list(said) == ["usageProfile.entries[0]"]
    assert f"more than {MAX_PROFILE_EVENTS:,} usage events" in said["usageProfile.entries[0]"]
    assert list(await violations(quote(2**62))) == ["usageProfile.entries[0]"]
