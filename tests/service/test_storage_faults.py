"""The catalog database failing under a real server on 127.0.0.1, seen by a real client: a
full disk refuses the write as RESOURCE_EXHAUSTED saying so, a database that goes away answers
UNAVAILABLE; never INTERNAL. Either way the draft is as it was, the sales calls (answered from
the versions in memory) keep being answered, and the store works again once the fault is gone,
without restarting the server."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import grpc
import pytest
from google.protobuf import timestamp_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from sqlalchemy import URL, Engine, text
from sqlalchemy.engine import make_url

from catalog import bundle
from catalog.sqlstore import create_engine_for
from tariff.bootstrap import bootstrap
from tariff.server import start_server
from tariff.settings import Settings
from tariff.v1 import (
    catalog_pb2,
    catalog_service_pb2,
    catalog_service_pb2_grpc,
    pricing_service_pb2_grpc,
)
from tests.support.databases import migrated_database
from tests.support.disks import SmallDisk, small_disk
from tests.support.priced import QUOTE, priced_starter

if TYPE_CHECKING:
    from tariff.v1.catalog_service_pb2_grpc import CatalogServiceAsyncStub
    from tariff.v1.pricing_service_pb2_grpc import PricingServiceAsyncStub

STARTER = Path(__file__).resolve().parents[2] / "examples" / "starter"
EFFECTIVE = datetime(2026, 1, 1, tzinfo=UTC)
PREFIXES = 40_000  # a zone table of ~1 MB: more than a full disk has room for
RECONNECT_SECONDS = 30
Code = grpc.StatusCode


@dataclass
class Served:
    catalog: CatalogServiceAsyncStub
    pricing: PricingServiceAsyncStub
    health: health_pb2_grpc.HealthStub


@asynccontextmanager
async def serving(url: str) -> AsyncIterator[Served]:
    """A server over the store at `url` with the starter catalog published as version 1."""
    settings = Settings(host="127.0.0.1", port=0, database_url=url, refresh_seconds=0)
    app = await asyncio.to_thread(bootstrap, settings)
    running = await start_server(app)
    await running.mark_serving()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            served = Served(
                catalog_service_pb2_grpc.CatalogServiceStub(channel),
                pricing_service_pb2_grpc.PricingServiceStub(channel),
                health_pb2_grpc.HealthStub(channel),
            )
            archive = bundle.to_zip_bytes(bundle.read_path(STARTER))
            await served.catalog.ImportCatalogBundle(
                catalog_service_pb2.ImportCatalogBundleRequest(archive=archive)
            )
            effective = timestamp_pb2.Timestamp()
            effective.FromDatetime(EFFECTIVE)
            await served.catalog.PublishCatalog(
                catalog_service_pb2.PublishCatalogRequest(effective_from=effective)
            )
            await running.sync_health()  # what `serve` does every second
            yield served
    finally:
        await running.stop(0)
        app.close()


def zone_table(name: str, prefixes: int) -> catalog_service_pb2.PutZoneTableRequest:
    rows = [catalog_pb2.ZonePrefix(prefix=f"86{i:08d}", zone="national") for i in range(prefixes)]
    return catalog_service_pb2.PutZoneTableRequest(
        table=catalog_pb2.ZoneTable(name=name, prefixes=rows)
    )


async def draft(served: Served) -> bytes:
    reply = await served.catalog.ExportCatalogBundle(
        catalog_service_pb2.ExportCatalogBundleRequest()
    )
    archive: bytes = reply.archive
    return archive


async def refused(call: Awaitable[Any]) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return caught.value


async def still_selling(served: Served, version: int = 1, fee: int = 39) -> None:
    """The hot path answers from the version in memory; health stays SERVING."""
    quote = await served.pricing.Quote(QUOTE, timeout=10)
    assert quote.catalog_version == version
    assert quote.totals.monthly_recurring.duty_free_amount.units == fee
    for service in ("", "tariff.v1.PricingService", "tariff.v1.CatalogService"):
        reply = await served.health.Check(health_pb2.HealthCheckRequest(service=service))
        assert reply.status == health_pb2.HealthCheckResponse.SERVING, service


# --- a full disk (SQLite) ----------------------------------------------------------------


@pytest.fixture(params=["tmpfs", "page-limit"])
def disk(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SmallDisk]:
    """A really full tmpfs where this user may mount one, else (and always once) SQLite's
    page limit, which gives the same driver error."""
    with small_disk(tmp_path, mount=request.param == "tmpfs") as found:
        if request.param == "tmpfs" and not found.mounted:
            pytest.skip("mounting a tmpfs was refused; the page-limit case covers the error")
        yield found


async def test_a_full_disk_refuses_a_write_as_resource_exhausted_and_keeps_serving(
    disk: SmallDisk,
) -> None:
    async with serving(disk.url()) as served:
        repriced = bundle.to_zip_bytes(priced_starter(Decimal(50), Decimal("0.50")))
        await served.catalog.ImportCatalogBundle(  # a draft ready to publish as version 2
            catalog_service_pb2.ImportCatalogBundleRequest(archive=repriced)
        )
        before = await draft(served)
        disk.fill()
        full = "the catalog database is out of disk space: database or disk is full"
        error = await refused(served.catalog.PutZoneTable(zone_table("big", PREFIXES)))
        assert (error.code(), error.details()) == (Code.RESOURCE_EXHAUSTED, full)
        error = await refused(
            served.catalog.PublishCatalog(catalog_service_pb2.PublishCatalogRequest())
        )
        assert (error.code(), error.details()) == (Code.RESOURCE_EXHAUSTED, full)
        await still_selling(served)  # version 1: the refused publish installed nothing
        assert await draft(served) == before  # nothing of the refused writes landed
        missing = await refused(
            served.catalog.GetZoneTable(catalog_service_pb2.GetZoneTableRequest(name="big"))
        )
        assert missing.code() is Code.NOT_FOUND
        listed = await served.catalog.ListCatalogVersions(
            catalog_service_pb2.ListCatalogVersionsRequest()
        )
        assert [v.number for v in listed.versions] == [1]
        disk.free()  # the operator makes room: the same writes go through, no restart
        stored = await served.catalog.PutZoneTable(zone_table("big", PREFIXES))
        assert stored.prefix_count == PREFIXES
        read = await served.catalog.GetZoneTable(
            catalog_service_pb2.GetZoneTableRequest(name="big")
        )
        assert len(read.table.prefixes) == PREFIXES
        published = await served.catalog.PublishCatalog(catalog_service_pb2.PublishCatalogRequest())
        assert published.version.number == 2
        await still_selling(served, version=2, fee=50)


# --- a PostgreSQL database that goes away -------------------------------------------------


def _close(admin: Engine, database: str) -> None:
    """Turn new connections away and end those there are: the database is gone for us (and
    only for us: other tests' databases on the server are untouched)."""
    with admin.begin() as connection:
        connection.execute(text(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false'))
        connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": database},
        )


def _reopen(admin: Engine, database: str) -> None:
    with admin.begin() as connection:
        connection.execute(text(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true'))


async def eventually(call: Callable[[], Awaitable[Any]]) -> Any:
    """The call's answer once it succeeds, retried while UNAVAILABLE for a bounded time."""
    deadline = time.monotonic() + RECONNECT_SECONDS
    while True:  # bounded by the deadline
        try:
            return await call()
        except grpc.aio.AioRpcError as error:
            if error.code() is not Code.UNAVAILABLE or time.monotonic() > deadline:
                raise
        await asyncio.sleep(0.2)


@pytest.mark.postgres
async def test_a_database_that_goes_away_answers_unavailable_then_serves_again(
    postgres_server: URL, tmp_path: Path
) -> None:
    admin = create_engine_for(postgres_server.render_as_string(hide_password=False))
    with migrated_database("postgres", tmp_path) as url:
        database = str(make_url(url).database)
        async with serving(url) as served:
            before = await draft(served)
            await asyncio.to_thread(_close, admin, database)
            try:
                needs_store: list[Awaitable[Any]] = [
                    served.catalog.ExportCatalogBundle(
                        catalog_service_pb2.ExportCatalogBundleRequest()
                    ),
                    served.catalog.ListCatalogVersions(
                        catalog_service_pb2.ListCatalogVersionsRequest()
                    ),
                    served.catalog.PutZoneTable(zone_table("small", 10)),
                    served.catalog.PublishCatalog(catalog_service_pb2.PublishCatalogRequest()),
                ]
                for call in needs_store:
                    error = await refused(call)
                    assert error.code() is Code.UNAVAILABLE, error
                    assert (error.details() or "").startswith(
                        "the catalog database is unavailable: "
                    ), error.details()
                    assert "is not currently accepting connections" in (error.details() or "")
                await still_selling(served)
            finally:
                await asyncio.to_thread(_reopen, admin, database)
            assert await eventually(lambda: draft(served)) == before
            stored = await served.catalog.PutZoneTable(zone_table("small", 10))
            assert stored.prefix_count == 10
            await still_selling(served)
    admin.dispose()
