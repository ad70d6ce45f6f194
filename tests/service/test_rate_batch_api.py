"""PricingService.RateBatch through a real server on 127.0.0.1: the generated catalog and
usage of test_rating_api.py sent as one Arrow table, every answer held to what Rate answers
for the same events (to the nano, with the same counters), typed columns read by meaning,
the Python client's slicing equal to one call, and batches that cannot be read refused with
a field violation and nothing rated."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import grpc
import pyarrow as pa
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from tariff.arrow_wire import write_stream
from tariff.client_batch import MAX_BATCH_ROWS, rate_table
from tariff.counter_tables import COUNTERS_SCHEMA
from tariff.gen.usage import USAGE_HEADER
from tariff.mappers.money import money_text
from tariff.mappers.usage import REJECTIONS
from tariff.ops.metrics import METRICS
from tariff.v1 import common_pb2, pricing_service_pb2_grpc
from tariff.v1 import pricing_service_pb2 as pb
from tests.service import test_rating_api as rating_api
from tests.service.test_rating_api import BOUNDARY, OPTIONS, V2_OFFER, Pricing, event, publish_v2

if TYPE_CHECKING:
    from tariff.v1.catalog_service_pb2_grpc import CatalogServiceAsyncStub

REJECTED = pb.RATING_STATUS_REJECTED
# the server, catalog and usage of Rate's tests
app, content, rows, pricing = (
    rating_api.app,
    rating_api.content,
    rating_api.rows,
    rating_api.pricing,
)


def text_table(rows: Iterable[dict[str, str]]) -> pa.Table:
    """Rows as a usage file holds them: every column text."""
    listed = list(rows)
    return pa.table(
        {name: pa.array([r[name] for r in listed], pa.string()) for name in USAGE_HEADER}
    )


def typed_table(rows: Iterable[dict[str, str]]) -> pa.Table:
    """The same rows as a billing system's typed frame: zoned timestamps, integers, a bool."""
    listed = list(rows)
    table = text_table(listed)
    starts = [datetime.fromisoformat(r["start_time"]) for r in listed]
    typed: dict[str, Any] = {
        "start_time": pa.array(starts, pa.timestamp("us", tz="Asia/Shanghai")),
        "duration_ms": pa.array([int(r["duration_ms"]) for r in listed], pa.int64()),
        "volume_bytes": pa.array([int(r["volume_bytes"]) for r in listed], pa.int64()),
        "count": pa.array([int(r["count"]) for r in listed], pa.int32()),
        "roaming": pa.array([r["roaming"] == "true" for r in listed], pa.bool_()),
    }
    for name, column in typed.items():
        table = table.set_column(table.column_names.index(name), name, column)
    return table


async def rate_batch(
    pricing: Pricing, table: pa.Table, counters: pa.Table | None = None, **selector: Any
) -> tuple[pa.Table, pa.Table, pb.RateBatchResponse]:
    request = pb.RateBatchRequest(events=write_stream(table, compression=None))
    if counters is not None and counters.num_rows:
        request.counters = write_stream(counters, compression=None)
    if selector:
        request.selector.CopyFrom(common_pb2.VersionSelector(**selector))
    answer = await pricing.stub.RateBatch(request)
    results = pa.ipc.open_stream(answer.results).read_all()
    out = pa.ipc.open_stream(answer.counters).read_all() if answer.counters else None
    return results, out if out is not None else COUNTERS_SCHEMA.empty_table(), answer


def counters_by_key(response: pb.RateResponse) -> dict[tuple[str, str, str], Decimal]:
    """Rate's counters in RateBatch's layout (units for allowances, amounts for money)."""
    found = {}
    for pair in response.counters:
        for counter in pair.counters:
            units = counter.name.startswith(("allowance:", "tier:"))
            value = Decimal(counter.units) if units else Decimal(money_text(counter.amount))
            found[(pair.subscriber_id, pair.period, counter.name)] = value
    return found


def table_counters(table: pa.Table) -> dict[tuple[str, str, str], Decimal]:
    return {
        (s, p, c): Decimal(v)
        for s, p, c, v in zip(
            *(table.column(n).to_pylist() for n in COUNTERS_SCHEMA.names), strict=True
        )
    }


def rated_metric(status: str, reason: str) -> float:
    value = METRICS.registry.get_sample_value(
        "tariff_rated_events_total", {"status": status, "reason": reason}
    )
    return value or 0.0


