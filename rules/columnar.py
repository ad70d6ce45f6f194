"""The columnar rater: a batch of usage records as columns in, charges as columns out.

It gives every record exactly what `rules.rating.RatingSession` gives it, record by record
(a property test holds the two together), but works on whole columns with numpy:

1. each record's catalog version (stretches between version edges), its offer's plan where
   the usage started, and the plan's usage block for its business are resolved once per
   distinct (version, offer, origin, business), not per record;
2. zones by longest prefix for the whole column (`rules.columnar_zones`), bands and the
   parts of events crossing a band edge from the runs `TimeBands.split` defines
   (`rules.columnar_bands`), the rate of each part from a (zone, band) table per block;
3. increments, then allowances, tiers (counters: `rules.columnar_groups`, one group per
   subscriber and period, rows in their order), fee, minimum and maximum on each block's
   exact integer scale (`dsl.compile_usage.analyse`), the event's total, the declared
   rounding with integer arithmetic, then the caps.

What the arrays do not express - a `when` to evaluate, a term the interpreter refuses, a
destination that is not a phone number, a start finer than a millisecond on a split block -
sends the records of that subscriber's period to the per-event engine, in order, with their
counters: a period is rated by one engine or the other, never half by each. Records carry
no free attributes here (files have none); the RPC path, which has them, rates per event.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]

from catalog.errors import NotFound
from dsl.compile_usage import CompiledUsage, currency_of
from dsl.eval_usage import Counters, Rated, UsageEvent, allowance_key, cap_key, tier_key
from pricing.bands import MAX_EVENT_MS, MAX_PARTS, TimeBands
from pricing.rounding import RoundingMode
from pricing.steps import allowances as steps_allowances
from pricing.steps import caps as steps_caps
from pricing.steps import increments as steps_increments
from pricing.steps import rounding as steps_rounding
from pricing.steps import terms as steps_terms
from pricing.steps import tiers as steps_tiers
from pricing.steps.groups import by_group, running_before
from pricing.steps.rounding import MODES, pow10
from rules.columnar_bands import BandRuns
from rules.columnar_terms import (
    CONDITIONAL,
    NO_RATE,
    VectorBlock,
    allowance_grid,
    select_table,
    vector_block,
)
from rules.columnar_zones import MALFORMED, NO_ZONE, ZoneIndex
from rules.per_version import PerVersion
from rules.rating import (
    NO_VERSION,
    CounterKey,
    RatingSession,
    UsageRecord,
    no_tariff,
    plan_rater,
)
from rules.sale_catalog import SaleCatalog

__all__ = ["RatedColumns", "UsageColumns", "Versions", "encode", "rate_columns"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_HOUR_US = 3_600_000_000
_FITS = 2**62


# -- input ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UsageColumns:
    """Usage records as columns: pyarrow string (or dictionary) arrays for the codes, numpy
    int64 for the start (UTC epoch microseconds) and the quantity (in the business's
    measure, as `UsageEvent.quantity`), bool for roaming. `origin` "" means none."""

    event_id: Any
    subscriber: Any
    offer: Any
    business: Any
    start_us: Any
    quantity: Any
    destination: Any
    origin: Any
    roaming: Any

    def __len__(self) -> int:
        return len(self.start_us)

    @classmethod
    def of(cls, records: Sequence[UsageRecord]) -> UsageColumns:
        """Columns of records (tests and benchmarks); free attributes are not carried."""
        starts = [(r.usage.start - _EPOCH) // timedelta(microseconds=1) for r in records]
        return cls(
            event_id=pa.array([r.event_id for r in records], pa.string()),
            subscriber=pa.array([r.subscriber_id for r in records], pa.string()),
            offer=pa.array([r.offer_code for r in records], pa.string()),
            business=pa.array([r.usage.business for r in records], pa.string()),
            start_us=np.array(starts, dtype=np.int64),
            quantity=np.array([r.usage.quantity for r in records], dtype=np.int64),
            destination=pa.array([r.usage.destination for r in records], pa.string()),
            origin=pa.array([r.usage.origin or "" for r in records], pa.string()),
            roaming=np.array([bool(r.usage.roaming) for r in records], dtype=np.bool_),
        )

    def record(self, row: int) -> UsageRecord:
        origin = self.origin[row].as_py() or None
        usage = UsageEvent(
            business=self.business[row].as_py() or "",
            start=_EPOCH + timedelta(microseconds=int(self.start_us[row])),
            quantity=int(self.quantity[row]),
            destination=self.destination[row].as_py() or "",
            origin=origin,
            roaming=bool(self.roaming[row]),
        )
        return UsageRecord(
            self.event_id[row].as_py() or "",
            self.subscriber[row].as_py() or "",
            self.offer[row].as_py() or "",
            usage,
        )


@dataclass(frozen=True, slots=True)
class Versions:
    """Which catalog rates a record: `pick(start)` (NotFound: none in force), constant
    between consecutive `edges` (none for a pinned version)."""

    pick: Callable[[datetime], SaleCatalog]
    edges: tuple[datetime, ...] = ()


# -- output --------------------------------------------------------------------------------------


@dataclass(slots=True)
class RatedColumns:
    """Per record: `rated` (else rejected with `reason` and `message`), the charge as an
    integer of 10**-places (`charge_decimal`), and names as codes into shared lists."""

    rated: Any
    reason: list[str]
    message: list[str]
    charge: Any  # int64 (or Python ints), in units of 10**-places
    places: Any
    currency: Any  # codes into `names`
    zone: Any
    band: Any
    rate: Any
    plan: Any
    period: Any
    version: Any
    billed: Any
    allowance_total: Any  # units taken from allowances per record
    allowance: dict[int, dict[str, int]]  # record -> allowance name -> units (per-event rows)
    names: list[str]
    settled: dict[CounterKey, Counters] = field(default_factory=dict)
    pending: list[Callable[[], dict[CounterKey, Counters]]] = field(default_factory=list)
    allowance_parts: list[tuple[Any, list[str], tuple[Any, Any]]] = field(default_factory=list)

    @property
    def counters(self) -> dict[CounterKey, Counters]:
        """The counters of every period the batch rated, as the per-event engine leaves
        them; built on first use (a batch of a million records touches ~20k periods)."""
        while self.pending:
            self.settled.update(self.pending.pop(0)())
        return self.settled

    def charge_decimal(self, row: int) -> Decimal:
        return Decimal(int(self.charge[row])).scaleb(-int(self.places[row]))

    def name(self, codes: Any, row: int) -> str:
        return self.names[int(codes[row])]

    def allowance_used(self, row: int) -> dict[str, int]:
        """Units taken per allowance name by one record (for reports and tests)."""
        used = dict(self.allowance.get(row, {}))
        for rows, names, (name_ids, units) in self.allowance_parts:
            for at in np.flatnonzero(rows == row).tolist():
                name = names[int(name_ids[at])]
                used[name] = used.get(name, 0) + int(units[at])
        return used


class _Names:
    def __init__(self) -> None:
        self.names: list[str] = [""]
        self.code: dict[str, int] = {"": 0}

    def __call__(self, name: str) -> int:
        found = self.code.get(name)
        if found is None:
            found = self.code[name] = len(self.names)
            self.names.append(name)
        return found

    def codes(self, names: Sequence[str]) -> Any:
        return np.array([self(name) for name in names], dtype=np.int32)


#: Names are coded once per process (zones, bands, rates, plans, currencies, periods: bounded
#: by the catalogs it rates), so a block's codes are worked out once, not per batch.
_NAMES = _Names()


def _block_codes(block: VectorBlock, what: str, names: Sequence[str]) -> Any:
    found = block.memo.get(("codes", what))
    if found is None:
        found = block.memo[("codes", what)] = _NAMES.codes(names)
    return found


# -- helpers -------------------------------------------------------------------------------------


def encode(array: Any) -> tuple[Any, list[str]]:
    """(codes, dictionary) of a string or dictionary column; null reads as ""."""
    if not pa.types.is_dictionary(array.type):
        array = array.dictionary_encode()
    values = [v or "" for v in array.dictionary.to_pylist()]
    indices = array.indices
    if indices.null_count:
        values.append("")
        indices = indices.fill_null(len(values) - 1)
    return indices.to_numpy(zero_copy_only=False).astype(np.int64), values


def _local_offsets(start_us: Any, tz: tzinfo) -> Any:
    """Each instant's UTC offset in `tz`, microseconds: one tz call per distinct hour (and
    per row only inside an hour where the offset changes)."""
    hours = start_us // _HOUR_US
    low = int(hours.min())
    if int(hours.max()) - low < 1_000_000:  # a dense range of hours (114 years)
        present = np.flatnonzero(np.bincount(hours - low))
        distinct = present + low
        lookup = np.zeros(int(hours.max()) - low + 1, dtype=np.int64)
        lookup[present] = np.arange(len(present))
        where = lookup[hours - low]
    else:
        distinct, where = np.unique(hours, return_inverse=True)
    offsets = np.empty(len(distinct), dtype=np.int64)
    mixed: list[int] = []
    for index, hour in enumerate(distinct.tolist()):  # bounded by the batch's hours
        opens = (_EPOCH + timedelta(hours=hour)).astimezone(tz).utcoffset()
        closes = (_EPOCH + timedelta(hours=hour + 1, microseconds=-1)).astimezone(tz).utcoffset()
        assert opens is not None
        assert closes is not None
        offsets[index] = opens // timedelta(microseconds=1)
        if opens != closes:
            mixed.append(index)
    result = offsets[where]
    for index in mixed:  # a DST change inside this hour: per row
        for row in np.flatnonzero(where == index).tolist():
            at = _EPOCH + timedelta(microseconds=int(start_us[row]))
            offset = at.astimezone(tz).utcoffset()
            assert offset is not None
            result[row] = offset // timedelta(microseconds=1)
    return result


def _among(values: Any, numbers: Sequence[int], total: int) -> Any:
    """`np.isin(values, numbers)` for block numbers (all of them: no work)."""
    if len(numbers) == total:
        return np.ones(len(values), dtype=np.bool_)
    member = np.zeros(total, dtype=np.bool_)
    member[list(numbers)] = True
    return member[values]


_RUNS: dict[int, tuple[TimeBands, BandRuns]] = {}


def _band_runs(bands: TimeBands, low_ms: int, high_ms: int) -> BandRuns:
    """The runs of a band setting over a range, kept for the next batch (a file's batches
    mostly cover the same month)."""
    found = _RUNS.get(id(bands))
    if found is not None and found[0] is bands and found[1].covers(low_ms, high_ms):
        return found[1]
    if found is not None and found[0] is bands:  # widen to cover both
        low_ms, high_ms = min(low_ms, found[1].low), max(high_ms, found[1].high)
    runs = BandRuns(bands, low_ms, high_ms)
    if len(_RUNS) >= 64:
        _RUNS.clear()
    _RUNS[id(bands)] = (bands, runs)
    return runs


def _column(values: Sequence[int], index: Any) -> Any:
    """`values[index]` as int64 when every value fits, else as Python integers."""
    fits = all(abs(v) < _FITS for v in values)
    return np.array(values, dtype=np.int64 if fits else object)[index]


def _wide(paid: Any, mult: Any, connection: Any, rates: Sequence[Any]) -> bool:
    """True when an event's exact total might not fit in int64 (then Python integers)."""
    if mult.dtype == object or connection.dtype == object:
        return True
    terms = [abs(t) for r in rates for t in (r.connection, r.minimum, r.maximum) if t is not None]
    top = int(paid.max(initial=0)) * int(np.abs(mult).max(initial=0)) + max(terms, default=0)
    return top * MAX_PARTS >= _FITS


