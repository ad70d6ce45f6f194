"""PricingService.Quote through a real server, every amount computed by hand (in the comments).

The catalog (tests/support/quote_catalog.py) is published effective 2025-01-01; sales happen
on Tuesday 2026-03-10 at 10:00 in Shenzhen (GD_SZ) through the hall unless a test says
otherwise. March has 31 days, so a monthly price prorated from the 10th bills 22/31.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import TYPE_CHECKING

import grpc
import pytest
from google.protobuf import timestamp_pb2
from google.rpc import error_details_pb2
from google.type import money_pb2
from grpc_status import rpc_status

from catalog import bundle
from tariff.mappers.sale import MAX_QUANTITY
from tariff.v1 import (
    catalog_pb2,
    catalog_service_pb2,
    catalog_service_pb2_grpc,
    common_pb2,
    order_pb2,
    pricing_service_pb2_grpc,
    qualification_service_pb2,
)
from tariff.v1 import pricing_service_pb2 as pb
from tests.support.quote_catalog import QUOTE_PLANS, quote_content

if TYPE_CHECKING:
    from tariff.v1.pricing_service_pb2_grpc import PricingServiceAsyncStub

CHINA = timezone(timedelta(hours=8))
SALE = datetime(2026, 3, 10, 10, tzinfo=CHINA)


def stamp(moment: datetime) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(moment)
    return ts


async def publish(channel: grpc.aio.Channel, effective: datetime, plans: str = QUOTE_PLANS) -> None:
    catalog = catalog_service_pb2_grpc.CatalogServiceStub(channel)
    await catalog.ImportCatalogBundle(
        catalog_service_pb2.ImportCatalogBundleRequest(
            archive=bundle.to_zip_bytes(quote_content(plans)),
            mode=catalog_service_pb2.IMPORT_MODE_REPLACE,
        )
    )
    await catalog.PublishCatalog(
        catalog_service_pb2.PublishCatalogRequest(effective_from=stamp(effective))
    )


@pytest.fixture
async def stub(channel: grpc.aio.Channel) -> PricingServiceAsyncStub:
    await publish(channel, datetime(2025, 1, 1, tzinfo=UTC))
    return pricing_service_pb2_grpc.PricingServiceStub(channel)


def customer(
    segments: tuple[str, ...] = ("family",), age: int = 35, tenure: int = 30, **attributes: bool
) -> order_pb2.Customer:
    found = order_pb2.Customer(
        type=catalog_pb2.CUSTOMER_TYPE_PERSONAL,
        segment_codes=list(segments),
        age=age,
        tenure_months=tenure,
        vip_level=0,
        credit_class="A",
    )
    for name, value in attributes.items():
        found.attributes[name].bool_value = value
    return found


def request(
    *items: order_pb2.CartItem,
    who: order_pb2.Customer | None = None,
    area: str = "GD_SZ",
    time: datetime = SALE,
    channel: str = "hall",
) -> pb.QuoteRequest:
    context = order_pb2.SaleContext(
        customer=who or customer(), area_code=area, channel_code=channel, time=stamp(time)
    )
    return pb.QuoteRequest(context=context, items=list(items))


def line(code: str, members: tuple[str, ...] = (), **options: str) -> order_pb2.CartItem:
    return order_pb2.CartItem(
        offer_code=code,
        options=options,
        members=[order_pb2.CartItem(offer_code=m) for m in members],
    )


def money(m: money_pb2.Money) -> Decimal:
    return Decimal(m.units) + Decimal(m.nanos) / Decimal(10**9)


def price(response: pb.QuoteResponse, item: int, name: str) -> pb.QuotePrice:
    return next(p for p in response.items[item].prices if p.name == name)


async def test_broadband_monthly_with_loyalty_discount_tax_included_and_proration(
    stub: PricingServiceAsyncStub,
) -> None:
    reply = await stub.Quote(request(line("broadband_100m", payment="monthly")))
    assert reply.currency_code == "CNY"
    assert reply.catalog_version == 1
    installation = price(reply, 0, "installation")
    assert money(installation.price.tax_included_amount) == Decimal("58.00")
    assert money(installation.price.duty_free_amount) == Decimal("53.21")  # 58 / 1.09, half up
    assert installation.price.tax_rate.value == "0.09"  # a fraction on the wire
    rent = price(reply, 0, "rent")
    assert money(rent.list_price.tax_included_amount) == Decimal("70.00")
    assert money(rent.price.tax_included_amount) == Decimal("63.00")  # 10% loyalty (30 months)
    assert money(rent.price.duty_free_amount) == Decimal("57.80")  # 63 / 1.09 = 57.798
    [loyalty] = rent.alterations
    assert loyalty.kind == pb.ALTERATION_KIND_DISCOUNT
    assert loyalty.percentage.value == "10"
    assert money(loyalty.amount.tax_included_amount) == Decimal("-7.00")
    assert (loyalty.duration.count, loyalty.duration.period) == (12, pb.PERIOD_MONTH)
    assert loyalty.rule.location.path == "broadband.tariff"
    assert rent.proration.value == "0.709677419"  # 22 / 31
    totals = reply.totals
    assert money(totals.due_now.tax_included_amount) == Decimal("58.00")
    assert money(totals.monthly_recurring.tax_included_amount) == Decimal("63.00")
    assert money(totals.first_bill_estimate.tax_included_amount) == Decimal("44.71")  # 63 x 22/31


async def test_yearly_prepay_is_due_now_and_starts_next_month(
    stub: PricingServiceAsyncStub,
) -> None:
    reply = await stub.Quote(request(line("broadband_100m", payment="yearly_prepay")))
    prepay = price(reply, 0, "prepay")
    assert prepay.due == pb.DUE_TIME_NOW
    assert prepay.starts.ToDatetime(tzinfo=UTC) == datetime(2026, 4, 1, tzinfo=CHINA)
    assert money(reply.totals.due_now.tax_included_amount) == Decimal("778.00")  # 720 + 58
    assert money(reply.totals.monthly_recurring.tax_included_amount) == Decimal("0")


async def test_discounts_stack_in_priority_order_with_durations(
    stub: PricingServiceAsyncStub,
) -> None:
    youth = customer(("youth",), age=20, tenure=3)
    reply = await stub.Quote(request(line("youth_plan"), who=youth))
    rent = price(reply, 0, "rent")
    assert money(rent.price.tax_included_amount) == Decimal("85.00")  # 100 - 10% = 90, - 5 = 85
    assert [(a.name, money(a.amount.tax_included_amount)) for a in rent.alterations] == [
        ("pct", Decimal("-10.00")),
        ("amt", Decimal("-5.00")),
    ]
    assert (rent.alterations[1].duration.count, rent.alterations[1].priority) == (3, 2)
    assert money(reply.totals.monthly_recurring.tax_included_amount) == Decimal("85.00")


async def test_floor_and_cap_with_tax_excluded(stub: PricingServiceAsyncStub) -> None:
    vip = customer(("vip",), age=45, tenure=40)
    vip.vip_level = 6
    reply = await stub.Quote(request(line("vip_plan"), who=vip, area="BJ"))
    rent = price(reply, 0, "rent")
    assert money(rent.list_price.duty_free_amount) == Decimal("200.00")
    assert money(rent.price.duty_free_amount) == Decimal("190.00")  # 200 - 15 = 185, floor 190
    assert money(rent.price.tax_included_amount) == Decimal("201.40")  # 190 x 1.06
    assert [a.kind for a in rent.alterations] == [
        pb.ALTERATION_KIND_DISCOUNT,
        pb.ALTERATION_KIND_FLOOR,
    ]
    setup = price(reply, 0, "setup")
    assert money(setup.price.duty_free_amount) == Decimal("25.00")  # capped from 30
    assert money(setup.price.tax_included_amount) == Decimal("26.50")
    assert money(reply.totals.due_now.tax_included_amount) == Decimal("26.50")
    assert money(reply.totals.due_now.duty_free_amount) == Decimal("25.00")


async def test_family_bundle_waives_installation_and_replaces_member_rents(
    stub: PricingServiceAsyncStub,
) -> None:
    family = customer(address_installable=True)
    members = ("fixed_line_basic", "broadband_basic", "family_plan", "family_plan")
    reply = await stub.Quote(request(line("family_bundle", members), who=family))
    [combo] = reply.items
    assert [m.offer_code for m in combo.members] == list(members)
    assert money(price(reply, 0, "bundle_rent").price.tax_included_amount) == Decimal("169.00")
    broadband = combo.members[1]
    installation = next(p for p in broadband.prices if p.name == "installation")
    assert money(installation.price.tax_included_amount) == Decimal("0")
    assert installation.alterations[0].kind == pb.ALTERATION_KIND_WAIVER
    assert installation.alterations[0].name == "融合业务免初装费"
    for mobile in combo.members[2:]:
        rent = next(p for p in mobile.prices if p.name == "rent")
        assert money(rent.price.tax_included_amount) == Decimal("0")  # replaced by bundle_rent
    fixed_rent = next(p for p in combo.members[0].prices if p.name == "rent")
    assert money(fixed_rent.price.tax_included_amount) == Decimal("18.00")  # Guangdong's plan
    assert money(reply.totals.due_now.tax_included_amount) == Decimal("0")  # both waived
    assert money(reply.totals.monthly_recurring.tax_included_amount) == Decimal(
        "187.00"
    )  # 169 + 18


async def test_provincial_override_applies_in_its_province_only(
    stub: PricingServiceAsyncStub,
) -> None:
    shenzhen = await stub.Quote(request(line("fixed_line_basic")))
    beijing = await stub.Quote(request(line("fixed_line_basic"), area="BJ"))
    assert money(price(shenzhen, 0, "rent").price.tax_included_amount) == Decimal("18.00")
    assert money(price(beijing, 0, "rent").price.tax_included_amount) == Decimal("20.00")
    assert price(shenzhen, 0, "rent").rule.name == "fixed_gd.price.rent"


async def test_a_quote_reads_the_version_in_force_at_its_time(
    stub: PricingServiceAsyncStub, channel: grpc.aio.Channel
) -> None:
    raised = QUOTE_PLANS.replace("recurring 100.00 per month", "recurring 110.00 per month")
    await publish(channel, datetime(2026, 6, 1, tzinfo=UTC), raised)
    youth = customer(("youth",), age=20, tenure=3)
    before = await stub.Quote(request(line("youth_plan"), who=youth))
    after = await stub.Quote(
        request(line("youth_plan"), who=youth, time=datetime(2026, 7, 10, tzinfo=CHINA))
    )
    assert (before.catalog_version, money(price(before, 0, "rent").price.tax_included_amount)) == (
        1,
        Decimal("85.00"),
    )
    assert (after.catalog_version, money(price(after, 0, "rent").price.tax_included_amount)) == (
        2,
        Decimal("94.00"),
    )  # 110 - 11 - 5


async def test_quantity_prices_each_price_once_with_its_units(
    stub: PricingServiceAsyncStub,
) -> None:
    two = line("fixed_line_basic")
    two.quantity = 2
    reply = await stub.Quote(request(two))
    assert [(p.name, p.quantity) for p in reply.items[0].prices] == [
        ("rent", 2),
        ("installation", 2),
    ]
    assert money(reply.totals.due_now.tax_included_amount) == Decimal("116.00")  # 2 x 58


async def test_a_huge_quantity_is_priced_arithmetically(stub: PricingServiceAsyncStub) -> None:
    """Quantity 2,147,483,647 once grew the server to 23 GB (a line per unit): the largest
    quantity allowed is priced as one small price list counted, as big as the answer for
    quantity 1, and the int32 maximum is refused with the limit."""
    one = await stub.Quote(request(line("fixed_line_basic")))
    most = line("fixed_line_basic")
    most.quantity = MAX_QUANTITY
    reply = await stub.Quote(request(most))
    assert [p.quantity for p in reply.items[0].prices] == [MAX_QUANTITY] * 2
    assert reply.ByteSize() <= one.ByteSize() + 64  # wider numbers, nothing more
    due = money(one.totals.due_now.tax_included_amount) * MAX_QUANTITY
    assert money(reply.totals.due_now.tax_included_amount) == due
    over = line("fixed_line_basic")
    over.quantity = 2**31 - 1
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.Quote(request(over))
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    status = rpc_status.from_call(caught.value)  # type: ignore[arg-type]
    assert status is not None
    bad = error_details_pb2.BadRequest()
    assert any(d.Unpack(bad) for d in status.details)
    said = {v.field: v.description for v in bad.field_violations}
    assert said == {"items[0].quantity": f"must be at most {MAX_QUANTITY:,}"}


async def test_an_ineligible_cart_is_refused_with_the_eligibility_answer(
    stub: PricingServiceAsyncStub,
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.Quote(request(line("youth_plan"), who=customer(("youth",), age=40)))
    assert caught.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    status = rpc_status.from_call(caught.value)  # type: ignore[arg-type]
    assert status is not None
    answer = qualification_service_pb2.CheckEligibilityResponse()
    assert any(d.Unpack(answer) for d in status.details)
    assert [r.code for r in answer.items[0].reasons] == ["age_out_of_range"]
    failure = error_details_pb2.PreconditionFailure()
    assert any(d.Unpack(failure) for d in status.details)
    assert "age_out_of_range" in failure.violations[0].description


async def test_a_cart_with_an_unknown_offer_is_refused_as_not_eligible(
    stub: PricingServiceAsyncStub,
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.Quote(request(line("broadband_100m"), line("no_such_offer")))
    assert caught.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    status = rpc_status.from_call(caught.value)  # type: ignore[arg-type]
    assert status is not None
    answer = qualification_service_pb2.CheckEligibilityResponse()
    assert any(d.Unpack(answer) for d in status.details)
    assert not answer.qualified
    assert [[r.code for r in i.reasons] for i in answer.items] == [[], ["unknown_offer"]]
    failure = error_details_pb2.PreconditionFailure()
    assert any(d.Unpack(failure) for d in status.details)
    [violation] = failure.violations
    assert violation.subject == "items[1] no_such_offer"
    assert violation.description.startswith("unknown_offer: ")


async def test_bad_input_is_invalid_argument(stub: PricingServiceAsyncStub) -> None:
    negative = line("broadband_100m")
    negative.quantity = -1
    cases = {
        "items[0].offerCode": request(line("")),
        "items[0].quantity": request(negative),
        "items[0].options['payment']": request(line("broadband_100m", payment="weekly")),
        "items[0].options['colour']": request(line("broadband_100m", colour="red")),
        "items": request(),
    }
    for field, message in cases.items():
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.Quote(message)
        assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT, field
        status = rpc_status.from_call(caught.value)  # type: ignore[arg-type]
        assert status is not None
        bad = error_details_pb2.BadRequest()
        assert any(d.Unpack(bad) for d in status.details)
        assert field in [v.field for v in bad.field_violations], (field, bad)


async def test_a_draft_selector_is_refused_here(stub: PricingServiceAsyncStub) -> None:
    message = request(line("fixed_line_basic"))
    message.selector.CopyFrom(common_pb2.VersionSelector(draft=True))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.Quote(message)
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
