"""Workloads `rate_event` and `rate_batch`: usage rating in process.

`rate_event`: 10,000 generated voice events (tariff.gen.usage: March 2026 with its day/night
and weekday shape, local and mobile numbers drawn from the zone table, lognormal durations)
of 40 subscribers, all under one generated plan of the 1,000-offer bench catalog - the one
with the smallest voice allowance, so allowances run out and charges vary - rated in order
with counters per subscriber and month. Variants: `compiled` (rules.rating.EventRating,
the engine behind PricingService.Rate: the compiled raters' lean results - charge, zone,
band, units, rate, new counters), `session` (rules.rating.RatingSession: the same with the
full `Rated` objects, as `tariff rate` uses it), `interpreter` (dsl.eval_usage.rate per
record, in the same loop), baseline `hand_written` (that plan's local voice tariff written
by hand in plain Python: longest-prefix zone, peak band on working days with the holiday
calendar, increments, the allowance, half-up cents), `tight` (the same decisions as a
competent engineer tunes them: the working day and the month once per local day, locals bound
- the strongest Python baseline, issue 20's goal is 1.3x of it), `numpy` (the same tariff
vectorised, one searchsorted per prefix length) and `numpy_intervals` (the prefix table
flattened into disjoint ranges: one searchsorted). Every variant's charges are asserted equal
to the compiled ones.

`rate_batch`: PricingService.Rate's whole path in process, messages in and messages out,
on 10,000 generated events of every business over the same catalog: baseline `sync`
(tariff.servicers.rating.rate_batch in one go), `chunked` (rate_batch_async, giving the
event loop back every CHUNK events: what staying responsive costs, goal < 5%) and `engine`
(EventRating alone on the same records: what the protobuf edge adds).
"""

from __future__ import annotations

import asyncio
import gc
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from benchmarks.conftest import Measure
from benchmarks.support.catalogs import INFO, bench_catalog
from catalog.model import Product, ProductKind
from catalog.snapshot import SnapshotRegistry
from dsl import eval_usage
from dsl.eval_usage import Counters, Rated
from dsl.runtime_usage import Lean
from rules.rating import CounterKey, EventRating, RatingSession, UsageRecord, period_of
from rules.sale_catalog import SaleCatalog
from rules.usage_rows import record_from_row
from tariff.gen.usage import UsageSpec, iter_rows, write_usage
from tariff.mappers.common import datetime_to_timestamp
from tariff.mappers.money import money_to_proto
from tariff.servicers.rating import rate_batch, rate_batch_async
from tariff.v1 import pricing_service_pb2 as pb

SIZES = {"gate": (10_000,), "full": (10_000,)}
OFFERS = 1_000
CHINA = ZoneInfo("Asia/Shanghai")
MAX_EVENTS = 100_000
# tariff.gen.rules_text's calendar: weekends and these holidays are off-peak all day
HOLIDAYS = frozenset(
    [date(2026, 1, 1)]
    + [date(2026, 2, 17) + timedelta(days=d) for d in range(7)]
    + [date(2026, 10, 1) + timedelta(days=d) for d in range(7)]
)
PEAK_SECONDS = (8 * 3600, 22 * 3600)
CHINA_OFFSET = 8 * 3600  # Asia/Shanghai has had no daylight saving since 1991
MINUTE_MS = 60_000
RATE_LINE = re.compile(
    r"rate (\S+) (\S+): (\d+)\.(\d\d) per minute increments (\d+)s"
    r"(?: then (\d+)s)?(?: connection (\d+)\.(\d\d))?"
)
ALLOWANCE_LINE = re.compile(r"allowance (\S+): (\d+) minutes per month on local, mobile")


@pytest.fixture(scope="module")
def catalog() -> Iterator[SaleCatalog]:
    """The installed version, kept out of the cyclic collector's walks as `tariff serve`
    keeps its versions (tariff.server freezes them once they are loaded)."""
    built = SaleCatalog(INFO, bench_catalog(OFFERS))
    gc.collect()
    gc.freeze()
    yield built
    gc.unfreeze()


