"""Usage files in, rated files out, streamed in record batches (pyarrow), so `tariff rate`
and `tariff shadow` hold one batch at a time whatever the size of the file.

Formats go by extension: `.csv`, `.csv.gz` and `.parquet`. CSV columns are all read as text
(exactly what rules.usage_rows expects; an event id like `E0001` keeps its zeros); typed
Parquet columns are read by their meaning (tariff.usage_arrow, as RateBatch reads Arrow):
a file whose column cannot mean what it must (a destination typed double, a naive
timestamp) is refused before anything is rated or written, naming the column, the type
found and the type wanted.
A CSV line that does not split into the header's columns is not an abort: it comes out in its
place as a row of its own (`Chunk.broken` holds the reason instead of the fields).

Charges are written as a **string** column in both formats: the exact decimal text of the
charge, at the scale the plan rounded it to (`0.60`, `0`, `0.000029296875`). An Arrow
decimal128 column needs one scale for the whole file, and unrounded charges (a plan without a
`rounding`) may have more decimals than any scale chosen up front; text is exact everywhere
and identical in CSV and Parquet (cast it in a query engine: `CAST(charge AS DECIMAL(38, 12))`).
"""

from __future__ import annotations

import bisect
import csv
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
import pyarrow.csv as pa_csv  # type: ignore[import-untyped, unused-ignore]
import pyarrow.parquet as pq  # type: ignore[import-untyped, unused-ignore]

from tariff.gen.usage import USAGE_HEADER
from tariff.usage_arrow import column_problems, text_of

Format = Literal["csv", "csv.gz", "parquet"]
SUFFIXES: dict[str, Format] = {".csv": "csv", ".csv.gz": "csv.gz", ".parquet": "parquet"}
RESULT_SCHEMA = pa.schema(
    [
        ("status", pa.string()),
        ("rejection", pa.string()),
        ("message", pa.string()),
        ("charge", pa.string()),  # exact decimal text (module docstring)
        ("currency", pa.string()),
        ("zone", pa.string()),
        ("band", pa.string()),
        ("billed_units", pa.int64()),
        ("allowance_units", pa.int64()),
        ("rate", pa.string()),
        ("catalog_version", pa.int64()),
        ("period", pa.string()),
    ]
)
RESULT_COLUMNS: tuple[str, ...] = tuple(RESULT_SCHEMA.names)
CSV_BLOCK_BYTES = 1 << 20  # ~10,000 usage rows per batch: pyarrow reads blocks ahead
PARQUET_BATCH_ROWS = 8_192
ROW_GROUP_ROWS = 32_768  # Parquet output is buffered to row groups of this size, no more
HEADER_BYTES = 1 << 20


class UsageFileError(ValueError):
    """A file that cannot be rated at all: missing, of unknown format, without the usage
    columns. (A bad *row* is never this: it is rejected in place.)"""


def file_format(path: Path) -> Format:
    """The format a file name says; UsageFileError for any other."""
    name = path.name.lower()
    for suffix in sorted(SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix) and len(name) > len(suffix):
            return SUFFIXES[suffix]
    known = ", ".join(SUFFIXES)
    raise UsageFileError(f"{path}: unknown format (the name must end in {known})")


def rated_path(path: Path) -> Path:
    """Where `tariff rate` writes by default: `usage.csv` -> `usage.rated.csv`."""
    fmt = file_format(path)
    stem = path.name[: -len(fmt) - 1]
    return path.with_name(f"{stem}.rated.{fmt}")


@dataclass(frozen=True, slots=True)
class Chunk:
    """One batch of input: its columns as read (written back unchanged), the lines that
    could not be split (their place in the batch and why), and how far the file is read."""

    data: Any  # pa.RecordBatch of the input's columns, broken lines included
    broken: Mapping[int, str]
    done: float | None  # the fraction of the file read so far, when it is known

    def __len__(self) -> int:
        return int(self.data.num_rows)

    @property
    def rows(self) -> list[Mapping[str, str] | str]:
        """Per row, the usage columns as text or, for a broken line, why (built on use)."""
        rows: list[Mapping[str, str] | str] = list(_text_rows(self.data))
        for place, message in self.broken.items():
            rows[place] = message
        return rows


@dataclass(frozen=True, slots=True)
class _Broken:
    index: int  # its place among the data rows of the file (0-based)
    fields: list[str]
    message: str


