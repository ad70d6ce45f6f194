"""Maps domain exceptions to gRPC status codes in one place, with google.rpc rich details.

Servicers raise; this interceptor translates by exception class (most specific first). Anything
unexpected becomes INTERNAL with a short message and is logged with its traceback here, so a
client never sees UNKNOWN or a Python traceback. Database faults arrive already translated by
the store (`catalog.sqlstore.storage_error`) and are logged as one-line warnings.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, NoReturn

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from catalog import errors as catalog_errors
from catalog.audit import ReviewRefused
from tariff.mappers.common import wire_error

log = logging.getLogger(__name__)

ERROR_DOMAIN = "tariff.v1"

#: exception class -> (status code, ErrorInfo.reason); looked up along the exception's MRO.
#: Every reason is a row of docs/api.md's "Error reasons" table, with this code
#: (tests/unit/tariff/test_error_reasons.py walks it both ways).
ERRORS: dict[type[Exception], tuple[grpc.StatusCode, str]] = {
    catalog_errors.ValidationError: (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ARGUMENT"),
    catalog_errors.NotFound: (grpc.StatusCode.NOT_FOUND, "NOT_FOUND"),
    catalog_errors.NoVersionInForce: (grpc.StatusCode.NOT_FOUND, "NO_VERSION_IN_FORCE"),
    catalog_errors.AlreadyExists: (grpc.StatusCode.ALREADY_EXISTS, "ALREADY_EXISTS"),
    catalog_errors.StaleRevision: (grpc.StatusCode.ABORTED, "STALE_REVISION"),
    catalog_errors.ConcurrentWrite: (grpc.StatusCode.ABORTED, "CONCURRENT_WRITE"),
    catalog_errors.LifecycleViolation: (grpc.StatusCode.FAILED_PRECONDITION, "LIFECYCLE"),
    ReviewRefused: (grpc.StatusCode.FAILED_PRECONDITION, "REVIEW_REFUSED"),
    catalog_errors.PublishRejected: (grpc.StatusCode.FAILED_PRECONDITION, "PUBLISH_REJECTED"),
    # the database's faults, not bugs: retry later / free space (docs/operations.md)
    catalog_errors.StorageUnavailable: (grpc.StatusCode.UNAVAILABLE, "STORAGE_UNAVAILABLE"),
    catalog_errors.StorageFull: (grpc.StatusCode.RESOURCE_EXHAUSTED, "STORAGE_FULL"),
    catalog_errors.StorageCorrupt: (grpc.StatusCode.DATA_LOSS, "STORAGE_CORRUPT"),
}

NOT_ELIGIBLE = "NOT_ELIGIBLE"  # a Quote of a cart that does not qualify
CANNOT_PRICE = "CANNOT_PRICE"  # a cart its plans cannot price


class Refused(Exception):
    """A request the domain refuses for the state of things (FAILED_PRECONDITION), with its
    violations and extra detail messages packed into the status (e.g. an ineligible cart's
    full CheckEligibility answer on a refused Quote). `reason` says which refusal it is
    (NOT_ELIGIBLE, CANNOT_PRICE: rows of the reasons table)."""

    def __init__(
        self,
        message: str,
        violations: Sequence[Any] = (),
        details: Sequence[Any] = (),
        *,
        reason: str,
    ) -> None:
        super().__init__(message)
        self.violations = list(violations)
        self.status_details = list(details)
        self.reason = reason


ERRORS[Refused] = (grpc.StatusCode.FAILED_PRECONDITION, NOT_ELIGIBLE)
#: the reasons raised with an exception of a class whose own reason is only a default
RAISED_REASONS: dict[str, grpc.StatusCode] = {
    NOT_ELIGIBLE: grpc.StatusCode.FAILED_PRECONDITION,
    CANNOT_PRICE: grpc.StatusCode.FAILED_PRECONDITION,
}


def register(error: type[Exception], code: grpc.StatusCode, reason: str) -> None:
    """Let another package (rules, pricing) map its own exceptions, with their reason (a
    row of the reasons table)."""
    ERRORS[error] = (code, reason)


def _lookup(exc: BaseException) -> tuple[grpc.StatusCode, str] | None:
    for cls in type(exc).__mro__:
        found = ERRORS.get(cls)
        if found is not None:
            return found
    return None


def status_for(exc: BaseException) -> grpc.StatusCode | None:
    found = _lookup(exc)
    return found[0] if found is not None else None


def reason_for(exc: BaseException) -> str:
    """ErrorInfo.reason for a mapped exception: its class's (the most specific one), or the
    one a Refused was raised with."""
    if isinstance(exc, Refused):
        return exc.reason
    found = _lookup(exc)
    return found[1] if found is not None else "INTERNAL"


def _pack(message: Any) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


def rich_status(exc: Exception, code: grpc.StatusCode) -> status_pb2.Status:
    """google.rpc.Status for a domain error: ErrorInfo always (for a stale revision with the
    expected and current revisions as metadata), plus BadRequest or PreconditionFailure
    listing every violation (a lifecycle refusal is one, typed "catalog", subject
    "lifecycle"). Field paths go out as the client wrote them, in lowerCamelCase
    (`tariff.mappers.common.json_path`)."""
    reason = reason_for(exc)
    if isinstance(exc, catalog_errors.ValidationError):
        exc = wire_error(exc)
    info = error_details_pb2.ErrorInfo(reason=reason, domain=ERROR_DOMAIN)
    if isinstance(exc, catalog_errors.StaleRevision):  # what to re-read, machine-readable
        info.metadata["expected_revision"] = str(exc.expected)
        info.metadata["current_revision"] = str(exc.current)
    details = [_pack(info)]
    violations = getattr(exc, "violations", ())
    if isinstance(exc, catalog_errors.LifecycleViolation) and not violations:
        violations = [catalog_errors.Violation("lifecycle", str(exc))]
    if isinstance(exc, catalog_errors.ValidationError):
        details.append(
            _pack(
                error_details_pb2.BadRequest(
                    field_violations=[
                        error_details_pb2.BadRequest.FieldViolation(
                            field=v.field, description=v.description
                        )
                        for v in violations
                    ]
                )
            )
        )
    elif violations:
        details.append(
            _pack(
                error_details_pb2.PreconditionFailure(
                    violations=[
                        error_details_pb2.PreconditionFailure.Violation(
                            type="catalog", subject=v.field, description=v.description
                        )
                        for v in violations
                    ]
                )
            )
        )
    details += [_pack(extra) for extra in getattr(exc, "status_details", ())]
    return status_pb2.Status(code=getattr(code_pb2, code.name), message=str(exc), details=details)


async def abort_for(exc: Exception, context: grpc.aio.ServicerContext[Any, Any]) -> NoReturn:
    """Abort the call with the status the exception maps to."""
    code = status_for(exc)
    if code is None:
        log.exception("unexpected error in %s", type(exc).__name__, exc_info=exc)
        await context.abort(grpc.StatusCode.INTERNAL, "internal error; see the server log")
    if isinstance(exc, catalog_errors.StorageFault):  # the operator's business: say so once
        log.warning("%s", exc)
    status = rpc_status.to_status(rich_status(exc, code))
    await context.abort(status.code, status.details, trailing_metadata=status.trailing_metadata)


Behavior = Callable[..., Any]


def _wrap_unary(behavior: Behavior) -> Behavior:
    async def wrapped(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        try:
            return await behavior(request, context)
        except grpc.aio.AbortError:
            raise
        except Exception as exc:
            await abort_for(exc, context)

    return wrapped


def _wrap_streaming(behavior: Behavior) -> Behavior:
    async def wrapped(
        request: Any, context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[Any]:
        try:
            async for response in behavior(request, context):
                yield response
        except grpc.aio.AbortError:
            raise
        except Exception as exc:
            await abort_for(exc, context)

    return wrapped


class ErrorMappingInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    """Wraps every handler so domain exceptions leave as proper gRPC statuses.

    A method's wrapped handler is built once and reused: the hot RPCs (Rate, Quote,
    ListEligibleOffers) would otherwise pay for a new handler and two closures per call."""

    def __init__(self) -> None:
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
        if handler is None:  # unknown method: grpc answers UNIMPLEMENTED itself
            return handler  # type: ignore[return-value]
        wrapped = self._wrapped[method] = _wrap(handler)
        return wrapped


class Undecodable:
    """A request message that did not parse (bad wire bytes, invalid UTF-8 in a string):
    handed to the handler in place of the message, which refuses it as INVALID_ARGUMENT
    (a deserializer that raises makes grpc answer UNKNOWN, which means a bug)."""

    __slots__ = ("error",)

    def __init__(self, error: Exception) -> None:
        self.error = error

    def refusal(self) -> catalog_errors.ValidationError:
        said = " ".join(str(self.error).split()) or type(self.error).__name__
        return catalog_errors.ValidationError(
            [catalog_errors.Violation("", f"the request is not a valid message: {said}")]
        )


def _tolerant(deserialize: Callable[[bytes], Any] | None) -> Callable[[bytes], Any] | None:
    if deserialize is None:
        return None

    def decode(data: bytes) -> Any:
        try:
            return deserialize(data)
        except Exception as error:  # protobuf's DecodeError, and anything like it
            return Undecodable(error)

    return decode


def _checked_unary(behavior: Behavior) -> Behavior:
    async def checked(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        if isinstance(request, Undecodable):
            raise request.refusal()
        return await behavior(request, context)

    return checked


def _checked_stream(behavior: Behavior) -> Behavior:
    """For a streaming handler: its request (an iterator for client streams) checked."""

    def checked(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        if isinstance(request, Undecodable):
            return _refused(request)
        if hasattr(request, "__aiter__"):
            return behavior(_each_checked(request), context)
        return behavior(request, context)

    return checked


async def _refused(request: Undecodable) -> AsyncIterator[Any]:
    nothing: tuple[Any, ...] = ()
    for item in nothing:  # an async generator, which raises once iterated
        yield item
    raise request.refusal()


async def _each_checked(requests: AsyncIterator[Any]) -> AsyncIterator[Any]:
    async for request in requests:
        if isinstance(request, Undecodable):
            raise request.refusal()
        yield request


def _wrap(handler: grpc.RpcMethodHandler[Any, Any]) -> grpc.RpcMethodHandler[Any, Any]:
    """The same handler, with domain errors mapped to statuses and undecodable requests
    refused as INVALID_ARGUMENT."""
    common = {
        "request_deserializer": _tolerant(handler.request_deserializer),
        "response_serializer": handler.response_serializer,
    }
    if handler.unary_unary is not None:
        behavior = _checked_unary(handler.unary_unary)
        return grpc.unary_unary_rpc_method_handler(_wrap_unary(behavior), **common)
    if handler.stream_unary is not None:
        behavior = _checked_stream(handler.stream_unary)
        return grpc.stream_unary_rpc_method_handler(_wrap_unary(behavior), **common)
    if handler.unary_stream is not None:
        behavior = _checked_stream(handler.unary_stream)
        return grpc.unary_stream_rpc_method_handler(_wrap_streaming(behavior), **common)
    if handler.stream_stream is not None:
        behavior = _checked_stream(handler.stream_stream)
        return grpc.stream_stream_rpc_method_handler(_wrap_streaming(behavior), **common)
    return handler