# -- the hand-written tariff --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rate:
    cents: int  # per minute
    first_ms: int
    then_ms: int
    connection_cents: int


@dataclass(frozen=True, slots=True)
class VoiceTariff:
    """A generated plan's `usage local_voice` block, read off its text by hand."""

    offer: str
    rates: dict[str, Rate]  # "local peak", "local offpeak", "mobile", "national", "intl"
    allowance: str
    allowance_ms: int


def _voice_block(text: str) -> str:
    start = text.index("usage local_voice {")
    return text[start : text.index("\n  }", start)]


def voice_tariff(product: Product) -> VoiceTariff:
    block = _voice_block(product.rule_sources[0].text)
    rates = {}
    for zone, band, units, cents, first, then, fee_units, fee_cents in RATE_LINE.findall(block):
        key = "intl" if zone == "intl_*" else zone if band == "*" else f"{zone} {band}"
        fee = int(fee_units or 0) * 100 + int(fee_cents or 0)
        first_ms = int(first) * 1000
        then_ms = int(then) * 1000 if then else first_ms
        rates[key] = Rate(int(units) * 100 + int(cents), first_ms, then_ms, fee)
    found = ALLOWANCE_LINE.search(block)
    assert found is not None, block
    assert len(rates) == 5, block
    return VoiceTariff(product.code, rates, found[1], int(found[2]) * MINUTE_MS)


def chosen_product(catalog: SaleCatalog) -> Product:
    """The voice plan with the smallest allowance (fine increments first among equals)."""
    mains = [
        o
        for o in catalog.offers.values()
        if isinstance(o, Product)
        and o.kind is ProductKind.MAIN
        and "local_voice" in o.business_codes
        and not o.tariff_overrides
    ]

    def key(product: Product) -> tuple[int, bool, str]:
        tariff = voice_tariff(product)
        return tariff.allowance_ms, tariff.rates["local peak"].then_ms == MINUTE_MS, product.code

    return min(mains, key=key)


@dataclass(frozen=True, slots=True)
class Call:
    """An event as the hand-written rater reads it."""

    subscriber: str
    epoch: int  # seconds
    duration_ms: int
    destination: str


def zone_of(table: dict[str, str], longest: int, number: str) -> str | None:
    for length in range(min(longest, len(number)), 0, -1):  # bounded by the prefix length
        zone = table.get(number[:length])
        if zone is not None:
            return zone
    return None


