"""A real grpc.aio server on 127.0.0.1 (ephemeral port) over a fresh database, and clients."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import grpc
import pytest

from tariff.bootstrap import App, bootstrap
from tariff.server import Running, start_server
from tariff.settings import Settings
from tariff.v1 import catalog_service_pb2_grpc

if TYPE_CHECKING:
    from tariff.v1.catalog_service_pb2_grpc import CatalogServiceAsyncStub


@pytest.fixture
async def app(database_url: str) -> AsyncIterator[App]:
    settings = Settings(host="127.0.0.1", port=0, database_url=database_url, refresh_seconds=0)
    application = await asyncio.to_thread(bootstrap, settings)
    try:
        yield application
    finally:
        application.close()


@pytest.fixture
async def running(app: App) -> AsyncIterator[Running]:
    server = await start_server(app)
    await server.mark_serving()
    try:
        yield server
    finally:
        await server.stop(0)


@pytest.fixture
async def channel(running: Running) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as chan:
        yield chan


@pytest.fixture
def catalog_stub(channel: grpc.aio.Channel) -> CatalogServiceAsyncStub:
    """Over an aio channel the stub's methods return awaitables (the .pyi's AsyncStub)."""
    return catalog_service_pb2_grpc.CatalogServiceStub(channel)
