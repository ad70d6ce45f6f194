"""`tariff rate FILE` and `tariff shadow FILE`: rate a usage file (CSV or Parquet) in constant
memory, or rate it under two catalogs at once and compare the revenue.

`rate` writes FILE's rows back with the rating columns added (tariff.rate_files: streaming,
formats, exact charges as text), against a bundle read in process or the store's versions:
each event under the version in force at its start, or all under one (`--version N`,
`--as-of INSTANT`: rerating). `shadow` reads the file once through two rating sessions, A and
B (a published version, `draft` for the draft as it would sell once published, or a bundle
directory / .zip), and reports what B would bill differently by product, zone and band.

Both rate each batch with the columnar engine (rules.columnar, which agrees with the
per-event engine record by record): rows in file order, the counters carried from batch to
batch (one set per side for `shadow`), so allowances, tiers and caps run on exactly as over
the whole file; a row that cannot be read is a `malformed` rejection in its place, never an abort.
Exit 0 once the file is rated (with rejections or not); 1 with one line for a file or
catalog that cannot be used.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, Progress, ProgressColumn, Task, TextColumn, TimeElapsedColumn
from rich.text import Text

from catalog import codec
from catalog.errors import NotFound
from catalog.model import Business
from catalog.publishing import preview_content
from catalog.snapshot import InForce
from catalog.versions import DRAFT, AsOf, VersionNumber
from dsl.eval_usage import Counters
from rules.columnar import Versions as ColumnVersions
from rules.columnar import rate_columns
from rules.rating import CounterKey, Versions
from rules.sale_catalog import SaleCatalog
from tariff import rate_dataset as dataset
from tariff.bootstrap import bundle_catalog, draft_catalog
from tariff.cli import settings_from
from tariff.instants import instant_argument
from tariff.output import add_output_option, mode_of, show
from tariff.rate_columns import compare, read_chunk, result_arrays, tally
from tariff.rate_files import (
    RatedWriter,
    UsageFileError,
    UsageReader,
    file_format,
    rated_path,
)
from tariff.rate_report import (
    TOP,
    Shadow,
    Summary,
    rate_listings,
    rate_report,
    shadow_listings,
    shadow_report,
)

if TYPE_CHECKING:
    from tariff.bootstrap import App


class UsageError(ValueError):
    """A command line that cannot be run as given (exit 1, one line)."""


# -- catalogs -------------------------------------------------------------------------------


def businesses_of(*catalogs: SaleCatalog) -> dict[str, Business]:
    """Which quantity column a row's business reads (the first catalog wins a conflict)."""
    found: dict[str, Business] = {}
    for catalog in reversed(catalogs):
        found.update((b.code, b) for b in catalog.content.businesses())
    return found


@dataclass(frozen=True, slots=True)
class Source:
    """What rates a file: the catalog for each event's start, and a label for people."""

    versions: Versions
    businesses: Mapping[str, Business]
    label: str
    edges: tuple[datetime, ...] = ()  # where `versions`' answer may change (none: pinned)

    @classmethod
    def pinned(cls, catalog: SaleCatalog, label: str) -> Source:
        return cls(lambda _start: catalog, businesses_of(catalog), label)


class Store:
    """The catalog store, opened on first need (a bundle-only command never touches it)."""

    def __init__(self, args: argparse.Namespace) -> None:
        self._args = args
        self._app: App | None = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._app is not None:
            self._app.close()

    @property
    def app(self) -> App:
        if self._app is None:
            from tariff.bootstrap import bootstrap  # late: a bundle needs no SQLAlchemy engine

            self._app = bootstrap(settings_from(self._args), existing=True)
        return self._app

    def version(self, number: int) -> SaleCatalog:
        return self.app.snapshots.get(VersionNumber(number))

    def draft(self) -> SaleCatalog:
        content = preview_content(self.app.catalog.content(DRAFT))
        return draft_catalog(content, codec.content_hash(content))

    def in_force(self) -> Source:
        """Each event under the version in force at its start (NotFound: none published)."""
        snapshots = self.app.snapshots
        latest = snapshots.timeline.latest()
        if latest is None:
            raise NotFound("the store has no published catalog version (or rate with --bundle)")

        in_force = InForce(snapshots)
        newest = self.version(latest.number)
        label = "the version in force at each start"
        return Source(in_force, businesses_of(newest), label, in_force.edges)


