"""The names compiled usage raters see on top of `dsl.runtime`, and the objects they bind.

Generated rating code (`dsl.codegen_usage`) calls only `USAGE_EXPORTS` and the per-plan
objects `dsl.compile_usage` binds: a `ZoneFinder`, a `BandFinder`, a `RateSelector` per
block and the reference interpreter as the fallback. Two exceptions steer it:

- `Rejected(code, message)` is a rejection the interpreter would give for this event (the
  same code and message), turned into `Rated("rejected", …)` by the generated code;
- `Deferred` means "this event takes a path the compiled code does not reproduce" (a broken
  tariff, a `when` that raises or reads an ill-typed value): the event is rated again by the
  reference interpreter, which is exact by definition, so deferring is always correct.

Memos (zones by destination, band runs by UTC hour) are pure functions of their input,
bounded, and cleared when full: a stale entry cannot exist, a missing one is recomputed.
"""

from __future__ import annotations

import dataclasses
from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction
from types import MappingProxyType
from typing import Any, NamedTuple

from dsl import interpreter as ip
from dsl import nodes as n
from dsl.context import EMPTY, CustomerFacts, SaleFacts
from dsl.errors import LanguageError
from dsl.eval_usage import Counters, Number, Rated, RatedPart, UsageEvent
from dsl.runtime import fresh_namespace
from pricing.bands import BandPart, TimeBands
from pricing.rounding import EXACT
from pricing.steps import selection
from pricing.steps.rounding import unrounded, unrounded_scaled
from pricing.zones import ZoneTable

__all__ = [
    "USAGE_EXPORTS",
    "BandFinder",
    "Deferred",
    "Lean",
    "RateSelector",
    "Rejected",
    "ZoneFinder",
    "check_quantity",
    "counters_of",
    "epoch_ms",
    "fit",
    "new_part",
    "new_rated",
    "new_rejected",
    "remember",
    "unrounded",
    "unrounded_scaled",
    "usage_namespace",
]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
HOUR_MS = 3_600_000
#: Band runs are computed over two hours from each UTC hour, so an event starting in the hour
#: and lasting up to an hour is found in one memo entry.
WINDOW_MS = 2 * HOUR_MS


def epoch_ms(instant: datetime) -> int | None:
    """A tz-aware instant in whole milliseconds since the epoch (floored), None when naive."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        return None
    return (instant - EPOCH) // _MS


class Rejected(LanguageError):
    """The interpreter's rejection of this event: `code` and `message` as it gives them."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Deferred(LanguageError):
    """The event needs the reference interpreter (see the module docstring)."""


def check_quantity(quantity: object) -> None:
    """The interpreter's quantity checks, with its messages; raises Rejected."""
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise Rejected("malformed", f"quantity {quantity!r} is not a whole number")
    if quantity < 0:
        raise Rejected("malformed", f"negative quantity {quantity}")


_NUMBERS = (int, Decimal)
_KINDS: Mapping[str, tuple[type, ...]] = {
    "bool": (bool,),
    "int": (int,),
    "count": (int,),
    "period": (int,),
    "time_of_day": (int,),
    "decimal": _NUMBERS,
    "percent": _NUMBERS,
    "duration": _NUMBERS,
    "data": _NUMBERS,
    "date": (date,),
    "instant": (datetime,),
}


def fit(value: object, kind: str) -> object:
    """`value` when it is None or has the Python type compiled conditions assume for `kind`
    (docs of `dsl.runtime`); otherwise Deferred, so the interpreter decides what an ill-typed
    free attribute means (usually a `rule-error`)."""
    if value is None:
        return value
    if kind == "money":
        if (
            type(value) is tuple
            and len(value) == 2
            and type(value[0]) is Decimal
            and type(value[1]) is str
        ):
            return value
        raise Deferred
    if type(value) in _KINDS.get(kind, (str,)):
        return value
    raise Deferred


