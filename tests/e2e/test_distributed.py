"""Rating a partitioned usage dataset on a real Dask LocalCluster (2 worker processes) gives
what `tariff rate` gives rating the same events in one process: every rated row equal,
byte for byte once both are sorted by event id, with subscribers split across the dataset's
files (so their allowances cross partition boundaries), shuffled or pre-partitioned; and
a month rated in two runs, counters carried from the first into the second, equals the
month rated in one."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest

from catalog.model import CatalogVersionInfo
from rules.sale_catalog import SaleCatalog
from tariff.distributed import Catalogs, dataset_files, read_counters, run_job
from tariff.gen.catalogs import CatalogSpec, generate_catalog
from tariff.gen.usage import USAGE_HEADER, UsageSpec, write_usage
from tariff.rate_cli import Source, rate_file
from tests.support.fuzz import is_long

distributed = pytest.importorskip("distributed")

ZONE = "Asia/Shanghai"
FILES = 3


@pytest.fixture(scope="module")
def catalog() -> SaleCatalog:
    from datetime import UTC, datetime

    content = generate_catalog(CatalogSpec(offers=40, areas=4, seed=3, combos=1))
    start = datetime(2026, 1, 1, tzinfo=UTC)
    info = CatalogVersionInfo(1, start, start, "test", "", 0, 0, 0)
    return SaleCatalog(info, content)


@pytest.fixture(scope="module")
def usage(catalog: SaleCatalog) -> pa.Table:
    """A month of every business for 60 subscribers (allowances run out mid-month)."""
    out = io.StringIO()
    events = 20_000 if is_long() else 4_000
    write_usage(catalog.content, UsageSpec(events=events, subscribers=60, seed=9), out)
    options = pa_csv.ConvertOptions(column_types={n: pa.string() for n in USAGE_HEADER})
    table = pa_csv.read_csv(io.BytesIO(out.getvalue().encode()), convert_options=options)
    offers = table.column("offer_code").to_pylist()
    unknown = ["no_such_offer" if i % 97 == 0 else o for i, o in enumerate(offers)]  # rejected
    return table.set_column(2, "offer_code", pa.array(unknown, pa.string()))


@pytest.fixture(scope="module")
def cluster() -> Iterator[object]:
    from distributed import Client, LocalCluster

    local = LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    client = Client(local)  # type: ignore[no-untyped-call]
    try:
        yield client
    finally:
        client.close()  # type: ignore[no-untyped-call]
        local.close()


def split(table: pa.Table, folder: Path, by_subscriber: bool) -> list[Path]:
    """The dataset's files: rows dealt round-robin (every subscriber in every file), or
    each subscriber wholly in one file."""
    folder.mkdir(parents=True, exist_ok=True)
    if by_subscriber:
        subscribers = pc.unique(table.column("subscriber_id")).to_pylist()
        owner = {s: i % FILES for i, s in enumerate(sorted(subscribers))}
        which = pa.array([owner[s] for s in table.column("subscriber_id").to_pylist()])
    else:
        which = pa.array([i % FILES for i in range(table.num_rows)])
    paths = []
    for index in range(FILES):
        path = folder / f"usage-{index}.parquet"
        pq.write_table(table.filter(pc.equal(which, index)), path)
        paths.append(path)
    return paths


def one_process(catalog: SaleCatalog, files: list[Path], where: Path) -> pa.Table:
    """`tariff rate` of the dataset's events in rating order (start, file, row) in one
    process: the reference."""
    from tariff.distributed import FILE, ROW, rating_order, read_part

    whole = pa.concat_tables([read_part(str(f), i) for i, f in enumerate(files)])
    ordered = whole.take(pa.array(rating_order(whole))).drop_columns([FILE, ROW])
    source, out = where / "all.parquet", where / "all.rated.parquet"
    pq.write_table(ordered, source)
    rate_file(source, out, Source.pinned(catalog, "test"), __import__("zoneinfo").ZoneInfo(ZONE))
    return pq.read_table(out)


def by_event(table: pa.Table) -> pa.Table:
    return table.sort_by("event_id")


def job_rated(out: Path) -> pa.Table:
    return pa.concat_tables(pq.read_table(f) for f in dataset_files(out / "rated"))


@pytest.mark.parametrize("partitioned", [False, True], ids=["shuffled", "pre-partitioned"])
def test_a_dataset_rated_on_two_workers_equals_one_process(
    cluster: object, catalog: SaleCatalog, usage: pa.Table, tmp_path: Path, partitioned: bool
) -> None:
    files = split(usage, tmp_path / "dataset", by_subscriber=partitioned)
    expected = by_event(one_process(catalog, files, tmp_path))
    catalogs = Catalogs.of([(catalog.info, catalog.content)], pinned=catalog.number)
    out = tmp_path / "out"
    rows, rejected = run_job(cluster, files, out, catalogs, ZONE, partitioned=partitioned)
    found = by_event(job_rated(out))
    assert rows == usage.num_rows == found.num_rows
    assert found.equals(expected.select(found.column_names))
    rejected_rows = pa.concat_tables(pq.read_table(f) for f in dataset_files(out / "rejected"))
    assert (
        rejected
        == rejected_rows.num_rows
        == int(pc.sum(pc.equal(expected.column("status"), "rejected")).as_py())
    )
    assert rejected > 0
    assert pc.all(pc.equal(rejected_rows.column("status"), "rejected")).as_py()
    assert int(pc.sum(pc.equal(found.column("status"), "rated")).as_py()) > 0.8 * rows
    counters = read_counters(out / "counters")
    assert counters  # every rated subscriber's periods
    assert any(name.startswith("allowance:") for c in counters.values() for name in c)


def test_a_month_in_two_runs_with_counters_carried_equals_one_run(
    cluster: object, catalog: SaleCatalog, usage: pa.Table, tmp_path: Path
) -> None:
    """Counters are inputs and outputs of the job: the first half of the month rated, its
    counters fed into the second half, gives the second half's charges of one run."""
    catalogs = Catalogs.of([(catalog.info, catalog.content)], pinned=catalog.number)
    starts = usage.column("start_time").to_pylist()
    middle = sorted(starts)[len(starts) // 2]
    first = usage.filter(pc.less(usage.column("start_time"), middle))
    second = usage.filter(pc.greater_equal(usage.column("start_time"), middle))
    whole_files = split(usage, tmp_path / "whole", by_subscriber=False)
    run_job(cluster, whole_files, tmp_path / "one", catalogs, ZONE)
    run_job(cluster, split(first, tmp_path / "first", False), tmp_path / "a", catalogs, ZONE)
    carried = read_counters(tmp_path / "a" / "counters")
    files = split(second, tmp_path / "second", False)
    run_job(cluster, files, tmp_path / "b", catalogs, ZONE, carried=carried)
    ids = set(second.column("event_id").to_pylist())
    one = by_event(job_rated(tmp_path / "one"))
    one = one.filter(pc.is_in(one.column("event_id"), pa.array(sorted(ids))))
    assert by_event(job_rated(tmp_path / "b")).equals(one)


def test_tariff_rate_of_a_dataset_directory_on_a_local_cluster(
    catalog: SaleCatalog, usage: pa.Table, tmp_path: Path
) -> None:
    """The command line: `tariff rate DATASET/ --out OUT/ --workers 2 --bundle B` says where
    the dashboard is, rates every row and writes the three folders; a non-empty OUT is
    refused in one line."""
    import json
    import subprocess
    import sys

    from catalog import bundle

    bundle.write_directory(catalog.content, tmp_path / "bundle")
    split(usage, tmp_path / "dataset", by_subscriber=False)
    command = [sys.executable, "-m", "tariff.cli", "rate", str(tmp_path / "dataset"),
               "--out", str(tmp_path / "out"), "--workers", "2", "--bundle",
               str(tmp_path / "bundle"), "--no-progress", "--json"]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["rows"] == usage.num_rows
    assert report["files"] == FILES
    assert "Dask dashboard at" in done.stderr
    for folder in ("rated", "rejected", "counters"):
        assert len(dataset_files(tmp_path / "out" / folder)) == report["files"]
    again = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert again.returncode == 2
    assert again.stderr.strip().endswith("the output directory must be empty or new")
