"""One interceptor that sees every call: its metrics and its access-log line.

It sits outside the error mapping (tariff.errors), so it sees the status the client gets,
domain errors included. Per call it costs a timer, two cached metric children and, when
the access log is on, one log record; per Rate answer it adds the events by status (and
by rejection reason only when some were rejected).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter as Tally
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

from tariff.mappers.usage import REJECTIONS
from tariff.ops.metrics import METRICS, Metrics
from tariff.v1 import pricing_service_pb2 as pb

access = logging.getLogger("tariff.access")

Behavior = Callable[..., Any]
Principal = Callable[[], str]  # who is calling: "" when identities are not configured
REJECTED = pb.RATING_STATUS_REJECTED
_REASONS = {
    v.number: v.name.removeprefix("REJECTION_REASON_").lower()
    for v in pb.RejectionReason.DESCRIPTOR.values
}
_PRINCIPAL = "tariff-principal"  # set by the auth interceptor when identities exist


def _code(context: grpc.aio.ServicerContext[Any, Any], error: BaseException | None) -> str:
    if error is None:
        return "OK"
    if isinstance(error, asyncio.CancelledError):
        remaining = context.time_remaining()
        return "DEADLINE_EXCEEDED" if remaining is not None and remaining <= 0 else "CANCELLED"
    code: Any = context.code()  # a StatusCode, or its number, as grpc.aio keeps it
    if isinstance(code, grpc.StatusCode):
        return code.name
    if isinstance(code, int):  # grpc.aio keeps the number when set by abort
        return next((c.name for c in grpc.StatusCode if c.value[0] == code), "UNKNOWN")
    return "UNKNOWN"


class Observer:
    """What the interceptor records for one method: metrics, and the access log."""

    def __init__(self, metrics: Metrics, method: str, principal: Principal) -> None:
        self.metrics = metrics
        self.method = method
        self.name = method.rsplit("/", 1)[-1]
        self.principal = principal

    def done(
        self,
        context: grpc.aio.ServicerContext[Any, Any],
        started: float,
        error: BaseException | None,
        version: int,
    ) -> None:
        seconds = time.perf_counter() - started
        code = _code(context, error)
        self.metrics.call(self.method, code, seconds)
        if self.name == "PublishCatalog" and code == "OK":
            self.metrics.publish.observe(seconds)
        if self.name == "Quote":
            self.metrics.quoted.labels("priced" if code == "OK" else code.lower()).inc()
        if access.isEnabledFor(logging.INFO):
            fields: dict[str, Any] = {
                "method": self.method,
                "code": code,
                "duration_ms": round(seconds * 1000, 3),
                "peer": context.peer(),
            }
            if version:
                fields["catalog_version"] = version
            principal = self.principal()
            if principal:
                fields["principal"] = principal
            access.info("%s %s", self.method, code, extra={"fields": fields})

    def account(self, response: Any) -> int:
        """Count a Rate answer's events; the catalog version the answer names (0: none)."""
        if isinstance(response, pb.RateStreamResponse):
            response = response.result
        if isinstance(response, pb.RateResponse):
            rated = self.metrics.rated
            if response.rated_count:
                rated.labels("rated", "").inc(response.rated_count)
            if response.rejected_count:
                reasons = Tally(r.rejection for r in response.results if r.status == REJECTED)
                for reason, count in reasons.items():
                    rated.labels("rejected", _REASONS.get(reason, str(reason))).inc(count)
            return response.results[0].catalog_version if response.results else 0
        if isinstance(response, pb.RateBatchResponse):
            rated = self.metrics.rated
            if response.rated_count:
                rated.labels("rated", "").inc(response.rated_count)
            for cause, count in response.rejected_by_reason.items():
                wire = REJECTIONS.get(cause, pb.REJECTION_REASON_UNSPECIFIED)
                rated.labels("rejected", _REASONS.get(wire, cause)).inc(count)
            return 0
        version = getattr(response, "catalog_version", 0)
        return version if isinstance(version, int) else 0


def _nobody() -> str:
    return ""


def _unary(behavior: Behavior, observer: Observer) -> Behavior:
    async def observed(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        started = time.perf_counter()
        try:
            response = await behavior(request, context)
        except BaseException as error:
            observer.done(context, started, error, 0)
            raise
        observer.done(context, started, None, observer.account(response))
        return response

    return observed


def _streaming(behavior: Behavior, observer: Observer) -> Behavior:
    async def observed(
        request: Any, context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[Any]:
        started = time.perf_counter()
        version = 0
        try:
            async for response in behavior(request, context):
                version = observer.account(response) or version
                yield response
        except BaseException as error:
            observer.done(context, started, error, version)
            raise
        observer.done(context, started, None, version)

    return observed


class ObservingInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    """Metrics and an access-log line for every call, health and reflection included (a
    load balancer's probes show up); handlers wrapped once per method. `principal` names
    who is calling, as the authentication interceptor (inside this one) has set it."""

    def __init__(self, metrics: Metrics = METRICS, principal: Principal | None = None) -> None:
        self._metrics = metrics
        self._principal = principal or _nobody
        self._wrapped: dict[str, grpc.RpcMethodHandler[Any, Any]] = {}

    async def intercept_service(
        self,
        continuation: Callable[
            [grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any]]
        ],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any]:
        method = handler_call_details.method
        wrapped = self._wrapped.get(method)
        if wrapped is not None:
            return wrapped
        handler: grpc.RpcMethodHandler[Any, Any] | None = await continuation(handler_call_details)
        if handler is None:
            return handler  # type: ignore[return-value]
        observer = Observer(self._metrics, method, self._principal)
        wrapped = self._wrapped[method] = _wrap(handler, observer)
        return wrapped


def _wrap(
    handler: grpc.RpcMethodHandler[Any, Any], observer: Observer
) -> grpc.RpcMethodHandler[Any, Any]:
    common = {
        "request_deserializer": handler.request_deserializer,
        "response_serializer": handler.response_serializer,
    }
    if handler.unary_unary is not None:
        return grpc.unary_unary_rpc_method_handler(_unary(handler.unary_unary, observer), **common)
    if handler.stream_unary is not None:
        return grpc.stream_unary_rpc_method_handler(
            _unary(handler.stream_unary, observer), **common
        )
    if handler.unary_stream is not None:
        return grpc.unary_stream_rpc_method_handler(
            _streaming(handler.unary_stream, observer), **common
        )
    if handler.stream_stream is not None:
        return grpc.stream_stream_rpc_method_handler(
            _streaming(handler.stream_stream, observer), **common
        )
    return handler
