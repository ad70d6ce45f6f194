"""tariff.client.RatingClient through a real server with the default limits (10,000 events a
call, answers of at most 4 MiB): 100,000 events rated in calls under both limits, with the
counters carried from call to call, give what one call without limits gives (rated in
process by the servicer's own `rate_batch`) and what calls chunked by hand give.

The catalog and usage are generated (tariff.gen) and published through CatalogService.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import grpc
import pytest
from google.protobuf import timestamp_pb2

from catalog import bundle
from catalog.content import CatalogContent
from tariff.bootstrap import App
from tariff.client import MAX_REQUEST_BYTES, RatingClient
from tariff.gen.catalogs import CatalogSpec, generate_catalog
from tariff.gen.usage import UsageSpec, iter_rows, write_usage
from tariff.server import Running
from tariff.servicers.rating import rate_batch
from tariff.settings import Settings
from tariff.v1 import catalog_service_pb2, common_pb2, pricing_service_pb2_grpc
from tariff.v1 import pricing_service_pb2 as pb

if TYPE_CHECKING:
    from tariff.v1.catalog_service_pb2_grpc import CatalogServiceAsyncStub

UNLIMITED = 1 << 40
LIMIT = Settings().max_rate_events


def stamp(moment: datetime) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(moment)
    return ts


@pytest.fixture(scope="module")
def content() -> CatalogContent:
    return generate_catalog(CatalogSpec(offers=40, areas=4, seed=3, combos=1))


@pytest.fixture(scope="module")
def events(content: CatalogContent) -> list[pb.UsageEvent]:
    """100,000 events of 3,000 subscribers in March 2026: each subscriber has events in
    most calls, so counters must be carried from call to call."""
    out = io.StringIO()
    write_usage(content, UsageSpec(events=100_000, subscribers=3_000, seed=11), out)
    found = []
    for row in iter_rows(out.getvalue()):
        found.append(
            pb.UsageEvent(
                event_id=row["event_id"],
                subscriber_id=row["subscriber_id"],
                offer_code=row["offer_code"],
                business_code=row["business_code"],
                start_time=stamp(datetime.fromisoformat(row["start_time"])),
                duration_ms=int(row["duration_ms"]),
                volume_bytes=int(row["volume_bytes"]),
                count=int(row["count"]),
                origin_area_code=row["origin_area_code"],
                destination=row["destination"],
                roaming=row["roaming"] == "true",
            )
        )
    return found


@pytest.fixture
async def target(
    running: Running, catalog_stub: CatalogServiceAsyncStub, content: CatalogContent
) -> str:
    await catalog_stub.ImportCatalogBundle(
        catalog_service_pb2.ImportCatalogBundleRequest(archive=bundle.to_zip_bytes(content))
    )
    effective = stamp(datetime(2026, 1, 1, tzinfo=UTC))
    await catalog_stub.PublishCatalog(
        catalog_service_pb2.PublishCatalogRequest(effective_from=effective)
    )
    return f"127.0.0.1:{running.port}"


def one_call(app: App, request: pb.RateRequest) -> pb.RateResponse:
    """What a single Rate call without limits answers: the servicer's own batch rating."""
    return rate_batch(app.snapshots, request, app.settings.zone, UNLIMITED, UNLIMITED)


def given(events: Iterable[pb.UsageEvent]) -> list[pb.SubscriberCounters]:
    """Counters stored from earlier: a subscriber of the batch with part of an allowance
    used, one with a stale pair of February, and one without events in this batch."""
    first = next(iter(events)).subscriber_id
    return [
        pb.SubscriberCounters(subscriber_id="nobody_here", period="2026-03"),
        pb.SubscriberCounters(
            subscriber_id=first,
            period="2026-03",
            counters=[pb.UsageCounter(name="allowance:voice_minutes", units=60_000)],
        ),
        pb.SubscriberCounters(subscriber_id=first, period="2026-02"),
    ]


