"""Who may call: the security mode a server runs in, and how a call becomes a principal.

Identities are a token key file (bearer JWTs, `tariff.security.tokens`) and/or, under
mTLS, a map from client-certificate subject to principal and roles. With neither, the server
runs in *local mode*: every caller is the local principal with every role. Local mode is
allowed on a loopback address only (the demo); on any other address the server refuses to
start unless told `--insecure`, as it refuses plaintext there.
"""

from __future__ import annotations

import ipaddress
import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tariff.security.roles import Role, granted, parse_roles
from tariff.security.tokens import LEEWAY_SECONDS, KeyFileError, KeyRing, TokenError, verify

LOCAL_NAME = "local"
RELOAD_SECONDS = 1.0  # how often the key file's modification time is looked at
CACHE_SIZE = 4096  # verified tokens remembered (by their text) until they expire


class SecurityConfigError(ValueError):
    """Settings that would run the server unsafely or cannot be read; it does not start."""


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    roles: frozenset[Role]  # as granted (implied roles included)

    def may(self, role: Role) -> bool:
        return role in self.roles


LOCAL_PRINCIPAL = Principal(LOCAL_NAME, granted([Role.ADMIN]))


class Unauthenticated(Exception):
    """No credentials, or credentials that do not verify (the reason, never the token)."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def load_subjects(path: Path) -> dict[str, Principal]:
    """{"O=Carrier,CN=billing-gw": {"principal": "billing", "roles": ["reader"]}} ->
    subject -> Principal. Raises SecurityConfigError."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise SecurityConfigError(f"cannot read the client subjects file {path}: {error}") from None
    if not isinstance(document, dict):
        raise SecurityConfigError(f"{path}: expected {{SUBJECT: {{principal, roles}}}}")
    out: dict[str, Principal] = {}
    for subject, entry in document.items():
        if not isinstance(entry, dict) or not entry.get("principal"):
            raise SecurityConfigError(f"{path}: {subject!r} needs a principal and roles")
        try:
            roles = parse_roles(entry.get("roles", []))
        except ValueError as error:
            raise SecurityConfigError(f"{path}: {subject!r}: {error}") from None
        out[str(subject)] = Principal(str(entry["principal"]), granted(roles))
    return out


class Authenticator:
    """Turns a call's bearer token or client certificate into a Principal.

    Verified tokens are remembered by their text until they expire, so a client reusing its
    token costs a dict lookup per call, not an HMAC; the key file is re-read when it changes
    (rotation without a restart), which forgets every remembered token."""

    def __init__(self, keys_path: Path | None, subjects: Mapping[str, Principal]) -> None:
        self._keys_path = keys_path
        self._subjects = dict(subjects)
        self._ring: KeyRing | None = None
        self._mtime = 0.0
        self._next_check = 0.0
        self._cache: dict[str, tuple[Principal, int]] = {}
        if keys_path is not None:
            self._reload()

    @property
    def uses_tokens(self) -> bool:
        return self._keys_path is not None

    def _reload(self) -> None:
        assert self._keys_path is not None
        try:
            self._mtime = os.stat(self._keys_path).st_mtime
            self._ring = KeyRing.load(self._keys_path)
        except (OSError, KeyFileError) as error:
            if self._ring is None:  # at start-up: do not start
                raise SecurityConfigError(str(error)) from None
            # later: keep the keys we have (a half-written file must not lock everyone out)
        self._cache.clear()

    def _maybe_reload(self) -> None:
        now = time.monotonic()
        if now < self._next_check or self._keys_path is None:
            return
        self._next_check = now + RELOAD_SECONDS
        try:
            mtime = os.stat(self._keys_path).st_mtime
        except OSError:
            return
        if mtime != self._mtime:
            self._reload()

    def from_token(self, token: str) -> Principal:
        """Raises Unauthenticated."""
        self._maybe_reload()
        cached = self._cache.get(token)
        if cached is not None:
            if cached[1] + LEEWAY_SECONDS >= time.time():  # as verify allows
                return cached[0]
            del self._cache[token]
        if self._ring is None:
            raise Unauthenticated("this server does not accept bearer tokens")
        try:
            claims = verify(self._ring, token)
        except TokenError as error:
            raise Unauthenticated(str(error)) from None
        principal = Principal(claims.subject, granted(claims.roles))
        if len(self._cache) >= CACHE_SIZE:
            self._cache.clear()
        self._cache[token] = (principal, claims.expires)
        return principal

    def from_subject(self, subject: str) -> Principal | None:
        return self._subjects.get(subject)
