"""Structured prices (issue 19, TMF620) through a real server: every offer ListEligibleOffers
admits is quoted alone, and each one-time or recurring list price of the quote equals the
structured price of that name - over the demo catalog and over generated ones. A combo's
price summary is its default composition as Quote prices it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Iterable
from datetime import UTC, datetime
from decimal import Decimal

import grpc
import pytest
from google.protobuf.message import Message
from google.rpc import error_details_pb2
from google.type import money_pb2
from grpc_status import rpc_status

from catalog.content import CatalogContent
from catalog.model import CustomerType
from tariff.bootstrap import App, bootstrap
from tariff.cli import load_demo
from tariff.gen.catalogs import CatalogSpec, generate_catalog
from tariff.server import Running, start_server
from tariff.settings import Settings
from tariff.v1 import (
    catalog_pb2,
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


async def compare_with_quotes(
    channel: grpc.aio.Channel, contexts: Iterable[order_pb2.SaleContext]
) -> tuple[int, int]:
    """Every offer ListEligibleOffers admits in each context, quoted alone the first time it
    is listed: each one-time or recurring list price of the quote is one of the structured
    prices of that name (a default-options quote's). (prices compared, offers quoted)"""
    compared = quoted_offers = 0
    seen: set[str] = set()
    listing = qualification_service_pb2_grpc.QualificationServiceStub(channel)
    pricing = pricing_service_pb2_grpc.PricingServiceStub(channel)
    for context in contexts:
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
            if not prices.plans or offer.offer_code in seen:
                continue
            plan = prices.plans[0]
            try:
                quote = await pricing.Quote(
                    pricing_service_pb2.QuoteRequest(
                        context=context,
                        items=[order_pb2.CartItem(item_id="1", offer_code=offer.offer_code)],
                    )
                )
            except grpc.aio.AioRpcError as error:
                if error.code() is grpc.StatusCode.FAILED_PRECONDITION:
                    continue  # a combo's composition needs members: a cart question
                raise
            seen.add(offer.offer_code)
            quoted_offers += 1
            for quoted in quote.items[0].prices:
                if quoted.price_type not in LISTED_TYPES:
                    continue
                found = _candidates(plan, quoted.name)
                assert found, (offer.offer_code, quoted.name)
                assert all(p.price_type == LISTED_TYPES[quoted.price_type] for p in found)
                constants = [p for p in found if p.price.HasField("money")]
                if not constants:
                    assert all(p.price.expression.text for p in found)
                    continue
                listed = {
                    (p.price.money.units, p.price.money.nanos, p.price.money.currency_code)
                    for p in constants
                }
                assert _listed(quoted) in listed, (offer.offer_code, quoted.name)
                compared += 1
    return compared, quoted_offers


async def test_structured_prices_equal_what_quote_charges(running: Running) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        compared, _ = await compare_with_quotes(channel, [c for c, _ in sales()])
    assert compared >= 10


def generated_contexts(content: CatalogContent) -> list[order_pb2.SaleContext]:
    """A sale in the first city of every province, through the hall, the web and an
    account manager, to a customer of each segment with every fact the generated rules
    read (so most offers qualify somewhere)."""
    cities = sorted(
        a.code for a in content.areas.values() if a.parent_code and a.parent_code != "CN"
    )
    firsts = {city.split("_")[0]: city for city in reversed(cities)}
    found = []
    for city in sorted(firsts.values()):
        for channel in ("hall", "web", "account_manager"):
            for code, segment in sorted(content.segments.items()):
                context = order_pb2.SaleContext(area_code=city, channel_code=channel)
                customer = context.customer
                customer.type = (
                    catalog_pb2.CUSTOMER_TYPE_ENTERPRISE
                    if segment.customer_type is CustomerType.ENTERPRISE
                    else catalog_pb2.CUSTOMER_TYPE_PERSONAL
                )
                customer.segment_codes.append(code)
                customer.age, customer.vip_level, customer.tenure_months = 22, 5, 36
                customer.credit_class = "A"
                context.time.FromDatetime(datetime(2026, 3, 10, 2, tzinfo=UTC))
                found.append(context)
    return found


@pytest.mark.parametrize("seed", [11, 12, 13])
async def test_structured_prices_equal_quotes_over_generated_catalogs(
    database_url: str, seed: int
) -> None:
    """The same property over catalogs `tariff gen catalog` makes (areas with overrides,
    usage tariffs, combos), each published and served."""
    content = generate_catalog(CatalogSpec(offers=60, areas=3, seed=seed, combos=4))
    settings = Settings(host="127.0.0.1", port=0, database_url=database_url, refresh_seconds=0)
    application = await asyncio.to_thread(bootstrap, settings)
    try:
        await asyncio.to_thread(application.catalog.import_content, content)
        await asyncio.to_thread(
            application.catalog.publish, datetime(2026, 1, 1, tzinfo=UTC), "generated"
        )
        await asyncio.to_thread(application.refresh)
        server = await start_server(application)
        await server.mark_serving()
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
                compared, quoted = await compare_with_quotes(channel, generated_contexts(content))
        finally:
            await server.stop(0)
    finally:
        application.close()
    assert quoted >= 10, quoted
    assert compared >= quoted, (compared, quoted)


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


def _family_context() -> order_pb2.SaleContext:
    context = order_pb2.SaleContext(area_code="GD_SZ", channel_code="hall")
    context.customer.type = catalog_pb2.CUSTOMER_TYPE_PERSONAL
    context.customer.segment_codes.append("family")
    context.customer.age = 38
    context.customer.attributes["address_installable"].bool_value = True
    context.time.FromDatetime(datetime(2026, 3, 10, 2, tzinfo=UTC))
    return context


def _money(amount: object) -> Decimal:
    assert isinstance(amount, money_pb2.Money)
    return Decimal(amount.units) + Decimal(amount.nanos) / 10**9


#: Each demo combo's default composition (its members' default counts, the cheapest phone
#: of the 1+1's choice) and what it costs a month, by hand from the .tariff files' notes.
COMBOS = {
    "broadband_1plus1": (("broadband_100m", 1), ("mobile_59", 1)),  # 59 + 0 (rent waived)
    "family_bundle": (("fixed_line_basic", 1), ("broadband_100m", 1), ("family_mobile", 2)),
}
MONTHLY = {"broadband_1plus1": Decimal("59.00"), "family_bundle": Decimal("158.00")}


async def test_a_combo_summary_prices_its_default_composition(running: Running) -> None:
    """A combo whose plan only alters its members' prices (the 1+1) was listed at 0.00 a
    month; each combo's summary is now its default composition as Quote prices it."""
    context = _family_context()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        listing = qualification_service_pb2_grpc.QualificationServiceStub(channel)
        pricing = pricing_service_pb2_grpc.PricingServiceStub(channel)
        page = await listing.ListEligibleOffers(
            qualification_service_pb2.ListEligibleOffersRequest(
                context=context, page_size=1000, kind=qualification_service_pb2.OFFER_KIND_COMBO
            )
        )
        listed = {o.offer_code: o.prices for o in page.offers}
        assert set(listed) == set(COMBOS)
        for code, members in COMBOS.items():
            summary = listed[code]
            assert _money(summary.recurring) == MONTHLY[code], code
            assert summary.recurring_period == "month"
            item = order_pb2.CartItem(item_id="1", offer_code=code, quantity=1)
            for index, (member, count) in enumerate(members, start=1):
                item.members.append(
                    order_pb2.CartItem(item_id=f"1.{index}", offer_code=member, quantity=count)
                )
            quote = await pricing.Quote(
                pricing_service_pb2.QuoteRequest(context=context, items=[item])
            )
            totals = quote.totals
            monthly = totals.monthly_recurring.tax_included_amount
            assert _money(summary.recurring) == _money(monthly), code
            assert _money(summary.one_time) == _money(totals.due_now.tax_included_amount), code
