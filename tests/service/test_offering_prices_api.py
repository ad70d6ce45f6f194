"""Structured prices (issue 19, TMF620) through a real server over the demo catalog: every
offer ListEligibleOffers admits in a demo sale context is quoted alone, and each one-time or
recurring list price of the quote equals the structured price of that name."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable

import grpc
import pytest
from google.protobuf.message import Message
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from tariff.bootstrap import App, bootstrap
from tariff.cli import load_demo
from tariff.server import Running
from tariff.settings import Settings
from tariff.v1 import (
    catalog_service_pb2,
    catalog_service_pb2_grpc,
    common_pb2,
    offering_price_pb2,
    order_pb2,
    pricing_service_pb2,
    pricing_service_pb2_grpc,
    qualification_service_pb2,
    qualification_service_pb2_grpc,
)
from tests.support.demo_requests import sales

FULL = offering_price_pb2.OFFER_VIEW_FULL
LISTED_TYPES = {
    pricing_service_pb2.PRICE_TYPE_ONE_TIME: offering_price_pb2.OFFERING_PRICE_TYPE_ONE_TIME,
    pricing_service_pb2.PRICE_TYPE_RECURRING: offering_price_pb2.OFFERING_PRICE_TYPE_RECURRING,
}


@pytest.fixture
async def app(database_url: str) -> AsyncIterator[App]:
    settings = Settings(host="127.0.0.1", port=0, database_url=database_url, refresh_seconds=0)
    application = await asyncio.to_thread(bootstrap, settings)
    await asyncio.to_thread(load_demo, application)
    try:
        yield application
    finally:
        application.close()


def _listed(quoted: pricing_service_pb2.QuotePrice) -> tuple[object, ...]:
    """A quote's list price in the plan's basis, as (units, nanos, currency)."""
    amount = quoted.list_price
    money = amount.tax_included_amount if amount.HasField("tax_included_amount") else None
    if money is None:
        money = amount.duty_free_amount
    return (money.units, money.nanos, money.currency_code)


def _candidates(
    plan: offering_price_pb2.OfferingPricePlan, name: str
) -> list[offering_price_pb2.OfferingPrice]:
    """The structured prices a default-options quote can charge as `name`."""
    defaults = {o.name: o.default_choice for o in plan.options}
    return [
        p
        for p in plan.prices
        if p.name == name and (not p.option or defaults.get(p.option) == p.option_choice)
    ]


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


async def test_structured_prices_equal_what_quote_charges(running: Running) -> None:
    compared = expressions = 0
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        listing = qualification_service_pb2_grpc.QualificationServiceStub(channel)
        pricing = pricing_service_pb2_grpc.PricingServiceStub(channel)
        for context, _ in sales():
            page = await listing.ListEligibleOffers(
                qualification_service_pb2.ListEligibleOffersRequest(
                    context=context, page_size=1000, view=FULL
                )
            )
            basic = await listing.ListEligibleOffers(
                qualification_service_pb2.ListEligibleOffersRequest(context=context, page_size=1000)
            )
            assert not any(o.HasField("offering_prices") for o in basic.offers)
            for offer in page.offers:
                prices = offer.offering_prices
                assert prices.offer_code == offer.offer_code
                assert prices.catalog_version == page.catalog_version
                if offer.kind == qualification_service_pb2.OFFER_KIND_ADD_ON:
                    continue  # quoted only with a base in the cart
                if not prices.plans:
                    continue
                plan = prices.plans[0]
                try:
                    quote = await pricing.Quote(
                        pricing_service_pb2.QuoteRequest(
                            context=context,
                            items=[
                                order_pb2.CartItem(
                                    item_id="1", offer_code=offer.offer_code, quantity=1
                                )
                            ],
                        )
                    )
                except grpc.aio.AioRpcError as error:
                    if error.code() is grpc.StatusCode.FAILED_PRECONDITION:
                        continue  # a combo's composition needs members: a cart question
                    raise
                for quoted in quote.items[0].prices:
                    if quoted.price_type not in LISTED_TYPES:
                        continue
                    found = _candidates(plan, quoted.name)
                    assert found, (offer.offer_code, quoted.name)
                    assert all(p.price_type == LISTED_TYPES[quoted.price_type] for p in found)
                    constants = [p for p in found if p.price.HasField("money")]
                    if not constants:
                        assert all(p.price.expression.text for p in found)
                        expressions += 1
                        continue
                    listed = {
                        (p.price.money.units, p.price.money.nanos, p.price.money.currency_code)
                        for p in constants
                    }
                    assert _listed(quoted) in listed, (offer.offer_code, quoted.name)
                    compared += 1
    assert compared >= 10, (compared, expressions)


async def test_catalog_reads_carry_prices_only_with_the_full_view(running: Running) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        catalog = catalog_service_pb2_grpc.CatalogServiceStub(channel)
        version = common_pb2.VersionSelector(version=1)
        products = await catalog.ListProducts(
            catalog_service_pb2.ListProductsRequest(selector=version, view=FULL)
        )
        assert [p.offer_code for p in products.prices] == [p.code for p in products.products]
        assert any(p.plans and p.plans[0].prices for p in products.prices)
        basic = await catalog.ListProducts(
            catalog_service_pb2.ListProductsRequest(selector=version)
        )
        assert not basic.prices
        combos = await catalog.ListCombos(
            catalog_service_pb2.ListCombosRequest(selector=version, view=FULL)
        )
        assert combos.combos, "the demo has combos"
        first = combos.combos[0]
        got = await catalog.GetCombo(
            catalog_service_pb2.GetComboRequest(code=first.code, selector=version, view=FULL)
        )
        assert got.prices == combos.prices[0]
        assert {m.offer_code for m in got.prices.members} == {
            m.offer_code for m in first.members
        } | {c for g in first.choice_groups for c in g.offer_codes}
        draft = catalog.GetProduct(
            catalog_service_pb2.GetProductRequest(code=products.products[0].code, view=FULL)
        )
        assert list(await violations(draft)) == ["view"]