_HALF_EVEN = MODES.index(RoundingMode.HALF_EVEN)


def _distinct(keys: Any) -> tuple[Any, Any]:
    """np.unique(keys, return_inverse=True) without sorting when the keys are dense."""
    if int(keys.max(initial=0)) < max(4 * len(keys), 1 << 16):
        present = np.flatnonzero(np.bincount(keys))
        lookup = np.zeros(int(keys.max(initial=0)) + 1, dtype=np.int64)
        lookup[present] = np.arange(len(present))
        return present, lookup[keys]
    return np.unique(keys, return_inverse=True)


def _fit(values: Any) -> Any:
    """int64 when every value fits, else the Python integers as they are."""
    if values.dtype != object:
        return values
    if not len(values) or (max(values) < _FITS and min(values) > -_FITS):
        return values.astype(np.int64)
    return values


# -- the engine ----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Resolved:
    """One distinct (stretch, offer, origin, business): its block, or why it is rejected."""

    block: int = -1
    reason: str = ""
    message: str = ""
    version: int = 0
    plan: str = ""


def _resolution(
    catalog: SaleCatalog, offer_code: str, origin: str, business: str
) -> tuple[_Resolved, VectorBlock | None]:
    """A combination's rejection (as RatingSession words it), or its plan's block."""
    number = catalog.number
    planned = plan_rater(catalog, offer_code, origin)
    if isinstance(planned, Rated):
        return _Resolved(reason=planned.reason, message=planned.message, version=number), None
    plan_name, rater = planned
    if rater is None:
        refused = no_tariff(catalog, offer_code, Counters())
        found = _Resolved(
            reason=refused.reason, message=refused.message, version=number, plan=plan_name
        )
        return found, None
    index = next((i for i, b in enumerate(rater.blocks) if b.usage.business == business), None)
    if index is None:
        message = f"plan `{rater.plan.name}` does not rate {business}"
        found = _Resolved(
            reason="unknown-business", message=message, version=number, plan=plan_name
        )
        return found, None
    block = _vector_block(catalog, plan_name, rater, index)
    return _Resolved(version=number, plan=plan_name), block