def assert_as_rate(results: pa.Table, expected: pb.RateResponse) -> None:
    """Each row is Rate's result for the same event: status, reason, charge to the nano, zone,
    band, units, version."""
    found = results.to_pylist()
    assert len(found) == len(expected.results)
    for row, want in zip(found, expected.results, strict=True):
        assert row["event_id"] == want.event_id
        if want.status == REJECTED:
            assert row["status"] == "rejected", row
            assert REJECTIONS[row["rejection"]] == want.rejection, (row, want)
            if want.rejection != pb.REJECTION_REASON_MALFORMED:  # read before a version is
                assert row["catalog_version"] == want.catalog_version, row  # chosen
            continue
        assert row["catalog_version"] == want.catalog_version, row
        assert row["status"] == "rated", (row, want)
        assert Decimal(row["charge"]) == Decimal(money_text(want.charge)), row
        assert row["currency"] == want.charge.currency_code
        assert (row["zone"], row["band"]) == (want.zone, want.band)
        assert (row["billed_units"], row["allowance_units"]) == (
            want.billed_units,
            want.allowance_units,
        )
        assert row["rate"] == want.rule.name


async def test_a_table_is_rated_as_rate_rates_the_same_events(
    pricing: Pricing, catalog_stub: CatalogServiceAsyncStub, rows: list[dict[str, str]]
) -> None:
    await publish_v2(catalog_stub)  # the month crosses a version boundary
    call = {**rows[0], "offer_code": V2_OFFER, "business_code": "ld_voice"}
    crossing = [
        {
            **call,
            "event_id": name,
            "destination": "02012345678",
            "duration_ms": "120000",
            "start_time": (BOUNDARY + timedelta(hours=hours)).isoformat(),
        }
        for name, hours in (("before", -1), ("after", 1))
    ]
    broken = [
        {**rows[1], "event_id": "no-offer", "offer_code": "no_such_offer"},
        {**rows[2], "event_id": "bad-start", "start_time": "yesterday"},
        {**rows[3], "event_id": "negative", "duration_ms": "-5"},
        {**rows[4], "event_id": "early", "start_time": "2025-06-01T00:00:00Z"},
    ]
    mixed = [*rows[:600], *crossing, *broken, *rows[600:]]
    before = rated_metric("rated", ""), rated_metric("rejected", "malformed")
    results, counters, answer = await rate_batch(pricing, text_table(mixed))
    after = rated_metric("rated", ""), rated_metric("rejected", "malformed")
    assert after[0] - before[0] == answer.rated_count  # /metrics counts RateBatch's events
    assert after[1] - before[1] == answer.rejected_by_reason["malformed"]
    expected = await pricing.stub.Rate(
        pb.RateRequest(events=[event(r) for r in mixed if r["event_id"] != "bad-start"])
    )
    kept = results.filter(pa.compute.not_equal(results.column("event_id"), "bad-start"))
    assert_as_rate(kept, expected)
    by_id = {r["event_id"]: r for r in results.to_pylist()}
    assert (by_id["before"]["catalog_version"], by_id["after"]["catalog_version"]) == (1, 2)
    assert by_id["bad-start"]["rejection"] == "malformed"
    assert "start_time" in by_id["bad-start"]["message"]
    assert table_counters(counters) == counters_by_key(expected)
    assert (answer.rated_count, answer.rejected_count) == (
        expected.rated_count,
        expected.rejected_count + 1,
    )
    assert sum(answer.rejected_by_reason.values()) == answer.rejected_count
    assert answer.rejected_by_reason["malformed"] >= 2

    pinned, _, _ = await rate_batch(pricing, text_table(crossing), version=1)
    assert pinned.column("catalog_version").to_pylist() == [1, 1]
    assert pinned.column("charge").to_pylist() == ["0.30", "0.30"]  # two minutes at 0.15


async def test_typed_columns_are_read_by_their_meaning(
    pricing: Pricing, rows: list[dict[str, str]]
) -> None:
    as_text, _, _ = await rate_batch(pricing, text_table(rows[:300]))
    as_types, _, _ = await rate_batch(pricing, typed_table(rows[:300]))
    assert as_types.equals(as_text)
    dictionary = text_table(rows[:300])
    codes = dictionary.column("offer_code").combine_chunks().dictionary_encode()
    dictionary = dictionary.set_column(2, "offer_code", codes)
    as_codes, _, _ = await rate_batch(pricing, dictionary)
    assert as_codes.equals(as_text)


async def test_counters_handed_on_rate_two_tables_as_one(
    pricing: Pricing, rows: list[dict[str, str]]
) -> None:
    whole, whole_counters, _ = await rate_batch(pricing, text_table(rows))
    head, head_counters, _ = await rate_batch(pricing, text_table(rows[:500]))
    tail, tail_counters, _ = await rate_batch(pricing, text_table(rows[500:]), head_counters)
    assert pa.concat_tables([head, tail]).equals(whole)
    merged = {**table_counters(head_counters), **table_counters(tail_counters)}
    assert merged == table_counters(whole_counters)


