"""PricingService.Rate and RateStream through a real server on 127.0.0.1: a generated catalog
(40 offers whose mobile plans rate voice, data and SMS with allowances and caps) imported and
published through CatalogService, generated usage sent as messages, and every answer held
to rating the same records in process with rules.rating.RatingSession.

The PricingService servicer is not registered by `tariff.server` yet: a stand-in defined
here serves tariff.servicers.rating over the app's snapshots, on its own grpc.aio server
with the production error mapping.
"""

from __future__ import annotations

import asyncio
import io
import itertools
import random
import re
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import grpc
import pytest
from google.protobuf import timestamp_pb2
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from catalog import bundle
from catalog.content import CatalogContent
from catalog.snapshot import SnapshotRegistry
from catalog.versions import AsOf, VersionNumber
from dsl.eval_usage import Counters
from rules.rating import RatedRecord, RatingSession
from rules.sale_catalog import SaleCatalog
from rules.usage_rows import record_from_row
from tariff.bootstrap import App, bootstrap
from tariff.gen.catalogs import CatalogSpec, generate_catalog
from tariff.gen.usage import UsageSpec, iter_rows, write_usage
from tariff.mappers.money import money_to_proto
from tariff.server import Running
from tariff.settings import Settings
from tariff.v1 import (
    catalog_service_pb2,
    common_pb2,
    pricing_service_pb2_grpc,
)
from tariff.v1 import pricing_service_pb2 as pb
from tests.support.catalog_edits import publish_edited

if TYPE_CHECKING:
    from tariff.v1.catalog_service_pb2_grpc import CatalogServiceAsyncStub
    from tariff.v1.pricing_service_pb2_grpc import PricingServiceAsyncStub

CHINA = ZoneInfo("Asia/Shanghai")
EFFECTIVE = datetime(2026, 1, 1, tzinfo=UTC)
BOUNDARY = datetime(2026, 3, 16, tzinfo=CHINA)  # version 2 takes effect mid-month
MAX_EVENTS = 50_000  # this module's server takes bigger batches than the default
BIG = 64 << 20
OPTIONS = [
    ("grpc.max_receive_message_length", BIG),
    ("grpc.max_send_message_length", BIG),
]
RATED = pb.RATING_STATUS_RATED
REJECTED = pb.RATING_STATUS_REJECTED
V2_OFFER = "mob_cn_0012"  # its long-distance calls to national numbers cost more from v2
V2_PRICE = "rate national *: 9.90 per minute increments 60s"


@dataclass
class Pricing:
    stub: PricingServiceAsyncStub
    snapshots: SnapshotRegistry[SaleCatalog]


@pytest.fixture
async def app(database_url: str) -> AsyncIterator[App]:
    """The server of tests/service/conftest.py, with batches up to MAX_EVENTS and answers up
    to 64 MiB (the default limits are tested in test_request_bounds.py)."""
    settings = Settings(
        host="127.0.0.1",
        port=0,
        database_url=database_url,
        refresh_seconds=0,
        max_rate_events=MAX_EVENTS,
        max_response_bytes=BIG,
    )
    application = await asyncio.to_thread(bootstrap, settings)
    try:
        yield application
    finally:
        application.close()


@pytest.fixture(scope="module")
def content() -> CatalogContent:
    return generate_catalog(CatalogSpec(offers=40, areas=4, seed=3, combos=1))


@pytest.fixture(scope="module")
def rows(content: CatalogContent) -> list[dict[str, str]]:
    """March 2026 usage of 20 subscribers: enough per subscriber to use up allowances."""
    out = io.StringIO()
    write_usage(content, UsageSpec(events=1_200, subscribers=20, seed=4), out)
    return list(iter_rows(out.getvalue()))


def stamp(moment: datetime) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(moment)
    return ts


