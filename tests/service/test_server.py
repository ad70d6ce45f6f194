"""The server's own behaviour: health, reflection, error mapping of the unexpected."""

from __future__ import annotations

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_status import rpc_status

from tariff.server import CATALOG_SERVICE, Running
from tariff.v1 import catalog_service_pb2, catalog_service_pb2_grpc


async def test_health_is_serving_overall_and_per_service(channel: grpc.aio.Channel) -> None:
    health = health_pb2_grpc.HealthStub(channel)
    for service in ("", CATALOG_SERVICE):
        reply = await health.Check(health_pb2.HealthCheckRequest(service=service))
        assert reply.status == health_pb2.HealthCheckResponse.SERVING


async def test_health_reports_not_serving_while_draining(
    running: Running, channel: grpc.aio.Channel
) -> None:
    await running.health.enter_graceful_shutdown()
    reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
    assert reply.status == health_pb2.HealthCheckResponse.NOT_SERVING


async def test_reflection_lists_the_services(channel: grpc.aio.Channel) -> None:
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    request = reflection_pb2.ServerReflectionRequest(list_services="")
    names: set[str] = set()
    async for reply in stub.ServerReflectionInfo(iter([request])):
        names.update(s.name for s in reply.list_services_response.service)
    assert {CATALOG_SERVICE, "grpc.health.v1.Health"} <= names


async def test_domain_errors_carry_rich_details(channel: grpc.aio.Channel) -> None:
    stub = catalog_service_pb2_grpc.CatalogServiceStub(channel)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GetProduct(catalog_service_pb2.GetProductRequest(code="no_such_product"))
    err = caught.value
    assert err.code() is grpc.StatusCode.NOT_FOUND
    assert "no_such_product" in (err.details() or "")
    status = rpc_status.from_call(err)  # type: ignore[arg-type]
    assert status is not None
    info = error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(info)
    assert info.reason == "NOT_FOUND"
    assert info.domain == "tariff.v1"
