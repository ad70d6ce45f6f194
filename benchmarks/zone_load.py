"""Time building a ZoneTable from 1k, 100k and 1M (prefix, zone) rows; prints seconds.

A plain script (`python benchmarks/zone_load.py`), not a test: the machine is shared and noisy,
so take the median of a few runs. Rows are generated up front and are not part of the timing.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere

from pricing.zones import ZoneTable

SIZES = (1_000, 100_000, 1_000_000)
RUNS = 3


def make_rows(count: int, seed: int = 7) -> list[tuple[str, str]]:
    """Distinct digit prefixes of 3..12 digits over 200 zones, like a carrier's table."""
    rng = random.Random(seed)
    zones = [f"zone_{i}" for i in range(200)]
    seen: set[str] = set()
    rows: list[tuple[str, str]] = []
    while len(rows) < count:  # bounded: collisions are rare at these lengths
        prefix = "0" + str(rng.randrange(10**1, 10**11))[: rng.randint(2, 11)]
        if prefix not in seen:
            seen.add(prefix)
            rows.append((prefix, rng.choice(zones)))
    return rows


def main() -> None:
    for size in SIZES:
        rows = make_rows(size)
        timings = []
        for _ in range(RUNS):
            started = time.perf_counter()
            table = ZoneTable(rows)
            timings.append(time.perf_counter() - started)
        assert len(table) == size
        started = time.perf_counter()
        for prefix, _zone in rows[:100_000]:
            table.match(prefix + "1234")
        per_lookup = (time.perf_counter() - started) / min(size, 100_000)
        print(
            f"{size:>9,} rows: build median {statistics.median(timings):.3f} s "
            f"(min {min(timings):.3f} s), match {per_lookup * 1e6:.2f} us"
        )


if __name__ == "__main__":
    main()