@pytest.fixture
async def pricing(
    app: App, running: Running, catalog_stub: CatalogServiceAsyncStub, content: CatalogContent
) -> AsyncIterator[Pricing]:
    """Version 1 published (effective 2026-01-01) on the real server (its PricingService),
    reached by a client that accepts big responses."""
    await catalog_stub.ImportCatalogBundle(
        catalog_service_pb2.ImportCatalogBundleRequest(archive=bundle.to_zip_bytes(content))
    )
    await catalog_stub.PublishCatalog(
        catalog_service_pb2.PublishCatalogRequest(effective_from=stamp(EFFECTIVE))
    )
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}", options=OPTIONS) as channel:
        yield Pricing(pricing_service_pb2_grpc.PricingServiceStub(channel), app.snapshots)


def event(row: dict[str, str], **changes: Any) -> pb.UsageEvent:
    """A generated usage row as mediation sends it."""
    msg = pb.UsageEvent(
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
    for name, value in changes.items():
        if name == "start_time":
            msg.start_time.CopyFrom(stamp(value))
        else:
            setattr(msg, name, value)
    return msg


def in_process(
    snapshots: SnapshotRegistry[SaleCatalog],
    content: CatalogContent,
    rows: Iterable[dict[str, str]],
    pinned: int = 0,
) -> list[RatedRecord]:
    """The same rows rated by the engine directly."""
    businesses = {b.code: b for b in content.businesses()}
    records = [record_from_row(row, businesses) for row in rows]
    if pinned:
        catalog = snapshots.get(VersionNumber(pinned))
        return RatingSession(lambda _start: catalog, CHINA).rate_all(records)
    return RatingSession(lambda start: snapshots.get(AsOf(start)), CHINA).rate_all(records)


def assert_same(results: Sequence[pb.RatedEvent], expected: Sequence[RatedRecord]) -> None:
    """Every result is the engine's, to the nano: status, charge, zone, band, units, rule."""
    assert len(results) == len(expected)
    for result, want in zip(results, expected, strict=True):
        rated = want.rated
        assert result.event_id == want.record.event_id
        if rated.status == "rejected":
            assert (result.status, result.message) == (REJECTED, rated.message)
            continue
        assert result.status == RATED
        assert result.charge == money_to_proto(rated.charge, rated.currency)
        assert (result.zone, result.band) == (rated.zone, rated.band)
        assert result.billed_units == rated.billed
        assert result.allowance_units == sum(rated.allowance_used.values())
        assert result.rule.name == rated.rate
        assert result.rule.location.line == rated.rate_span.line


def counters_of(responses: Iterable[pb.RateResponse]) -> dict[tuple[str, str], bytes]:
    """The last counters each response gave for each pair."""
    found = {}
    for response in responses:
        for pair in response.counters:
            found[(pair.subscriber_id, pair.period)] = pair.SerializeToString(deterministic=True)
    return found


async def test_a_batch_is_rated_as_the_engine_rates_it(
    pricing: Pricing, content: CatalogContent, rows: list[dict[str, str]]
) -> None:
    request = pb.RateRequest(events=[event(row) for row in rows])
    response = await pricing.stub.Rate(request)
    expected = in_process(pricing.snapshots, content, rows)
    assert_same(response.results, expected)
    rated = sum(1 for r in expected if r.rated.status == "rated")
    assert (response.rated_count, response.rejected_count) == (rated, len(rows) - rated)
    assert rated > 0.9 * len(rows)
    assert sum(Decimal(r.charge.units) + Decimal(r.charge.nanos) / 10**9 for r in response.results)
    assert {r.charge.currency_code for r in response.results if r.status == RATED} == {"CNY"}
    subscribers = {row["subscriber_id"] for row in rows}
    assert {(c.subscriber_id, c.period) for c in response.counters} == {
        (s, "2026-03") for s in subscribers
    }
    names = {c.name.split(":")[0] for pair in response.counters for c in pair.counters}
    assert names == {"allowance", "cap"}  # the generated plans: allowances, data caps
    caps = [c for pair in response.counters for c in pair.counters if c.name.startswith("cap:")]
    assert all(c.amount.currency_code == "CNY" and not c.units for c in caps)


async def test_two_requests_handing_the_counters_on_rate_as_one(
    pricing: Pricing, rows: list[dict[str, str]]
) -> None:
    events = [event(row) for row in rows]
    whole = await pricing.stub.Rate(pb.RateRequest(events=events))
    cuts = [0, 1, len(events) - 1, len(events), *random.Random(7).sample(range(2, 1_000), 3)]
    for cut in cuts:
        head = await pricing.stub.Rate(pb.RateRequest(events=events[:cut]))
        tail = await pricing.stub.Rate(pb.RateRequest(events=events[cut:], counters=head.counters))
        assert [*head.results, *tail.results] == list(whole.results), cut
        assert counters_of([head, tail]) == counters_of([whole]), cut
        assert head.rated_count + tail.rated_count == whole.rated_count


async def test_bad_events_are_rejected_with_their_reason_and_the_batch_goes_on(
    pricing: Pricing, content: CatalogContent, rows: list[dict[str, str]]
) -> None:
    voice = next(r for r in rows if r["business_code"] == "local_voice")
    offer, business = pb.REJECTION_REASON_UNKNOWN_OFFER, pb.REJECTION_REASON_UNKNOWN_BUSINESS
    cases = {
        "unknown offer": (event(voice, offer_code="no_such_offer"), offer),
        "unknown business": (event(voice, business_code="telepathy"), business),
        "not rated by the plan": (event(voice, business_code="fixed_line"), business),
        "no zone": (event(voice, destination="5551234"), pb.REJECTION_REASON_NO_RATE),
        "negative duration": (event(voice, duration_ms=-60_000), pb.REJECTION_REASON_MALFORMED),
        "bad destination": (event(voice, destination="abc"), pb.REJECTION_REASON_MALFORMED),
        "before any version": (event(voice, start_time=datetime(2025, 6, 1, tzinfo=UTC)), offer),
    }
    bad = [msg for msg, _ in cases.values()]
    bad.append(pb.UsageEvent(event_id="no start", subscriber_id="s", offer_code=V2_OFFER))
    for index, msg in enumerate(bad):
        msg.event_id = f"bad{index}"
    good = [event(row) for row in rows[:20]]
    response = await pricing.stub.Rate(pb.RateRequest(events=[good[0], *bad, *good[1:]]))
    results = list(response.results)
    rejected = results[1 : 1 + len(bad)]
    wanted = [reason for _, reason in cases.values()] + [pb.REJECTION_REASON_MALFORMED]
    assert [(r.event_id, r.status) for r in rejected] == [(m.event_id, REJECTED) for m in bad]
    assert [r.rejection for r in rejected] == wanted
    messages = dict(zip(cases, (r.message for r in rejected), strict=False))
    assert "no_such_offer" in messages["unknown offer"]
    assert "telepathy" in messages["unknown business"]
    assert "does not rate fixed_line" in messages["not rated by the plan"]
    assert "no zone" in messages["no zone"]
    assert "negative" in messages["negative duration"]
    assert "no catalog version is in force" in messages["before any version"]
    assert rejected[-1].message == "start_time is required"
    assert all(not r.HasField("charge") for r in rejected)
    # which version refused each: none was chosen before any version or without a start
    assert [r.catalog_version for r in rejected] == [1, 1, 1, 1, 1, 1, 0, 0]
    assert {r.catalog_version for r in results if r.status == RATED} == {1}
    expected = in_process(pricing.snapshots, content, rows[:20])
    assert_same([results[0], *results[1 + len(bad) :]], expected)
    rated = sum(r.rated.status == "rated" for r in expected)
    assert (response.rated_count, response.rejected_count) == (rated, len(results) - rated)


async def publish_v2(catalog_stub: CatalogServiceAsyncStub) -> None:
    """Version 2, in force from BOUNDARY: V2_OFFER's national long-distance rate is 9.90."""

    def dearer(text: str) -> str:  # the ld_voice block is the second: national costs 9.90
        head, ld, tail = re.split(r"(  usage ld_voice \{.*?\n  \})", text, flags=re.S)
        ld = re.sub(r"rate national \*: [0-9.]+ per minute increments 60s", V2_PRICE, ld)
        return head + ld + tail

    await publish_edited(catalog_stub, V2_OFFER, dearer, BOUNDARY)


async def test_a_later_version_rates_events_after_its_start_unless_pinned(
    pricing: Pricing, catalog_stub: CatalogServiceAsyncStub, rows: list[dict[str, str]]
) -> None:
    await publish_v2(catalog_stub)
    call = {**rows[0], "offer_code": V2_OFFER, "business_code": "ld_voice"}
    before = event(call, event_id="before", destination="02012345678", duration_ms=120_000,
                   start_time=BOUNDARY - timedelta(hours=1))  # fmt: skip
    after = event(call, event_id="after", destination="02012345678", duration_ms=120_000,
                  start_time=BOUNDARY + timedelta(hours=1))  # fmt: skip

    async def charges(selector: common_pb2.VersionSelector | None = None) -> list[str]:
        """Each result's charge and the version it says rated it."""
        request = pb.RateRequest(events=[before, after], selector=selector)
        response = await pricing.stub.Rate(request)
        assert all(r.status == RATED and r.zone == "national" for r in response.results)
        return [
            f"{r.charge.units}.{r.charge.nanos:09d} v{r.catalog_version}" for r in response.results
        ]

    v1, v2 = "0.300000000 v1", "19.800000000 v2"  # two minutes at 0.15 and at 9.90
    assert await charges() == [v1, v2]  # each event by the version in force
    pinned_v1 = common_pb2.VersionSelector(version=1)
    assert await charges(pinned_v1) == [v1, v1]  # rerating on version 1
    assert await charges(common_pb2.VersionSelector(version=2)) == [v2, v2]
    as_of = common_pb2.VersionSelector(as_of=stamp(BOUNDARY - timedelta(days=1)))
    assert await charges(as_of) == [v1, v1]
    later = common_pb2.VersionSelector(as_of=stamp(BOUNDARY + timedelta(days=1)))
    assert await charges(later) == [v2, v2]
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await charges(common_pb2.VersionSelector(version=9))
    assert missing.value.code() is grpc.StatusCode.NOT_FOUND


async def test_a_stream_carries_counters_from_batch_to_batch(
    pricing: Pricing, content: CatalogContent, rows: list[dict[str, str]]
) -> None:
    events = [event(row) for row in rows]
    cuts = [0, 300, 301, 800, len(events)]
    batches = [events[a:b] for a, b in itertools.pairwise(cuts)]

    async def requests() -> AsyncIterator[pb.RateStreamRequest]:
        for number, batch in enumerate(batches):
            yield pb.RateStreamRequest(batch_id=f"b{number}", batch=pb.RateRequest(events=batch))

    responses = [r async for r in pricing.stub.RateStream(requests())]
    assert [r.batch_id for r in responses] == [f"b{n}" for n in range(len(batches))]
    assert [len(r.result.results) for r in responses] == [len(b) for b in batches]
    whole = await pricing.stub.Rate(pb.RateRequest(events=events))
    assert [x for r in responses for x in r.result.results] == list(whole.results)
    assert counters_of(r.result for r in responses) == counters_of([whole])
    touched = {(e.subscriber_id, "2026-03") for e in batches[1]}
    assert {(c.subscriber_id, c.period) for c in responses[1].result.counters} == touched


async def test_counters_sent_in_a_stream_replace_the_carried_ones(
    pricing: Pricing, content: CatalogContent, rows: list[dict[str, str]]
) -> None:
    first, second = rows[:600], rows[600:]
    talker = next(r["subscriber_id"] for r in second if r["business_code"] == "local_voice")
    whole = await pricing.stub.Rate(pb.RateRequest(events=[event(r) for r in rows]))
    [pair] = [p for p in whole.counters if p.subscriber_id == talker]
    plan_voice = next(c.name for c in pair.counters if c.name.endswith("_voice"))
    spent = pb.SubscriberCounters(
        subscriber_id=talker,
        period="2026-03",
        counters=[pb.UsageCounter(name=plan_voice, units=10**9)],  # the allowance used up
    )

    async def requests() -> AsyncIterator[pb.RateStreamRequest]:
        batch = pb.RateRequest(events=[event(r) for r in first])
        yield pb.RateStreamRequest(batch_id="1", batch=batch)
        batch = pb.RateRequest(events=[event(r) for r in second], counters=[spent])
        yield pb.RateStreamRequest(batch_id="2", batch=batch)

    _, later = [r async for r in pricing.stub.RateStream(requests())]
    session = RatingSession(lambda start: pricing.snapshots.get(AsOf(start)), CHINA)
    businesses = {b.code: b for b in content.businesses()}
    session.rate_all(record_from_row(r, businesses) for r in first)
    expected = RatingSession(
        session.versions,
        CHINA,
        {**session.counters, (talker, "2026-03"): Counters({plan_voice: 10**9})},
    ).rate_all(record_from_row(r, businesses) for r in second)
    assert_same(later.result.results, expected)
    local = [
        r for r, row in zip(later.result.results, second, strict=True)
        if row["subscriber_id"] == talker and r.zone == "local" and r.billed_units
    ]  # fmt: skip
    assert local
    assert all(r.allowance_units == 0 for r in local)


async def invalid(call: Any) -> dict[str, str]:
    """The field violations of an INVALID_ARGUMENT call."""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT, caught.value.details()
    status = rpc_status.from_call(caught.value)  # type: ignore[arg-type]
    assert status is not None
    bad = error_details_pb2.BadRequest()
    assert any(d.Unpack(bad) for d in status.details)
    return {v.field: v.description for v in bad.field_violations}


async def test_request_problems_are_field_violations(pricing: Pricing) -> None:
    too_many = pb.RateRequest(events=[pb.UsageEvent()] * (MAX_EVENTS + 1))
    assert await invalid(pricing.stub.Rate(too_many)) == {
        "events": f"at most {MAX_EVENTS:,} events per call: send more as batches of a RateStream"
    }
    pair = pb.SubscriberCounters(subscriber_id="s1", period="2026-03")
    broken = pb.UsageCounter(name="cap:mobile_data[1]")
    broken.amount.currency_code = "CNY"
    broken.amount.nanos = 2_000_000_000
    twice = pb.RateRequest(
        counters=[pair, pair, pb.SubscriberCounters(subscriber_id="s2", period="2026-03",
                                                    counters=[broken])],
        selector=common_pb2.VersionSelector(draft=True),
    )  # fmt: skip
    assert await invalid(pricing.stub.Rate(twice)) == {
        "counters[1]": "subscriber 's1' in 2026-03 is also counters[0]",
        "counters[2].counters[0].amount.nanos": "must be within -999999999..999999999",
        "selector": "rating reads published versions: rate a draft with Simulate",
    }


async def test_a_bad_batch_ends_the_stream_after_the_good_ones(
    pricing: Pricing, rows: list[dict[str, str]]
) -> None:
    pair = pb.SubscriberCounters(subscriber_id="s1", period="March")

    async def requests() -> AsyncIterator[pb.RateStreamRequest]:
        yield pb.RateStreamRequest(batch_id="ok", batch=pb.RateRequest(events=[event(rows[0])]))
        yield pb.RateStreamRequest(batch_id="bad", batch=pb.RateRequest(counters=[pair]))

    call = pricing.stub.RateStream(requests())
    first = await call.read()
    assert isinstance(first, pb.RateStreamResponse)
    assert first.batch_id == "ok"
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call.read()
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "batch 'bad' is invalid" in (caught.value.details() or "")
    assert "batch.counters[0].period" in (caught.value.details() or "")


async def test_a_deadline_shorter_than_a_huge_batch_is_deadline_exceeded(
    pricing: Pricing, rows: list[dict[str, str]]
) -> None:
    events = [event(row, event_id=f"{n}") for n, row in enumerate(rows * 34)]  # ~40,000
    request = pb.RateRequest(events=events)
    started = time.perf_counter()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await pricing.stub.Rate(request, timeout=0.2)
    waited = time.perf_counter() - started
    assert caught.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
    assert waited < 1.5  # rating it all takes several seconds here
    small = await pricing.stub.Rate(pb.RateRequest(events=events[:10]), timeout=5)  # still serves
    assert len(small.results) == 10
