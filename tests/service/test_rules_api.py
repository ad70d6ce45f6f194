"""RulesService through real gRPC: CheckRules gives the same diagnostics as `tariff check`,
TestRules runs the examples, Simulate answers on the draft beside a live version."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from catalog import bundle
from tariff.v1 import (
    catalog_pb2,
    catalog_service_pb2,
    catalog_service_pb2_grpc,
    common_pb2,
    order_pb2,
    pricing_service_pb2,
    qualification_service_pb2,
    rules_service_pb2,
    rules_service_pb2_grpc,
)
from tests.support.catalogs import sample_content
from tests.support.quote_catalog import QUOTE_PLANS, quote_content

if TYPE_CHECKING:
    from tariff.v1.rules_service_pb2_grpc import RulesServiceAsyncStub


@pytest.fixture
async def rules_stub(channel: grpc.aio.Channel) -> RulesServiceAsyncStub:
    catalog = catalog_service_pb2_grpc.CatalogServiceStub(channel)
    await catalog.ImportCatalogBundle(
        catalog_service_pb2.ImportCatalogBundleRequest(
            archive=bundle.to_zip_bytes(sample_content())
        )
    )
    return rules_service_pb2_grpc.RulesServiceStub(channel)


TYPO = """\
offer youth_plan {
  eligible all {
    age: customer.agee between 15 and 26 else "age" "新势力仅限 15 至 26 岁"
  }
}
"""


async def test_the_catalogs_own_rules_check_clean(rules_stub: RulesServiceAsyncStub) -> None:
    reply = await rules_stub.CheckRules(rules_service_pb2.CheckRulesRequest())
    assert reply.ok
    assert all(d.severity != common_pb2.SEVERITY_ERROR for d in reply.diagnostics)


async def test_a_draft_source_gets_located_diagnostics_with_hints(
    rules_stub: RulesServiceAsyncStub,
) -> None:
    source = common_pb2.RuleSource(path="products/youth_plan.tariff", text=TYPO)
    reply = await rules_stub.CheckRules(rules_service_pb2.CheckRulesRequest(sources=[source]))
    assert not reply.ok
    [typo] = [d for d in reply.diagnostics if d.severity == common_pb2.SEVERITY_ERROR]
    assert (typo.location.path, typo.location.line, typo.location.column) == (
        "products/youth_plan.tariff",
        3,
        10,
    )
    assert typo.code == "unknown-name"
    assert "customer.age" in typo.hint
    assert (
        typo.source_line
        == '    age: customer.agee between 15 and 26 else "age" "新势力仅限 15 至 26 岁"'
    )


async def test_syntax_errors_are_diagnostics_not_failures(
    rules_stub: RulesServiceAsyncStub,
) -> None:
    source = common_pb2.RuleSource(path="x.tariff", text="offer youth_plan {\n  eligible all {\n")
    reply = await rules_stub.CheckRules(rules_service_pb2.CheckRulesRequest(sources=[source]))
    assert not reply.ok
    assert {d.code for d in reply.diagnostics} == {"syntax"}


async def test_malformed_requests_are_invalid_argument(rules_stub: RulesServiceAsyncStub) -> None:
    twice = [common_pb2.RuleSource(path="a.tariff"), common_pb2.RuleSource(path="a.tariff")]
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await rules_stub.CheckRules(rules_service_pb2.CheckRulesRequest(sources=twice))
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await rules_stub.CheckRules(
            rules_service_pb2.CheckRulesRequest(selector=common_pb2.VersionSelector(version=4))
        )
    assert caught.value.code() is grpc.StatusCode.NOT_FOUND


def _check(age: int, area: str = "GD_SZ") -> qualification_service_pb2.CheckEligibilityRequest:
    customer = order_pb2.Customer(
        type=catalog_pb2.CUSTOMER_TYPE_PERSONAL, segment_codes=["youth"], age=age
    )
    context = order_pb2.SaleContext(customer=customer, area_code=area, channel_code="hall")
    context.time.FromDatetime(datetime(2026, 3, 2, 2, tzinfo=UTC))
    return qualification_service_pb2.CheckEligibilityRequest(
        context=context, items=[order_pb2.CartItem(offer_code="youth_plan")]
    )


YOUTH_TO_30 = TYPO.replace("customer.agee between 15 and 26", "customer.age between 15 and 30")


async def test_simulate_answers_on_the_draft_beside_the_live_version(
    rules_stub: RulesServiceAsyncStub, channel: grpc.aio.Channel
) -> None:
    catalog = catalog_service_pb2_grpc.CatalogServiceStub(channel)
    effective = common_pb2.VersionSelector()
    effective.as_of.FromDatetime(datetime(2025, 1, 1, tzinfo=UTC))
    await catalog.PublishCatalog(
        catalog_service_pb2.PublishCatalogRequest(effective_from=effective.as_of)
    )
    youth = catalog_pb2.EntityRef(kind=catalog_pb2.ENTITY_KIND_PRODUCT, code="youth_plan")
    source = common_pb2.RuleSource(path="products/youth_plan.tariff", text=YOUTH_TO_30)
    read = await catalog.GetProduct(catalog_service_pb2.GetProductRequest(code="youth_plan"))
    await catalog.AttachRuleSources(
        catalog_service_pb2.AttachRuleSourcesRequest(
            target=youth, sources=[source], expected_revision=read.product.meta.revision
        )
    )
    request = rules_service_pb2.SimulateRequest(
        check_eligibility=_check(28), baseline=common_pb2.VersionSelector(version=1)
    )
    reply = await rules_stub.Simulate(request)
    assert reply.result.catalog_version == 0  # the draft
    assert reply.result.check_eligibility.qualified
    assert reply.baseline_result.catalog_version == 1
    baseline = reply.baseline_result.check_eligibility
    assert not baseline.qualified
    assert [r.code for r in baseline.items[0].reasons] == ["age_out_of_range"]
    assert not [d for d in reply.diagnostics if d.severity == common_pb2.SEVERITY_ERROR]
    again = await rules_stub.Simulate(request)  # the installed draft is reused
    assert again == reply


async def test_simulate_lists_offers_on_the_draft(rules_stub: RulesServiceAsyncStub) -> None:
    check = _check(20)
    listing = qualification_service_pb2.ListEligibleOffersRequest(context=check.context)
    reply = await rules_stub.Simulate(
        rules_service_pb2.SimulateRequest(list_eligible_offers=listing)
    )
    codes = [o.offer_code for o in reply.result.list_eligible_offers.offers]
    assert "youth_plan" in codes


async def test_simulate_reports_bad_input_under_the_inner_request(
    rules_stub: RulesServiceAsyncStub,
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await rules_stub.Simulate(
            rules_service_pb2.SimulateRequest(check_eligibility=_check(20, "XX"))
        )
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    status = rpc_status.from_call(caught.value)  # type: ignore[arg-type]
    assert status is not None
    bad = error_details_pb2.BadRequest()
    assert any(d.Unpack(bad) for d in status.details)
    assert [v.field for v in bad.field_violations] == ["checkEligibility.context.areaCode"]
    with pytest.raises(grpc.aio.AioRpcError) as empty:
        await rules_stub.Simulate(rules_service_pb2.SimulateRequest())
    assert empty.value.code() is grpc.StatusCode.INVALID_ARGUMENT


async def test_simulate_rates_usage_under_the_draft_beside_the_live_version(
    channel: grpc.aio.Channel,
) -> None:
    catalog = catalog_service_pb2_grpc.CatalogServiceStub(channel)
    await catalog.ImportCatalogBundle(
        catalog_service_pb2.ImportCatalogBundleRequest(archive=bundle.to_zip_bytes(quote_content()))
    )
    await catalog.PublishCatalog(catalog_service_pb2.PublishCatalogRequest())
    dearer = QUOTE_PLANS.replace("rate * *: 0.10 per message", "rate * *: 0.15 per message")
    source = common_pb2.RuleSource(path="rules/quote_plans.tariff", text=dearer)
    await catalog.AttachRuleSources(catalog_service_pb2.AttachRuleSourcesRequest(sources=[source]))
    event = pricing_service_pb2.UsageEvent(
        event_id="e1", subscriber_id="s1", offer_code="youth_plan", business_code="sms", count=3
    )
    event.start_time.FromDatetime(datetime(2026, 3, 2, 2, tzinfo=UTC))
    rate = pricing_service_pb2.RateRequest(events=[event])
    stub = rules_service_pb2_grpc.RulesServiceStub(channel)
    reply = await stub.Simulate(
        rules_service_pb2.SimulateRequest(rate=rate, baseline=common_pb2.VersionSelector(version=1))
    )
    draft = reply.result.rate.results[0].charge
    live = reply.baseline_result.rate.results[0].charge
    assert (draft.units, draft.nanos) == (0, 450_000_000)  # 3 x 0.15
    assert (live.units, live.nanos) == (0, 300_000_000)  # 3 x 0.10


async def test_simulate_quotes_a_price_change_on_the_draft_beside_the_live_version(
    channel: grpc.aio.Channel,
) -> None:
    catalog = catalog_service_pb2_grpc.CatalogServiceStub(channel)
    await catalog.ImportCatalogBundle(
        catalog_service_pb2.ImportCatalogBundleRequest(archive=bundle.to_zip_bytes(quote_content()))
    )
    effective = common_pb2.VersionSelector()
    effective.as_of.FromDatetime(datetime(2025, 1, 1, tzinfo=UTC))
    await catalog.PublishCatalog(
        catalog_service_pb2.PublishCatalogRequest(effective_from=effective.as_of)
    )
    raised = QUOTE_PLANS.replace("recurring 100.00 per month", "recurring 120.00 per month")
    source = common_pb2.RuleSource(path="rules/quote_plans.tariff", text=raised)
    await catalog.AttachRuleSources(catalog_service_pb2.AttachRuleSourcesRequest(sources=[source]))
    check = _check(20)
    quote = pricing_service_pb2.QuoteRequest(
        context=check.context, items=[order_pb2.CartItem(offer_code="youth_plan")]
    )
    stub = rules_service_pb2_grpc.RulesServiceStub(channel)
    reply = await stub.Simulate(
        rules_service_pb2.SimulateRequest(
            quote=quote, baseline=common_pb2.VersionSelector(version=1)
        )
    )
    draft = reply.result.quote.totals.monthly_recurring.tax_included_amount
    live = reply.baseline_result.quote.totals.monthly_recurring.tax_included_amount
    assert (draft.units, live.units) == (103, 85)  # 120 - 12 - 5, against 100 - 10 - 5


async def test_examples_of_the_catalog_run(rules_stub: RulesServiceAsyncStub) -> None:
    reply = await rules_stub.TestRules(rules_service_pb2.TestRulesRequest())
    assert reply.ok
    statuses = {r.name: r.status for r in reply.results}
    assert statuses == {
        "youth_ok": rules_service_pb2.EXAMPLE_STATUS_PASSED,
        "youth_too_old": rules_service_pb2.EXAMPLE_STATUS_PASSED,
    }


WRONG_EXAMPLE = """\
offer youth_plan {
  eligible all {
    age: customer.age between 15 and 26 else "age_out_of_range" "新势力仅限 15 至 26 岁客户"
  }

  example youth_ok {
    given customer.age = 40, area = GD_SZ, channel = hall
    expect eligible youth_plan
  }
}
"""


async def test_a_failing_example_comes_back_with_its_trace(
    rules_stub: RulesServiceAsyncStub,
) -> None:
    source = common_pb2.RuleSource(path="products/youth_plan.tariff", text=WRONG_EXAMPLE)
    reply = await rules_stub.TestRules(rules_service_pb2.TestRulesRequest(sources=[source]))
    assert not reply.ok
    [result] = reply.results
    assert result.status == rules_service_pb2.EXAMPLE_STATUS_FAILED
    assert not result.passed
    assert (result.location.path, result.location.line) == ("products/youth_plan.tariff", 6)
    assert result.actual == "not eligible because age_out_of_range"
    [step] = result.trace
    assert step.rule.name == "age"
    assert step.condition == "customer.age between 15 and 26"
    assert not step.outcome
    assert list(step.observed) == ["customer.age = 40"]


async def test_examples_do_not_run_on_broken_rules(rules_stub: RulesServiceAsyncStub) -> None:
    source = common_pb2.RuleSource(path="products/youth_plan.tariff", text=TYPO)
    reply = await rules_stub.TestRules(rules_service_pb2.TestRulesRequest(sources=[source]))
    assert not reply.ok
    assert list(reply.results) == []
    assert {d.code for d in reply.diagnostics} == {"unknown-name"}


async def test_publish_refuses_broken_rules_and_returns_warnings(
    rules_stub: RulesServiceAsyncStub, channel: grpc.aio.Channel
) -> None:
    catalog = catalog_service_pb2_grpc.CatalogServiceStub(channel)
    broken = common_pb2.RuleSource(path="rules/broken.tariff", text=TYPO)
    await catalog.AttachRuleSources(catalog_service_pb2.AttachRuleSourcesRequest(sources=[broken]))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await catalog.PublishCatalog(catalog_service_pb2.PublishCatalogRequest())
    assert caught.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    status = rpc_status.from_call(caught.value)  # type: ignore[arg-type]
    assert status is not None
    failure = error_details_pb2.PreconditionFailure()
    assert any(d.Unpack(failure) for d in status.details)
    subjects = [v.subject for v in failure.violations]
    assert "rules/broken.tariff:3:10" in subjects
    versions = await catalog.ListCatalogVersions(catalog_service_pb2.ListCatalogVersionsRequest())
    assert list(versions.versions) == []

    await catalog.AttachRuleSources(
        catalog_service_pb2.AttachRuleSourcesRequest(remove_paths=["rules/broken.tariff"])
    )
    published = await catalog.PublishCatalog(catalog_service_pb2.PublishCatalogRequest())
    assert published.version.number == 1
    warnings = [(d.code, d.location.path) for d in published.diagnostics]
    assert ("unused-plan", "rules/common.tariff") in warnings