async def rate(
    target: str,
    events: list[pb.UsageEvent],
    counters: list[pb.SubscriberCounters] | None = None,
    selector: common_pb2.VersionSelector | None = None,
    max_request_bytes: int = MAX_REQUEST_BYTES,
) -> tuple[pb.RateResponse, int]:
    """The client's answer (off the event loop the server runs on) and its number of calls."""

    def run() -> tuple[pb.RateResponse, int]:
        with RatingClient.connect(target, max_request_bytes=max_request_bytes) as client:
            return client.rate(events, counters or (), selector=selector), client.calls

    return await asyncio.to_thread(run)


async def test_the_client_chunks_100k_events_as_one_call_would_rate_them(
    app: App, target: str, events: list[pb.UsageEvent]
) -> None:
    counters = given(events)
    answer, calls = await rate(target, events, counters)
    expected = one_call(app, pb.RateRequest(events=events, counters=counters))
    assert len(answer.results) == 100_000
    assert answer.rated_count > 90_000
    assert answer == expected  # results in order, every counter, the counts
    assert calls == 1 + 100_000 // LIMIT  # the pair without events, then ten full calls
    assert expected.ByteSize() > 4 * 1024 * 1024  # what one call could not have answered

    async with grpc.aio.insecure_channel(target) as channel:  # chunked by hand
        stub = pricing_service_pb2_grpc.PricingServiceStub(channel)
        carried = {(c.subscriber_id, c.period): c for c in counters}
        results: list[pb.RatedEvent] = []
        for low in range(0, len(events), LIMIT):
            part = await stub.Rate(
                pb.RateRequest(events=events[low : low + LIMIT], counters=carried.values())
            )
            results.extend(part.results)
            carried.update(((c.subscriber_id, c.period), c) for c in part.counters)
    assert list(answer.results) == results
    assert list(answer.counters) == [carried[k] for k in sorted(carried)]


async def test_long_events_are_split_by_size_and_a_refused_answer_is_asked_in_halves(
    app: App, target: str, events: list[pb.UsageEvent]
) -> None:
    """10,000 events with 600-character ids answer ~7 MiB: the client sends them in calls
    of 2 MiB; told it may send 64 MiB, it is refused (RESOURCE_EXHAUSTED) and halves."""
    long = [pb.UsageEvent() for _ in range(LIMIT)]
    for i, (out, event) in enumerate(zip(long, events, strict=False)):
        out.CopyFrom(event)
        out.event_id = f"{i:06d}" + "x" * 594
    expected = one_call(app, pb.RateRequest(events=long))
    assert expected.ByteSize() > 6 * 1024 * 1024
    by_size, calls = await rate(target, long)
    assert by_size == expected
    least = -(-pb.RateRequest(events=long).ByteSize() // MAX_REQUEST_BYTES)
    assert least >= 3
    assert calls == least  # ~6.6 MB of requests in calls of at most 2 MiB
    halves, tries = await rate(target, long, max_request_bytes=64 << 20)
    assert halves == expected
    assert tries == 3  # all 10,000 refused, then two halves of ~3.5 MB answers


async def test_nothing_to_rate_is_one_call_and_the_server_judges_it(
    app: App, target: str, events: list[pb.UsageEvent]
) -> None:
    empty, calls = await rate(target, [])
    assert (empty, calls) == (pb.RateResponse(), 1)
    only = [pb.SubscriberCounters(subscriber_id="a", period="2026-03")]
    answer, _ = await rate(target, [], only)
    assert answer == one_call(app, pb.RateRequest(counters=only))
    with pytest.raises(grpc.RpcError) as refused:
        await rate(target, events[:10], selector=common_pb2.VersionSelector(draft=True))
    assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    twice = [only[0], only[0]]
    with pytest.raises(ValueError, match=r"counters\[1\]: subscriber 'a' in '2026-03'"):
        await rate(target, events[:10], twice)


def test_limits_must_be_positive() -> None:
    channel = grpc.insecure_channel("127.0.0.1:1")
    with pytest.raises(ValueError, match="positive"):
        RatingClient(channel, max_events=0)
    channel.close()