class ZoneFinder:
    """`table.lookup` with the interpreter's rejections, memoized by destination string."""

    __slots__ = ("_limit", "_memo", "_name", "_table")

    def __init__(self, table: ZoneTable, name: str, limit: int = 65_536) -> None:
        self._table = table
        self._name = name
        self._memo: dict[str, str] = {}
        self._limit = limit

    @property
    def memo(self) -> Mapping[str, str]:
        """The memo itself (cleared in place when full, never replaced): generated code reads
        it before calling."""
        return self._memo

    def __call__(self, destination: str) -> str:
        """The zone; Rejected `malformed` (not a phone number) or `no-zone`."""
        plain = type(destination) is str
        if plain:
            zone = self._memo.get(destination)
            if zone is not None:
                return zone
        try:
            found = self._table.lookup(destination)
        except ValueError as error:
            raise Rejected("malformed", str(error)) from error
        if found is None:
            raise Rejected("no-zone", f"no zone of `{self._name}` for {destination!r}")
        if plain:
            if len(self._memo) >= self._limit:
                self._memo.clear()
            self._memo[destination] = found
        return found


class BandFinder:
    """`TimeBands.band_at` and `split` with a memo of band runs per UTC hour.

    A memo entry holds the runs of one band (as `TimeBands.split` cuts them) over the two
    hours from a UTC hour. An instant's band is its run's; an event inside one run is one
    part, exactly what `split` returns for it (the part starts at the event's start as
    `split` converts it). Anything else - an event crossing a band edge, an empty or
    sub-millisecond one - goes to `TimeBands` itself.
    """

    __slots__ = ("_bands", "_limit", "_memo")

    def __init__(self, bands: TimeBands, limit: int = 4_096) -> None:
        self._bands = bands
        self._memo: dict[int, tuple[list[int], list[str]]] = {}
        self._limit = limit

    def _runs(self, hour: int) -> tuple[list[int], list[str]]:
        runs = self._memo.get(hour)
        if runs is None:
            begin = hour * HOUR_MS
            ends: list[int] = []
            names: list[str] = []
            for part in self._bands.split(EPOCH + begin * _MS, WINDOW_MS):  # bounded
                begin += part.duration_ms
                ends.append(begin)
                names.append(part.band)
            if len(self._memo) >= self._limit:
                self._memo.clear()
            self._memo[hour] = runs = (ends, names)
        return runs

    def band_at(self, instant: datetime) -> str:
        """The band of a tz-aware instant (validated by the caller)."""
        return self.band_at_ms((instant - EPOCH) // _MS)

    def band_at_ms(self, at: int) -> str:
        """The band of an instant given as `epoch_ms` gives it."""
        runs = self._memo.get(at // HOUR_MS)
        ends, names = self._runs(at // HOUR_MS) if runs is None else runs
        return names[bisect_right(ends, at)]

    def split(self, start: datetime, duration_ms: int) -> list[BandPart]:
        """`TimeBands.split`; its ValueError becomes Rejected `malformed`."""
        if duration_ms and not start.microsecond % 1000:
            at = (start - EPOCH) // _MS
            ends, names = self._runs(at // HOUR_MS)
            index = bisect_right(ends, at)
            if at + duration_ms <= ends[index]:
                zone = start.tzinfo
                if start.fold or type(zone) is not timezone:
                    start = start.astimezone(UTC).astimezone(zone)
                return [BandPart(names[index], start, duration_ms)]
        try:
            return self._bands.split(start, duration_ms)
        except ValueError as error:
            raise Rejected("malformed", str(error)) from error


# -- results without the frozen dataclass __init__ -------------------------------------------
#
# A frozen dataclass's __init__ sets each field through object.__setattr__ looked up by name:
# about 3 µs for a Rated and 2 µs for a RatedPart, a third of a compiled rating. These build
# the same objects through the slots' own setters (what object.__setattr__ ends up calling),
# with every field given. They are only correct while the classes have exactly these fields
# and no __post_init__, which the import below checks.

Setter = Callable[[Any, Any], None]


def _setters(cls: type, names: tuple[str, ...]) -> tuple[Setter, ...]:
    found = tuple(f.name for f in dataclasses.fields(cls))
    if found != names or hasattr(cls, "__post_init__"):
        raise RuntimeError(f"{cls.__name__} changed ({found}): update dsl.runtime_usage")
    return tuple(cls.__dict__[name].__set__ for name in names)


_new = object.__new__
_ZERO, _NOTHING = Decimal(0), Fraction(0)
(_status, _counters, _reason, _message, _charge, _exact, _currency, _zone, _band, _billed,
 _allowance_used, _rate, _rate_span, _parts) = _setters(Rated, (
    "status", "counters", "reason", "message", "charge", "exact", "currency", "zone", "band",
    "billed", "allowance_used", "rate", "rate_span", "parts"))  # fmt: skip
(_p_band, _p_start, _p_used, _p_billed, _p_free, _p_paid, _p_charge, _p_rate,
 _p_span) = _setters(RatedPart, (
    "band", "start", "used", "billed", "free", "paid", "charge", "rate", "span"))  # fmt: skip


def new_rated(
    counters: Counters,
    charge: Decimal,
    exact: Fraction,
    currency: str,
    zone: str,
    band: str,
    billed: int,
    allowance_used: Mapping[str, int],
    rate: str,
    rate_span: n.Span,
    parts: tuple[RatedPart, ...],
) -> Rated:
    """`Rated("rated", counters, "", "", charge, …)`, built field by field (see above)."""
    rated = _new(Rated)
    _status(rated, "rated")
    _counters(rated, counters)
    _reason(rated, "")
    _message(rated, "")
    _charge(rated, charge)
    _exact(rated, exact)
    _currency(rated, currency)
    _zone(rated, zone)
    _band(rated, band)
    _billed(rated, billed)
    _allowance_used(rated, allowance_used)
    _rate(rated, rate)
    _rate_span(rated, rate_span)
    _parts(rated, parts)
    return rated


_counters_values = Counters.__dict__["_values"].__set__
if Counters.__slots__ != ("_values",):  # pragma: no cover - a guard, as _setters
    raise RuntimeError("Counters changed: update dsl.runtime_usage.counters_of")


def counters_of(values: dict[str, Number]) -> Counters:
    """`Counters(values)` without the copy, for a dict nothing else holds or changes (the
    new values a generated block returns)."""
    counters = _new(Counters)
    _counters_values(counters, MappingProxyType(values))
    return counters


class Lean(NamedTuple):
    """A compiled rating without the result objects (`lean_one` in generated code): the new
    counter values (a fresh dict nothing else holds), the charge, the currency, zone and
    band, the billed and paid units (`billed - paid` is what allowances took), the
    allowance units used by name, the rate's name and span, the parts (empty unless the
    event was split at band edges) and the exact unrounded charge as an integer on the
    block's scale. Generated code builds it with `tuple_new(Lean, (...))`."""

    values: dict[str, Number]
    charge: Decimal
    currency: str
    zone: str
    band: str
    billed: int
    paid: int
    used: dict[str, int]
    rate: str
    rate_span: n.Span
    parts: tuple[RatedPart, ...]
    exact: int


def new_rejected(counters: Counters, reason: str, message: str) -> Rated:
    """`Rated("rejected", counters, reason, message)` with the other fields' defaults."""
    rated = _new(Rated)
    _status(rated, "rejected")
    _counters(rated, counters)
    _reason(rated, reason)
    _message(rated, message)
    _charge(rated, _ZERO)
    _exact(rated, _NOTHING)
    _currency(rated, "")
    _zone(rated, "")
    _band(rated, "")
    _billed(rated, 0)
    _allowance_used(rated, EMPTY)
    _rate(rated, "")
    _rate_span(rated, n.NOWHERE)
    _parts(rated, ())
    return rated


def new_part(
    band: str,
    start: datetime,
    used: int,
    billed: int,
    paid: int,
    charge: Fraction,
    rate: str,
    span: n.Span,
) -> RatedPart:
    """`RatedPart(band, start, used, billed, billed - paid, paid, charge, rate, span)`."""
    part = _new(RatedPart)
    _p_band(part, band)
    _p_start(part, start)
    _p_used(part, used)
    _p_billed(part, billed)
    _p_free(part, billed - paid)
    _p_paid(part, paid)
    _p_charge(part, charge)
    _p_rate(part, rate)
    _p_span(part, span)
    return part


# -- rate selection --------------------------------------------------------------------------

Test = Callable[[UsageEvent, SaleFacts | None, Mapping[str, tuple[str, ...]]], object]


def bare_facts(event: UsageEvent) -> SaleFacts:
    """The facts `when` conditions read without a sale: `dsl.eval_usage_setup.event_facts`
    for `facts=None`, less the event names (compiled conditions read the event itself)."""
    origin = event.origin or ""
    return SaleFacts(
        customer=CustomerFacts(),
        area=origin,
        area_lineage=(origin,) if origin else (),
        channel="",
        time=event.start,
    )


class RateSelector:
    """`pricing.steps.selection` for one block, per (zone, band): the candidates are worked
    out once, and a single unconditional candidate goes into `static` for the generated
    code to read without calling back. `tests` holds each rate's compiled `when` (None if
    it has none or it did not compile) and whether it reads the sale's facts, which are
    only built for it (`bare_facts`) when the call has none."""

    def __init__(
        self,
        usage: n.Usage,
        tests: Sequence[tuple[Test | None, bool]],
        static: dict[tuple[str, str], int],
    ) -> None:
        self._business = usage.business
        self._rates = usage.rates
        self._tests = tuple(tests)
        self._static = static
        self._candidates: dict[tuple[str, str], tuple[selection.Candidate, ...]] = {}

    def pick(
        self, zone: str, band: str, event: UsageEvent, facts: SaleFacts | None, env: ip.Env
    ) -> int:
        """The index of the rate pricing a part; Rejected `no-rate`, Deferred when a `when`
        must be evaluated that did not compile or raises."""
        candidates = self._candidates.get((zone, band))
        if candidates is None:
            candidates = selection.candidates(self._rates, zone, band)
            self._candidates[zone, band] = candidates
            if len(candidates) == 1 and not candidates[0].conditional:
                self._static[zone, band] = candidates[0].rate
        given = facts

        def holds(index: int) -> bool:
            nonlocal given
            test, reads_facts = self._tests[index]
            if reads_facts and given is None:
                given = bare_facts(event)
            return _holds(test, event, given, env.areas)

        best = selection.choose(candidates, holds)
        if best < 0:
            where = f"zone {zone or '-'}, band {band or '-'}"
            raise Rejected("no-rate", f"no rate of {self._business} for {where}")
        return best


def _holds(
    test: Test | None,
    event: UsageEvent,
    facts: SaleFacts | None,
    areas: Mapping[str, tuple[str, ...]],
) -> bool:
    if test is None:
        raise Deferred
    try:
        return bool(test(event, facts, areas))
    except Deferred:
        raise
    except Exception as error:  # the interpreter says what it means (rule-error or raise)
        raise Deferred from error


MEMO_LIMIT = 4_096


def remember(memo: dict[Any, Any], key: object, value: object) -> object:
    """`memo[key] = value`, clearing the memo first when full; returns `value`. For memos
    of pure functions in generated code (a missing entry is recomputed)."""
    if len(memo) >= MEMO_LIMIT:
        memo.clear()
    memo[key] = value
    return value


#: What generated usage code sees besides `dsl.runtime.EXPORTS` and its bound objects.
USAGE_EXPORTS: Mapping[str, object] = MappingProxyType(
    {
        "DEFAULT_ENV": ip.DEFAULT_ENV,
        "Rejected": Rejected,
        "Deferred": Deferred,
        "Counters": Counters,
        "Fraction": Fraction,
        "EXACT": EXACT,
        "proxy": MappingProxyType,
        "type_of": type,  # exact type tests, `type_of(x) is INT`: one argument only
        "INT": int,
        "STR": str,
        "whole": int,  # counters hold ints (or Decimals): int() as the interpreter applies it
        "check_quantity": check_quantity,
        "fit": fit,
        "unrounded": unrounded,
        "unrounded_scaled": unrounded_scaled,
        "remember": remember,
        "counters_of": counters_of,
        "as_counters": Counters,
        "new_rated": new_rated,
        "new_rejected": new_rejected,
        "new_part": new_part,
        "Lean": Lean,
        "tuple_new": tuple.__new__,  # tuple_new(Lean, values): the NamedTuple without its __new__
    }
)


def usage_namespace(bound: Mapping[str, object]) -> dict[str, object]:
    """A fresh exec namespace: `dsl.runtime`'s exports, ours, then the plan's bound objects."""
    namespace = fresh_namespace()
    namespace.update(USAGE_EXPORTS)
    namespace.update(bound)
    return namespace
