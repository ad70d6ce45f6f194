"""`tariff rate DATASET/ --out OUT/`: a directory of Parquet usage files rated on a Dask
cluster (tariff.distributed) - an existing one (`--scheduler tcp://HOST:8786`) or a
LocalCluster of `--workers N` processes on this machine - with a progress bar and the
dashboard's address on the terminal, and the job's totals at the end."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from catalog import bundle
from catalog.errors import NotFound
from catalog.versions import AsOf
from tariff.distributed import Catalogs, dataset_files, read_counters, run_job
from tariff.output import Listing, mode_of, show


def wanted(args: argparse.Namespace) -> bool:
    """Whether `tariff rate` rates a dataset on Dask rather than one file in process."""
    return bool(args.scheduler or args.workers) or Path(args.file).is_dir()


def job_catalogs(args: argparse.Namespace, store: Any) -> Catalogs:
    """The versions the job rates with: a bundle, one pinned version, or every published
    one (each event under the version in force at its start)."""
    from tariff.bootstrap import bundle_catalog

    if args.bundle:
        catalog = bundle_catalog(Path(args.bundle))
        return Catalogs.of([(catalog.info, bundle.read_path(Path(args.bundle)))], catalog.number)
    app = store.app
    infos = app.catalog.list_versions()
    if not infos:
        raise NotFound("the store has no published catalog version (or rate with --bundle)")
    pinned = args.version
    if args.as_of:
        pinned = app.snapshots.get(AsOf(args.as_of)).number
    chosen = [i for i in infos if pinned is None or i.number == pinned]
    if not chosen:
        raise NotFound(f"catalog version {pinned} does not exist")
    return Catalogs.of(
        [(info, app.catalog.version_content_by_number(info.number)) for info in chosen], pinned
    )


def _client(args: argparse.Namespace) -> tuple[Any, Any]:
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ValueError(
            "rating a dataset needs Dask: pip install 'tariff[scale]' (dask and distributed)"
        ) from None

    if args.scheduler:
        return Client(args.scheduler), None  # type: ignore[no-untyped-call]
    workers = args.workers or os.cpu_count() or 1
    cluster = LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=workers, threads_per_worker=1, processes=True
    )
    return Client(cluster), cluster  # type: ignore[no-untyped-call]


def run_dataset(args: argparse.Namespace, store: Any, zone: str) -> int:
    if not args.out:
        raise ValueError("rating a dataset needs --out DIRECTORY")
    files: Sequence[Path] = dataset_files(Path(args.file))
    out = Path(args.out)
    if out.exists() and any(out.iterdir()):
        raise ValueError(f"{out}: the output directory must be empty or new")
    catalogs = job_catalogs(args, store)
    carried = read_counters(Path(args.counters_in)) if args.counters_in else {}
    client, cluster = _client(args)
    started = time.perf_counter()
    try:
        print(f"tariff: Dask dashboard at {client.dashboard_link}", file=sys.stderr)
        meter = None if args.no_progress else _progress
        rows, rejected = run_job(client, files, out, catalogs, zone, partitioned=args.partitioned,
                                 carried=carried, progress=meter)  # fmt: skip
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    seconds = time.perf_counter() - started
    report = {
        "dataset": str(args.file),
        "files": len(files),
        "out": str(out),
        "rows": rows,
        "rejected": rejected,
        "seconds": round(seconds, 3),
        "events_per_second": round(rows / seconds) if seconds else None,
    }
    mode = mode_of(args)
    if mode == "json":
        print(json.dumps(report, indent=2))
    else:
        listing = Listing("", tuple(report), [tuple(str(v) for v in report.values())])
        said = (
            f"tariff: rated {rows:,} events from {len(files)} file(s) in {seconds:.1f} s "
            f"({rejected:,} rejected): {out}/rated, {out}/rejected, {out}/counters"
        )
        show([listing] if mode == "csv" else [], mode, heading=said)
    return 0


def _progress(futures: Sequence[Any]) -> None:
    from distributed import progress

    progress(futures)  # type: ignore[no-untyped-call]  # a text bar until the tasks end


def add_dataset_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("a dataset on Dask (FILE is a directory of .parquet)")
    where = group.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="ADDRESS", help="an existing Dask scheduler")
    where.add_argument("--workers", type=int, metavar="N", help="a LocalCluster of N workers")
    group.add_argument(
        "--partitioned",
        action="store_true",
        help="each subscriber's events are in one file already: no shuffle",
    )
    group.add_argument(
        "--counters-in", metavar="PATH", help="counters carried in (a previous OUT/counters)"
    )
