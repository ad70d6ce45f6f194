"""Stored quotes (PricingService.CreateQuote, GetQuote, AcceptQuote) through a real server on
127.0.0.1 over the demo catalog, on SQLite and PostgreSQL: a quote keeps its prices after a
publish changes them, is accepted once, and not after it expires; the server's clock is the
test's, so expiry needs no waiting."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import grpc
import pytest
from google.protobuf import duration_pb2
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from tariff.bootstrap import App, bootstrap
from tariff.cli import load_demo
from tariff.server import Running
from tariff.settings import Settings
from tariff.v1 import catalog_service_pb2_grpc, order_pb2, pricing_service_pb2_grpc
from tariff.v1 import pricing_service_pb2 as pb
from tests.support.catalog_edits import publish_edited
from tests.support.demo_requests import sales

if TYPE_CHECKING:
    from tariff.v1.catalog_service_pb2_grpc import CatalogServiceAsyncStub
    from tariff.v1.pricing_service_pb2_grpc import PricingServiceAsyncStub

Stubs = tuple["PricingServiceAsyncStub", "CatalogServiceAsyncStub"]
APPROVED, ACCEPTED, EXPIRED = (
    pb.QUOTE_STATE_APPROVED,
    pb.QUOTE_STATE_ACCEPTED,
    pb.QUOTE_STATE_EXPIRED,
)


class Clock:
    """The server's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def app(database_url: str, clock: Clock) -> AsyncIterator[App]:
    settings = Settings(host="127.0.0.1", port=0, database_url=database_url, refresh_seconds=0)
    application = await asyncio.to_thread(bootstrap, settings, clock)
    await asyncio.to_thread(load_demo, application)
    try:
        yield application
    finally:
        application.close()


@pytest.fixture
async def stubs(
    running: Running,
) -> AsyncIterator[Stubs]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        yield (
            pricing_service_pb2_grpc.PricingServiceStub(channel),
            catalog_service_pb2_grpc.CatalogServiceStub(channel),
        )


def mobile_cart() -> pb.QuoteRequest:
    """A 畅享 39 line for the demo's 30-year-old in a Shenzhen hall, sold now (no sale time:
    the server's clock)."""
    for context, items in sales():
        if [i.offer_code for i in items] == ["youth_plan"]:
            context.ClearField("time")
            return pb.QuoteRequest(
                context=context, items=[order_pb2.CartItem(offer_code="mobile_39")]
            )
    raise AssertionError("the demo's youth_plan cart is gone")


def due_now(answer: pb.QuoteResponse) -> str:
    money = answer.totals.due_now.tax_included_amount
    return f"{money.units}.{money.nanos // 10_000_000:02d}"


def reason(error: grpc.aio.AioRpcError) -> str:
    status = rpc_status.from_call(error)  # type: ignore[arg-type]  # an aio call has them
    assert status is not None
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            return str(info.reason)
    raise AssertionError("no ErrorInfo")


async def test_an_accepted_quote_keeps_its_prices_after_a_publish(
    stubs: Stubs, clock: Clock
) -> None:
    pricing, catalog = stubs
    cart = mobile_cart()
    live = await pricing.Quote(cart)
    created = (await pricing.CreateQuote(pb.CreateQuoteRequest(quote=cart))).quote
    assert created.state == APPROVED
    assert created.quote == live  # what a stateless Quote answered at that moment
    assert created.request == cart
    assert created.catalog_version == live.catalog_version == 1
    assert created.created_by == "local"
    assert created.valid_for.start_time.ToDatetime(UTC) == clock.now
    assert created.valid_for.end_time.ToDatetime(UTC) == clock.now + timedelta(days=30)
    assert not created.HasField("accepted_at")

    def dearer_sim(text: str) -> str:
        return text.replace("20.00", "25.00")  # the SIM card's price, and its examples

    clock.now += timedelta(hours=1)
    assert await publish_edited(catalog, "mobile_39", dearer_sim) == 2
    clock.now += timedelta(hours=1)
    repriced = await pricing.Quote(cart)
    assert repriced.catalog_version == 2
    assert due_now(repriced) == "25.00" != due_now(live) == "20.00"

    fetched = (await pricing.GetQuote(pb.GetQuoteRequest(id=created.id))).quote
    assert fetched == created
    accepted = (await pricing.AcceptQuote(pb.AcceptQuoteRequest(id=created.id))).quote
    assert accepted.state == ACCEPTED
    assert accepted.quote == live  # the price lock: version 1's prices
    assert accepted.catalog_version == 1
    assert accepted.accepted_at.ToDatetime(UTC) == clock.now
    assert accepted.accepted_by == "local"
    assert (await pricing.GetQuote(pb.GetQuoteRequest(id=created.id))).quote == accepted

    with pytest.raises(grpc.aio.AioRpcError) as twice:
        await pricing.AcceptQuote(pb.AcceptQuoteRequest(id=created.id))
    assert twice.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert reason(twice.value) == "QUOTE_ALREADY_ACCEPTED"
    assert "accepted already" in (twice.value.details() or "")


