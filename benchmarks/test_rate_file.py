"""Workload `rate_file`: `tariff rate` on a generated usage CSV, end to end in process - read
in record batches, every row rated in order (tariff.rate_cli.rate_file), the rated file
written - over the 1,000-offer bench catalog, 2,000 subscribers (their counters do not grow
with the file), at 10k and 1M events.

Variants: `tariff` (the whole path) and the baseline `read_write` (the same pyarrow read and
write with a constant status column and no rating: what the I/O alone costs, so the ratio is
what rating adds per row). At full scale both also record `peak_rss_mb` and `child_seconds`
of a fresh child process doing the same on the same file (`python -m tariff.cli rate`,
catalog load included; `copy_file` for `read_write`): the I/O's memory must stay flat from
10k to 1M events, and rating adds what the catalog's compiled plans and the rating engine's
per-block zone and band memos hold (bounded per block, not per event).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from benchmarks.conftest import Measure
from benchmarks.support.catalogs import bench_catalog, bench_sale_catalog
from catalog import bundle
from tariff.gen.usage import UsageSpec, write_usage
from tariff.rate_cli import Source, rate_file
from tariff.rate_files import copy_file
from tariff.settings import Settings

SIZES = {"gate": (10_000,), "full": (10_000, 1_000_000)}
OFFERS = 1_000
SUBSCRIBERS = 2_000
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("rate_file")


@pytest.fixture(scope="module")
def catalog_dir(workdir: Path) -> Path:
    target = workdir / "catalog"
    bundle.write_directory(bench_catalog(OFFERS), target)
    return target


@pytest.fixture(scope="module")
def source() -> Source:
    """The catalog the child reads from `catalog_dir`, built once per process (shared with
    the eligibility workloads): loading it is not part of the path measured."""
    return Source.pinned(bench_sale_catalog(OFFERS), "bench")


@pytest.fixture(scope="module")
def usage(size: int, workdir: Path) -> Path:
    """The usage file, generated once per size (1M events: ~25 s, 100 MB)."""
    target = workdir / f"usage-{size}.csv"
    with target.open("w", encoding="utf-8", newline="") as out:
        write_usage(bench_catalog(OFFERS), UsageSpec(size, SUBSCRIBERS, seed=11), out)
    return target


def rounds(size: int) -> int:
    return 1 if size >= 1_000_000 else 5


#: Runs a command and prints its peak RSS (KiB) and exit status. A child forked straight from
#: pytest would count pytest's own pages: Linux keeps the high-water mark from before exec.
LAUNCHER = """
import os, subprocess, sys
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(child.pid, 0)
print(usage.ru_maxrss, os.waitstatus_to_exitcode(status))
"""


def child_run(arguments: list[str]) -> tuple[float, float]:
    """(peak RSS in MB, seconds) of one fresh `python ARGUMENTS` (its ru_maxrss, by wait4)."""
    started = time.perf_counter()
    command = [sys.executable, "-c", LAUNCHER, sys.executable, *arguments]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    maxrss, status = done.stdout.split()[-2:]
    assert status == "0", done.stderr
    return int(maxrss) / 1024, time.perf_counter() - started  # KiB on Linux


def record_child(bench: Any, arguments: list[str]) -> None:
    peak, seconds = child_run(arguments)
    bench.extra_info["peak_rss_mb"] = round(peak, 1)
    bench.extra_info["child_seconds"] = round(seconds, 2)


def test_tariff(
    measure: Measure,
    scale: str,
    size: int,
    usage: Path,
    source: Source,
    catalog_dir: Path,
    workdir: Path,
) -> None:
    out = workdir / f"rated-{size}.csv"
    bench = measure("rate_file", "tariff", size=size)
    summary = bench.pedantic(
        rate_file,
        (usage, out, source, Settings().zone),
        rounds=rounds(size),
        warmup_rounds=0 if size >= 1_000_000 else 1,  # plans compile on first use
    )
    assert summary.events == size
    assert summary.rated > 0.9 * size
    if scale == "full" and sys.platform == "linux":  # the gate judges times only
        out = workdir / f"child-{size}.csv"
        rate = ["rate", str(usage), "--bundle", str(catalog_dir), "--out", str(out)]
        record_child(bench, ["-m", "tariff.cli", *rate, "--no-progress", "--json"])


def test_read_write(measure: Measure, scale: str, size: int, usage: Path, workdir: Path) -> None:
    out = workdir / f"copied-{size}.csv"
    bench = measure("rate_file", "read_write", size=size)
    rows = bench.pedantic(copy_file, (usage, out), rounds=max(3, rounds(size)))
    assert rows == size
    if scale == "full" and sys.platform == "linux":  # the I/O's own memory, for comparison
        copy = "import sys; from pathlib import Path; from tariff.rate_files import copy_file; "
        copy += "copy_file(Path(sys.argv[1]), Path(sys.argv[2]))"
        record_child(bench, ["-c", copy, str(usage), str(workdir / f"child-copy-{size}.csv")])
