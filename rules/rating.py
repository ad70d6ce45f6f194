"""Rating usage records against installed catalog versions: the engine behind
PricingService.Rate and RateStream, `tariff rate` and `tariff shadow`.

A record is rated by the compiled usage rater (dsl.compile_usage) of the plan its offer uses
where the usage started (a province's override reaches the areas below it), in the catalog
version in force at the record's start — or in one pinned version, for rerating and shadow
rating. Counters belong to a subscriber and a rating period, the calendar month of the start
in the operator's time zone ("2026-11"); the caller passes them in and gets them back
updated, so rating a batch in two parts, handing the counters along, gives exactly the
charges of rating it whole. One bad record never stops a batch: it is rejected with a reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from types import MappingProxyType

from catalog.errors import NotFound
from dsl import interpreter as ip
from dsl.compile_usage import CompiledUsage
from dsl.context import SaleFacts
from dsl.eval_usage import Counters, Number, Rated, UsageEvent
from dsl.runtime_usage import Lean
from rules.per_version import PerVersion
from rules.sale_catalog import SaleCatalog

CounterKey = tuple[str, str]  # (subscriber, period)

#: Rejections the engine adds to the rater's own (unknown-business, no-zone, no-rate,
#: malformed, malformed-tariff, rule-error).
UNKNOWN_OFFER = "unknown-offer"
NO_VERSION = "no-version"


@dataclass(frozen=True, slots=True)
class UsageRecord:
    """One usage record: whose, under which offer, and the usage itself."""

    event_id: str
    subscriber_id: str
    offer_code: str
    usage: UsageEvent


@dataclass(frozen=True, slots=True)
class RatedRecord:
    record: UsageRecord
    rated: Rated  # status, charge (rounded as declared, after caps), zone, band, parts, ...
    version: int  # the catalog version that rated it (0 when none could)
    period: str
    plan: str = ""


def period_of(start: datetime, tz: tzinfo) -> str:
    """The rating period of a start instant: its calendar month in the operator's zone."""
    return start.astimezone(tz).strftime("%Y-%m")


def usage_rater(catalog: SaleCatalog, plan_name: str) -> CompiledUsage | None:
    """The plan's compiled rater, compiled when the version was installed (None when the
    version has no such plan or the plan rates nothing). Raises CompileError for a plan
    whose usage did not compile (a code generator bug)."""
    return catalog.compiled.usage_rater(plan_name)


Versions = Callable[[datetime], SaleCatalog]


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


class _Months:
    """`period_of` with the last period's bounds kept, as instants and as epoch
    milliseconds: one label per month, not per record (measured ~15% of a record's cost)."""

    __slots__ = ("_high", "_low", "_tz", "high_ms", "label", "low_ms")

    def __init__(self, tz: tzinfo) -> None:
        self._tz = tz
        self._low = self._high = datetime.max.replace(tzinfo=UTC)
        self.low_ms = self.high_ms = 0
        self.label = ""

    def __call__(self, start: datetime) -> str:
        if start.tzinfo is None:  # rejected by the rater; not cached (naive vs aware)
            return period_of(start, self._tz)
        if self._low <= start < self._high:
            return self.label
        return self._move(start)

    def at_ms(self, at: int, start: datetime) -> str:
        """The period of `start`, whose `epoch_ms` is `at`."""
        if self.low_ms <= at < self.high_ms:
            return self.label
        return self._move(start)

    def _move(self, start: datetime) -> str:
        local = start.astimezone(self._tz)
        first = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        following = (first + timedelta(days=32)).replace(day=1)
        self._low, self._high = first.astimezone(UTC), following.astimezone(UTC)
        self.low_ms = (self._low - _EPOCH) // _MS
        self.high_ms = (self._high - _EPOCH) // _MS
        self.label = first.strftime("%Y-%m")
        return self.label


def plan_rater(
    catalog: SaleCatalog, offer_code: str, origin: str
) -> tuple[str, CompiledUsage | None] | Rated:
    """The plan an offer uses for usage starting in `origin`, and its rater (None when the
    plan rates nothing); a rejection for an offer the version does not have."""
    offer = catalog.offers.get(offer_code)
    if offer is None:
        message = f"offer {offer_code!r} is not in catalog version {catalog.number}"
        return _rejected(Counters(), UNKNOWN_OFFER, message)
    plan_name = catalog.plan_name(offer, catalog.tree.lineage(origin))
    return plan_name, usage_rater(catalog, plan_name) if plan_name else None


def no_tariff(catalog: SaleCatalog, offer_code: str, counters: Counters) -> Rated:
    message = f"offer {offer_code!r} has no usage tariff in version {catalog.number}"
    return _rejected(counters, UNKNOWN_OFFER, message)


@dataclass(slots=True)
class RatingSession:
    """Rates records in the order given, carrying each subscriber's counters per period.

    `versions` picks the catalog for a record's start time (the one in force, or always the
    same pinned one); NotFound from it rejects the record (`no-version`)."""

    versions: Versions
    tz: tzinfo
    counters: dict[CounterKey, Counters] = field(default_factory=dict)
    # Per-record work hoisted out of the hot loop (measured ~15% of a record's cost):
    _period: _Months | None = None
    _raters: dict[tuple[int, str, str], tuple[str, CompiledUsage | None] | Rated] = field(
        default_factory=dict
    )

    def period(self, start: datetime) -> str:
        if self._period is None:
            self._period = _Months(self.tz)
        return self._period(start)

    def rate(self, record: UsageRecord) -> RatedRecord:
        usage = record.usage
        key = (record.subscriber_id, self.period(usage.start))
        counters = self.counters.get(key) or Counters()
        try:
            catalog = self.versions(usage.start)
        except NotFound as error:
            return RatedRecord(record, _rejected(counters, NO_VERSION, str(error)), 0, key[1])
        origin = usage.origin or ""
        found = self._raters.get((catalog.number, record.offer_code, origin))
        if found is None:
            found = plan_rater(catalog, record.offer_code, origin)
            self._raters[(catalog.number, record.offer_code, origin)] = found
        if isinstance(found, Rated):
            return RatedRecord(record, found, catalog.number, key[1])
        plan_name, rater = found
        if rater is None:
            rejected = no_tariff(catalog, record.offer_code, counters)
            return RatedRecord(record, rejected, catalog.number, key[1], plan_name)
        rated = rater.rate(usage, counters, env=catalog.book.env)
        if rated.status == "rated":
            self.counters[key] = rated.counters
        return RatedRecord(record, rated, catalog.number, key[1], plan_name)

    def rate_all(self, records: Iterable[UsageRecord]) -> list[RatedRecord]:
        return [self.rate(record) for record in records]