def rate_source(args: argparse.Namespace, store: Store) -> Source:
    if args.bundle:
        if args.version is not None or args.as_of:
            raise UsageError("--version and --as-of pick a store's version, not a bundle's")
        return Source.pinned(bundle_catalog(Path(args.bundle)), f"bundle {args.bundle}")
    if args.version is not None:
        return Source.pinned(store.version(args.version), f"version {args.version}")
    if args.as_of:
        catalog = store.app.snapshots.get(AsOf(args.as_of))  # parsed by tariff.instants
        when = codec.format_instant(args.as_of)
        return Source.pinned(catalog, f"version {catalog.number} (in force at {when})")
    return store.in_force()


def side_catalog(text: str, store: Store) -> tuple[SaleCatalog, str]:
    """One side of `shadow`: a version number, `draft`, or a bundle path."""
    if text == "draft":
        return store.draft(), "draft"
    if text.isdigit():
        return store.version(int(text)), f"version {text}"
    if Path(text).exists():
        return bundle_catalog(Path(text)), f"bundle {text}"
    raise UsageError(f"--version {text!r}: give a version number, draft, or a bundle path")


# -- rating ---------------------------------------------------------------------------------


class Meter:
    """Rows rated so far on stderr, with rows/s (rich); silent when told to be."""

    def __init__(self, enabled: bool, title: str) -> None:
        self._progress: Progress | None = None
        if enabled:
            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.completed:,} rows"),
                _RowsPerSecond(),
                TimeElapsedColumn(),
                console=Console(stderr=True),
            )
            self._task = self._progress.add_task(title, total=None)

    def __enter__(self) -> Meter:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()

    def advance(self, rows: int, total: int | None, done: float | None) -> None:
        if self._progress is None:
            return
        self._progress.advance(self._task, rows)
        completed = self._progress.tasks[0].completed
        if total is None and done:
            total = max(int(completed / done), int(completed))  # estimated from bytes read
        self._progress.update(self._task, total=total)


class _RowsPerSecond(ProgressColumn):
    """Average rows/s since the start (rich's own speed needs updates within 30 s)."""

    def render(self, task: Task) -> Text:
        elapsed = task.elapsed
        speed = task.completed / elapsed if elapsed else 0.0
        return Text(f"{speed:,.0f} rows/s" if speed else "- rows/s")


def rate_file(
    source: Path, out: Path, catalogs: Source, tz: tzinfo, meter: Meter | None = None
) -> Summary:
    """Rate every row of `source` in order into `out` (formats by extension). Raises
    UsageFileError (or pyarrow's ValueError / OSError) when the file cannot be rated at all."""
    if out.resolve() == source.resolve():
        raise UsageFileError(f"{out}: the rated file cannot overwrite its input")
    meter = meter or Meter(False, "")
    versions = ColumnVersions(catalogs.versions, catalogs.edges)
    counters: dict[CounterKey, Counters] = {}
    summary = Summary()
    with UsageReader(source) as reader, RatedWriter(out, reader.schema) as writer:
        for chunk in reader.chunks():
            read = read_chunk(chunk, catalogs.businesses)
            found = rate_columns(read.columns, versions, tz, counters)
            counters.update(found.counters)
            writer.write(chunk.data, result_arrays(read, found, len(chunk)))
            tally(summary, read, found, len(chunk))
            meter.advance(len(chunk), reader.rows_hint, chunk.done)
    return summary


def shadow_file(
    source: Path, a: Source, b: Source, tz: tzinfo, meter: Meter | None = None
) -> Shadow:
    """Rate `source` under A and under B in one pass (counters kept apart)."""
    meter = meter or Meter(False, "")
    sides = [ColumnVersions(side.versions, side.edges) for side in (a, b)]
    counters: list[dict[CounterKey, Counters]] = [{}, {}]
    businesses = {**b.businesses, **a.businesses}
    shadow = Shadow()
    with UsageReader(source) as reader:
        for chunk in reader.chunks():
            read = read_chunk(chunk, businesses)
            found = []
            for versions, kept in zip(sides, counters, strict=True):
                rated = rate_columns(read.columns, versions, tz, kept)
                kept.update(rated.counters)
                found.append(rated)
            compare(shadow, read, found[0], found[1], len(chunk))
            meter.advance(len(chunk), reader.rows_hint, chunk.done)
    return shadow


