"""RulesService.CheckRules through real gRPC: the same diagnostics as `tariff check`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from catalog import bundle
from tariff.v1 import (
    catalog_service_pb2,
    catalog_service_pb2_grpc,
    common_pb2,
    rules_service_pb2,
    rules_service_pb2_grpc,
)
from tests.support.catalogs import sample_content

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


async def test_simulate_is_not_served_yet_and_says_so(rules_stub: RulesServiceAsyncStub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await rules_stub.Simulate(rules_service_pb2.SimulateRequest())
    assert caught.value.code() is grpc.StatusCode.UNIMPLEMENTED
    assert "not served yet" in (caught.value.details() or "")


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
