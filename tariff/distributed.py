"""`tariff rate DATASET/ --out OUT/`: a partitioned usage dataset rated on a Dask cluster.

The job is the single-process `tariff rate` spread over workers, and answers what it
answers: the same columnar engine (rules.columnar via tariff.rate_columns) rates each
subscriber's events in order of their start (ties in file and row order), with its
counters, so no subscriber is ever split between tasks:
- the dataset's files are read one task each (every column as text, as `tariff rate` reads
  them), each row tagged with its file and row;
- unless the dataset says it is partitioned by subscriber already (`--partitioned`), rows
  are shuffled on the subscriber; a partition is then sorted by (start, file, row) and rated
  in bounded batches, counters carried from batch to batch;
- the catalog versions travel once per worker (scattered by content hash), and each worker
  compiles them once per hash, however many partitions it rates;
- counters are inputs and outputs of the job (`--counters-in FILE`, `OUT/counters/`), so a
  run is pure: the same dataset, catalog and counters give the same files.

Output: `OUT/rated/part-N.parquet` (the input columns and the rating columns of
tariff.rate_files.RESULT_SCHEMA, rows in rating order), `OUT/rejected/part-N.parquet` (the
rejected rows with their reasons) and `OUT/counters/part-N.parquet` (subscriber, period,
counter, value), one of each per partition.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
import pyarrow.compute as pc  # type: ignore[import-untyped, unused-ignore]
import pyarrow.parquet as pq  # type: ignore[import-untyped, unused-ignore]

from catalog import codec
from catalog.content import CatalogContent
from catalog.model import CatalogVersionInfo
from catalog.snapshot import InForce, SnapshotRegistry
from catalog.versions import VersionNumber
from dsl.eval_usage import Counters
from rules.columnar import Versions, rate_columns
from rules.rating import CounterKey
from rules.sale_catalog import SaleCatalog
from tariff.counter_tables import CounterTableError, counters_from_table, counters_table
from tariff.gen.usage import USAGE_HEADER
from tariff.rate_columns import read_chunk, result_arrays
from tariff.rate_files import RESULT_SCHEMA, Chunk
from tariff.usage_arrow import usage_batch

#: Rows rated at once inside a partition (memory stays flat, as in `tariff rate`).
BATCH_ROWS = 10_000
FILE, ROW = "__file", "__row"


class DatasetError(ValueError):
    """The dataset cannot be rated at all (no files, a missing column)."""


# -- the catalog, shipped once ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Catalogs:
    """What rates the job, as documents: every published version (or one pinned), each
    info with its content's canonical JSON. Its `digest` names it on the workers."""

    versions: tuple[tuple[dict[str, Any], str], ...]
    pinned: int | None
    digest: str

    @classmethod
    def of(
        cls, versions: Iterable[tuple[CatalogVersionInfo, CatalogContent]], pinned: int | None
    ) -> Catalogs:
        documents = tuple(
            (codec.encode(info), codec.dumps(codec.encode_content(content)))
            for info, content in versions
        )
        digest = hashlib.sha256(
            json.dumps([[i, d] for i, d in documents], sort_keys=True, default=str).encode()
        ).hexdigest()
        return cls(documents, pinned, digest)


@dataclass(frozen=True, slots=True)
class _Built:
    versions: Versions
    businesses: Mapping[str, Any]


_BUILT: dict[str, _Built] = {}  # per worker process: each digest compiled once