class _Blocks:
    """The vector blocks met in a batch, numbered, with their arrays built once."""

    def __init__(self) -> None:
        self.blocks: list[VectorBlock] = []
        self.number: dict[int, int] = {}

    def add(self, block: VectorBlock) -> int:
        found = self.number.get(id(block))
        if found is None:
            found = self.number[id(block)] = len(self.blocks)
            self.blocks.append(block)
        return found


@dataclass(slots=True, eq=False)
class _Tables:
    """What the engine derives from a version once (`rules.per_version`): each plan's vector
    blocks, and each (offer, origin, business)'s resolution."""

    blocks: dict[tuple[str, int], VectorBlock] = field(default_factory=dict)
    resolved: dict[tuple[str, str, str], tuple[_Resolved, VectorBlock | None]] = field(
        default_factory=dict
    )


_TABLES: PerVersion[_Tables] = PerVersion(lambda _catalog: _Tables())


def _vector_block(catalog: SaleCatalog, plan: str, rater: CompiledUsage, index: int) -> VectorBlock:
    blocks = _TABLES(catalog).blocks
    found = blocks.get((plan, index))
    if found is not None:
        return found
    tables = dict(catalog.zone_lookups())
    made = vector_block(
        rater.plan, rater.blocks[index], catalog.book.scope, tables, currency_of(rater.plan)
    )
    blocks[plan, index] = made
    return made


_ZONE_INDEXES: dict[int, tuple[Any, ZoneIndex]] = {}


def _zone_index(block: VectorBlock) -> ZoneIndex:
    table = block.zones
    assert table is not None
    found = _ZONE_INDEXES.get(id(table))
    if found is None or found[0] is not table:
        if len(_ZONE_INDEXES) >= 16:
            _ZONE_INDEXES.clear()
        found = _ZONE_INDEXES[id(table)] = (table, ZoneIndex(table))
    return found[1]


def rate_columns(
    columns: UsageColumns,
    versions: Versions,
    tz: tzinfo,
    counters: Mapping[CounterKey, Counters] | None = None,
) -> RatedColumns:
    """Rate a batch (module docstring). `counters` are the subscribers' period counters
    before the batch; the result's `counters` are those the batch changed."""
    return _Batch(columns, versions, tz, counters or {}).run()