#: A rater's lean entry point: `CompiledUsage.rate_lean(event, at, values, facts, env)`.
LeanRater = Callable[
    [UsageEvent, int | None, Mapping[str, Number], SaleFacts | None, ip.Env], Lean | Rated
]
Values = Mapping[str, Number]
_Rater = tuple[str, LeanRater | None, ip.Env] | Rated  # (plan, rater, env) or why not
_EMPTY: Values = MappingProxyType({})


#: Each version's decisions per (offer, origin), shared by every EventRating on it.
_LEAN_RATERS: PerVersion[dict[tuple[str, str], _Rater]] = PerVersion(lambda _catalog: {})


@dataclass(slots=True)
class EventRating:
    """RatingSession's decisions - version, plan, period, counters - with the compiled
    raters' lean results (`dsl.runtime_usage.Lean`): the per-event engine of
    PricingService.Rate, for callers that need a few fields of each result, not the `Rated`
    objects. Counters are held as plain mappings of values (a `Counters` works too).

    `rate` decides without storing: the caller stores the new values with `keep` once it
    has used the result (Rate refuses one the wire cannot carry, as if it were rejected)."""

    versions: Versions
    tz: tzinfo
    counters: dict[CounterKey, Values] = field(default_factory=dict)
    _period: _Months | None = None
    _catalog: SaleCatalog | None = None  # the version of the last event, and its raters
    _raters: dict[tuple[str, str], _Rater] = field(default_factory=dict)

    def period(self, start: datetime) -> str:
        if self._period is None:
            self._period = _Months(self.tz)
        return self._period(start)

    def rater(self, catalog: SaleCatalog, offer_code: str, origin: str) -> _Rater:
        """(plan, its lean rater or None when the plan rates nothing, the version's
        environment), or the rejection; kept with the version (each batch of Rate starts
        an engine)."""
        if catalog is not self._catalog:
            self._catalog, self._raters = catalog, _LEAN_RATERS(catalog)
        found = self._raters.get((offer_code, origin))
        if found is None:
            planned = plan_rater(catalog, offer_code, origin)
            if isinstance(planned, Rated):
                found = planned
            else:
                plan, rater = planned
                lean = None if rater is None else rater.rate_lean
                found = (plan, lean, catalog.book.env)
            self._raters[offer_code, origin] = found
        return found

    def rate(
        self,
        catalog: SaleCatalog,
        subscriber: str,
        offer_code: str,
        usage: UsageEvent,
        at: int | None = None,
    ) -> tuple[CounterKey, str, Lean | Rated]:
        """(the counters' key, the plan, the result) of one event under `catalog`; `at` is
        `epoch_ms(usage.start)` when the caller has it. A result whose status is "rated"
        (every Lean) holds new values for the key: `keep` them."""
        start = usage.start
        if at is None:
            try:
                at = (start - _EPOCH) // _MS  # = epoch_ms(start), inline: this runs per event
            except TypeError:  # a naive start, which the rater rejects
                at = None
        months = self._period
        if months is None:
            months = self._period = _Months(self.tz)
        if at is not None and months.low_ms <= at < months.high_ms:
            key = (subscriber, months.label)
        else:
            key = (subscriber, months(start) if at is None else months.at_ms(at, start))
        found = None
        if catalog is self._catalog:
            found = self._raters.get((offer_code, usage.origin or ""))
        if found is None:
            found = self.rater(catalog, offer_code, usage.origin or "")
        if isinstance(found, Rated):
            return key, "", found
        plan, lean, env = found
        if lean is None:
            return key, plan, no_tariff(catalog, offer_code, Counters())
        return key, plan, lean(usage, at, self.counters.get(key, _EMPTY), None, env)

    def keep(self, key: CounterKey, result: Lean | Rated) -> None:
        """Store a result's new values (a rejection's are the old ones)."""
        if isinstance(result, Lean):
            self.counters[key] = result.values
        elif result.status == "rated":
            self.counters[key] = result.counters

    def rate_all(self, records: Iterable[UsageRecord]) -> list[Lean | Rated]:
        """Records in order, each rated under the version in force at its start (NotFound
        rejects it, `no-version`), values kept as they come."""
        found: list[Lean | Rated] = []
        append, versions, counters, rate = found.append, self.versions, self.counters, self.rate
        for record in records:  # bounded by the input
            usage = record.usage
            try:
                catalog = versions(usage.start)
            except NotFound as error:
                append(_rejected(Counters(), NO_VERSION, str(error)))
                continue
            key, _plan, result = rate(catalog, record.subscriber_id, record.offer_code, usage)
            if isinstance(result, Lean):
                counters[key] = result.values
            elif result.status == "rated":
                counters[key] = result.counters
            append(result)
        return found


def _rejected(counters: Counters, reason: str, message: str) -> Rated:
    return Rated("rejected", counters, reason, message)
