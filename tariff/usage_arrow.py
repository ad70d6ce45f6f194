"""Usage events from typed Arrow columns, as the text columns the columnar reader
(tariff.rate_columns.read_chunk) takes: the one reader of typed usage, for RateBatch's
Arrow tables, `tariff rate`'s Parquet (and CSV) files and the Dask jobs' Parquet parts.

Each column is read by its meaning, never by whatever its type happens to hold: codes and
numbers dialled are text (a destination typed as a number has lost its leading zeros, so it
is refused, not guessed at); quantities are whole numbers (integers, text, or for
`duration_ms` an Arrow duration); `start_time` is an instant with its zone (RFC 3339 text
or a zoned timestamp: a naive timestamp is refused, as the zone it means is unknown);
`roaming` is a boolean or text. Nulls read as empty text, which the reader rejects where a
value is required. A column of another type is a `ColumnProblem` naming the column, the
type found and the types wanted, and nothing is rated.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
import pyarrow.compute as pc  # type: ignore[import-untyped, unused-ignore]

from tariff.gen.usage import USAGE_HEADER

REQUIRED = ("event_id", "subscriber_id", "offer_code", "business_code", "start_time")
_CODES = frozenset({"event_id", "subscriber_id", "offer_code", "business_code"})
_NUMBERS = frozenset({"origin_area_code", "destination"})
_QUANTITIES = frozenset({"duration_ms", "volume_bytes", "count"})


@dataclass(frozen=True, slots=True)
class ColumnProblem:
    column: str
    message: str


def _is_text(kind: Any) -> bool:
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def _text(column: Any) -> Any:
    return pc.fill_null(pc.cast(column, pa.string()), "")


def _instant(column: Any) -> Any:
    utc = pc.cast(column, pa.timestamp("us", tz="UTC"))
    return pc.fill_null(pc.strftime(utc, format="%Y-%m-%dT%H:%M:%SZ"), "")


def _milliseconds(column: Any) -> Any:
    return _text(pc.cast(pc.cast(column, pa.duration("ms")), pa.int64()))


def _reader(name: str, kind: Any) -> Callable[[Any], Any] | str:
    """How a column of `kind` becomes text, or what was wanted instead."""
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    if _is_text(kind):
        return _text
    if name in _CODES or name in _NUMBERS:
        if name in _NUMBERS:
            return "string (a number dialled is text: leading zeros and '+' matter)"
        return "string"
    if name == "start_time":
        if pa.types.is_timestamp(kind) and kind.tz is not None:
            return _instant
        return "string (RFC 3339 with its offset) or timestamp with a time zone"
    if name in _QUANTITIES:
        if pa.types.is_integer(kind):
            return _text
        if name == "duration_ms" and pa.types.is_duration(kind):
            return _milliseconds
        extra = " or duration" if name == "duration_ms" else ""
        return f"integer{extra} or string of digits"
    if name == "roaming":
        return _text if pa.types.is_boolean(kind) else "boolean or string"
    return "string"


def column_problems(schema: Any) -> list[ColumnProblem]:
    """Each usage column of `schema` that cannot mean what it must: the column, the type
    found and the types wanted. (Whether a column is there at all is the caller's rule.)"""
    problems = []
    for name in USAGE_HEADER:
        index = schema.get_field_index(name)
        if index < 0:
            continue
        kind = schema.field(index).type
        reader = _reader(name, kind)
        if isinstance(reader, str):
            problems.append(ColumnProblem(name, f"{name!r} is {kind}; wanted {reader}"))
    return problems


def text_of(name: str, column: Any) -> Any:
    """A usage column as the text the columnar reader takes, read by its meaning (a column
    `column_problems` accepted; ValueError for one it refuses)."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    kind = column.type
    if pa.types.is_string(kind) and not column.null_count:
        return column  # CSV's columns, and most of Parquet's: already what is wanted
    reader = _reader(name, kind)
    if isinstance(reader, str):
        raise ValueError(f"{name!r} is {kind}; wanted {reader}")
    if pa.types.is_dictionary(kind):
        column = pc.cast(column, kind.value_type)
    return reader(column)


def usage_batch(table: pa.Table) -> tuple[pa.RecordBatch, list[ColumnProblem]]:
    """The usage columns of `table` as text (USAGE_HEADER order), or the problems with its
    columns (then the batch is empty). Other columns are ignored."""
    problems = [
        ColumnProblem(name, f"the events have no {name!r} column")
        for name in REQUIRED
        if name not in table.column_names
    ]
    problems += column_problems(table.schema)
    if problems:
        return pa.RecordBatch.from_arrays([], names=[]), problems
    rows = table.num_rows
    columns = [
        text_of(name, table.column(name))
        if name in table.column_names
        else pa.array([""] * rows, pa.string())
        for name in USAGE_HEADER
    ]
    return pa.RecordBatch.from_arrays(columns, names=list(USAGE_HEADER)), []