def _built(catalogs: Catalogs) -> _Built:
    found = _BUILT.get(catalogs.digest)
    if found is not None:
        return found
    infos: list[CatalogVersionInfo] = []
    contents: dict[int, CatalogContent] = {}
    for info_data, document in catalogs.versions:
        info = codec.decode(CatalogVersionInfo, info_data, "version")
        infos.append(info)
        contents[info.number] = codec.decode_content(json.loads(document))
    registry: SnapshotRegistry[SaleCatalog] = SnapshotRegistry(contents.__getitem__, SaleCatalog)
    for info in sorted(infos, key=lambda i: i.number):
        registry.install(info, contents[info.number])
    newest = registry.get(VersionNumber(max(i.number for i in infos)))
    if catalogs.pinned is not None:
        chosen = registry.get(VersionNumber(catalogs.pinned))
        versions = Versions(lambda _start: chosen)
    else:
        in_force = InForce(registry)  # NotFound: none in force then
        versions = Versions(in_force, in_force.edges)
    businesses = dict(newest.businesses)
    if len(_BUILT) >= 4:  # a long-lived worker serves a few catalogs, not all it has seen
        _BUILT.clear()
    found = _BUILT[catalogs.digest] = _Built(versions, businesses)
    return found


# -- reading and rating ------------------------------------------------------------------------


def dataset_files(path: Path) -> list[Path]:
    """The Parquet files of a dataset directory (nested ones too), in name order."""
    if path.is_file():
        return [path]
    files = sorted(p for p in path.rglob("*.parquet") if p.is_file())
    if not files:
        raise DatasetError(f"{path}: no .parquet files")
    return files


def read_part(path: str, index: int) -> pa.Table:
    """One file's usage columns as text (as `tariff rate` reads Parquet), with its file
    index and each row's place."""
    table = pq.read_table(path)
    missing = [name for name in USAGE_HEADER if name not in table.column_names]
    if missing:
        raise DatasetError(f"{path}: missing column(s) {', '.join(missing)}")
    events, problems = usage_batch(table)  # by meaning, as `tariff rate` and RateBatch
    if problems:
        raise DatasetError(f"{path}: " + "; ".join(f"column {p.message}" for p in problems))
    columns = list(events.columns)
    rows = table.num_rows
    columns += [pa.array(np.full(rows, index, dtype=np.int64)), pa.array(np.arange(rows))]
    return pa.Table.from_arrays(columns, names=[*USAGE_HEADER, FILE, ROW])


def rating_order(table: pa.Table) -> Any:
    """Row order to rate in: by start instant (unparseable starts last, as the engine
    rejects them anyway), then file, then row."""
    starts = pc.strptime(  # RFC 3339 with its offset
        pc.replace_substring_regex(table.column("start_time"), r"Z$", "+00:00"),
        format="%Y-%m-%dT%H:%M:%S%z",
        unit="us",
        error_is_null=True,
    )
    micros = pc.fill_null(pc.cast(starts, pa.int64()), np.iinfo(np.int64).max).to_numpy()
    files = table.column(FILE).to_numpy()
    rows = table.column(ROW).to_numpy()
    return np.lexsort((rows, files, micros))


@dataclass(frozen=True, slots=True)
class PartResult:
    rated: pa.Table
    counters: pa.Table
    rows: int
    rejected: int


def rate_part(
    table: pa.Table,
    catalogs: Catalogs,
    zone: str,
    carried: Mapping[CounterKey, Counters] | None = None,
    batch_rows: int = BATCH_ROWS,
) -> PartResult:
    """Rate a partition (all events of its subscribers) in rating order."""
    built = _built(catalogs)
    tz = ZoneInfo(zone)
    table = table.take(pa.array(rating_order(table))) if table.num_rows else table
    counters: dict[CounterKey, Counters] = dict(carried or {})
    touched: set[CounterKey] = set()
    pieces = []
    for low in range(0, table.num_rows, batch_rows):  # bounded by the partition
        part = table.slice(low, batch_rows)
        data = pa.RecordBatch.from_arrays(
            [part.column(n).combine_chunks() for n in USAGE_HEADER], names=list(USAGE_HEADER)
        )
        read = read_chunk(Chunk(data, {}, None), built.businesses)
        found = rate_columns(read.columns, built.versions, tz, counters)
        changed = found.counters
        counters.update(changed)
        touched |= changed.keys()
        results = result_arrays(read, found, len(part))
        names = [*USAGE_HEADER, *RESULT_SCHEMA.names]
        pieces.append(pa.Table.from_arrays([*data.columns, *results], names=names))
    rated = pa.concat_tables(pieces) if pieces else _empty_rated()
    rejected = int(pc.sum(pc.equal(rated.column("status"), "rejected")).as_py() or 0)
    return PartResult(rated, counters_table(counters, touched), rated.num_rows, rejected)