class UsageReader:
    """A usage file opened for streaming. Raises FileNotFoundError for a missing one, and
    UsageFileError (or pyarrow's ValueError / OSError) when it cannot be rated at all."""

    def __init__(self, path: Path) -> None:
        if not path.exists():
            raise FileNotFoundError(f"{path}: no such file")  # exit 3, not found
        if not path.is_file():
            raise UsageFileError(f"{path}: not a file")
        self.path = path
        self.format = file_format(path)
        self._broken: list[_Broken] = []
        self.rows_hint: int | None = None
        self._raw = pa.OSFile(str(path))
        try:
            self._open()
        except BaseException:
            self._raw.close()
            raise

    def _open(self) -> None:
        path = self.path
        if self.format == "parquet":
            self._parquet = pq.ParquetFile(self._raw)
            self.schema = self._parquet.schema_arrow.remove_metadata()
            self.rows_hint = self._parquet.metadata.num_rows
            _check_columns(path, self.schema.names)
        else:
            names = self._csv_header()
            _check_columns(path, names)
            stream = (
                pa.CompressedInputStream(self._raw, "gzip")
                if self.format == "csv.gz"
                else self._raw
            )
            self._csv = pa_csv.open_csv(
                stream,
                read_options=pa_csv.ReadOptions(block_size=CSV_BLOCK_BYTES, use_threads=False),
                parse_options=pa_csv.ParseOptions(invalid_row_handler=self._on_broken),
                convert_options=pa_csv.ConvertOptions(
                    column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False
                ),
            )
            self.schema = self._csv.schema
        problems = column_problems(self.schema)  # by meaning, as RateBatch reads Arrow
        if problems:
            said = "; ".join(f"column {p.message}" for p in problems)
            raise UsageFileError(f"{path}: {said}")

    def __enter__(self) -> UsageReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._raw.close()

    def _csv_header(self) -> list[str]:
        with pa.input_stream(str(self.path)) as stream:  # decompresses .gz by its name
            head = stream.read(HEADER_BYTES)
        try:
            text = head.decode("utf-8-sig")
        except UnicodeDecodeError:
            # the cut may fall inside a character: only the first line matters
            text = head.split(b"\n", 1)[0].decode("utf-8-sig", errors="replace")
        line = text.split("\n", 1)[0].rstrip("\r")
        if not line.strip():
            raise UsageFileError(f"{self.path}: no header line")
        names = next(csv.reader([line]))
        if len(set(names)) != len(names):
            raise UsageFileError(f"{self.path}: a column name appears twice in the header")
        return names

    def _on_broken(self, row: Any) -> str:
        """pyarrow's invalid-row handler: keep the line, to emit it in its place."""
        # physical line numbers: the header is line 1 (a blank line before it shifts this one)
        index = row.number - 2 if row.number and row.number > 0 else -1
        fields = next(csv.reader([row.text]), [])
        message = (
            f"line {row.number}: {row.actual_columns} fields, the header has {row.expected_columns}"
        )
        broken = _Broken(index, fields, message)
        bisect.insort(self._broken, broken, key=lambda b: b.index)
        return "skip"

    def chunks(self) -> Iterator[Chunk]:
        """The file's rows in order, a batch at a time."""
        if self.format == "parquet":
            for batch in self._parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS):
                data = pa.RecordBatch.from_arrays(batch.columns, schema=self.schema)
                yield Chunk(data, {}, None)  # rows_hint tells the progress
            return
        position = 0  # data rows (valid or broken) handed out so far
        for batch in self._csv:
            if not self._broken or self._broken[0].index > position + batch.num_rows:
                position += batch.num_rows
                yield Chunk(batch, {}, self._done())
                continue
            chunk = self._merge(batch, position)
            position += len(chunk)
            yield chunk
        if self._broken:  # after the last row pyarrow could split
            yield self._merge(None, position, flush=True)

    def _merge(self, batch: Any, position: int, *, flush: bool = False) -> Chunk:
        """A batch with the broken lines that belong among (or right after) its rows."""
        names = self.schema.names
        columns: list[list[str]] = [[] for _ in names]
        broken_rows: dict[int, str] = {}
        valid = batch.to_pylist() if batch is not None else []
        count = 0

        def broken_up_to(place: int) -> int:
            added = 0
            while self._broken and (flush or self._broken[0].index <= place):
                broken = self._broken.pop(0)
                values = (broken.fields + [""] * len(names))[: len(names)]
                for column, value in zip(columns, values, strict=True):
                    column.append(value)
                broken_rows[place - position] = broken.message
                place += 1
                added += 1
            return added

        for row in valid:
            count += broken_up_to(position + count)
            for column, name in zip(columns, names, strict=True):
                column.append(row[name])
            count += 1
        broken_up_to(position + count)
        arrays = [pa.array(column, pa.string()) for column in columns]
        data = pa.RecordBatch.from_arrays(arrays, schema=self.schema)
        return Chunk(data, broken_rows, self._done())

    def _done(self) -> float | None:
        size = self._raw.size()
        return self._raw.tell() / size if size else None


