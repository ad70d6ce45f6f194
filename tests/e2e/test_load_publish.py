"""Quote and Rate under a bounded load on 127.0.0.1 while three versions are published to a
real `tariff serve`: no call fails, and every answer comes from exactly one version.

Each version prices the youth plan its own way: version N costs 10*N a month and 0.10*N a
minute, published effective at once. So a Quote's fee must be 10 times the catalog_version it
names, a rated call's charge 0.10 times its catalog_version a minute, and all the calls of one
Rate batch (one start time) the same version; each client task sees versions only go up.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import grpc
from google.type import money_pb2

from catalog import bundle, codec
from tariff.bootstrap import bootstrap
from tariff.settings import Settings
from tariff.v1 import (
    catalog_service_pb2,
    catalog_service_pb2_grpc,
    pricing_service_pb2,
    pricing_service_pb2_grpc,
)
from tests.support.priced import QUOTE, local_call, priced_starter
from tests.support.served import server_process

if TYPE_CHECKING:
    from tariff.v1.catalog_service_pb2_grpc import CatalogServiceAsyncStub
    from tariff.v1.pricing_service_pb2_grpc import PricingServiceAsyncStub

VERSIONS = (2, 3, 4)  # published under load; version 1 is there before it starts
TASKS = 3  # concurrent tasks per call kind
SEEN_EACH = 5  # answers of each kind from each version before the next is published
TAIL = 10  # calls per task after the last publish
MAX_CALLS = 400  # per task: the bound on the whole load (at most 2 * TASKS * MAX_CALLS)
EVENTS = 5  # calls per Rate batch
DEADLINE_SECONDS = 60
RATED = pricing_service_pb2.RATING_STATUS_RATED


def fee(version: int) -> Decimal:
    return Decimal(10 * version)


def rate(version: int) -> Decimal:
    return Decimal(version) / 10


def amount(money: money_pb2.Money) -> Decimal:
    return Decimal(money.units) + Decimal(money.nanos) / 10**9


def archive(version: int) -> bytes:
    return bundle.to_zip_bytes(priced_starter(fee(version), rate(version)))


class Load:
    """What the load saw, kind by kind: every version answered, and what went wrong."""

    def __init__(self) -> None:
        self.seen: dict[str, Counter[int]] = {"quote": Counter(), "rate": Counter()}
        self.problems: list[str] = []
        self.published = asyncio.Event()

    def saw(self, kind: str, version: int) -> None:
        self.seen[kind][version] += 1


async def quoting(stub: PricingServiceAsyncStub, load: Load) -> int:
    return await _calls(load, "quote", lambda: _quote(stub, load))


async def rating(stub: PricingServiceAsyncStub, load: Load) -> int:
    return await _calls(load, "rate", lambda: _rate(stub, load))


async def _calls(load: Load, kind: str, call: Callable[[], Awaitable[int]]) -> int:
    """Calls one after the other until the publishing is done and TAIL more were made;
    returns how many. A task's versions never go down."""
    last, tail = 0, 0
    for made in range(1, MAX_CALLS + 1):  # bounded
        try:
            version = await call()
        except grpc.aio.AioRpcError as error:
            load.problems.append(f"{kind} failed: {error.code().name}: {error.details()}")
            return made
        if version < last:
            load.problems.append(f"{kind}: version {version} answered after {last}")
        last = version
        load.saw(kind, version)
        tail += load.published.is_set()
        if tail >= TAIL:
            return made
    load.problems.append(f"{kind}: {MAX_CALLS} calls and the publishing was not done")
    return MAX_CALLS


async def _quote(stub: PricingServiceAsyncStub, load: Load) -> int:
    quote = await stub.Quote(QUOTE, timeout=30)
    version = int(quote.catalog_version)
    shown = amount(quote.totals.monthly_recurring.duty_free_amount)
    if shown != fee(version):
        load.problems.append(f"quote of version {version} shows {shown}, not {fee(version)}")
    return version


async def _rate(stub: PricingServiceAsyncStub, load: Load) -> int:
    start = datetime.now(UTC)  # one start time: one version for the whole batch
    events = [local_call(f"call{i:04d}", start, minutes=i + 1) for i in range(EVENTS)]
    rated = await stub.Rate(pricing_service_pb2.RateRequest(events=events), timeout=30)
    versions = {int(r.catalog_version) for r in rated.results}
    if len(versions) != 1:
        load.problems.append(f"one Rate batch answered by versions {sorted(versions)}")
    for i, result in enumerate(rated.results):
        version = int(result.catalog_version)
        expected = rate(version) * (i + 1)
        if result.status != RATED or amount(result.charge) != expected:
            load.problems.append(
                f"call of version {version}: {amount(result.charge)} != {expected}"
            )
    return min(versions)


async def publishing(stub: CatalogServiceAsyncStub, load: Load) -> None:
    """Each version once the one before it has answered both kinds of call a few times."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    for version in VERSIONS:
        while min(load.seen[k][version - 1] for k in load.seen) < SEEN_EACH:  # bounded
            if time.monotonic() > deadline or load.problems:
                load.problems.append(f"version {version - 1} was not answered in time")
                load.published.set()
                return
            await asyncio.sleep(0.01)
        await stub.ImportCatalogBundle(
            catalog_service_pb2.ImportCatalogBundleRequest(archive=archive(version)), timeout=60
        )
        published = await stub.PublishCatalog(
            catalog_service_pb2.PublishCatalogRequest(description=f"fee {fee(version)}"),
            timeout=60,
        )
        assert published.version.number == version
    load.published.set()


def prepare(url: str) -> None:
    """Version 1 (10 a month, 0.10 a minute) in force since 2026-01-01."""
    app = bootstrap(Settings(database_url=url, refresh_seconds=0))
    try:
        app.catalog.import_content(priced_starter(fee(1), rate(1)))
        app.catalog.publish(codec.parse_instant("2026-01-01T00:00:00Z"), "fee 10")
    finally:
        app.close()


async def run_load(address: str) -> tuple[Load, list[int]]:
    load = Load()
    async with grpc.aio.insecure_channel(address) as channel:
        pricing = pricing_service_pb2_grpc.PricingServiceStub(channel)
        catalog = catalog_service_pb2_grpc.CatalogServiceStub(channel)
        tasks = [quoting(pricing, load) for _ in range(TASKS)]
        tasks += [rating(pricing, load) for _ in range(TASKS)]
        publisher = asyncio.create_task(publishing(catalog, load))
        made = await asyncio.wait_for(asyncio.gather(*tasks), DEADLINE_SECONDS)
        await publisher
    return load, made


def test_quote_and_rate_under_load_while_three_versions_are_published(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'catalog.sqlite'}"
    prepare(url)
    with server_process(url, tmp_path, {"TARIFF_REFRESH_SECONDS": "0"}) as server:
        load, made = asyncio.run(run_load(server.address))
    assert load.problems == []
    for kind, seen in load.seen.items():
        assert sorted(seen) == [1, *VERSIONS], (kind, seen)  # every version answered
    print(f"calls per task {made}; answers by version {load.seen}")