async def test_the_client_slices_a_table_and_merges_the_answers(
    pricing: Pricing, running: Any, rows: list[dict[str, str]]
) -> None:
    def both() -> tuple[tuple[pa.Table, pa.Table], tuple[pa.Table, pa.Table]]:
        with grpc.insecure_channel(f"127.0.0.1:{running.port}", options=OPTIONS) as channel:
            stub = pricing_service_pb2_grpc.PricingServiceStub(channel)
            whole = rate_table(stub, text_table(rows), max_rows=len(rows))
            return whole, rate_table(stub, text_table(rows), max_rows=97)

    (one, one_counters), (sliced, sliced_counters) = await asyncio.to_thread(both)  # own loop
    assert sliced.equals(one)
    assert sliced_counters.equals(one_counters)
    assert sliced.column_names == [*USAGE_HEADER, *one.column_names[len(USAGE_HEADER) :]]
    assert one.num_rows == len(rows)
    assert "rated" in one.column("status").to_pylist()


def violations(error: grpc.aio.AioRpcError) -> dict[str, str]:
    status = rpc_status.from_call(error)  # type: ignore[arg-type]  # an aio call has them too
    assert status is not None
    found = {}
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            found.update({v.field: v.description for v in bad.field_violations})
    return found


@pytest.mark.parametrize(
    ("case", "field", "says"),
    [
        ("not arrow", "events", "not an Arrow IPC stream"),
        ("destination as a number", "events", "'destination' is double; wanted string"),
        ("naive start", "events", "timestamp with a time zone"),
        ("no subscriber column", "events", "no 'subscriber_id' column"),
        ("compressed", "events", "compressed IPC buffers are not accepted"),
        ("bad counter", "counters", "is not a whole number"),
        ("draft", "selector", "rate a draft with Simulate"),
    ],
)
async def test_a_batch_that_cannot_be_read_is_refused(
    pricing: Pricing, rows: list[dict[str, str]], case: str, field: str, says: str
) -> None:
    table = text_table(rows[:20])
    request = pb.RateBatchRequest(events=write_stream(table, compression=None))
    if case == "not arrow":
        request.events = b"event_id,subscriber_id\n1,2\n"
    elif case == "destination as a number":
        numbers = pa.array([float(r["destination"] or 0) for r in rows[:20]], pa.float64())
        request.events = write_stream(table.set_column(9, "destination", numbers), None)
    elif case == "naive start":
        naive = pa.array([datetime(2026, 3, 2, 10, 0)] * 20, pa.timestamp("us"))
        request.events = write_stream(table.set_column(4, "start_time", naive), None)
    elif case == "no subscriber column":
        request.events = write_stream(table.drop_columns(["subscriber_id"]), None)
    elif case == "compressed":
        request.events = write_stream(table, "zstd")
    elif case == "bad counter":
        bad = pa.table(
            [pa.array([rows[0]["subscriber_id"]]), pa.array(["2026-03"]),
             pa.array(["allowance:x"]), pa.array(["1.5"])], schema=COUNTERS_SCHEMA
        )  # fmt: skip
        request.counters = write_stream(bad, None)
    elif case == "draft":
        request.selector.draft = True
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await pricing.stub.RateBatch(request)
    assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    found = violations(refused.value)
    assert says in found[field], found


async def test_an_empty_batch_answers_empty_and_a_missing_version_is_not_found(
    pricing: Pricing,
) -> None:
    answer = await pricing.stub.RateBatch(pb.RateBatchRequest())
    assert pa.ipc.open_stream(answer.results).read_all().num_rows == 0
    assert (answer.rated_count, answer.rejected_count) == (0, 0)
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await pricing.stub.RateBatch(
            pb.RateBatchRequest(selector=common_pb2.VersionSelector(version=9))
        )
    assert missing.value.code() is grpc.StatusCode.NOT_FOUND


async def test_more_rows_than_the_limit_are_refused_and_nothing_is_rated(
    pricing: Pricing, rows: list[dict[str, str]]
) -> None:
    over = MAX_BATCH_ROWS + 1  # the server's default TARIFF_MAX_BATCH_ROWS, plus one
    table = text_table(rows[:1])
    table = table.take(pa.array([0] * over))
    request = pb.RateBatchRequest(events=write_stream(table, compression=None))
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await pricing.stub.RateBatch(request, compression=grpc.Compression.Gzip)
    assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert f"more than {MAX_BATCH_ROWS:,} events" in violations(refused.value)["events"]
    _, counters, _ = await rate_batch(pricing, text_table(rows[:1]))
    assert table_counters(counters)  # the refused call left no counters behind: none are kept


async def test_other_calls_are_answered_while_a_big_batch_is_rated(
    pricing: Pricing, rows: list[dict[str, str]]
) -> None:
    table = text_table(rows)
    big = table.take(pa.array([i % len(rows) for i in range(MAX_BATCH_ROWS)]))
    request = pb.RateBatchRequest(events=write_stream(big, compression=None))
    batch = asyncio.ensure_future(pricing.stub.RateBatch(request))
    await asyncio.sleep(0.05)  # the batch is being read and rated now
    small = await pricing.stub.Rate(pb.RateRequest(events=[event(rows[0])]))
    assert small.rated_count == 1
    assert not batch.done()  # the small call did not wait for the batch
    answer = await batch
    assert answer.rated_count + answer.rejected_count == MAX_BATCH_ROWS