def billed(used: int, first: int, then: int) -> int:
    if used == 0:
        return 0
    if used <= first:
        return first
    return first + -(-(used - first) // then) * then


def rate_hand_written(
    tariff: VoiceTariff, table: dict[str, str], calls: Sequence[Call]
) -> list[int | None]:
    """Cents per call (None: no rate), the allowance consumed per subscriber and month."""
    longest = max(map(len, table))
    holidays = {(d - date(1970, 1, 1)).days for d in HOLIDAYS}
    rates = tariff.rates
    used: dict[tuple[str, int], int] = {}
    charges: list[int | None] = []
    for call in calls:
        zone = zone_of(table, longest, call.destination)
        local = call.epoch + CHINA_OFFSET
        day, second = divmod(local, 86_400)
        if zone == "local":
            working = (day + 3) % 7 < 5 and day not in holidays  # 1970-01-01 was a Thursday
            peak = working and PEAK_SECONDS[0] <= second < PEAK_SECONDS[1]
            rate = rates["local peak" if peak else "local offpeak"]
        elif zone in ("mobile", "national"):
            rate = rates[zone]
        elif zone is not None and zone.startswith("intl_"):
            rate = rates["intl"]
        else:
            charges.append(None)
            continue
        units = billed(call.duration_ms, rate.first_ms, rate.then_ms)
        paid = units
        if zone in ("local", "mobile"):
            month = datetime.fromtimestamp(local, UTC)
            key = (call.subscriber, month.year * 12 + month.month)
            before = used.get(key, 0)
            free = min(max(tariff.allowance_ms - before, 0), units)
            used[key] = before + free
            paid = units - free
        if paid == 0:
            charges.append(0)
            continue
        tenths = rate.cents * paid + rate.connection_cents * MINUTE_MS  # in cents / 60,000
        charges.append((2 * tenths + MINUTE_MS) // (2 * MINUTE_MS))  # half up to the cent
    return charges


def rate_tight(
    tariff: VoiceTariff, table: dict[str, str], calls: Sequence[Call]
) -> list[int | None]:
    """`rate_hand_written` as a competent engineer tunes it, same decisions and answers: the
    working day and the month worked out once per local day (not a datetime per call), the
    rates and the lookup bound to locals, only the prefix lengths the table has tried."""
    get = table.get
    lengths = sorted({len(p) for p in table}, reverse=True)
    epoch_day = date(1970, 1, 1)
    holidays = {(d - epoch_day).days for d in HOLIDAYS}
    rates = tariff.rates
    peak, offpeak = rates["local peak"], rates["local offpeak"]
    mobile, national, intl = rates["mobile"], rates["national"], rates["intl"]
    low, high = PEAK_SECONDS
    allowance = tariff.allowance_ms
    days: dict[int, tuple[bool, int]] = {}  # local day -> (working, year * 12 + month)
    used: dict[tuple[str, int], int] = {}
    charges: list[int | None] = []
    append = charges.append
    for call in calls:
        number = call.destination
        size = len(number)
        zone = None
        for length in lengths:
            if length <= size:
                zone = get(number[:length])
                if zone is not None:
                    break
        local = call.epoch + CHINA_OFFSET
        day = local // 86_400
        known = days.get(day)
        if known is None:
            when = epoch_day + timedelta(days=day)
            known = days[day] = ((day + 3) % 7 < 5 and day not in holidays,
                                 when.year * 12 + when.month)  # fmt: skip
        if zone == "local":
            rate = peak if known[0] and low <= local - day * 86_400 < high else offpeak
        elif zone == "mobile":
            rate = mobile
        elif zone == "national":
            rate = national
        elif zone is not None and zone.startswith("intl_"):
            rate = intl
        else:
            append(None)
            continue
        used_ms, first, then = call.duration_ms, rate.first_ms, rate.then_ms
        if used_ms == 0:
            units = 0
        elif used_ms <= first:
            units = first
        else:
            units = first + -(-(used_ms - first) // then) * then
        paid = units
        if zone == "local" or zone == "mobile":
            key = (call.subscriber, known[1])
            before = used.get(key, 0)
            free = min(max(allowance - before, 0), units)
            used[key] = before + free
            paid = units - free
        if paid == 0:
            append(0)
            continue
        tenths = rate.cents * paid + rate.connection_cents * MINUTE_MS
        append((2 * tenths + MINUTE_MS) // (2 * MINUTE_MS))
    return charges


def zones_by_length(table: dict[str, str], names: Sequence[str], arrays: dict[str, Any]) -> Any:
    """Each number's zone index (-1: none): one searchsorted per prefix length."""
    import numpy as np

    numbers, lengths = arrays["digits"], arrays["lengths"]
    zone = np.full(len(lengths), -1, dtype=np.int64)
    for length in range(max(map(len, table)), 0, -1):  # longest prefix first
        prefixes = sorted((int(p), names.index(z)) for p, z in table.items() if len(p) == length)
        if not prefixes:
            continue
        keys = np.array([p for p, _ in prefixes], dtype=np.int64)
        zones = np.array([z for _, z in prefixes], dtype=np.int64)
        values = numbers[:, :length] @ (10 ** np.arange(length - 1, -1, -1, dtype=np.int64))
        at = np.minimum(np.searchsorted(keys, values), len(keys) - 1)
        hit = (zone < 0) & (lengths >= length) & (keys[at] == values)
        zone[hit] = zones[at[hit]]
    return zone


@dataclass(frozen=True, slots=True)
class Intervals:
    """A prefix table flattened into disjoint ranges of `width`-digit numbers: range i starts
    at bounds[i] and belongs to the longest prefix covering it (zone index, prefix length)."""

    width: int
    bounds: Any
    zones: Any
    lengths: Any


def flatten(table: dict[str, str], names: Sequence[str]) -> Intervals:
    """Built once per table, as an engine builds its zone table."""
    import numpy as np

    width = max(map(len, table))
    spans = sorted(
        (int(p) * 10 ** (width - len(p)), (int(p) + 1) * 10 ** (width - len(p)), len(p), z)
        for p, z in table.items()
    )
    bounds = np.unique(np.array([b for s in spans for b in s[:2]], dtype=np.int64))
    zones = np.full(len(bounds), -1, dtype=np.int64)
    lengths = np.zeros(len(bounds), dtype=np.int64)
    for start, end, length, name in sorted(spans, key=lambda s: s[2]):  # longer paints last
        low, high = np.searchsorted(bounds, [start, end])
        zones[low:high] = names.index(name)
        lengths[low:high] = length
    return Intervals(width, bounds, zones, lengths)


def zones_by_interval(
    table: dict[str, str], names: Sequence[str], flat: Intervals, arrays: dict[str, Any]
) -> Any:
    """Each number's zone index with a single searchsorted over the flattened table; a
    number shorter than the prefix its padding lands in (rare) is looked up by hand."""
    import numpy as np

    width = flat.width
    values = arrays.get("values")  # the first `width` digits as a number, zero-padded
    if values is None:
        powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
        values = arrays["digits"][:, :width] @ powers
    at = np.searchsorted(flat.bounds, values, side="right") - 1
    inside = at >= 0
    zone = np.where(inside, flat.zones[np.maximum(at, 0)], -1)
    short = np.flatnonzero(inside & (arrays["lengths"] < flat.lengths[np.maximum(at, 0)]))
    if len(short):
        longest = max(map(len, table))
        for row in short:  # bounded by the calls
            found = zone_of(table, longest, str(arrays["numbers"][row]))
            zone[row] = -1 if found is None else names.index(found)
    return zone


def rate_numpy(tariff: VoiceTariff, table: dict[str, str], arrays: dict[str, Any]) -> Any:
    """`rate_hand_written` vectorised: cents per call, -1 for no rate."""
    names = sorted({*table.values()})
    return charges_numpy(tariff, names, zones_by_length(table, names, arrays), arrays)


def rate_numpy_intervals(
    tariff: VoiceTariff, table: dict[str, str], flat: Intervals, arrays: dict[str, Any]
) -> Any:
    """`rate_numpy` with the zones found by one searchsorted (the strongest baseline)."""
    names = sorted({*table.values()})
    return charges_numpy(tariff, names, zones_by_interval(table, names, flat, arrays), arrays)


def charges_numpy(
    tariff: VoiceTariff, names: Sequence[str], zone: Any, arrays: dict[str, Any]
) -> Any:
    """Cents per call from each call's zone index: bands, increments, the allowance."""
    import numpy as np

    count = len(zone)
    local = arrays["epoch"] + CHINA_OFFSET
    day, second = local // 86_400, local % 86_400
    holidays = np.array(sorted((d - date(1970, 1, 1)).days for d in HOLIDAYS))
    working = ((day + 3) % 7 < 5) & ~np.isin(day, holidays)
    peak = working & (second >= PEAK_SECONDS[0]) & (second < PEAK_SECONDS[1])
    intl = np.array([n.startswith("intl_") for n in names] + [False])  # index -1: no zone
    keys_of = {"local": names.index("local"), "mobile": names.index("mobile")}
    kind = np.full(count, -1, dtype=np.int64)  # index into the rate table below
    kind[zone == keys_of["local"]] = 0
    kind[(zone == keys_of["local"]) & ~peak] = 1
    kind[zone == keys_of["mobile"]] = 2
    kind[zone == names.index("national")] = 3
    kind[intl[zone]] = 4
    kinds = ("local peak", "local offpeak", "mobile", "national", "intl")
    table_rates = [tariff.rates[k] for k in kinds]
    cents = np.array([r.cents for r in table_rates] + [0], dtype=np.int64)[kind]
    first = np.array([r.first_ms for r in table_rates] + [0], dtype=np.int64)[kind]
    then = np.array([r.then_ms for r in table_rates] + [1], dtype=np.int64)[kind]
    fee = np.array([r.connection_cents for r in table_rates] + [0], dtype=np.int64)[kind]
    used = arrays["duration"]
    units = np.where(used <= first, first, first + -(-(used - first) // then) * then)
    units[used == 0] = 0
    eligible = np.where(kind <= 2, units, 0) * (kind >= 0)
    order = np.lexsort((np.arange(count), arrays["group"]))
    group, taken = arrays["group"][order], eligible[order]
    starts = np.r_[True, group[1:] != group[:-1]]
    total = np.cumsum(taken)
    first_of = np.maximum.accumulate(np.where(starts, np.arange(count), 0))
    within = total - (total - taken)[first_of]
    limit = tariff.allowance_ms
    free_sorted = np.minimum(within, limit) - np.minimum(within - taken, limit)
    free = np.empty(count, dtype=np.int64)
    free[order] = free_sorted
    paid = units - free
    tenths = cents * paid + fee * MINUTE_MS
    charges = np.where(paid > 0, (2 * tenths + MINUTE_MS) // (2 * MINUTE_MS), 0)
    return np.where(kind >= 0, charges, -1)


# -- the events ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Voice:
    tariff: VoiceTariff
    table: dict[str, str]
    records: list[UsageRecord]
    calls: list[Call]


@pytest.fixture(scope="module")
def voice(catalog: SaleCatalog, size: int) -> Voice:
    product = chosen_product(catalog)
    out = io.StringIO()
    write_usage(catalog.content, UsageSpec(events=size * 4, subscribers=40, seed=11), out)
    rows = [r for r in iter_rows(out.getvalue()) if r["business_code"] == "local_voice"]
    assert len(rows) >= size
    records = []
    for row in rows[:size]:  # every call under the chosen plan
        record = record_from_row({**row, "offer_code": product.code}, catalog.businesses)
        records.append(record)
    calls = [
        Call(r.subscriber_id, int(r.usage.start.timestamp()), r.usage.quantity, r.usage.destination)
        for r in records
    ]
    table = dict(catalog.content.zone_tables["zones"].prefixes)
    return Voice(voice_tariff(product), table, records, calls)


def compiled(catalog: SaleCatalog, records: Sequence[UsageRecord]) -> list[Lean | Rated]:
    """The engine behind PricingService.Rate: rules.rating.EventRating, lean results."""
    return EventRating(lambda _start: catalog, CHINA).rate_all(records)


def session(catalog: SaleCatalog, records: Sequence[UsageRecord]) -> list[Rated]:
    """rules.rating.RatingSession: the same decisions with the full `Rated` objects."""
    return [r.rated for r in RatingSession(lambda _start: catalog, CHINA).rate_all(records)]


def interpreted(catalog: SaleCatalog, records: Sequence[UsageRecord]) -> list[Rated]:
    """RatingSession's loop with the reference interpreter in place of the compiled rater."""
    counters: dict[CounterKey, Counters] = {}
    book, tables = catalog.book, catalog.zone_lookups()
    found = []
    for record in records:
        usage = record.usage
        key = (record.subscriber_id, period_of(usage.start, CHINA))
        offer = catalog.offers[record.offer_code]
        plan = catalog.plan_for(offer, catalog.tree.lineage(usage.origin or ""))
        assert plan is not None
        before = counters.get(key) or Counters()
        rated = eval_usage.rate(plan, usage, before, book.scope, tables, env=book.env)
        if rated.status == "rated":
            counters[key] = rated.counters
        found.append(rated)
    return found


def charge(result: Lean | Rated) -> tuple[Decimal, str] | None:
    """A result's charge and currency, None when rejected."""
    if isinstance(result, Lean):
        return result.charge, result.currency
    return (result.charge, result.currency) if result.status == "rated" else None


def cents(results: Sequence[Lean | Rated]) -> list[int | None]:
    found = map(charge, results)
    return [None if c is None else int(c[0] * 100) for c in found]


@pytest.fixture(scope="module")
def expected(catalog: SaleCatalog, voice: Voice) -> list[int | None]:
    found = cents(compiled(catalog, voice.records))  # also compiles the plan's rater
    assert found.count(0) > 0  # calls within the allowance
    assert sum(c or 0 for c in found) > 0  # and beyond it
    return found


def test_rate_compiled(
    measure: Measure, size: int, catalog: SaleCatalog, voice: Voice, expected: list[int | None]
) -> None:
    results = measure("rate_event", "compiled", size=size)(compiled, catalog, voice.records)
    assert cents(results) == expected


def test_rate_session(
    measure: Measure, size: int, catalog: SaleCatalog, voice: Voice, expected: list[int | None]
) -> None:
    results = measure("rate_event", "session", size=size)(session, catalog, voice.records)
    assert cents(results) == expected


def test_rate_interpreter(
    measure: Measure, size: int, catalog: SaleCatalog, voice: Voice, expected: list[int | None]
) -> None:
    bench = measure("rate_event", "interpreter", size=size)
    results = bench.pedantic(interpreted, (catalog, voice.records), rounds=3, iterations=1)
    assert cents(results) == expected


def test_rate_hand_written(
    measure: Measure, size: int, voice: Voice, expected: list[int | None]
) -> None:
    bench = measure("rate_event", "hand_written", size=size)
    assert bench(rate_hand_written, voice.tariff, voice.table, voice.calls) == expected


def test_rate_tight(measure: Measure, size: int, voice: Voice, expected: list[int | None]) -> None:
    bench = measure("rate_event", "tight", size=size)
    assert bench(rate_tight, voice.tariff, voice.table, voice.calls) == expected


def numpy_arrays(voice: Voice) -> dict[str, Any]:
    import numpy as np

    width = max(len(c.destination) for c in voice.calls)
    padded = np.array([c.destination.ljust(width, "0") for c in voice.calls], dtype=f"S{width}")
    months = [datetime.fromtimestamp(c.epoch + CHINA_OFFSET, UTC) for c in voice.calls]
    subscribers = {s: n for n, s in enumerate(sorted({c.subscriber for c in voice.calls}))}
    groups = [
        subscribers[c.subscriber] * 100_000 + m.year * 12 + m.month
        for c, m in zip(voice.calls, months, strict=True)
    ]
    return {
        "digits": padded.view(np.uint8).reshape(len(padded), width).astype(np.int64) - 48,
        "lengths": np.array([len(c.destination) for c in voice.calls]),
        "epoch": np.array([c.epoch for c in voice.calls], dtype=np.int64),
        "duration": np.array([c.duration_ms for c in voice.calls], dtype=np.int64),
        "group": np.array(groups, dtype=np.int64),  # subscriber and month
        "numbers": [c.destination for c in voice.calls],
    }


def test_rate_numpy(measure: Measure, size: int, voice: Voice, expected: list[int | None]) -> None:
    pytest.importorskip("numpy", reason="the numpy baseline needs numpy")
    arrays = numpy_arrays(voice)
    bench = measure("rate_event", "numpy", size=size)
    charges = bench(rate_numpy, voice.tariff, voice.table, arrays)
    assert [None if c < 0 else int(c) for c in charges] == expected


def test_rate_numpy_intervals(
    measure: Measure, size: int, voice: Voice, expected: list[int | None]
) -> None:
    pytest.importorskip("numpy", reason="the numpy baseline needs numpy")
    arrays = numpy_arrays(voice)
    names = sorted({*voice.table.values()})
    flat = flatten(voice.table, names)
    assert list(zones_by_interval(voice.table, names, flat, arrays)) == list(
        zones_by_length(voice.table, names, arrays)
    )
    bench = measure("rate_event", "numpy_intervals", size=size)
    charges = bench(rate_numpy_intervals, voice.tariff, voice.table, flat, arrays)
    assert [None if c < 0 else int(c) for c in charges] == expected


# -- the whole Rate path ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Batch:
    registry: SnapshotRegistry[SaleCatalog]
    request: pb.RateRequest
    records: list[UsageRecord]


def usage_event(row: dict[str, str]) -> pb.UsageEvent:
    return pb.UsageEvent(
        event_id=row["event_id"],
        subscriber_id=row["subscriber_id"],
        offer_code=row["offer_code"],
        business_code=row["business_code"],
        start_time=datetime_to_timestamp(datetime.fromisoformat(row["start_time"])),
        duration_ms=int(row["duration_ms"]),
        volume_bytes=int(row["volume_bytes"]),
        count=int(row["count"]),
        origin_area_code=row["origin_area_code"],
        destination=row["destination"],
        roaming=row["roaming"] == "true",
    )


def mixed_rows(offers: int, count: int, subscribers: int = 1_000) -> list[dict[str, str]]:
    """Generated usage of every business for the bench catalog of `offers` offers."""
    out = io.StringIO()
    write_usage(bench_catalog(offers), UsageSpec(count, subscribers, seed=4), out)
    return list(iter_rows(out.getvalue()))


@pytest.fixture(scope="module")
def batch(catalog: SaleCatalog, size: int) -> Batch:
    registry = SnapshotRegistry(lambda _n: catalog.content, lambda _info, _content: catalog)
    registry.install(catalog.info, catalog.content)  # the catalog already built, as is
    rows = mixed_rows(OFFERS, size)
    records = [record_from_row(row, catalog.businesses) for row in rows]
    request = pb.RateRequest(events=[usage_event(row) for row in rows])
    rate_batch(registry, request, CHINA, MAX_EVENTS)  # compiles the raters it needs
    return Batch(registry, request, records)


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    running = asyncio.new_event_loop()
    yield running
    running.close()


def test_batch_sync(measure: Measure, size: int, batch: Batch) -> None:
    bench = measure("rate_batch", "sync", size=size)
    response = bench(rate_batch, batch.registry, batch.request, CHINA, MAX_EVENTS)
    assert response.rated_count > 0.9 * size
    bench.extra_info["rejected"] = response.rejected_count


def test_batch_chunked(
    measure: Measure, size: int, batch: Batch, loop: asyncio.AbstractEventLoop
) -> None:
    def chunked() -> pb.RateResponse:
        call = rate_batch_async(batch.registry, batch.request, CHINA, MAX_EVENTS)
        return loop.run_until_complete(call)

    response = measure("rate_batch", "chunked", size=size)(chunked)
    assert response == rate_batch(batch.registry, batch.request, CHINA, MAX_EVENTS)


def test_batch_engine(measure: Measure, size: int, catalog: SaleCatalog, batch: Batch) -> None:
    results = measure("rate_batch", "engine", size=size)(compiled, catalog, batch.records)
    response = rate_batch(batch.registry, batch.request, CHINA, MAX_EVENTS)
    refused: set[str] = set()  # a charge the wire cannot carry is refused, its counters kept
    for record, rated, out in zip(batch.records, results, response.results, strict=True):
        if record.subscriber_id in refused:
            continue
        found = charge(rated)
        if out.status == pb.RATING_STATUS_RATED:
            assert found is not None
            assert out.charge == money_to_proto(*found)
        elif found is not None:
            refused.add(record.subscriber_id)
            assert "decimals" in out.message
