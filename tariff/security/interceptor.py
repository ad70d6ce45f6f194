"""The one server interceptor that authenticates calls and checks their role.

Per call (identities configured): find the bearer token in the metadata (or, without one,
the client certificate's subject under mTLS), turn it into a principal, check the method's
role (`tariff.security.roles`), and set the acting principal for the service layer
(`catalog.audit.set_actor`). A missing or bad credential ends the call UNAUTHENTICATED, a
missing role PERMISSION_DENIED naming the role needed; both are written to the audit log.
Handlers are wrapped once per method, as the other interceptors do.

In local mode (no identities) nothing is checked: only the draft-changing methods are
wrapped, to name the method in their audit entries, and reads run unwrapped.

Health answers carry the mode in their initial metadata (`tariff-security`), so a probe
shows what the server trusts.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeAlias

import grpc

from catalog.audit import Action, Actor, AuditEntry, Outcome, current_actor, set_actor
from tariff.security.identities import (
    LOCAL_NAME,
    Authenticator,
    Principal,
    Unauthenticated,
)
from tariff.security.roles import Role, is_open, required_role

log = logging.getLogger(__name__)

Behavior = Callable[..., Any]
Handler: TypeAlias = "grpc.RpcMethodHandler[Any, Any]"
Context: TypeAlias = "grpc.aio.ServicerContext[Any, Any]"
#: writes one audit entry (blocking; run in a thread)
AuditSink = Callable[[AuditEntry], None]

MODE_KEY = "tariff-security"
HEALTH_PREFIX = "/grpc.health.v1.Health/"
REFUSALS_AUDITED_PER_SECOND = 50  # beyond that, refusals are counted in the log only


class Refusal(Exception):
    def __init__(self, code: grpc.StatusCode, outcome: Outcome, message: str, who: str) -> None:
        super().__init__(message)
        self.code = code
        self.outcome = outcome
        self.who = who


class AuthInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    """Authentication and roles for every call but health and reflection."""

    def __init__(
        self, authenticator: Authenticator | None, mode: str, audit: AuditSink | None = None
    ) -> None:
        self._auth = authenticator
        self._mode = mode
        self._audit = audit
        self._wrapped: dict[str, Handler] = {}
        self._window = 0
        self._window_count = 0

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Handler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler:
        method = handler_call_details.method
        wrapped = self._wrapped.get(method)
        if wrapped is not None:
            return wrapped
        handler: Handler | None = await continuation(handler_call_details)
        if handler is None:  # unknown method: grpc answers UNIMPLEMENTED itself
            return handler  # type: ignore[return-value]
        wrapped = self._wrapped[method] = self._wrap(method, handler)
        return wrapped

    def _wrap(self, method: str, handler: Handler) -> Handler:
        if method.startswith(HEALTH_PREFIX):
            return _rewrap(handler, self._announcing)
        if is_open(method):
            return handler
        role = required_role(method)
        if self._auth is None:  # local mode
            if role in (None, Role.READER):
                return handler
            actor = Actor(LOCAL_NAME, local=True, method=method)
            return _rewrap(handler, lambda behavior, stream: _as_actor(behavior, stream, actor))
        return _rewrap(
            handler, lambda behavior, streaming: self._guarded(behavior, streaming, method, role)
        )

    # -- per call -----------------------------------------------------------------------

    def _principal(self, context: Context) -> Principal:
        assert self._auth is not None
        for key, value in context.invocation_metadata() or ():
            if key == "authorization":
                scheme, _, token = str(value).partition(" ")
                if scheme.lower() != "bearer" or not token:
                    raise Unauthenticated("the authorization header must be 'Bearer <token>'")
                return self._auth.from_token(token.strip())
        subjects = list(context.auth_context().get("x509_subject", ()))
        if subjects:
            subject = subjects[0].decode("utf-8", "replace")
            principal = self._auth.from_subject(subject)
            if principal is not None:
                return principal
            raise Unauthenticated(f"client certificate {subject!r} maps to no principal")
        raise Unauthenticated("no credentials: send 'authorization: Bearer <token>'")

    def _admit(self, context: Context, method: str, role: Role | None) -> Actor:
        try:
            principal = self._principal(context)
        except Unauthenticated as error:
            raise Refusal(
                grpc.StatusCode.UNAUTHENTICATED, Outcome.UNAUTHENTICATED, str(error), ""
            ) from None
        if role is None or not principal.may(role):
            needed = f"role {role.value!r}" if role else "a role no principal holds"
            raise Refusal(
                grpc.StatusCode.PERMISSION_DENIED,
                Outcome.DENIED,
                f"{principal.name!r} may not call {method}: it needs {needed}",
                principal.name,
            )
        actor = Actor(principal.name, local=False, method=method)
        set_actor(actor)  # for the rest of this call's task (each call runs in its own)
        return actor

    async def _refuse(self, context: Context, method: str, refusal: Refusal) -> None:
        if self._audit is not None and self._may_audit():
            entry = AuditEntry(
                at=datetime.now(UTC),
                principal=refusal.who or "anonymous",
                method=method,
                action=Action.CALL,
                outcome=refusal.outcome,
                detail=str(refusal),
            )
            try:
                await asyncio.to_thread(self._audit, entry)
            except Exception:  # the refusal stands even if it cannot be recorded
                log.warning("could not record a refused call in the audit log", exc_info=True)
        await context.abort(refusal.code, str(refusal))

    def _may_audit(self) -> bool:
        second = int(time.monotonic())
        if second != self._window:
            if self._window_count > REFUSALS_AUDITED_PER_SECOND:
                dropped = self._window_count - REFUSALS_AUDITED_PER_SECOND
                log.warning("%d refused calls in one second not written to the audit log", dropped)
            self._window, self._window_count = second, 0
        self._window_count += 1
        return self._window_count <= REFUSALS_AUDITED_PER_SECOND

    # -- wrappers -------------------------------------------------------------------------

    def _guarded(
        self, behavior: Behavior, streaming: bool, method: str, role: Role | None
    ) -> Behavior:
        admit, refuse = self._admit, self._refuse
        if streaming:

            async def guarded_stream(request: Any, context: Context) -> AsyncIterator[Any]:
                try:
                    admit(context, method, role)
                except Refusal as refusal:
                    await refuse(context, method, refusal)
                async for response in behavior(request, context):
                    yield response

            return guarded_stream

        async def guarded(request: Any, context: Context) -> Any:
            try:
                admit(context, method, role)
            except Refusal as refusal:
                await refuse(context, method, refusal)
            return await behavior(request, context)

        return guarded

    def _announcing(self, behavior: Behavior, streaming: bool) -> Behavior:
        metadata = ((MODE_KEY, self._mode),)
        if streaming:

            async def announcing_stream(request: Any, context: Context) -> AsyncIterator[Any]:
                await context.send_initial_metadata(metadata)
                async for response in behavior(request, context):
                    yield response

            return announcing_stream

        async def announcing(request: Any, context: Context) -> Any:
            await context.send_initial_metadata(metadata)
            return await behavior(request, context)

        return announcing


def current_principal() -> str:
    """The authenticated principal's name for the access log; "" in local mode."""
    actor = current_actor()
    return "" if actor.local else actor.name


def _as_actor(behavior: Behavior, streaming: bool, actor: Actor) -> Behavior:
    if streaming:

        async def acting_stream(request: Any, context: Context) -> AsyncIterator[Any]:
            set_actor(actor)
            async for response in behavior(request, context):
                yield response

        return acting_stream

    async def acting(request: Any, context: Context) -> Any:
        set_actor(actor)
        return await behavior(request, context)

    return acting


def _rewrap(handler: Handler, wrap: Callable[[Behavior, bool], Behavior]) -> Handler:
    """The same handler with its behavior wrapped (told whether it answers a stream)."""
    common = {
        "request_deserializer": handler.request_deserializer,
        "response_serializer": handler.response_serializer,
    }
    if handler.unary_unary is not None:
        return grpc.unary_unary_rpc_method_handler(wrap(handler.unary_unary, False), **common)
    if handler.stream_unary is not None:
        return grpc.stream_unary_rpc_method_handler(wrap(handler.stream_unary, False), **common)
    if handler.unary_stream is not None:
        return grpc.unary_stream_rpc_method_handler(wrap(handler.unary_stream, True), **common)
    if handler.stream_stream is not None:
        return grpc.stream_stream_rpc_method_handler(wrap(handler.stream_stream, True), **common)
    return handler
