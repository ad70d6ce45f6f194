"""Access to the gRPC port: TLS, identities, roles, and the interceptor that checks them.

The server calls three things from here: `check(settings)` (refuses an unsafe start),
`server_credentials(settings)` (TLS or plaintext) and `interceptors(settings, audit)`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import grpc

from catalog.audit import AuditEntry
from tariff.security import tls
from tariff.security.identities import (
    Authenticator,
    SecurityConfigError,
    is_loopback,
    load_subjects,
)
from tariff.security.interceptor import AuthInterceptor, current_principal
from tariff.security.tokens import KeyRing

if TYPE_CHECKING:
    from tariff.settings import Settings

__all__ = [
    "SecurityConfigError",
    "check",
    "current_principal",
    "interceptors",
    "mode",
    "server_credentials",
]

log = logging.getLogger(__name__)


def has_identities(settings: Settings) -> bool:
    return settings.token_keys is not None or settings.client_subjects is not None


def mode(settings: Settings) -> str:
    """What the server trusts, in words: health answers say it (`tariff-security`)."""
    transport = "mtls" if settings.tls_client_ca else "tls" if settings.tls_cert else "plaintext"
    if not has_identities(settings):
        return f"local; {transport} (no identities: every caller is 'local' with every role)"
    kinds = [
        k
        for k, v in (
            ("tokens", settings.token_keys),
            ("client certificates", settings.client_subjects),
        )
        if v is not None
    ]
    return f"{' and '.join(kinds)}; {transport}"


def check(settings: Settings) -> None:
    """Refuse to serve another address in plaintext or without identities, unless the
    operator said --insecure; read every certificate, key and identity file, so that a bad
    one stops the start before the catalog loads. Raises SecurityConfigError (TlsConfigError
    and KeyFileError are ValueErrors too)."""
    _policy(settings)
    server_credentials(settings)
    if settings.token_keys is not None:
        KeyRing.load(settings.token_keys)
    if settings.client_subjects is not None:
        load_subjects(settings.client_subjects)


_WARNED: set[tuple[str, str]] = set()  # the --insecure warnings this process has logged


def _policy(settings: Settings) -> None:
    if settings.client_subjects is not None and settings.tls_client_ca is None:
        raise SecurityConfigError("--client-subjects needs --tls-client-ca (mTLS)")
    if is_loopback(settings.host) or settings.insecure:
        said = (settings.host, mode(settings))
        if settings.insecure and not is_loopback(settings.host) and said not in _WARNED:
            _WARNED.add(said)  # `check` runs at start-up and again in `interceptors`: say it once
            log.warning("--insecure: serving %s as %s", *said)
        return
    if settings.tls_cert is None:
        raise SecurityConfigError(
            f"refusing to serve {settings.host} in plaintext: give --tls-cert and --tls-key "
            "(or --insecure to accept it)"
        )
    if not has_identities(settings):
        raise SecurityConfigError(
            f"refusing to serve {settings.host} with no identities (everyone would be "
            "allowed everything): give --token-keys and/or --client-subjects (or --insecure)"
        )


def server_credentials(settings: Settings) -> grpc.ServerCredentials | None:
    """TLS (mTLS with a client CA) for the port; None for plaintext."""
    return tls.server_credentials(settings.tls_cert, settings.tls_key, settings.tls_client_ca)


def interceptors(
    settings: Settings, audit: Callable[[AuditEntry], None] | None = None
) -> list[grpc.aio.ServerInterceptor]:  # type: ignore[type-arg]
    """The authentication interceptor for these settings (after `check`). `audit` records
    refused calls."""
    check(settings)
    described = mode(settings)
    if not has_identities(settings):
        log.warning("security: %s", described)
        return [AuthInterceptor(None, described, audit)]
    subjects = load_subjects(settings.client_subjects) if settings.client_subjects else {}
    log.info("security: %s", described)
    return [AuthInterceptor(Authenticator(settings.token_keys, subjects), described, audit)]
