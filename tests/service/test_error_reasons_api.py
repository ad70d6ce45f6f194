"""ErrorInfo reasons through a real server: the same mistake gets the same reason from every
service that meets it, and every reason sent is a row of docs/api.md's table with its code."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from tariff.v1 import (
    catalog_pb2,
    catalog_service_pb2,
    catalog_service_pb2_grpc,
    common_pb2,
    pricing_service_pb2_grpc,
    qualification_service_pb2,
    qualification_service_pb2_grpc,
    rules_service_pb2,
    rules_service_pb2_grpc,
)
from tests.service.test_quote_api import SALE, customer, line, publish, request, stamp
from tests.unit.tariff.test_error_reasons import documented_reasons


async def reason_of(call: Awaitable[Any]) -> str:
    """The call's ErrorInfo reason, checked against the table (reason and code)."""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    error = caught.value
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None, error
    info = error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(info), "the first detail is ErrorInfo"
    table = documented_reasons()
    assert info.reason in table, f"{info.reason!r} is not in docs/api.md's reasons table"
    assert error.code() == table[info.reason], (info.reason, error.code())
    return str(info.reason)


async def test_each_mistake_has_one_reason_in_every_service(channel: grpc.aio.Channel) -> None:
    catalog = catalog_service_pb2_grpc.CatalogServiceStub(channel)
    pricing = pricing_service_pb2_grpc.PricingServiceStub(channel)
    qualification = qualification_service_pb2_grpc.QualificationServiceStub(channel)
    rules = rules_service_pb2_grpc.RulesServiceStub(channel)
    quote = request(line("broadband_basic"))

    # nothing published yet: every sales answer says so alike
    nothing: list[Awaitable[Any]] = [
        pricing.Quote(quote),
        qualification.ListEligibleOffers(
            qualification_service_pb2.ListEligibleOffersRequest(context=quote.context)
        ),
        qualification.CheckEligibility(
            qualification_service_pb2.CheckEligibilityRequest(
                context=quote.context, items=quote.items
            )
        ),
    ]
    assert [await reason_of(call) for call in nothing] == ["NO_VERSION_IN_FORCE"] * 3

    await publish(channel, datetime(2025, 1, 1, tzinfo=UTC))
    before = request(line("broadband_basic"), time=datetime(2024, 6, 1, tzinfo=UTC))
    assert await reason_of(pricing.Quote(before)) == "NO_VERSION_IN_FORCE"

    # an unknown area, asked of each service
    elsewhere = request(line("broadband_basic"), area="XX_NOWHERE")
    unknown_area: list[Awaitable[Any]] = [
        pricing.Quote(elsewhere),
        qualification.ListEligibleOffers(
            qualification_service_pb2.ListEligibleOffersRequest(context=elsewhere.context)
        ),
        qualification.CheckEligibility(
            qualification_service_pb2.CheckEligibilityRequest(
                context=elsewhere.context, items=elsewhere.items
            )
        ),
        rules.Simulate(
            rules_service_pb2.SimulateRequest(
                selector=common_pb2.VersionSelector(version=1), quote=elsewhere
            )
        ),
    ]
    assert [await reason_of(call) for call in unknown_area] == ["INVALID_ARGUMENT"] * 4

    # a cart that does not qualify (an unknown offer): quoted, or quoted in a simulation
    unknown_offer = request(line("no_such_offer"), who=customer())
    refused: list[Awaitable[Any]] = [
        pricing.Quote(unknown_offer),
        rules.Simulate(
            rules_service_pb2.SimulateRequest(
                selector=common_pb2.VersionSelector(version=1), quote=unknown_offer
            )
        ),
    ]
    assert [await reason_of(call) for call in refused] == ["NOT_ELIGIBLE"] * 2

    # the catalog service's own mistakes
    missing = catalog_service_pb2.GetProductRequest(code="no_such_product")
    assert await reason_of(catalog.GetProduct(missing)) == "NOT_FOUND"
    taken = catalog_pb2.Business(
        code="broadband_month",
        name="Broadband",
        kind=catalog_pb2.BUSINESS_KIND_BASIC,
        usage_measure=catalog_pb2.USAGE_MEASURE_NONE,
    )
    create = catalog_service_pb2.CreateBusinessRequest(business=taken)
    assert await reason_of(catalog.CreateBusiness(create)) == "ALREADY_EXISTS"
    again = catalog_service_pb2.PublishCatalogRequest(effective_from=stamp(SALE))
    assert await reason_of(catalog.PublishCatalog(again)) == "LIFECYCLE"
