"""Workloads `zone_load` and `zone_lookup`: destination prefix tables of 1k to 1M rows
(distinct digit prefixes of 3–12 digits over 200 zones, like a carrier's table).

`zone_load`: building pricing.zones.ZoneTable (validation included) against the baseline
`dict` (a plain dict of the same rows, no checks). `zone_lookup`: 100,000 longest-prefix
matches of dialled numbers against the baseline `hand_written` (the obvious loop trying every
length from the longest down on a dict).
"""

from __future__ import annotations

import random

import pytest

from benchmarks.conftest import Measure
from pricing.zones import MAX_PREFIX_DIGITS, ZoneTable

SIZES = {"gate": (1_000, 100_000), "full": (1_000, 100_000, 1_000_000)}
LOOKUPS = 100_000


def make_rows(count: int, seed: int = 7) -> list[tuple[str, str]]:
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


@pytest.fixture(scope="module")
def rows(size: int) -> list[tuple[str, str]]:
    return make_rows(size)


@pytest.fixture(scope="module")
def dialled(rows: list[tuple[str, str]]) -> list[str]:
    rng = random.Random(3)
    numbers = [rng.choice(rows)[0] + str(rng.randrange(10**6)) for _ in range(LOOKUPS // 2)]
    numbers += ["9" + str(rng.randrange(10**9)) for _ in range(LOOKUPS - len(numbers))]  # misses
    return numbers


def rounds(size: int) -> int:
    return 3 if size >= 1_000_000 else 5


def test_load_zone_table(measure: Measure, size: int, rows: list[tuple[str, str]]) -> None:
    bench = measure("zone_load", "zone_table", size=size)
    table = bench.pedantic(ZoneTable, (rows,), rounds=rounds(size))
    assert len(table) == size


def test_load_dict(measure: Measure, size: int, rows: list[tuple[str, str]]) -> None:
    table = measure("zone_load", "dict", size=size).pedantic(dict, (rows,), rounds=rounds(size))
    assert len(table) == size


def hand_written(table: dict[str, str], digits: str) -> str | None:
    for length in range(min(len(digits), MAX_PREFIX_DIGITS), 0, -1):
        zone = table.get(digits[:length])
        if zone is not None:
            return zone
    return None


def test_lookup_zone_table(
    measure: Measure, size: int, rows: list[tuple[str, str]], dialled: list[str]
) -> None:
    table = ZoneTable(rows)
    match = table.match
    bench = measure("zone_lookup", "zone_table", size=size, items=len(dialled))
    found = bench(lambda: [match(d) for d in dialled])
    plain = dict(rows)
    assert found == [hand_written(plain, d) for d in dialled]
    assert any(found)
    assert not all(found)


def test_lookup_hand_written(
    measure: Measure, size: int, rows: list[tuple[str, str]], dialled: list[str]
) -> None:
    plain = dict(rows)
    bench = measure("zone_lookup", "hand_written", size=size, items=len(dialled))
    found = bench(lambda: [hand_written(plain, d) for d in dialled])
    assert len(found) == len(dialled)