# -- commands -------------------------------------------------------------------------------


def run_rate(args: argparse.Namespace) -> int:
    if dataset.wanted(args):
        with Store(args) as store:
            return dataset.run_dataset(args, store, settings_from(args).time_zone)
    source = Path(args.file)
    out = Path(args.out) if args.out else rated_path(source)
    tz = settings_from(args).zone
    UsageReader(source).close()  # a file that cannot be rated fails before any catalog loads
    file_format(out)
    with Store(args) as store:
        catalogs = rate_source(args, store)
        started = time.perf_counter()
        with Meter(not args.no_progress, f"rating {source.name}") as meter:
            summary = rate_file(source, out, catalogs, tz, meter)
        seconds = time.perf_counter() - started
    report = rate_report(summary, source, out, catalogs.label) | {"seconds": round(seconds, 3)}
    heading, listings = rate_listings(report, seconds, args.top)
    document = json.dumps(report, ensure_ascii=False, indent=2)
    show(listings, mode_of(args), document=document, heading=heading)
    return 0


def run_shadow(args: argparse.Namespace) -> int:
    if len(args.version) != 2:
        raise UsageError(f"give exactly two --version (A and B), not {len(args.version)}")
    source = Path(args.file)
    tz = settings_from(args).zone
    UsageReader(source).close()
    with Store(args) as store:
        (a, label_a), (b, label_b) = (side_catalog(text, store) for text in args.version)
        started = time.perf_counter()
        with Meter(not args.no_progress, f"shadow rating {source.name}") as meter:
            shadow = shadow_file(
                source, Source.pinned(a, label_a), Source.pinned(b, label_b), tz, meter
            )
        seconds = time.perf_counter() - started
    report = shadow_report(shadow, source, (label_a, label_b)) | {"seconds": round(seconds, 3)}
    heading, listings = shadow_listings(report, args.top)
    document = json.dumps(report, ensure_ascii=False, indent=2)
    show(listings, mode_of(args), document=document, heading=heading)
    return 0


def _common(parser: argparse.ArgumentParser) -> None:
    add_output_option(parser)
    parser.add_argument(
        "--top", type=int, default=TOP, help=f"rows per table (default {TOP}; 0 = all)"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")


def add_rate_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    rate = sub.add_parser(
        "rate",
        help="rate a usage file (CSV or Parquet) into a rated file",
        description="Rate every row of a usage file (the columns of `tariff gen usage`; "
        ".csv, .csv.gz or .parquet) in file order, in constant memory, and write it back "
        "with the rating columns added. Exit 0 when the file was rated, rejections or not.",
    )
    rate.add_argument("file", help="the usage file, or a directory of .parquet files (Dask)")
    rate.add_argument(
        "--out", help="the rated file; its extension picks the format (default FILE.rated.EXT)"
    )
    source = rate.add_mutually_exclusive_group()
    source.add_argument(
        "--database-url", help="the store (default: TARIFF_DATABASE_URL or tariff.sqlite)"
    )
    source.add_argument("--bundle", help="a catalog bundle (directory or .zip), in process")
    pin = rate.add_mutually_exclusive_group()
    pin.add_argument(
        "--version",
        type=int,
        metavar="N",
        help="rate every event under version N (default: each under the one in force at its start)",
    )
    pin.add_argument(
        "--as-of",
        metavar="INSTANT",
        type=instant_argument,
        help="rate every event under the version in force then: 2026-03-10, "
        "2026-03-10T10:00:00+08:00 or -1d",
    )
    _common(rate)
    dataset.add_dataset_arguments(rate)
    rate.set_defaults(run=run_rate)

    shadow = sub.add_parser(
        "shadow",
        help="rate a usage file under two catalogs and compare the revenue",
        description="Rate a usage file under catalog A and catalog B in one pass and report "
        "what B bills differently (B - A) by product, zone and band.",
    )
    shadow.add_argument("file", help="the usage file (.csv, .csv.gz or .parquet)")
    shadow.add_argument(
        "--version",
        action="append",
        required=True,
        metavar="A|B",
        help="twice: a published version number, draft (as it would sell once published), "
        "or a bundle path",
    )
    shadow.add_argument(
        "--database-url", help="the store (default: TARIFF_DATABASE_URL or tariff.sqlite)"
    )
    _common(shadow)
    shadow.set_defaults(run=run_shadow)
