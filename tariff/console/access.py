"""Who is using the console and what they may do: the roles of tariff.security, deny by
default.

With token keys configured, a person signs in with a bearer token `tariff token issue`
signed; the console keeps it in an HttpOnly, SameSite=Strict cookie and verifies it on every
request (an expired or revoked key signs them out). Without identities the console is in
local mode, like the gRPC port: everyone is the local principal, and (as for gRPC) only on a
loopback address. Every route names the role it needs; a route without one is refused.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from catalog.audit import Actor, set_actor
from tariff.security.identities import (
    LOCAL_PRINCIPAL,
    Authenticator,
    Principal,
    Unauthenticated,
)
from tariff.security.roles import Role
from tariff.settings import Settings

COOKIE = "tariff_console_token"
Endpoint = Callable[[Request], Awaitable[Response]]


class Access:
    def __init__(self, settings: Settings) -> None:
        keys = settings.token_keys
        self.local = keys is None
        self._auth = None if keys is None else Authenticator(keys, {})

    def principal(self, request: Request) -> Principal | None:
        if self._auth is None:
            return LOCAL_PRINCIPAL
        token = request.cookies.get(COOKIE, "")
        if not token:
            return None
        try:
            return self._auth.from_token(token)
        except Unauthenticated:
            return None

    def verify(self, token: str) -> Principal:
        """Raises Unauthenticated (the reason, never the token)."""
        if self._auth is None:
            return LOCAL_PRINCIPAL
        return self._auth.from_token(token.strip())


@dataclass(frozen=True, slots=True)
class Guard:
    access: Access

    def __call__(self, role: Role, endpoint: Endpoint) -> Endpoint:
        """`endpoint` for principals holding `role`; others are sent to sign in (401) or
        refused naming the role (403). A write from another site's page is refused."""

        async def guarded(request: Request) -> Response:
            api = request.url.path.startswith("/api/")
            if request.method != "GET" and not same_origin(request):
                return refusal(request, 403, "refused: the request did not come from this console")
            principal = self.access.principal(request)
            if principal is None:
                if api:
                    return JSONResponse({"error": "sign in first"}, status_code=401)
                return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
            if not principal.may(role):
                message = f"{principal.name!r} may not do this: it needs the role {role.value!r}"
                return refusal(request, 403, message)
            request.state.principal = principal
            local = principal is LOCAL_PRINCIPAL
            set_actor(Actor(principal.name, local=local, method=f"console {request.url.path}"))
            return await endpoint(request)

        return guarded


def same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None:
        return True  # not a browser's cross-site request (those always send Origin)
    return urlsplit(origin).netloc == request.headers.get("host", "")


def refusal(request: Request, status: int, message: str) -> Response:
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": message}, status_code=status)
    from tariff.console.pages import render_refusal  # pages import this module

    return render_refusal(request, status, message)
