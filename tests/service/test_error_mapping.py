"""Every exception class leaves the server with its mapped status, the unexpected as INTERNAL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from catalog.errors import (
    AlreadyExists,
    ConcurrentWrite,
    LifecycleViolation,
    NotFound,
    PublishRejected,
    StaleRevision,
    ValidationError,
    Violation,
)
from tariff.errors import ErrorMappingInterceptor

RAISED: dict[str, Callable[[], Exception]] = {
    "invalid": lambda: ValidationError([Violation("product.area_codes[0]", "unknown area 'XX'")]),
    "missing": lambda: NotFound("product 'x' does not exist"),
    "duplicate": lambda: AlreadyExists("product 'x' already exists"),
    "stale": lambda: StaleRevision("product 'x'", 1, 2),
    "race": lambda: ConcurrentWrite("version 3 was published concurrently"),
    "lifecycle": lambda: LifecycleViolation("cannot go from IN_DESIGN to RETIRED"),
    "publish": lambda: PublishRejected([Violation("product 'x'.business_codes[0]", "unknown")]),
    "bug": lambda: RuntimeError("secret internals /etc/passwd"),
}


def _raiser(name: str) -> Any:
    async def unary(request: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> bytes:
        raise RAISED[name]()

    async def stream(
        request: AsyncIterator[bytes], context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[bytes]:
        async for _ in request:
            yield b"ok"
            raise RAISED[name]()

    return unary, stream


class _Handler(grpc.GenericRpcHandler):  # type: ignore[type-arg]
    def service(self, details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler[Any, Any] | None:
        kind, name = details.method.rsplit("/", 2)[-2:]
        unary, stream = _raiser(name)
        if kind == "Unary":
            return grpc.unary_unary_rpc_method_handler(unary)
        return grpc.stream_stream_rpc_method_handler(stream)


@pytest.fixture
async def channel() -> AsyncIterator[grpc.aio.Channel]:
    server = grpc.aio.server(
        interceptors=[ErrorMappingInterceptor()], options=[("grpc.so_reuseport", 0)]
    )
    server.add_generic_rpc_handlers([_Handler()])
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as chan:
        yield chan
    await server.stop(0)


EXPECTED = {
    "invalid": grpc.StatusCode.INVALID_ARGUMENT,
    "missing": grpc.StatusCode.NOT_FOUND,
    "duplicate": grpc.StatusCode.ALREADY_EXISTS,
    "stale": grpc.StatusCode.ABORTED,
    "race": grpc.StatusCode.ABORTED,
    "lifecycle": grpc.StatusCode.FAILED_PRECONDITION,
    "publish": grpc.StatusCode.FAILED_PRECONDITION,
    "bug": grpc.StatusCode.INTERNAL,
}


async def _call(channel: grpc.aio.Channel, kind: str, method: str) -> None:
    if kind == "Unary":
        await channel.unary_unary(method, None, None)(b"x")
        return
    async for _ in channel.stream_stream(method, None, None)(iter([b"x"])):
        pass


@pytest.mark.parametrize("name", sorted(EXPECTED))
@pytest.mark.parametrize("kind", ["Unary", "Stream"])
async def test_status_by_exception_class(channel: grpc.aio.Channel, name: str, kind: str) -> None:
    method = f"/test.Errors{kind}/{kind}/{name}"
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _call(channel, kind, method)
    err = caught.value
    assert err.code() is EXPECTED[name]
    assert "Traceback" not in (err.details() or "")
    if name == "bug":
        assert "secret" not in (err.details() or "")


async def test_validation_error_lists_field_violations(channel: grpc.aio.Channel) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await channel.unary_unary("/test.ErrorsUnary/Unary/invalid", None, None)(b"x")
    status = rpc_status.from_call(caught.value)  # type: ignore[arg-type]
    assert status is not None
    bad = error_details_pb2.BadRequest()
    assert any(d.Unpack(bad) for d in status.details)
    assert [(v.field, v.description) for v in bad.field_violations] == [
        ("product.areaCodes[0]", "unknown area 'XX'")
    ]


async def test_publish_rejection_lists_precondition_violations(channel: grpc.aio.Channel) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await channel.unary_unary("/test.ErrorsUnary/Unary/publish", None, None)(b"x")
    status = rpc_status.from_call(caught.value)  # type: ignore[arg-type]
    assert status is not None
    failure = error_details_pb2.PreconditionFailure()
    assert any(d.Unpack(failure) for d in status.details)
    assert failure.violations[0].subject == "product 'x'.business_codes[0]"
