"""Client side: a channel to a Tariff server with TLS (or mTLS) and a bearer token.

Used by the CLI's `--server` commands and by Python clients:

    from tariff.security.client import open_channel
    with open_channel("tariff.example:50051", token=os.environ["TARIFF_TOKEN"],
                      ca=Path("ca.crt")) as channel: ...

The token travels as `authorization: Bearer <token>` metadata on every call.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc

from tariff.security.tls import channel_credentials

TOKEN_ENV = "TARIFF_TOKEN"


class _Bearer(
    grpc.UnaryUnaryClientInterceptor,  # type: ignore[type-arg]
    grpc.UnaryStreamClientInterceptor,  # type: ignore[type-arg]
    grpc.StreamUnaryClientInterceptor,  # type: ignore[type-arg]
    grpc.StreamStreamClientInterceptor,  # type: ignore[type-arg]
):
    """Adds the token to every call's metadata."""

    def __init__(self, token: str) -> None:
        self._header = ("authorization", f"Bearer {token}")

    def _details(self, details: Any) -> Any:
        metadata = [*(details.metadata or ()), self._header]
        return _Details(
            details.method,
            details.timeout,
            metadata,
            details.credentials,
            getattr(details, "wait_for_ready", None),
            getattr(details, "compression", None),
        )

    def intercept_unary_unary(
        self, continuation: Callable[..., Any], details: Any, request: Any
    ) -> Any:
        return continuation(self._details(details), request)

    def intercept_unary_stream(
        self, continuation: Callable[..., Any], details: Any, request: Any
    ) -> Any:
        return continuation(self._details(details), request)

    def intercept_stream_unary(
        self, continuation: Callable[..., Any], details: Any, requests: Iterator[Any]
    ) -> Any:
        return continuation(self._details(details), requests)

    def intercept_stream_stream(
        self, continuation: Callable[..., Any], details: Any, requests: Iterator[Any]
    ) -> Any:
        return continuation(self._details(details), requests)


class _Details(grpc.ClientCallDetails):
    def __init__(
        self,
        method: str,
        timeout: float | None,
        metadata: Any,
        credentials: Any,
        wait_for_ready: Any,
        compression: Any,
    ) -> None:
        self.method = method
        self.timeout = timeout
        self.metadata = metadata
        self.credentials = credentials
        self.wait_for_ready = wait_for_ready
        self.compression = compression


def open_channel(
    target: str,
    *,
    token: str | None = None,
    tls: bool = False,
    ca: Path | None = None,
    cert: Path | None = None,
    key: Path | None = None,
    options: Any = None,
) -> grpc.Channel:
    """A blocking channel: TLS when `tls` or any certificate is given (verifying the
    server with `ca`, the system's roots without), presenting `cert`/`key` for mTLS; the
    token, when given, on every call."""
    if tls or ca or cert or key:
        channel = grpc.secure_channel(target, channel_credentials(ca, cert, key), options)
    else:
        channel = grpc.insecure_channel(target, options)
    if token:
        channel = grpc.intercept_channel(channel, _Bearer(token))
    return channel


def add_client_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of a command that talks to a server (`--server`)."""
    parser.add_argument("--token", help=f"bearer token for the server (default: ${TOKEN_ENV})")
    parser.add_argument("--tls", action="store_true", help="TLS, verified by the system's CAs")
    parser.add_argument("--tls-ca", type=Path, help="CA certificate that signed the server's")
    parser.add_argument("--tls-cert", type=Path, help="client certificate (mTLS)")
    parser.add_argument("--tls-key", type=Path, help="client private key (mTLS)")


def channel_for(args: argparse.Namespace, target: str) -> grpc.Channel:
    """A channel from `add_client_arguments` options."""
    return open_channel(
        target,
        token=args.token or os.environ.get(TOKEN_ENV) or None,
        tls=args.tls,
        ca=args.tls_ca,
        cert=args.tls_cert,
        key=args.tls_key,
    )
