"""QualificationService through a real server on 127.0.0.1: the sample catalog imported and
published (effective 2025-01-01), then the questions an order system asks."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import grpc
import pytest
from google.protobuf import timestamp_pb2
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status

from catalog import bundle
from tariff.server import QUALIFICATION_SERVICE, Running
from tariff.v1 import (
    catalog_pb2,
    catalog_service_pb2,
    catalog_service_pb2_grpc,
    common_pb2,
    order_pb2,
    qualification_service_pb2_grpc,
)
from tariff.v1 import qualification_service_pb2 as pb
from tests.support.catalogs import sample_content

if TYPE_CHECKING:
    from tariff.v1.qualification_service_pb2_grpc import QualificationServiceAsyncStub

EFFECTIVE = datetime(2025, 1, 1, tzinfo=UTC)
SALE_TIME = datetime(2026, 3, 2, 2, tzinfo=UTC)
QUALIFIED = pb.QUALIFICATION_RESULT_QUALIFIED
UNQUALIFIED = pb.QUALIFICATION_RESULT_UNQUALIFIED
ALTERNATE = pb.QUALIFICATION_RESULT_ALTERNATE


def stamp(moment: datetime) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(moment)
    return ts


@pytest.fixture
async def stub(channel: grpc.aio.Channel) -> QualificationServiceAsyncStub:
    catalog = catalog_service_pb2_grpc.CatalogServiceStub(channel)
    await catalog.ImportCatalogBundle(
        catalog_service_pb2.ImportCatalogBundleRequest(
            archive=bundle.to_zip_bytes(sample_content())
        )
    )
    await catalog.PublishCatalog(
        catalog_service_pb2.PublishCatalogRequest(effective_from=stamp(EFFECTIVE))
    )
    return qualification_service_pb2_grpc.QualificationServiceStub(channel)


def context(
    age: int | None = 20,
    segments: tuple[str, ...] = ("youth",),
    area: str = "GD_SZ",
    channel: str = "hall",
    held: tuple[str, ...] = (),
    time: datetime = SALE_TIME,
) -> order_pb2.SaleContext:
    customer = order_pb2.Customer(
        id="c-1",
        type=catalog_pb2.CUSTOMER_TYPE_PERSONAL,
        segment_codes=list(segments),
        held_products=[order_pb2.HeldProduct(offer_code=c) for c in held],
    )
    if age is not None:
        customer.age = age
    return order_pb2.SaleContext(
        customer=customer, area_code=area, channel_code=channel, time=stamp(time)
    )


def item(
    code: str,
    item_id: str = "",
    members: tuple[str, ...] = (),
    action: order_pb2.CartAction.ValueType = order_pb2.CART_ACTION_ADD,
) -> order_pb2.CartItem:
    return order_pb2.CartItem(
        item_id=item_id,
        offer_code=code,
        action=action,
        members=[order_pb2.CartItem(offer_code=m) for m in members],
    )


async def check(
    stub: QualificationServiceAsyncStub,
    ctx: order_pb2.SaleContext,
    *items: order_pb2.CartItem,
    explain: bool = False,
) -> pb.CheckEligibilityResponse:
    request = pb.CheckEligibilityRequest(context=ctx, items=list(items), explain=explain)
    response: pb.CheckEligibilityResponse = await stub.CheckEligibility(request)
    return response


def reason_codes(response: pb.CheckEligibilityResponse, index: int = 0) -> list[str]:
    return [r.code for r in response.items[index].reasons]


async def test_qualified_in_a_city_of_the_nation(stub: QualificationServiceAsyncStub) -> None:
    response = await check(stub, context(), item("youth_plan"))
    assert response.qualified
    assert response.catalog_version == 1
    assert response.items[0].item_id == "1"
    assert response.items[0].result == QUALIFIED


async def test_youth_offer_outside_15_to_26_with_located_reason_and_alternates(
    stub: QualificationServiceAsyncStub,
) -> None:
    response = await check(stub, context(age=27), item("youth_plan"), explain=True)
    [line] = response.items
    assert line.result == ALTERNATE
    [reason] = line.reasons
    assert (reason.code, reason.message) == ("age_out_of_range", "新势力仅限 15 至 26 岁客户")
    assert reason.rule.name == "youth_plan.eligibility.age"
    assert reason.rule.location.path == "products/youth_plan.tariff"
    assert reason.rule.location.line == 4
    assert any(p.kind == pb.PROPOSAL_KIND_ALTERNATE_OFFER for p in line.proposals)
    [step] = line.trace
    assert step.condition == "customer.age between 15 and 26"
    assert "customer.age = 27" in step.observed
    assert step.outcome is False


async def test_area_channel_and_time(stub: QualificationServiceAsyncStub) -> None:
    campus = item("qh_campus_card")
    assert (await check(stub, context(area="QH_XN"), campus)).qualified
    assert reason_codes(await check(stub, context(area="GD_SZ"), campus)) == ["area"]
    assert reason_codes(await check(stub, context(channel="call_center"), item("youth_plan"))) == [
        "channel"
    ]
    early = context(time=datetime(2025, 12, 1, tzinfo=UTC))
    assert reason_codes(await check(stub, early, item("youth_plan"))) == ["not_yet_available"]


async def test_add_on_without_base_proposes_it(stub: QualificationServiceAsyncStub) -> None:
    response = await check(stub, context(), item("caller_id_addon"))
    assert reason_codes(response) == ["addon_without_base"]
    [proposal] = response.items[0].proposals
    assert (proposal.kind, proposal.offer_code) == (pb.PROPOSAL_KIND_ADD_OFFER, "mobile_basic")
    assert proposal.offer_name == "如意通 基础套餐"
    both = await check(stub, context(), item("caller_id_addon"), item("mobile_basic"))
    assert both.qualified


async def test_family_bundle_with_four_lines_is_refused_and_three_pass(
    stub: QualificationServiceAsyncStub,
) -> None:
    family = context(age=40, segments=("family",))
    members = ("fixed_line_basic", "broadband_basic")
    ok = await check(stub, family, item("family_bundle", members=(*members, *["family_plan"] * 3)))
    assert ok.qualified
    assert len(ok.items[0].members) == 5
    four = await check(
        stub, family, item("family_bundle", members=(*members, *["family_plan"] * 4))
    )
    assert reason_codes(four) == ["too_many_members"]
    none = await check(stub, family, item("family_bundle", members=members))
    assert reason_codes(none) == ["too_few_members"]
    assert none.items[0].proposals[0].offer_code == "family_plan"


async def test_a_cart_with_one_unknown_offer_gets_item_results(
    stub: QualificationServiceAsyncStub,
) -> None:
    response = await check(
        stub, context(), item("youth_plan"), item("youht_plan", "b"), item("caller_id_addon")
    )
    assert not response.qualified
    assert response.catalog_version == 1
    assert [(i.item_id, i.offer_code, i.result) for i in response.items] == [
        ("1", "youth_plan", QUALIFIED),
        ("b", "youht_plan", UNQUALIFIED),
        ("3", "caller_id_addon", UNQUALIFIED),  # its base is missing, as without the unknown
    ]
    [unknown] = response.items[1].reasons
    assert unknown.code == "unknown_offer"
    assert unknown.message == "catalog version 1 has no offer 'youht_plan'"
    assert unknown.rule.name == "catalog.offers"
    assert not response.items[1].proposals
    assert reason_codes(response, 2) == ["addon_without_base"]
    alone = await check(stub, context(), item("youth_plan"))
    assert alone.qualified


async def test_an_unknown_combo_member_is_a_member_result(
    stub: QualificationServiceAsyncStub,
) -> None:
    family = context(age=40, segments=("family",))
    members = ("fixed_line_basic", "broadband_basic", "family_plan", "family_plam")
    response = await check(stub, family, item("family_bundle", members=members))
    [line] = response.items
    assert line.result == UNQUALIFIED
    assert [m.result for m in line.members] == [QUALIFIED] * 3 + [UNQUALIFIED]
    assert [r.code for r in line.members[3].reasons] == ["unknown_offer"]
    [reason] = line.reasons
    assert (reason.code, reason.offer_code) == ("member_unqualified", "family_plam")


async def test_exclusions_in_the_cart_and_against_held_products(
    stub: QualificationServiceAsyncStub,
) -> None:
    pair = await check(stub, context(area="QH_XN"), item("qh_campus_card"), item("youth_plan"))
    assert [reason_codes(pair, i) for i in (0, 1)] == [["excludes"], ["excludes"]]
    held = await check(stub, context(area="QH_XN", held=("youth_plan",)), item("qh_campus_card"))
    assert reason_codes(held) == ["excludes"]
    assert held.items[0].reasons[0].offer_code == "youth_plan"


async def test_list_eligible_offers_with_prices_and_paging(
    stub: QualificationServiceAsyncStub,
) -> None:
    request = pb.ListEligibleOffersRequest(context=context(age=40, segments=("family",)))
    response = await stub.ListEligibleOffers(request)
    codes = [o.offer_code for o in response.offers]
    assert "family_bundle" in codes
    assert "youth_plan" not in codes
    assert response.catalog_version == 1
    broadband = next(o for o in response.offers if o.offer_code == "broadband_basic")
    assert broadband.kind == pb.OFFER_KIND_MAIN_PRODUCT
    assert (broadband.prices.recurring.units, broadband.prices.recurring.currency_code) == (
        70,
        "CNY",
    )
    assert broadband.prices.one_time.units == 58
    assert broadband.prices.recurring_period == "month"
    paged: list[str] = []
    token = ""
    for _ in range(len(codes)):
        page = await stub.ListEligibleOffers(
            pb.ListEligibleOffersRequest(context=request.context, page_size=2, page_token=token)
        )
        paged += [o.offer_code for o in page.offers]
        token = page.next_page_token
        if not token:
            break
    assert paged == codes
    combos = await stub.ListEligibleOffers(
        pb.ListEligibleOffersRequest(context=request.context, kind=pb.OFFER_KIND_COMBO)
    )
    assert [o.offer_code for o in combos.offers] == ["family_bundle"]


async def invalid(call: object) -> dict[str, str]:
    """The field violations of an INVALID_ARGUMENT call."""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call  # type: ignore[misc]
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    status = rpc_status.from_call(caught.value)  # type: ignore[arg-type]
    assert status is not None
    bad = error_details_pb2.BadRequest()
    assert any(d.Unpack(bad) for d in status.details)
    return {v.field: v.description for v in bad.field_violations}


async def test_bad_input_is_invalid_argument_with_every_violation(
    stub: QualificationServiceAsyncStub,
) -> None:
    ctx = context(age=-3, segments=("youngsters",), area="XX", channel="telepathy")
    fields = await invalid(
        stub.CheckEligibility(pb.CheckEligibilityRequest(context=ctx, items=[item("nope")]))
    )
    assert set(fields) == {
        "context.customer.age",
        "context.customer.segmentCodes[0]",
        "context.areaCode",
        "context.channelCode",
    }
    malformed = [item(" ", "a"), item("nope", "a"), item("youth_plan")]
    malformed[2].quantity = -1
    cart = await invalid(
        stub.CheckEligibility(pb.CheckEligibilityRequest(context=context(), items=malformed))
    )
    assert cart == {
        "items[0].offerCode": "is required",
        "items[2].quantity": "must not be negative",
        "items[1].itemId": "item id 'a' is used twice",
    }
    empty = await invalid(stub.CheckEligibility(pb.CheckEligibilityRequest(context=context())))
    assert "the cart is empty" in empty["items"]
    no_customer = order_pb2.SaleContext(area_code="GD_SZ", channel_code="hall")
    missing = await invalid(
        stub.CheckEligibility(
            pb.CheckEligibilityRequest(context=no_customer, items=[item("youth_plan")])
        )
    )
    assert missing["context.customer"] == "is required"
    token = await invalid(
        stub.ListEligibleOffers(
            pb.ListEligibleOffersRequest(context=context(), page_token="garbage!")
        )
    )
    assert "page token" in token["pageToken"]
    draft = await invalid(
        stub.ListEligibleOffers(
            pb.ListEligibleOffersRequest(
                context=context(), selector=common_pb2.VersionSelector(draft=True)
            )
        )
    )
    assert "selector" in draft


async def test_a_time_before_any_version_is_not_found(stub: QualificationServiceAsyncStub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await check(stub, context(time=datetime(2024, 6, 1, tzinfo=UTC)), item("youth_plan"))
    assert caught.value.code() is grpc.StatusCode.NOT_FOUND
    assert "no catalog version is in force" in (caught.value.details() or "")


async def test_health_is_serving_only_once_a_version_exists(
    channel: grpc.aio.Channel, running: Running
) -> None:
    health = health_pb2_grpc.HealthStub(channel)
    request = health_pb2.HealthCheckRequest(service=QUALIFICATION_SERVICE)
    before = await health.Check(request)
    assert before.status == health_pb2.HealthCheckResponse.NOT_SERVING
    catalog = catalog_service_pb2_grpc.CatalogServiceStub(channel)
    await catalog.ImportCatalogBundle(
        catalog_service_pb2.ImportCatalogBundleRequest(
            archive=bundle.to_zip_bytes(sample_content())
        )
    )
    await catalog.PublishCatalog(catalog_service_pb2.PublishCatalogRequest())
    await running.sync_health()  # serve() does this every second
    after = await health.Check(request)
    assert after.status == health_pb2.HealthCheckResponse.SERVING


async def test_national_and_provincial_offers_by_area(stub: QualificationServiceAsyncStub) -> None:
    xining = await stub.ListEligibleOffers(
        pb.ListEligibleOffersRequest(context=context(area="QH_XN"))
    )
    shenzhen = await stub.ListEligibleOffers(
        pb.ListEligibleOffersRequest(context=context(area="GD_SZ"))
    )
    in_xining = {o.offer_code for o in xining.offers}
    in_shenzhen = {o.offer_code for o in shenzhen.offers}
    assert {"youth_plan", "qh_campus_card"} <= in_xining  # a national and a Qinghai offer
    assert "youth_plan" in in_shenzhen
    assert "qh_campus_card" not in in_shenzhen  # Qinghai's offer is not sold in Guangdong
    assert "broadband_basic" in in_shenzhen  # listed for the province GD, sold in its cities


async def test_a_retired_offer_after_the_version_that_retires_it(
    stub: QualificationServiceAsyncStub, channel: grpc.aio.Channel
) -> None:
    catalog = catalog_service_pb2_grpc.CatalogServiceStub(channel)
    read = await catalog.GetProduct(catalog_service_pb2.GetProductRequest(code="youth_plan"))
    await catalog.TransitionLifecycle(
        catalog_service_pb2.TransitionLifecycleRequest(
            target=catalog_pb2.EntityRef(kind=catalog_pb2.ENTITY_KIND_PRODUCT, code="youth_plan"),
            to_status=catalog_pb2.LIFECYCLE_STATUS_RETIRED,
            expected_revision=read.product.meta.revision,
        )
    )
    retire_from = datetime(2026, 6, 1, tzinfo=UTC)
    await catalog.PublishCatalog(
        catalog_service_pb2.PublishCatalogRequest(effective_from=stamp(retire_from))
    )
    before = await check(stub, context(), item("youth_plan"))  # March: version 1 in force
    assert before.qualified
    assert before.catalog_version == 1
    after = await check(stub, context(time=datetime(2026, 7, 1, tzinfo=UTC)), item("youth_plan"))
    assert after.catalog_version == 2
    assert reason_codes(after) == ["retired"]
    pinned = pb.CheckEligibilityRequest(
        context=context(time=datetime(2026, 7, 1, tzinfo=UTC)),
        items=[item("youth_plan")],
        selector=common_pb2.VersionSelector(version=1),
    )
    assert (await stub.CheckEligibility(pinned)).qualified  # an explicit version answers
