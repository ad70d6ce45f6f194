"""tariff.arrow_wire: a request's IPC stream is judged from its metadata before decoding,
and whatever bytes arrive, the answer is a StreamError, never another exception."""

from __future__ import annotations

import contextlib

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tariff.arrow_wire import StreamError, declared_rows, read_stream, write_stream

TABLE = pa.table({"event_id": [f"E{i}" for i in range(100)], "n": list(range(100))})


def test_rows_are_counted_from_the_metadata_across_batches() -> None:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, TABLE.schema) as writer:
        for part in (TABLE.slice(0, 30), TABLE.slice(30, 70)):
            writer.write_table(part)
    data = sink.getvalue().to_pybytes()
    assert declared_rows(data, 100, "events") == 100
    with pytest.raises(StreamError, match="more than 99 events in one call"):
        declared_rows(data, 99, "events")
    assert read_stream(data, 100, "events").equals(TABLE)


@pytest.mark.parametrize("codec", ["zstd", "lz4"])
def test_compressed_bodies_are_refused_before_decoding(codec: str) -> None:
    with pytest.raises(StreamError, match="compressed IPC buffers are not accepted"):
        read_stream(write_stream(TABLE, codec), 1_000, "events")


def test_an_answer_round_trips_compressed() -> None:
    assert pa.ipc.open_stream(write_stream(TABLE)).read_all().equals(TABLE)


@given(st.binary(max_size=300))
def test_any_bytes_are_a_stream_or_a_stream_error(data: bytes) -> None:
    with contextlib.suppress(StreamError):
        read_stream(data, 1_000, "events")


@given(st.integers(min_value=0, max_value=2_000), st.binary(min_size=1, max_size=8))
def test_a_damaged_stream_is_a_stream_error(at: int, junk: bytes) -> None:
    data = bytearray(write_stream(TABLE, None))
    at %= len(data)
    data[at : at + len(junk)] = junk
    with contextlib.suppress(StreamError):
        read_stream(bytes(data), 1_000, "events")