class _Batch:
    def __init__(
        self,
        columns: UsageColumns,
        versions: Versions,
        tz: tzinfo,
        counters: Mapping[CounterKey, Counters],
    ) -> None:
        self.columns = columns
        self.versions = versions
        self.tz = tz
        self.given = counters
        self.names = _NAMES
        self.count = len(columns)

    # -- per record keys ------------------------------------------------------------------

    def _periods(self) -> None:
        start = self.columns.start_us
        local = start + _local_offsets(start, self.tz)
        months = local.astype("datetime64[us]").astype("datetime64[M]").astype(np.int64)
        first = int(months.min()) if self.count else 0
        self.month = months - first
        self.months = int(self.month.max()) + 1 if self.count else 1
        labels = [
            f"{1970 + (first + m) // 12:04d}-{(first + m) % 12 + 1:02d}" for m in range(self.months)
        ]
        self.period_labels = labels
        self.subscriber, self.subscribers = encode(self.columns.subscriber)
        self.group = self.subscriber * self.months + self.month
        self.groups = len(self.subscribers) * self.months

    def _stretches(self) -> tuple[Any, list[SaleCatalog | NotFound]]:
        edges = sorted({(e - _EPOCH) // timedelta(microseconds=1) for e in self.versions.edges})
        edge_us = np.array(edges, dtype=np.int64)
        stretch = np.searchsorted(edge_us, self.columns.start_us, side="right")
        catalogs: list[SaleCatalog | NotFound] = []
        for index in range(len(edges) + 1):  # bounded by the edges
            rows = np.flatnonzero(stretch == index) if edges else np.arange(min(self.count, 1))
            if not len(rows):
                catalogs.append(NotFound("unused"))
                continue
            at = _EPOCH + timedelta(microseconds=int(self.columns.start_us[rows[0]]))
            try:
                catalogs.append(self.versions.pick(at))
            except NotFound as error:
                catalogs.append(error)
        return stretch, catalogs

    def _resolve(self) -> None:
        """Each record's block (or rejection), through its distinct combination."""
        stretch, catalogs = self._stretches()
        offer, offers = encode(self.columns.offer)
        origin, origins = encode(self.columns.origin)
        # the origin picks a plan only for offers with provincial overrides
        overridden = np.array(
            [
                any(
                    not isinstance(c, NotFound)
                    and (o := c.offers.get(code)) is not None
                    and bool(o.tariff_overrides)
                    for c in catalogs
                )
                for code in offers
            ],
            dtype=np.bool_,
        )
        if not overridden.all():
            origins = [*origins, ""]
            origin = np.where(overridden[offer], origin, len(origins) - 1)
        business, businesses = encode(self.columns.business)
        key = ((stretch * len(offers) + offer) * len(origins) + origin) * len(businesses)
        key += business
        distinct, where = _distinct(key)
        self.blocks = _Blocks()
        resolved: list[_Resolved] = []
        for combo in distinct.tolist():  # bounded by the distinct combinations
            rest, b = divmod(combo, len(businesses))
            rest, g = divmod(rest, len(origins))
            s, o = divmod(rest, len(offers))
            resolved.append(self._resolve_one(catalogs[s], offers[o], origins[g], businesses[b]))
        self.combo = where
        self.block = np.array([r.block for r in resolved], dtype=np.int64)[where]
        self.resolved = resolved

    def _resolve_one(
        self,
        found: SaleCatalog | NotFound,
        offer_code: str,
        origin: str,
        business: str,
    ) -> _Resolved:
        if isinstance(found, NotFound):
            return _Resolved(reason=NO_VERSION, message=str(found))
        key = (offer_code, origin, business)
        table = _TABLES(found).resolved
        known = table.get(key)
        if known is None:  # what the version says, once per combination
            known = table[key] = _resolution(found, offer_code, origin, business)
        resolved, block = known
        if block is None:
            return resolved
        number = self.blocks.add(block) if block.vector else -2
        return _Resolved(block=number, version=resolved.version, plan=resolved.plan)

    # -- the run ----------------------------------------------------------------------------

    def run(self) -> RatedColumns:
        count = self.count
        self.out = RatedColumns(
            rated=np.zeros(count, dtype=np.bool_),
            reason=[""] * count,
            message=[""] * count,
            charge=np.zeros(count, dtype=np.int64),
            places=np.zeros(count, dtype=np.int64),
            currency=np.zeros(count, dtype=np.int32),
            zone=np.zeros(count, dtype=np.int32),
            band=np.zeros(count, dtype=np.int32),
            rate=np.zeros(count, dtype=np.int32),
            plan=np.zeros(count, dtype=np.int32),
            period=np.zeros(count, dtype=np.int32),
            version=np.zeros(count, dtype=np.int64),
            billed=np.zeros(count, dtype=np.int64),
            allowance_total=np.zeros(count, dtype=np.int64),
            allowance={},
            names=self.names.names,
        )
        if not count:
            return self.out
        self._periods()
        self._resolve()
        out = self.out
        out.period = self.names.codes(self.period_labels)[self.month]
        out.version = np.array([r.version for r in self.resolved], dtype=np.int64)[self.combo]
        out.plan = self.names.codes([r.plan for r in self.resolved])[self.combo]
        self.fallback = np.zeros(self.groups, dtype=np.bool_)  # per group: per-event engine
        self.rejected = np.zeros(count, dtype=np.bool_)
        for code, combo in enumerate(self.resolved):
            if combo.reason:
                self._reject(np.flatnonzero(self.combo == code), combo.reason, combo.message)
        self._mark(np.flatnonzero(self.block == -2))
        self._mark(np.flatnonzero((self.columns.quantity < 0) & (self.block >= 0)))
        self._zones()
        self._parts()
        self._price()
        self._per_event()
        return out

    def _reject(self, rows: Any, reason: str, message: str | Sequence[str]) -> None:
        self.rejected[rows] = True
        for i, row in enumerate(rows.tolist()):
            self.out.reason[row] = reason
            self.out.message[row] = message if isinstance(message, str) else message[i]

    def _mark(self, rows: Any) -> None:
        """These records' periods go to the per-event engine."""
        if len(rows):
            self.fallback[self.group[rows]] = True

    def _live(self) -> Any:
        """Records still to rate here: a vector block, not rejected, period not handed off."""
        return (self.block >= 0) & ~self.rejected & ~self.fallback[self.group]

    def _zones(self) -> None:
        live = self._live()
        self.zone_code = np.zeros(self.count, dtype=np.int64)  # into the block's table names
        blocks = self.blocks.blocks
        by_table: dict[int, list[int]] = {}
        for number, block in enumerate(blocks):
            if block.zones is not None:
                by_table.setdefault(id(block.zones), []).append(number)
        for numbers in by_table.values():
            index = _zone_index(blocks[numbers[0]])
            rows = np.flatnonzero(live & _among(np.maximum(self.block, 0), numbers, len(blocks)))
            if not len(rows):
                continue
            codes = index.lookup(self.columns.destination.take(pa.array(rows)))
            self._mark(rows[codes == MALFORMED])
            missing = rows[codes == NO_ZONE]
            if len(missing):
                destinations = self.columns.destination.take(pa.array(missing)).to_pylist()
                messages = [
                    f"no zone of `{blocks[b].zones_name}` for {d!r}"
                    for b, d in zip(self.block[missing].tolist(), destinations, strict=True)
                ]
                self._reject(missing, "no-zone", messages)
            self.zone_code[rows] = np.maximum(codes, 0)
        self.zone_names = [_zone_index(b).names if b.zones is not None else [""] for b in blocks]

    def _parts(self) -> None:
        """Every live record cut into its band parts (one part when not split)."""
        live = np.flatnonzero(self._live())
        blocks = self.blocks.blocks
        start_ms = self.columns.start_us // 1000
        quantity = self.columns.quantity
        band = np.zeros(self.count, dtype=np.int64)
        owners: list[Any] = [
            live[
                ~_among(
                    self.block[live],
                    [i for i, b in enumerate(blocks) if b.bands is not None],
                    len(blocks),
                )
            ]
        ]
        bands: list[Any] = [np.zeros(len(owners[0]), dtype=np.int64)]
        lengths: list[Any] = [quantity[owners[0]]]
        by_bands: dict[int, list[int]] = {}
        for number, block in enumerate(blocks):
            if block.bands is not None:
                by_bands.setdefault(id(block.bands), []).append(number)
        for numbers in by_bands.values():
            setting = blocks[numbers[0]].bands
            assert setting is not None
            rows = live[_among(self.block[live], numbers, len(blocks))]
            if not len(rows):
                continue
            split = np.array([blocks[b].split for b in range(len(blocks))])[self.block[rows]]
            starts = start_ms[rows]
            ends = starts + np.where(split, quantity[rows], 0)
            runs = _band_runs(setting, int(starts.min()), int(ends.max()) + 1)
            fine = split & (
                (self.columns.start_us[rows] % 1000 != 0) | (quantity[rows] > MAX_EVENT_MS)
            )
            self._mark(rows[fine])
            band[rows] = runs.band_at(starts)
            plain = rows[~split]
            owners.append(plain)
            bands.append(band[plain])
            lengths.append(quantity[plain])
            cut = rows[split & ~fine]
            if len(cut):
                parts = runs.parts(starts[split & ~fine], quantity[cut])
                self._mark(cut[parts.counts > MAX_PARTS])
                owners.append(cut[parts.owner])
                bands.append(parts.band.astype(np.int64))
                lengths.append(parts.length)
        owner = np.concatenate(owners)
        band_of, length = np.concatenate(bands), np.concatenate(lengths)
        if len(owner) > 1 and not bool(np.all(owner[1:] >= owner[:-1])):
            order = np.argsort(owner, kind="stable")  # parts in record order, then in time
            owner, band_of, length = owner[order], band_of[order], length[order]
        self.part_owner, self.part_band, self.part_length = owner, band_of, length
        self.band_code = band

    def _price(self) -> None:
        blocks = self.blocks.blocks
        if not blocks:
            return
        owner = self.part_owner
        block = self.block[owner]
        zone = self.zone_code[owner]
        band = self.part_band
        # the rate of each part, from a (zone, band) table per block
        tables = [select_table(b, self.zone_names[i]) for i, b in enumerate(blocks)]
        offset = np.cumsum([0, *[len(t) for t in tables]])
        table = np.concatenate(tables)
        widths = np.array([len(b.band_names()) for b in blocks], dtype=np.int64)
        local = table[offset[:-1][block] + zone * widths[block] + band]
        self._mark(owner[local == CONDITIONAL])
        missing = local == NO_RATE
        if missing.any():
            first = np.unique(owner[missing], return_index=True)
            rows, at = first[0], np.flatnonzero(missing)[first[1]]
            messages = []
            for row, part in zip(rows.tolist(), at.tolist(), strict=True):
                b = blocks[int(self.block[row])]
                zone_name = self.zone_names[int(self.block[row])][int(self.zone_code[row])]
                band_name = b.band_names()[int(band[part])]
                where = f"zone {zone_name or '-'}, band {band_name or '-'}"
                messages.append(f"no rate of {b.business} for {where}")
            self._reject(rows, "no-rate", messages)
        live = ~self.rejected[owner] & ~self.fallback[self.group[owner]]
        self._charge(np.flatnonzero(live), block, zone, band, local)

    def _charge(self, parts: Any, block_of: Any, zone_of: Any, band_of: Any, rate_of: Any) -> None:
        if not len(parts):
            return
        blocks = self.blocks.blocks
        owner = self.part_owner[parts]
        block = block_of[parts]
        local = rate_of[parts]
        used = self.part_length[parts]
        group = self.group[owner]
        rate_offset = np.cumsum([0, *[len(b.rates) for b in blocks]])
        rates = [r for b in blocks for r in b.rates]
        rate = rate_offset[:-1][block] + local
        first = np.array([r.first for r in rates], dtype=np.int64)[rate]
        step = np.array([r.next for r in rates], dtype=np.int64)[rate]
        billed = steps_increments.vector(used, first, step)
        paid = billed.copy()
        allowance = self._allowances(blocks, parts, owner, block, group, zone_of, band_of, paid)
        # money on each block's exact scale: int64 when it provably fits, else Python ints
        mult = _column([r.multiplier for r in rates], rate)
        connection = _column([r.connection for r in rates], rate)
        wide = _wide(paid, mult, connection, rates)
        if wide:
            mult, connection = mult.astype(object), connection.astype(object)
        usage = (paid.astype(object) if wide else paid) * mult
        tiered = any(b.tiers is not None for b in blocks)
        if tiered:
            usage = usage.astype(object)
        tier_state = self._tiers(blocks, block, group, paid, usage)
        if tiered and not wide:
            usage = _fit(usage)
            if usage.dtype == object:
                connection = connection.astype(object)
        clamps = [
            None
            if all(t is None for t in limits)
            else (
                np.array([t is not None for t in limits], dtype=np.bool_)[rate],
                _column([t or 0 for t in limits], rate),
            )
            for limits in ([r.minimum for r in rates], [r.maximum for r in rates])
        ]
        charge = steps_terms.vector(paid, usage, connection, *clamps)
        # the event: its parts' sum, rounded as declared, then the caps
        starts = np.empty(len(owner), dtype=np.bool_)
        starts[0] = True
        np.not_equal(owner[1:], owner[:-1], out=starts[1:])
        rows = owner[starts]
        exact = (
            np.add.reduceat(charge, np.flatnonzero(starts)) if len(rows) < len(owner) else charge
        )
        event_block = self.block[rows]
        decimals = np.array([b.decimals for b in blocks], dtype=np.int64)[event_block]
        modes = np.array(
            [MODES.index(b.mode) if b.mode else _HALF_EVEN for b in blocks], dtype=np.int64
        )[event_block]
        scale = _column([b.scale for b in blocks], event_block)
        amount, remainder = steps_rounding.vector(exact, scale, decimals, modes)
        declared = np.array([b.mode is not None for b in blocks], dtype=np.bool_)[event_block]
        floor = np.where(declared | (remainder != 0), decimals, 0)
        cap_state = self._caps(blocks, rows, event_block, decimals, amount)
        if cap_state:
            amount = cap_state.pop("")[0]
        amount, places = steps_rounding.trim_vector(amount, decimals, floor)
        self._write(
            blocks,
            rows,
            event_block,
            amount,
            places,
            owner,
            starts,
            block,
            local,
            billed,
            allowance,
        )
        self._counters(rows, group, allowance, tier_state, paid, cap_state)

    def _allowances(
        self,
        blocks: Sequence[VectorBlock],
        parts: Any,
        owner: Any,
        block: Any,
        group: Any,
        zone_of: Any,
        band_of: Any,
        paid: Any,
    ) -> list[tuple[Any, Any, Any]]:
        """Allowances consumed in source order, a block's first allowance before its second
        (`paid` loses what they cover). Every allowance name is a counter of its own per
        group, so all the allowances at one place in their blocks are consumed in one pass,
        with (name, group) as the counter key. Returns per pass (parts, units taken, keys)."""
        names: dict[str, int] = {}
        slot_of: dict[str, int] = {}
        amount_of: dict[str, set[int]] = {}
        for b in blocks:
            for slot, terms in enumerate(b.allowances):
                names.setdefault(terms.name, len(names))
                slot_of.setdefault(terms.name, slot)
                amount_of.setdefault(terms.name, set()).add(terms.amount)
        passes: list[tuple[Any, Any, Any]] = []
        if not names:
            return passes
        self.allowance_names = list(names)
        # a name at two places, or with two amounts, needs the per-event engine's order
        odd = {
            number
            for number, b in enumerate(blocks)
            for slot, terms in enumerate(b.allowances)
            if slot_of[terms.name] != slot or len(amount_of[terms.name]) > 1
        }
        if odd:
            self._mark(owner[np.isin(block, sorted(odd))])
        zones, bands = zone_of[parts], band_of[parts]
        widths = np.array([len(b.band_names()) for b in blocks], dtype=np.int64)
        for slot in range(max(len(b.allowances) for b in blocks)):
            grids = []
            name_id = np.full(len(blocks), -1, dtype=np.int64)
            amount = np.zeros(len(blocks), dtype=np.int64)
            for number, b in enumerate(blocks):
                if slot < len(b.allowances) and number not in odd:
                    terms = b.allowances[slot]
                    grids.append(allowance_grid(b, slot, self.zone_names[number]))
                    name_id[number], amount[number] = names[terms.name], terms.amount
                else:
                    grids.append(np.zeros(len(self.zone_names[number]) * widths[number], bool))
            offset = np.cumsum([0, *[len(g) for g in grids]])
            applies = np.concatenate(grids)[offset[:-1][block] + zones * widths[block] + bands]
            at = np.flatnonzero(applies)
            if not len(at):
                continue
            keys = name_id[block[at]] * self.groups + group[at]
            start = self._given_allowances(keys)
            free = steps_allowances.vector(
                keys, paid[at], amount[block[at]], start, len(names) * self.groups
            )
            paid[at] -= free
            passes.append((at, free, keys))
        return passes

    def _given_allowances(self, keys: Any) -> Any:
        """The given allowance counters of (name, group) keys."""
        given = self._given_groups()
        found = np.zeros(len(keys), dtype=np.int64)
        if not given:
            return found
        distinct, where = np.unique(keys, return_inverse=True)
        values = []
        for key in distinct.tolist():
            name, g = divmod(key, self.groups)
            counters = given.get(g)
            used = (
                0 if counters is None else counters.units(allowance_key(self.allowance_names[name]))
            )
            values.append(used)
        return np.array(values, dtype=np.int64)[where]

    def _tiers(
        self, blocks: Sequence[VectorBlock], block: Any, group: Any, paid: Any, usage: Any
    ) -> dict[str, Any]:
        """Tiered blocks' usage charges (into `usage`) on the period's tier counter."""
        tiered = np.array([b.tiers is not None for b in blocks], dtype=np.bool_)[block]
        state: dict[str, Any] = {}
        if not tiered.any():
            return state
        for business in sorted({b.business for b in blocks if b.tiers is not None}):
            numbers = [i for i, b in enumerate(blocks) if b.business == business]
            rows = np.flatnonzero(tiered & np.isin(block, numbers))
            start = self._given(tier_key(business), group[rows])
            before = start + running_before(group[rows], paid[rows])
            for number in np.unique(block[rows]).tolist():
                b = blocks[number]
                mine = block[rows] == number
                assert b.tiers is not None
                values = steps_tiers.vector(b.graduated, b.tiers, before[mine], paid[rows[mine]])
                usage[rows[mine]] = values
            state[business] = (rows, start)
        return state

    def _caps(
        self, blocks: Sequence[VectorBlock], rows: Any, event_block: Any, decimals: Any, amount: Any
    ) -> dict[str, Any]:
        """Caps in each block's order, on the rounded charges, on a scale common to a cap's
        rows (its counters, amounts and charges); `decimals` follows the new scale."""
        caps = sorted({(b.business, i) for b in blocks for i in range(len(b.caps))})
        state: dict[str, Any] = {}
        if not caps:
            return state
        amount = amount.astype(object)
        for business, index in caps:
            numbers = [
                i for i, b in enumerate(blocks) if b.business == business and len(b.caps) > index
            ]
            at = np.flatnonzero(np.isin(event_block, numbers))
            if not len(at):
                continue
            key = cap_key(business, index + 1)
            groups = self.group[rows[at]]
            given = self._given_decimals(key, groups)
            limits = [blocks[b].caps[index] for b in numbers]
            common = max(
                [int(decimals[at].max())]
                + [max(-int(d.as_tuple().exponent), 0) for d in [*given.values(), *limits]]
            )
            values = amount[at] * pow10(common - decimals[at])
            start = np.zeros(len(at), dtype=object)
            start[:] = 0
            for g, value in given.items():
                start[groups == g] = int(value.scaleb(common))
            limit_of = np.zeros(len(blocks), dtype=object)
            for b in numbers:
                limit_of[b] = int(blocks[b].caps[index].scaleb(common))
            cap = limit_of[event_block[at]]
            result = steps_caps.vector(groups, _fit(values), _fit(cap), _fit(start), self.groups)
            amount[at] = result.astype(object)
            decimals[at] = common
            state[key] = (at, start, values, common)
        state[""] = (amount,)
        return state

    def _write(
        self,
        blocks: Sequence[VectorBlock],
        rows: Any,
        event_block: Any,
        amount: Any,
        places: Any,
        owner: Any,
        starts: Any,
        block: Any,
        local: Any,
        billed: Any,
        allowance: list[tuple[Any, Any, Any]],
    ) -> None:
        out = self.out
        keep = ~self.fallback[self.group[rows]]  # periods handed off on the way are not ours
        if not keep.all():
            rows, event_block, amount, places = (
                rows[keep],
                event_block[keep],
                amount[keep],
                places[keep],
            )
        charge = _fit(amount)
        if charge.dtype == object and out.charge.dtype != object:
            out.charge = out.charge.astype(object)
        out.charge[rows] = charge
        out.places[rows] = places
        out.rated[rows] = True
        currency = [_block_codes(b, "currency", [b.currency]) for b in blocks]
        out.currency[rows] = np.concatenate(currency)[event_block]
        zones = [_block_codes(b, "zone", self.zone_names[i]) for i, b in enumerate(blocks)]
        bands = [_block_codes(b, "band", b.band_names()) for b in blocks]
        for target, listed, code in (
            (out.zone, zones, self.zone_code),
            (out.band, bands, self.band_code),
        ):
            offset = np.cumsum([0, *[len(codes) for codes in listed]])
            target[rows] = np.concatenate(listed)[offset[:-1][event_block] + code[rows]]
        rates = [_block_codes(b, "rate", b.rate_names) for b in blocks]
        name_codes = np.concatenate(rates)
        name_offset = np.cumsum([0, *[len(codes) for codes in rates]])
        firsts = owner[starts]
        codes = name_codes[name_offset[:-1][block[starts]] + local[starts]]
        out.rate[firsts] = codes
        np.add.at(out.billed, owner, billed)
        for at, free, keys in allowance:
            np.add.at(out.allowance_total, owner[at], free)
            taken = free != 0
            out.allowance_parts.append(
                (owner[at][taken], self.allowance_names, (keys[taken] // self.groups, free[taken]))
            )

    def _given(self, key: str, groups: Any) -> Any:
        """The given counter `key` (units) of each row's group."""
        given = self._given_groups()
        found = np.zeros(len(groups), dtype=np.int64)
        if not given:
            return found
        distinct, where = np.unique(groups, return_inverse=True)
        values = np.array(
            [given[g].units(key) if g in given else 0 for g in distinct.tolist()], dtype=np.int64
        )
        return values[where]

    def _given_decimals(self, key: str, groups: Any) -> dict[int, Decimal]:
        given = self._given_groups()
        if not given:
            return {}
        present = np.unique(groups).tolist()
        return {g: given[g].amount(key) for g in present if g in given and given[g].amount(key)}

    def _given_groups(self) -> dict[int, Counters]:
        """The given counters by group id, for the periods in the batch only (a file's
        counters grow with its subscribers; a batch holds a few of them)."""
        cached: dict[int, Counters] | None = getattr(self, "_by_group", None)
        if cached is not None:
            return cached
        found: dict[int, Counters] = {}
        if self.given:
            present = np.flatnonzero(np.bincount(self.group, minlength=self.groups))
            for g in present.tolist():
                counters = self.given.get(
                    (self.subscribers[g // self.months], self.period_labels[g % self.months])
                )
                if counters is not None:
                    found[g] = counters
        self._by_group = found
        return found

    def _counters(
        self,
        rows: Any,
        group: Any,
        allowance: list[tuple[Any, Any, Any]],
        tiers: dict[str, Any],
        paid: Any,
        caps: dict[str, Any],
    ) -> None:
        """The new counters of every period rated here: what it had plus the batch's sums
        (an allowance only where it gave something, as the per-event engine writes it)."""
        groups = np.flatnonzero(np.bincount(self.group[rows], minlength=self.groups))
        groups = groups[~self.fallback[groups]]
        if not len(groups):
            return
        sums: list[tuple[str, Any, Any, int | None]] = []  # key, groups, sums, money places
        for _, free, keys in allowance:
            found, total = by_group(keys, free)  # ascending keys: by name, then group
            keep = total != 0
            found, total = found[keep], total[keep]
            if not len(found):
                continue
            name_ids, starts = np.unique(found // self.groups, return_index=True)
            ends = [*starts[1:].tolist(), len(found)]
            for name_id, low, high in zip(name_ids.tolist(), starts.tolist(), ends, strict=True):
                key = allowance_key(self.allowance_names[name_id])
                sums.append((key, found[low:high] % self.groups, total[low:high], None))
        for business, (at, _) in tiers.items():
            found, total = by_group(group[at], paid[at])
            sums.append((tier_key(business), found, total, None))
        for key, (at, _, values, common) in caps.items():
            found, total = by_group(self.group[rows[at]], _fit(values))
            sums.append((key, found, total, common))
        by_group_given = self._given_groups()
        subscribers, labels, months = self.subscribers, self.period_labels, self.months
        handed = self.fallback

        def build() -> dict[CounterKey, Counters]:
            changes: dict[int, dict[str, Any]] = {g: {} for g in groups.tolist()}
            for key, found, total, common in sums:
                for g, value in zip(found.tolist(), total.tolist(), strict=True):
                    if handed[g]:
                        continue
                    before = by_group_given.get(g)
                    if common is None:
                        start = before.units(key) if before is not None else 0
                        changes[g][key] = start + int(value)
                    else:
                        start_amount = before.amount(key) if before is not None else Decimal(0)
                        changes[g][key] = start_amount + Decimal(int(value)).scaleb(-common)
            return {
                (subscribers[g // months], labels[g % months]): (
                    by_group_given.get(g) or Counters()
                ).updated(change)
                for g, change in changes.items()
            }

        self.out.pending.append(build)

    def _per_event(self) -> None:
        """The handed-off periods, through RatingSession in record order."""
        out = self.out
        if not self.count:
            return
        rows = np.flatnonzero(self.fallback[self.group] & ~self.rejected)
        if not len(rows):
            return
        session = RatingSession(self.versions.pick, self.tz)
        months = self.months
        for g in np.unique(self.group[rows]).tolist():
            key = (self.subscribers[g // months], self.period_labels[g % months])
            if key in self.given:
                session.counters[key] = self.given[key]
        charges = out.charge.astype(object)
        out.rated[rows] = False  # whatever the arrays made of them before they were handed off
        out.billed[rows] = 0
        out.allowance_total[rows] = 0
        handed = np.zeros(self.count, dtype=np.bool_)
        handed[rows] = True
        out.allowance_parts = [
            (at[~handed[at]], names, (ids[~handed[at]], units[~handed[at]]))
            for at, names, (ids, units) in out.allowance_parts
        ]
        for row in rows.tolist():  # the irregular periods only
            result = session.rate(self.columns.record(row))
            rated = result.rated
            out.version[row] = result.version
            out.plan[row] = self.names(result.plan)
            if rated.status != "rated":
                out.reason[row] = rated.reason
                out.message[row] = rated.message
                continue
            out.rated[row] = True
            exponent = rated.charge.as_tuple().exponent
            assert isinstance(exponent, int)
            places = max(-exponent, 0)
            charges[row] = int(rated.charge.scaleb(places))
            out.places[row] = places
            out.currency[row] = self.names(rated.currency)
            out.zone[row] = self.names(rated.zone)
            out.band[row] = self.names(rated.band)
            out.rate[row] = self.names(rated.rate)
            out.billed[row] = rated.billed
            used = {name: units for name, units in rated.allowance_used.items() if units}
            if used:
                out.allowance[row] = used
                out.allowance_total[row] = sum(used.values())
        out.charge = _fit(charges)
        out.pending.append(lambda: session.counters)
