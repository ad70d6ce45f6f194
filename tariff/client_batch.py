"""RateBatch from Python: a pyarrow Table (or a pandas DataFrame) of usage events in, the
same rows with the rating columns appended out, plus the counters after them.

    from tariff.client import RatingClient

    with RatingClient.connect("127.0.0.1:50051") as client:
        rated, counters = client.rate_table(events, counters=stored)

A table longer than one call takes (`max_rows`, the server's TARIFF_MAX_BATCH_ROWS) is sent
in contiguous slices, in order, each carrying the latest counters of the subscribers it has
events for — the counters given, or returned by an earlier slice — so the merged answer is
what one call without the limit answers. The requests go uncompressed Arrow under gRPC's gzip
(the server refuses IPC-compressed requests: tariff.arrow_wire); answers come back ZSTD.
"""

from __future__ import annotations

from typing import Any

import grpc
import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
import pyarrow.compute as pc  # type: ignore[import-untyped, unused-ignore]

from tariff.arrow_wire import write_stream
from tariff.counter_tables import COUNTERS_SCHEMA
from tariff.v1 import common_pb2
from tariff.v1 import pricing_service_pb2 as pb

#: The server's default TARIFF_MAX_BATCH_ROWS.
MAX_BATCH_ROWS = 100_000
_KEY = ["subscriber_id", "period", "counter"]


def as_table(events: Any) -> pa.Table:
    """A pyarrow Table, or anything with `__arrow_c_stream__` / a pandas DataFrame."""
    if isinstance(events, pa.Table):
        return events
    if isinstance(events, pa.RecordBatch):
        return pa.Table.from_batches([events])
    if hasattr(events, "__arrow_c_stream__"):
        return pa.table(events)
    return pa.Table.from_pandas(events, preserve_index=False)


def _read(data: bytes, schema: pa.Schema) -> pa.Table:
    if not data:
        return schema.empty_table()
    return pa.ipc.open_stream(pa.py_buffer(data)).read_all()


def _latest(state: pa.Table, answer: pa.Table) -> pa.Table:
    """`state` with the counters `answer` returned replacing theirs, by (subscriber, period)."""
    if not answer.num_rows:
        return state
    pairs = pc.binary_join_element_wise(answer["subscriber_id"], answer["period"], "\x00")
    mine = pc.binary_join_element_wise(state["subscriber_id"], state["period"], "\x00")
    kept = state.filter(pc.invert(pc.is_in(mine, value_set=pc.unique(pairs))))
    return pa.concat_tables([kept, answer.select(COUNTERS_SCHEMA.names).cast(COUNTERS_SCHEMA)])


def rate_table(
    stub: Any,
    events: Any,
    counters: Any = None,
    *,
    selector: common_pb2.VersionSelector | None = None,
    max_rows: int = MAX_BATCH_ROWS,
    timeout: float | None = 60.0,
) -> tuple[pa.Table, pa.Table]:
    """(the events with the rating columns, the counters after them: every (subscriber,
    period) given or rated, sorted). Raises grpc.RpcError as the server refuses a call."""
    if max_rows < 1:
        raise ValueError("max_rows must be positive")
    table = as_table(events)
    state = COUNTERS_SCHEMA.empty_table() if counters is None else as_table(counters)
    state = state.select(COUNTERS_SCHEMA.names).cast(COUNTERS_SCHEMA)
    pieces: list[pa.Table] = []
    low = 0
    while low < table.num_rows or not pieces:  # one call at least: the server judges it all
        part = table.slice(low, max_rows)
        theirs = state
        if table.num_rows:
            wanted = pc.unique(part["subscriber_id"].cast(pa.string()))
            theirs = state.filter(pc.is_in(state["subscriber_id"], value_set=wanted))
        request = pb.RateBatchRequest(
            events=write_stream(part, compression=None),
            counters=write_stream(theirs, compression=None) if theirs.num_rows else b"",
        )
        if selector is not None:
            request.selector.CopyFrom(selector)
        answer = stub.RateBatch(request, timeout=timeout, compression=grpc.Compression.Gzip)
        rated = _read(answer.results, pa.schema([]))
        state = _latest(state, _read(answer.counters, COUNTERS_SCHEMA))
        names = rated.column_names[1:]  # the rating columns, after event_id
        columns = [*part.columns, *(rated.column(n) for n in names)]
        pieces.append(pa.Table.from_arrays(columns, names=[*part.column_names, *names]))
        low += max(part.num_rows, 1)
    order = [(name, "ascending") for name in _KEY]
    return pa.concat_tables(pieces), state.sort_by(order)