def _check_columns(path: Path, names: Sequence[str]) -> None:
    missing = [name for name in USAGE_HEADER if name not in names]
    if missing:
        raise UsageFileError(f"{path}: missing column(s) {', '.join(missing)}")
    taken = [name for name in RESULT_COLUMNS if name in names]
    if taken:
        raise UsageFileError(
            f"{path}: already has column(s) {', '.join(taken)} (is it a rated file?)"
        )


def _text_rows(batch: Any) -> list[Mapping[str, str]]:
    """The usage columns of a batch as text, one dict per row."""
    columns = [text_of(name, batch.column(name)).to_pylist() for name in USAGE_HEADER]
    return [dict(zip(USAGE_HEADER, values, strict=True)) for values in zip(*columns, strict=True)]


class RatedWriter:
    """The rated file: the input's columns then RESULT_SCHEMA's, in the output's format.

    Written to a hidden `.NAME.partial` beside the target and renamed over it only when the
    whole file was rated, so a failure or Ctrl-C never leaves half a file under the name."""

    def __init__(self, path: Path, schema: Any) -> None:
        self.path = path
        self.format = file_format(path)
        self.partial = path.with_name(f".{path.name}.partial")
        self.schema = pa.schema([*schema, *RESULT_SCHEMA])
        self._sink = pa.OSFile(str(self.partial), "wb")
        self._buffer: list[Any] = []
        self._buffered = 0
        self._parquet: Any = None
        self._csv: Any = None
        self._csv_stream: Any = None
        if self.format == "parquet":
            self._parquet = pq.ParquetWriter(self._sink, self.schema)
        else:
            out = self._sink
            if self.format == "csv.gz":
                out = pa.CompressedOutputStream(self._sink, "gzip")
            self._csv = pa_csv.CSVWriter(out, self.schema)
            self._csv_stream = out

    def __enter__(self) -> RatedWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        try:
            if kind is None:
                self._finish()
                os.replace(self.partial, self.path)
        finally:
            if not self._sink.closed:
                self._sink.close()
            self.partial.unlink(missing_ok=True)

    def write(self, data: Any, results: Sequence[Any]) -> None:
        batch = pa.RecordBatch.from_arrays([*data.columns, *results], schema=self.schema)
        if self._csv is not None:
            self._csv.write_batch(batch)
            return
        self._buffer.append(batch)
        self._buffered += batch.num_rows
        if self._buffered >= ROW_GROUP_ROWS:
            self._flush()

    def _flush(self) -> None:
        if self._buffer:
            self._parquet.write_table(pa.Table.from_batches(self._buffer, schema=self.schema))
            self._buffer.clear()
            self._buffered = 0

    def _finish(self) -> None:
        if self._parquet is not None:
            self._flush()
            self._parquet.close()
        else:
            self._csv.close()
            if self._csv_stream is not self._sink:
                self._csv_stream.close()
        if not self._sink.closed:
            self._sink.close()


def copy_file(source: Path, target: Path, status: str = "rated") -> int:
    """The same read and write as `tariff rate` with a constant status column and no rating:
    what the I/O alone costs (the benchmark's baseline). Returns the rows copied."""
    rows = 0
    with UsageReader(source) as reader, RatedWriter(target, reader.schema) as writer:
        for chunk in reader.chunks():
            count = len(chunk)
            constants = [
                pa.array([status] * count, f.type)
                if f.name == "status"
                else pa.nulls(count, f.type)
                for f in RESULT_SCHEMA
            ]
            writer.write(chunk.data, constants)
            rows += count
    return rows
