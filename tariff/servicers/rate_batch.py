"""PricingService.RateBatch: a columnar batch (Arrow IPC) rated by the columnar engine.

The bulk path for mediation and billing: no per-event protobuf objects either way. The
events are vetted from the IPC metadata before decoding (tariff.arrow_wire), their columns
read by meaning (tariff.usage_arrow), then rated exactly as `tariff rate` rates a file:
rows in the order sent, through `tariff.rate_columns` and `rules.columnar` in slices of
`SLICE_ROWS` with the counters carried from slice to slice. The rating runs on a worker
thread, not the event loop: a 100k-row batch is a few hundred milliseconds of work (much of
it numpy, which lets the GIL go), and other calls go on meanwhile; a call whose deadline
passes is answered DEADLINE_EXCEEDED at once while its thread finishes that bounded work.
Which version rates an event follows Rate: the one in force at its start unless the
selector pins one. A row that cannot be read is rejected `malformed` in its place; only a
batch that cannot be read at all (not an IPC stream, a missing or mistyped column, too many
rows) fails the call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
import pyarrow.compute as pc  # type: ignore[import-untyped, unused-ignore]

from catalog.model import Business
from catalog.snapshot import InForce, SnapshotRegistry
from catalog.versions import AsOf, VersionNumber
from dsl.eval_usage import Counters
from rules.columnar import Versions, rate_columns
from rules.rating import CounterKey
from rules.sale_catalog import SaleCatalog
from tariff.arrow_wire import StreamError, read_stream, write_stream
from tariff.counter_tables import CounterTableError, counters_from_table, counters_table
from tariff.mappers.common import Problems, published_selector_from_proto
from tariff.rate_columns import read_chunk, result_arrays
from tariff.rate_files import RESULT_SCHEMA, Chunk
from tariff.servicers.rating import ResponseTooLarge
from tariff.usage_arrow import usage_batch
from tariff.v1 import pricing_service_pb2 as pb

#: Rows rated by one call of the columnar engine: its fixed cost per call is high (a 100k
#: batch in 8k slices takes 3x as long as in one), so a whole batch at the default limit.
SLICE_ROWS = 100_000
#: The default most rows one RateBatch call may carry (TARIFF_MAX_BATCH_ROWS).
MAX_BATCH_ROWS = 100_000
#: Most counter rows one call may carry: a few per subscriber of a full batch.
MAX_COUNTER_ROWS = 1_000_000
RESULTS_SCHEMA = pa.schema([pa.field("event_id", pa.string()), *RESULT_SCHEMA])


@dataclass(frozen=True, slots=True)
class _Request:
    events: pa.RecordBatch
    counters: dict[CounterKey, Counters]
    versions: Versions
    businesses: Mapping[str, Business]


def _businesses(*catalogs: SaleCatalog) -> dict[str, Business]:
    """Which quantity column each business reads (the first catalog wins a conflict)."""
    found: dict[str, Business] = {}
    for catalog in reversed(catalogs):
        found.update(catalog.businesses)
    return found


def _versions(
    registry: SnapshotRegistry[SaleCatalog], selector: AsOf | VersionNumber | None, now: datetime
) -> tuple[Versions, dict[str, Business]]:
    """The engine's version choice, and the businesses rows are read against: those of the
    pinned version, else of the newest version and of the one in force now. Raises
    NotFound for a pinned version that does not exist."""
    if selector is not None:
        pinned = registry.get(selector)
        return Versions(lambda _start: pinned), _businesses(pinned)
    in_force = InForce(registry)
    timeline = registry.timeline
    held = [v for v in (timeline.latest(), timeline.in_force(now)) if v is not None]
    catalogs = [registry.get(VersionNumber(v.number)) for v in held]
    return Versions(in_force, in_force.edges), _businesses(*catalogs)


def _request(
    registry: SnapshotRegistry[SaleCatalog],
    request: pb.RateBatchRequest,
    now: datetime,
    max_rows: int,
) -> _Request:
    problems = Problems()
    events = pa.RecordBatch.from_arrays([], names=[])
    try:
        table = read_stream(request.events, max_rows, "events") if request.events else None
    except StreamError as error:
        problems.add("events", str(error))
        table = None
    if table is not None:
        events, columns = usage_batch(table)
        for problem in columns:
            problems.add("events", problem.message)
    counters: dict[CounterKey, Counters] = {}
    if request.counters:
        try:
            counters = counters_from_table(
                read_stream(request.counters, MAX_COUNTER_ROWS, "counter rows")
            )
        except (StreamError, CounterTableError) as error:
            problems.add("counters", str(error))
    selector = None
    if request.selector.WhichOneof("selector") == "draft":
        problems.add("selector", "rating reads published versions: rate a draft with Simulate")
    else:
        selector = published_selector_from_proto(request.selector, "selector", problems)
    problems.check()
    versions, businesses = _versions(registry, selector, now)
    return _Request(events, counters, versions, businesses)


def _answer(results: list[pa.Table], counters: pa.Table, max_bytes: int) -> pb.RateBatchResponse:
    table = pa.concat_tables(results) if results else RESULTS_SCHEMA.empty_table()
    response = pb.RateBatchResponse(
        results=write_stream(table), counters=write_stream(counters) if counters.num_rows else b""
    )
    rejected = table.filter(pc.equal(table.column("status"), "rejected")).column("rejection")
    for tally in pc.value_counts(rejected).to_pylist():
        response.rejected_by_reason[tally["values"]] = tally["counts"]
    response.rated_count = table.num_rows - len(rejected)
    response.rejected_count = len(rejected)
    size = response.ByteSize()
    if size > max_bytes:
        raise ResponseTooLarge(size, max_bytes, table.num_rows)
    return response


def _rate(batch: _Request, tz: tzinfo) -> tuple[list[pa.Table], pa.Table]:
    """Rate the batch in order, a slice at a time, the counters carried between slices."""
    events = batch.events
    counters = dict(batch.counters)
    touched: set[CounterKey] = set(counters)
    results: list[pa.Table] = []
    for low in range(0, events.num_rows, SLICE_ROWS):  # bounded by max_rows
        part = events.slice(low, SLICE_ROWS)
        read = read_chunk(Chunk(part, {}, None), batch.businesses)
        found = rate_columns(read.columns, batch.versions, tz, counters)
        counters.update(found.counters)
        touched |= found.counters.keys()
        arrays: list[Any] = [part.column(0), *result_arrays(read, found, part.num_rows)]
        results.append(pa.Table.from_arrays(arrays, schema=RESULTS_SCHEMA))
    return results, counters_table(counters, touched)


async def rate_arrow(
    registry: SnapshotRegistry[SaleCatalog],
    request: pb.RateBatchRequest,
    now: datetime,
    tz: tzinfo,
    max_rows: int = MAX_BATCH_ROWS,
    max_bytes: int = 4 * 1024 * 1024,
) -> pb.RateBatchResponse:
    """RateBatch (module docstring). Raises ValidationError for a batch that cannot be
    read, NotFound for a pinned version that does not exist, ResponseTooLarge for an answer
    over `max_bytes`."""
    batch = _request(registry, request, now, max_rows)
    results, counters = await asyncio.to_thread(_rate, batch, tz)
    return _answer(results, counters, max_bytes)
