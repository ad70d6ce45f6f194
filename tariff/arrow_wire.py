"""Arrow IPC streams on the wire (RateBatch): what the server accepts and what it sends.

A request's stream is checked message by message *before* anything is decoded, from the
IPC metadata alone (Arrow's flatbuffer `Message` → `RecordBatch`): the rows it declares
must stay within the call's limit, and its bodies must not be compressed. An uncompressed
body decodes to about its own size, which gRPC already bounds (TARIFF_MAX_MESSAGE_BYTES);
a compressed one could decode to gigabytes from a few megabytes, so callers compress the
transport instead (gRPC's gzip, whose decoded size gRPC bounds too). Answers are written
with ZSTD-compressed buffers: the server chose their size, and they are ~4x smaller.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
import pyarrow.ipc as ipc  # type: ignore[import-untyped, unused-ignore]

#: Flatbuffer union tags of `MessageHeader` (Arrow's Message.fbs).
_DICTIONARY_BATCH, _RECORD_BATCH = 2, 3


class StreamError(ValueError):
    """Bytes that are not an Arrow IPC stream this server reads (the message says why)."""


@dataclass(frozen=True, slots=True)
class _Header:
    kind: int
    rows: int  # a record batch's declared length (0 for other messages)
    compressed: bool


def _read(kind: str, meta: bytes, at: int) -> int:
    """The number of struct `kind` at `at`; IndexError outside the metadata (Python would
    read a negative offset from the end)."""
    if at < 0 or at + struct.calcsize(kind) > len(meta):
        raise IndexError(f"metadata offset {at} out of range")
    return int(struct.unpack_from(kind, meta, at)[0])


def _field(meta: bytes, table: int, index: int) -> int:
    """Where field `index` of the flatbuffer table at `table` lies, 0 if absent."""
    vtable = table - _read("<i", meta, table)
    size = _read("<H", meta, vtable)
    if 4 + 2 * index >= size:
        return 0
    offset = _read("<H", meta, vtable + 4 + 2 * index)
    return table + offset if offset else 0


def _table_at(meta: bytes, where: int) -> int:
    return where + _read("<I", meta, where)


def _header(meta: bytes) -> _Header:
    message = _table_at(meta, 0)
    kind_at = _field(meta, message, 1)
    kind = _read("<B", meta, kind_at) if kind_at else 0
    header_at = _field(meta, message, 2)
    if kind not in (_DICTIONARY_BATCH, _RECORD_BATCH) or not header_at:
        return _Header(kind, 0, False)
    batch = _table_at(meta, header_at)
    if kind == _DICTIONARY_BATCH:  # DictionaryBatch { id, data: RecordBatch, isDelta }
        data_at = _field(meta, batch, 1)
        if not data_at:
            return _Header(kind, 0, False)
        batch = _table_at(meta, data_at)
    length_at = _field(meta, batch, 0)
    rows = _read("<q", meta, length_at) if length_at else 0
    compressed = bool(_field(meta, batch, 3))  # RecordBatch.compression
    return _Header(kind, rows if kind == _RECORD_BATCH else 0, compressed)


def declared_rows(data: bytes, max_rows: int, what: str) -> int:
    """The rows an IPC stream declares, read from its metadata without decoding a body.
    StreamError for bytes that are not a stream, a compressed body, or more than
    `max_rows` rows (`what` names the rows in the message)."""
    try:
        reader = ipc.MessageReader.open_stream(pa.py_buffer(data))
        rows = 0
        while True:
            try:
                message = reader.read_next_message()
            except StopIteration:
                break
            header = _header(message.metadata.to_pybytes())
            if header.compressed:
                raise StreamError(
                    "compressed IPC buffers are not accepted in requests: send them "
                    "uncompressed and let gRPC compress the call (e.g. grpc.Compression.Gzip)"
                )
            if header.rows < 0:
                raise StreamError("not an Arrow IPC stream: a record batch of negative length")
            rows += header.rows
            if rows > max_rows:
                raise StreamError(
                    f"more than {max_rows:,} {what} in one call: send them in several calls "
                    "(tariff.client.RatingClient.rate_table splits a table)"
                )
    except StreamError:
        raise
    except (pa.ArrowException, OSError, ValueError, struct.error, IndexError) as error:
        raise StreamError(f"not an Arrow IPC stream: {error}") from None  # pyarrow: OSError too
    return rows


def read_stream(data: bytes, max_rows: int, what: str) -> pa.Table:
    """The table an IPC stream carries, after `declared_rows` has vetted it."""
    declared_rows(data, max_rows, what)
    try:
        table = ipc.open_stream(pa.py_buffer(data)).read_all()
    except (pa.ArrowException, OSError, ValueError) as error:
        raise StreamError(f"not an Arrow IPC stream: {error}") from None
    if table.num_rows > max_rows:  # a metadata lie caught after the fact
        raise StreamError(f"more than {max_rows:,} {what} in one call")
    return table


def write_stream(table: pa.Table, compression: str | None = "zstd") -> bytes:
    """A table as one IPC stream (ZSTD buffers unless told otherwise)."""
    sink = pa.BufferOutputStream()
    options = ipc.IpcWriteOptions(compression=compression)
    with ipc.new_stream(sink, table.schema, options=options) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())