async def test_an_expired_quote_is_refused_and_stays_expired(stubs: Stubs, clock: Clock) -> None:
    pricing, _ = stubs
    week = duration_pb2.Duration(seconds=7 * 86_400)
    created = (
        await pricing.CreateQuote(pb.CreateQuoteRequest(quote=mobile_cart(), valid_for=week))
    ).quote
    clock.now += timedelta(days=7) - timedelta(microseconds=1)
    assert (await pricing.GetQuote(pb.GetQuoteRequest(id=created.id))).quote.state == APPROVED
    clock.now += timedelta(microseconds=1)  # the end of validity is exclusive
    assert (await pricing.GetQuote(pb.GetQuoteRequest(id=created.id))).quote.state == EXPIRED
    with pytest.raises(grpc.aio.AioRpcError) as late:
        await pricing.AcceptQuote(pb.AcceptQuoteRequest(id=created.id))
    assert late.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert reason(late.value) == "QUOTE_EXPIRED"
    assert "expired at" in (late.value.details() or "")
    assert (await pricing.GetQuote(pb.GetQuoteRequest(id=created.id))).quote.state == EXPIRED


async def test_of_concurrent_acceptances_exactly_one_wins(
    stubs: Stubs,
) -> None:
    pricing, _ = stubs
    created = (await pricing.CreateQuote(pb.CreateQuoteRequest(quote=mobile_cart()))).quote
    calls = [pricing.AcceptQuote(pb.AcceptQuoteRequest(id=created.id)) for _ in range(6)]
    outcomes = await asyncio.gather(*calls, return_exceptions=True)
    won = [o for o in outcomes if isinstance(o, pb.AcceptQuoteResponse)]
    lost = [o for o in outcomes if isinstance(o, grpc.aio.AioRpcError)]
    assert len(won) == 1
    assert len(lost) == 5
    assert {e.code() for e in lost} == {grpc.StatusCode.FAILED_PRECONDITION}


@pytest.mark.parametrize(
    ("request_message", "code", "field"),
    [
        (pb.GetQuoteRequest(id="q-nothing"), grpc.StatusCode.NOT_FOUND, ""),
        (pb.AcceptQuoteRequest(id="q-nothing"), grpc.StatusCode.NOT_FOUND, ""),
        (pb.GetQuoteRequest(), grpc.StatusCode.INVALID_ARGUMENT, "id"),
        (pb.CreateQuoteRequest(), grpc.StatusCode.INVALID_ARGUMENT, "quote"),
        (
            pb.CreateQuoteRequest(valid_for=duration_pb2.Duration(seconds=-1)),
            grpc.StatusCode.INVALID_ARGUMENT,
            "validFor",
        ),
        (
            pb.CreateQuoteRequest(quote=pb.QuoteRequest(items=[])),
            grpc.StatusCode.INVALID_ARGUMENT,
            "quote.",
        ),
    ],
)
async def test_bad_quote_calls_are_refused_with_what_is_wrong(
    stubs: Stubs,
    request_message: object,
    code: grpc.StatusCode,
    field: str,
) -> None:
    pricing, _ = stubs
    method: Any = {
        pb.GetQuoteRequest: pricing.GetQuote,
        pb.AcceptQuoteRequest: pricing.AcceptQuote,
        pb.CreateQuoteRequest: pricing.CreateQuote,
    }[type(request_message)]
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await method(request_message)
    assert refused.value.code() is code
    if field:
        status = rpc_status.from_call(refused.value)  # type: ignore[arg-type]
        assert status is not None
        fields = []
        for detail in status.details:
            if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                bad = error_details_pb2.BadRequest()
                detail.Unpack(bad)
                fields += [v.field for v in bad.field_violations]
        assert any(f.startswith(field) for f in fields), fields
