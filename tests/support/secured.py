"""A real Tariff server over TLS with token (and certificate) identities, for security tests:
certificates and token keys made in the test, calls through real gRPC on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc

from tariff.bootstrap import App, bootstrap
from tariff.security.roles import Role
from tariff.security.tokens import KeyRing, issue, new_ring
from tariff.server import Running, start_server
from tariff.settings import Settings
from tests.support.certs import Authority, Issued


@dataclass
class Pki:
    authority: Authority
    server: Issued
    client: Issued  # subject O=Carrier,CN=billing-gw
    stranger: Issued  # a certificate of the same CA that maps to nobody


def make_pki(directory: Path) -> Pki:
    ca = Authority(directory)
    return Pki(
        ca,
        ca.issue("localhost", server=True),
        ca.issue("billing-gw", server=False, organization="Carrier"),
        ca.issue("stranger", server=False),
    )


def make_keys(directory: Path) -> tuple[Path, KeyRing]:
    path = directory / "token-keys.json"
    ring = new_ring("k1")
    ring.save(path)
    return path, ring


def token(
    ring: KeyRing, sub: str, *roles: Role, ttl: float = 3600, at: datetime | None = None
) -> str:
    return issue(ring, sub, roles, timedelta(seconds=ttl), at or datetime.now(UTC))


@dataclass
class Served:
    app: App
    running: Running
    pki: Pki

    @property
    def target(self) -> str:
        return f"localhost:{self.running.port}"

    def channel(self, *, cert: Issued | None = None) -> grpc.aio.Channel:
        credentials = grpc.ssl_channel_credentials(
            root_certificates=self.pki.authority.cert.read_bytes(),
            private_key=cert.key.read_bytes() if cert else None,
            certificate_chain=cert.cert.read_bytes() if cert else None,
        )
        return grpc.aio.secure_channel(self.target, credentials)


@asynccontextmanager
async def served(database_url: str, pki: Pki, **settings: Any) -> AsyncIterator[Served]:
    config = Settings(
        host="127.0.0.1",
        port=0,
        database_url=database_url,
        refresh_seconds=0,
        tls_cert=pki.server.cert,
        tls_key=pki.server.key,
        **settings,
    )
    app = await asyncio.to_thread(bootstrap, config)
    try:
        running = await start_server(app)
        await running.mark_serving()
        try:
            yield Served(app, running, pki)
        finally:
            await running.stop(0)
    finally:
        app.close()


def bearer(value: str) -> tuple[tuple[str, str]]:
    return (("authorization", f"Bearer {value}"),)