def _empty_rated() -> pa.Table:
    fields = [pa.field(n, pa.string()) for n in USAGE_HEADER] + list(RESULT_SCHEMA)
    return pa.schema(fields).empty_table()


def read_counters(path: Path) -> dict[CounterKey, Counters]:
    """Counters carried in: a file (or a directory of them) in OUT/counters' layout."""
    found: dict[CounterKey, Counters] = {}
    for file in dataset_files(path):
        try:
            found.update(counters_from_table(pq.read_table(file)))
        except CounterTableError as error:
            raise DatasetError(f"{file}: {error}") from None
    return found


def write_part(out: Path, index: int, result: PartResult) -> tuple[int, int]:
    """The partition's three files; (rows, rejected)."""
    name = f"part-{index:05d}.parquet"
    for folder in ("rated", "rejected", "counters"):
        (out / folder).mkdir(parents=True, exist_ok=True)
    pq.write_table(result.rated, out / "rated" / name)
    mask = pc.equal(result.rated.column("status"), "rejected")
    pq.write_table(result.rated.filter(mask), out / "rejected" / name)
    pq.write_table(result.counters, out / "counters" / name)
    return result.rows, result.rejected


# -- the job ------------------------------------------------------------------------------------


def _subscribers_of(
    table: pa.Table, carried: Mapping[CounterKey, Counters]
) -> dict[CounterKey, Counters]:
    if not carried:
        return {}
    mine = set(table.column("subscriber_id").to_pylist())
    return {k: v for k, v in carried.items() if k[0] in mine}


@dataclass(frozen=True, slots=True)
class Carried:
    """The counters handed in, as one object (scattered whole, not key by key)."""

    counters: Mapping[CounterKey, Counters]


def _rate_and_write(
    table: pa.Table, catalogs: Catalogs, zone: str, carried: Carried, out: str, index: int
) -> tuple[int, int]:
    result = rate_part(table, catalogs, zone, _subscribers_of(table, carried.counters))
    return write_part(Path(out), index, result)


def run_job(
    client: Any,
    files: Sequence[Path],
    out: Path,
    catalogs: Catalogs,
    zone: str,
    *,
    partitioned: bool = False,
    carried: Mapping[CounterKey, Counters] | None = None,
    progress: Callable[[Sequence[Any]], None] | None = None,
) -> tuple[int, int]:
    """Rate `files` on the cluster of `client` into `out`; (rows, rejected) in all."""
    import dask.dataframe as dd
    from dask.delayed import delayed

    shipped = client.scatter(catalogs, broadcast=True, hash=False)  # once per worker
    kept = client.scatter(Carried(dict(carried or {})), broadcast=True, hash=False)
    tables = [delayed(read_part)(str(f), i) for i, f in enumerate(files)]
    if not partitioned:  # every subscriber's events into one partition
        meta = _empty_input().to_pandas()
        frames = [delayed(lambda t: t.to_pandas())(t) for t in tables]
        shuffled = dd.from_delayed(frames, meta=meta).shuffle("subscriber_id")
        tables = [delayed(_table_of)(p) for p in shuffled.to_delayed()]
    writes = [
        delayed(_rate_and_write)(t, shipped, zone, kept, str(out), i) for i, t in enumerate(tables)
    ]
    futures = client.compute(writes)
    if progress is not None:
        progress(futures)
    counts = client.gather(futures)
    return sum(r for r, _ in counts), sum(j for _, j in counts)


def _empty_input() -> pa.Table:
    fields = [pa.field(n, pa.string()) for n in USAGE_HEADER]
    fields += [pa.field(FILE, pa.int64()), pa.field(ROW, pa.int64())]
    return pa.schema(fields).empty_table()


def _table_of(frame: Any) -> pa.Table:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    return table.cast(_empty_input().schema)
