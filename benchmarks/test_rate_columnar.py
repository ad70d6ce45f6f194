"""Workload `rate_columnar`: the columnar rater (rules.columnar) on big batches.

The calls of `rate_event` (tariff.gen.usage: March 2026, local and mobile numbers from the
zone table, lognormal durations; the generated plan with the smallest voice allowance of the
1,000-offer bench catalog) repeated with fresh subscribers up to `size` records, ~50 calls
per subscriber and month, so allowances run out mid-batch as they do in a month's file.
Records arrive as columns, codes dictionary-encoded as Parquet files hold them.

Variants: `columnar` (rules.columnar.rate_columns: every result column, and the periods'
counters), `numpy` (benchmarks.test_rating.rate_numpy: that plan's local voice tariff written
by hand in numpy, cents only, on arrays prepared for it beforehand: digits matrix, epoch
seconds, group ids), baseline `numpy_intervals` (the strongest hand-written numpy: the prefix
table flattened into disjoint ranges once, one searchsorted, its input prepared from the same
UsageColumns inside the timing) and `per_event` (rules.rating.RatingSession, the RPC engine, on
the first 20,000 records at the smallest size). Every variant's charges are asserted equal
(issue 20's goal: the columnar path within 1.5x of the best hand-written numpy).
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass
from typing import Any

import pytest

from benchmarks.conftest import Measure
from benchmarks.support.catalogs import INFO, bench_catalog
from benchmarks.test_rating import (
    CHINA,
    CHINA_OFFSET,
    Intervals,
    VoiceTariff,
    chosen_product,
    flatten,
    rate_numpy,
    rate_numpy_intervals,
    voice_tariff,
)
from rules.sale_catalog import SaleCatalog
from rules.usage_rows import record_from_row
from tariff.gen.usage import UsageSpec, iter_rows, write_usage

np = pytest.importorskip("numpy", reason="the columnar engine needs numpy")
pa = pytest.importorskip("pyarrow")
pc = pytest.importorskip("pyarrow.compute")

from rules.columnar import UsageColumns, Versions, rate_columns  # noqa: E402
from rules.rating import RatingSession, UsageRecord  # noqa: E402

SIZES = {"gate": (200_000,), "full": (200_000, 1_000_000)}
OFFERS = 1_000
BASE = 50_000  # distinct generated calls, repeated with fresh subscribers up to `size`
PER_EVENT = 20_000


@functools.cache
def _catalog() -> SaleCatalog:
    return SaleCatalog(INFO, bench_catalog(OFFERS))


@functools.cache
def _calls() -> tuple[list[UsageRecord], UsageColumns]:
    catalog = _catalog()
    product = chosen_product(catalog)
    out = io.StringIO()
    write_usage(catalog.content, UsageSpec(events=BASE * 4, subscribers=1_000, seed=11), out)
    rows = [r for r in iter_rows(out.getvalue()) if r["business_code"] == "local_voice"]
    records = [
        record_from_row({**row, "offer_code": product.code}, catalog.businesses)
        for row in rows[:BASE]
    ]
    return records, UsageColumns.of(records)


@dataclass(frozen=True, slots=True)
class Batch:
    columns: UsageColumns
    arrays: dict[str, Any]  # the hand-written numpy rater's own inputs


def _tiled(size: int) -> Batch:
    records, base = _calls()
    copies = -(-size // len(records))

    def tile(array: Any) -> Any:
        return pa.concat_arrays([array] * copies).slice(0, size)

    subscribers = pa.concat_arrays(
        [pa.array([f"{s}~{k}" for s in base.subscriber.to_pylist()]) for k in range(copies)]
    ).slice(0, size)
    columns = UsageColumns(
        event_id=tile(base.event_id),
        subscriber=subscribers.dictionary_encode(),
        offer=tile(base.offer).dictionary_encode(),
        business=tile(base.business).dictionary_encode(),
        start_us=np.tile(base.start_us, copies)[:size],
        quantity=np.tile(base.quantity, copies)[:size],
        destination=tile(base.destination),
        origin=tile(base.origin).dictionary_encode(),
        roaming=np.tile(base.roaming, copies)[:size],
    )
    numbers = columns.destination.to_pylist()
    width = max(map(len, numbers))
    padded = np.array([d.ljust(width, "0") for d in numbers], dtype=f"S{width}")
    epoch = columns.start_us // 1_000_000
    months = ((epoch + CHINA_OFFSET) * 1_000_000).astype("datetime64[us]").astype("datetime64[M]")
    codes = columns.subscriber.indices.to_numpy().astype(np.int64)
    arrays = {
        "digits": padded.view(np.uint8).reshape(size, width).astype(np.int64) - 48,
        "lengths": np.array([len(d) for d in numbers]),
        "epoch": epoch,
        "duration": columns.quantity,
        "group": codes * 100_000 + months.astype(np.int64),  # subscriber and month
    }
    return Batch(columns, arrays)


@pytest.fixture(scope="module")
def batch(size: int) -> Batch:
    return _tiled(size)


@pytest.fixture(scope="module")
def expected(batch: Batch) -> Any:
    catalog = _catalog()
    table = dict(catalog.content.zone_tables["zones"].prefixes)
    cents = rate_numpy(voice_tariff(chosen_product(catalog)), table, batch.arrays)
    assert (cents >= 0).all()  # every call finds its zone and rate
    assert (cents == 0).any()  # calls inside the allowance
    assert (cents > 0).any()  # and beyond it
    return cents


def _cents(found: Any) -> Any:
    assert found.rated.all()
    return np.asarray(found.charge, dtype=np.int64) * 10 ** (2 - found.places)


def _rate(columns: UsageColumns) -> Any:
    found = rate_columns(columns, Versions(lambda _start: _catalog()), CHINA)
    found.counters  # noqa: B018 - the periods' counters are part of the answer
    return found


def test_columnar(measure: Measure, size: int, batch: Batch, expected: Any) -> None:
    _rate(batch.columns)  # compiles the plan, lays out the zone table
    bench = measure("rate_columnar", "columnar", size=size)
    found = bench.pedantic(_rate, (batch.columns,), rounds=5, iterations=1)
    assert np.array_equal(_cents(found), expected)


def test_numpy(measure: Measure, size: int, batch: Batch, expected: Any) -> None:
    catalog = _catalog()
    tariff = voice_tariff(chosen_product(catalog))
    table = dict(catalog.content.zone_tables["zones"].prefixes)
    bench = measure("rate_columnar", "numpy", size=size)
    cents = bench.pedantic(rate_numpy, (tariff, table, batch.arrays), rounds=5, iterations=1)
    assert np.array_equal(cents, expected)


def intervals_from_columns(
    tariff: VoiceTariff, table: dict[str, str], flat: Intervals, columns: UsageColumns
) -> Any:
    """The strongest hand-written numpy rater, from the columnar engine's own input (input
    preparation timed too): pyarrow computes each number's first digits as an integer and
    its length, numpy the months and groups, one searchsorted finds the zones."""
    dest = columns.destination
    width = flat.width
    head = pc.utf8_slice_codeunits(pc.utf8_rpad(dest, width, "0"), 0, width)
    epoch = columns.start_us // 1_000_000
    months = ((epoch + CHINA_OFFSET) * 1_000_000).astype("datetime64[us]").astype("datetime64[M]")
    codes = columns.subscriber.indices.to_numpy().astype(np.int64)
    arrays = {
        "values": pc.cast(head, pa.int64()).to_numpy(),
        "lengths": pc.utf8_length(dest).to_numpy(),
        "numbers": dest,
        "epoch": epoch,
        "duration": columns.quantity,
        "group": codes * 100_000 + months.astype(np.int64),
    }
    return rate_numpy_intervals(tariff, table, flat, arrays)


def test_numpy_intervals(measure: Measure, size: int, batch: Batch, expected: Any) -> None:
    catalog = _catalog()
    tariff = voice_tariff(chosen_product(catalog))
    table = dict(catalog.content.zone_tables["zones"].prefixes)
    flat = flatten(table, sorted({*table.values()}))  # once, as the engine lays out its table
    bench = measure("rate_columnar", "numpy_intervals", size=size)
    cents = bench.pedantic(
        intervals_from_columns, (tariff, table, flat, batch.columns), rounds=5, iterations=1
    )
    assert np.array_equal(cents, expected)


def test_per_event(measure: Measure, size: int, batch: Batch, expected: Any) -> None:
    """The first PER_EVENT records (what the columnar path saves, per record)."""
    if size != SIZES["gate"][0]:
        pytest.skip("the per-event engine is measured at the smallest size only")
    records, _ = _calls()
    tiled = [
        UsageRecord(r.event_id, f"{r.subscriber_id}~0", r.offer_code, r.usage)
        for r in records[:PER_EVENT]
    ]

    def rate_all() -> list[int]:
        session = RatingSession(lambda _start: _catalog(), CHINA)
        return [int(r.rated.charge * 100) for r in session.rate_all(tiled)]

    bench = measure("rate_columnar", "per_event", size=size, items=PER_EVENT)
    cents = bench.pedantic(rate_all, rounds=3, iterations=1)
    assert cents == expected[:PER_EVENT].tolist()
