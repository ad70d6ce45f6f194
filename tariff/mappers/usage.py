"""Usage events, subscriber counters and rated events <-> rules.rating (PricingService.Rate
and RateStream).

Events. A UsageEvent becomes a `rules.rating.UsageRecord` in the catalog version that rates
it: the quantity is the column of the business's usage measure there (duration_ms for
durations, volume_bytes for volumes, count for counts, where 0 means 1; the other columns
are ignored), attributes are read as rules read them (`tariff.mappers.sale`). An event that
cannot be rated as sent - no start, a negative quantity, no subscriber, bad attributes, a
business the version does not know or does not rate by usage - is not a request error: it
maps to a `Rejection` (malformed or unknown-business) and becomes a REJECTED result, while
the rest of the batch is rated.

Counters. One SubscriberCounters is one `dsl.eval_usage.Counters` of a (subscriber_id,
period "YYYY-MM") pair; each UsageCounter's `name` is the Counters key, as the engine names
it: `allowance:NAME` (units of allowance NAME used), `tier:BUSINESS` (paid units of the
business's tiered block) - both in `units` - and `cap:BUSINESS[N]` (the uncapped money total
of the block's N-th cap) in `amount`. Counters are never negative; a counter the tariff
does not know is carried through unchanged.

Results. A rated event carries its charge (rounded as its tariff declares, after caps) as
exact Money in the plan's currency, the zone, the band of its start, billed units and
allowance units of all parts, and the rate that priced it with its source location; parts
only when it was split at band edges, each part's charge being its exact share before the
event's rounding and caps, to the nano (half-even). Engine rejection codes map to
RejectionReason by `REJECTIONS`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from operator import attrgetter
from typing import Any

from google.protobuf.internal.containers import RepeatedCompositeFieldContainer
from google.type import money_pb2

from catalog.model import UsageMeasure
from dsl.context import EMPTY
from dsl.eval_usage import Counters, Number, RatedPart, UsageEvent
from dsl.nodes import Span
from dsl.runtime_usage import Lean
from pricing.rounding import RoundingMode, round_exact
from rules.per_version import PerVersion
from rules.rating import NO_VERSION, UNKNOWN_OFFER, CounterKey, RatedRecord, UsageRecord
from rules.sale_catalog import SaleCatalog
from tariff.mappers.common import (
    SALE_MAX_SECONDS,
    SALE_MIN_SECONDS,
    Problems,
    join,
    moment_from_proto,
)
from tariff.mappers.money import WirePrecisionError, money_from_proto, money_to_proto
from tariff.mappers.qualification import rule_ref
from tariff.mappers.sale import attributes_from_proto
from tariff.v1 import common_pb2
from tariff.v1 import pricing_service_pb2 as pb

MALFORMED = "malformed"
UNKNOWN_BUSINESS = "unknown-business"

#: Engine rejection codes (rules.rating and the usage raters) -> the wire's reasons.
REJECTIONS: Mapping[str, pb.RejectionReason.ValueType] = {
    UNKNOWN_OFFER: pb.REJECTION_REASON_UNKNOWN_OFFER,
    NO_VERSION: pb.REJECTION_REASON_UNKNOWN_OFFER,
    UNKNOWN_BUSINESS: pb.REJECTION_REASON_UNKNOWN_BUSINESS,
    MALFORMED: pb.REJECTION_REASON_MALFORMED,
    "no-zone": pb.REJECTION_REASON_NO_RATE,
    "no-rate": pb.REJECTION_REASON_NO_RATE,
    "malformed-tariff": pb.REJECTION_REASON_NO_RATE,
    "rule-error": pb.REJECTION_REASON_NO_RATE,
}
QUANTITY_FIELDS: Mapping[UsageMeasure, str] = {
    UsageMeasure.DURATION: "duration_ms",
    UsageMeasure.VOLUME: "volume_bytes",
    UsageMeasure.COUNT: "count",
}
PERIOD = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
COUNTER_NAME = re.compile(r"(allowance|tier):[^\s\[\]]+|cap:[^\s\[\]]+\[[1-9][0-9]*\]")
CAP_PREFIX = "cap:"
RATED = pb.RATING_STATUS_RATED
REJECTED = pb.RATING_STATUS_REJECTED
NANO = 9
NANOS_PER_SECOND = 1_000_000_000
TEMPLATES = 65_536  # result templates kept per version (cleared when full)
FRAMING = 4  # a repeated message's tag and length (up to 2 MiB) in its parent
#: What a result adds to its template's encoding, but for the event id's own bytes:
#: framing, the id's tag and length, billed and allowance units (tag + up to 10 bytes each).
EVENT_BYTES = FRAMING + 4 + 2 * 11


# Records are built through their slots' own setters, as dsl.runtime_usage builds Rated: a
# frozen dataclass's __init__ goes through object.__setattr__ per field, ~2 µs for the two
# objects of an event, a fifth of this edge's work per event. Correct only while the classes
# have exactly these fields and no __post_init__, which `_setters` checks at import.

Setter = Callable[[Any, Any], None]


def _setters(cls: type, names: tuple[str, ...]) -> tuple[Setter, ...]:
    found = tuple(f.name for f in fields(cls))
    if found != names or hasattr(cls, "__post_init__"):
        raise RuntimeError(f"{cls.__name__} changed ({found}): update tariff.mappers.usage")
    return tuple(cls.__dict__[name].__set__ for name in names)


_new = object.__new__
_from_timestamp = datetime.fromtimestamp
(_business, _start, _quantity, _destination, _origin, _roaming, _attributes) = _setters(
    UsageEvent,
    ("business", "start", "quantity", "destination", "origin", "roaming", "attributes"),
)
(_event_id, _subscriber_id, _offer_code, _usage) = _setters(
    UsageRecord, ("event_id", "subscriber_id", "offer_code", "usage")
)


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why an event is rejected before the engine sees it (an engine rejection code)."""

    reason: str
    message: str


# -- events -----------------------------------------------------------------------------------


def quantity_fields(catalog: SaleCatalog) -> Mapping[str, str]:
    """Business code -> the UsageEvent field holding its quantity, for the businesses the
    version rates by usage; built once per version."""
    return _QUANTITY_FIELDS(catalog)


def _quantity_fields(catalog: SaleCatalog) -> Mapping[str, str]:
    return {  # a dict, read per event: nothing writes to it once made
        code: QUANTITY_FIELDS[b.usage_measure]
        for code, b in catalog.businesses.items()
        if b.usage_measure in QUANTITY_FIELDS
    }


_QUANTITY_FIELDS: PerVersion[Mapping[str, str]] = PerVersion(_quantity_fields)


def start_from_proto(msg: pb.UsageEvent) -> datetime | Rejection:
    """The event's start instant (UTC), or why it has none: the start picks the version,
    the band and the period, so without it nothing else can be decided."""
    found = instant_from_proto(msg)
    return found if isinstance(found, Rejection) else found[0]


def instant_from_proto(msg: pb.UsageEvent) -> tuple[datetime, int] | Rejection:
    """`start_from_proto`, with the start in whole milliseconds since the epoch (floored:
    `dsl.runtime_usage.epoch_ms`), worked out from the Timestamp's integers."""
    stamp = msg.start_time
    seconds, nanos = stamp.seconds, stamp.nanos
    if not (seconds or nanos) and not msg.HasField("start_time"):  # unset reads as 0, 0
        return Rejection(MALFORMED, "start_time is required")
    if SALE_MIN_SECONDS <= seconds <= SALE_MAX_SECONDS and 0 <= nanos < NANOS_PER_SECOND:
        start = _from_timestamp(seconds, UTC)  # half the cost of EPOCH + timedelta(...)
        if nanos:
            start = start.replace(microsecond=nanos // 1000)
        return start, seconds * 1000 + nanos // 1_000_000
    problems = Problems()
    found = moment_from_proto(stamp, "start_time", problems)
    assert found is None, "moment_from_proto accepts what the check above refuses"
    return Rejection(MALFORMED, _said(problems))


def record_from_proto(
    msg: pb.UsageEvent, start: datetime, catalog: SaleCatalog
) -> UsageRecord | Rejection:
    """The record `catalog` (the version rating it) rates, or why the event is rejected."""
    usage = usage_from_proto(msg, start, catalog)
    if isinstance(usage, Rejection):
        return usage
    record = _new(UsageRecord)  # = UsageRecord(event_id, subscriber, offer_code, usage)
    _event_id(record, msg.event_id)
    _subscriber_id(record, msg.subscriber_id)
    _offer_code(record, msg.offer_code)
    _usage(record, usage)
    return record


def usage_from_proto(
    msg: pb.UsageEvent,
    start: datetime,
    catalog: SaleCatalog,
    fields: Mapping[str, str] | None = None,
    subscriber: str | None = None,
) -> UsageEvent | Rejection:
    """The usage of `record_from_proto`'s record (the subscriber checked too); `fields` is
    `quantity_fields(catalog)` and `subscriber` is `msg.subscriber_id` when the caller has
    them."""
    business = msg.business_code
    name = (quantity_fields(catalog) if fields is None else fields).get(business)
    if name is None:
        return _unknown_business(business, catalog)
    quantity: int = getattr(msg, name)
    if quantity <= 0:
        if quantity < 0:
            return Rejection(MALFORMED, f"{name}: negative quantity {quantity}")
        if name == "count":
            quantity = 1
    if not (msg.subscriber_id if subscriber is None else subscriber):
        return Rejection(MALFORMED, "subscriber_id is required")
    attributes = EMPTY
    if msg.attributes:
        problems = Problems()
        attributes = attributes_from_proto(msg.attributes, "attributes", problems)
        if problems:
            return Rejection(MALFORMED, _said(problems))
    usage = _new(UsageEvent)  # = UsageEvent(business, start, quantity, ...), see _setters
    _business(usage, business)
    _start(usage, start)
    _quantity(usage, quantity)
    _destination(usage, msg.destination)
    _origin(usage, msg.origin_area_code or None)
    _roaming(usage, msg.roaming)
    _attributes(usage, attributes)
    return usage


def _unknown_business(code: str, catalog: SaleCatalog) -> Rejection:
    if code in catalog.businesses:
        message = f"business {code!r} is not rated by usage"
    else:
        message = f"business {code!r} is not in catalog version {catalog.number}"
    return Rejection(UNKNOWN_BUSINESS, message)


def _said(problems: Problems) -> str:
    return "; ".join(f"{v.field}: {v.description}" for v in problems.violations)


# -- counters ---------------------------------------------------------------------------------


@dataclass(slots=True)
class GivenCounters:
    """A request's counters by (subscriber, period), with the currency of their cap
    counters (echoed back when the batch does not rate in another)."""

    counters: dict[CounterKey, Counters] = field(default_factory=dict)
    currencies: dict[CounterKey, str] = field(default_factory=dict)


def counters_from_proto(
    msgs: Iterable[pb.SubscriberCounters], field: str, problems: Problems
) -> GivenCounters:
    """Every problem is a violation: no subscriber, a period not "YYYY-MM", a pair given
    twice, a counter name the engine does not use, a negative or misplaced value, a bad
    Money or two currencies among one pair's caps."""
    given = GivenCounters()
    first: dict[CounterKey, int] = {}
    for index, msg in enumerate(msgs):
        where = f"{field}[{index}]"
        problems.required(msg.subscriber_id, join(where, "subscriber_id"))
        if not PERIOD.fullmatch(msg.period):
            problems.add(join(where, "period"), f"{msg.period!r} is not a month as YYYY-MM")
        key = (msg.subscriber_id, msg.period)
        if key in first:
            problems.add(where, f"subscriber {key[0]!r} in {key[1]} is also {field}[{first[key]}]")
            continue
        first[key] = index
        values: dict[str, Number] = {}
        currencies: set[str] = set()
        for number, counter in enumerate(msg.counters):
            value = _counter(counter, join(where, f"counters[{number}]"), values, problems)
            if isinstance(value, tuple):
                values[counter.name], currency = value
                currencies.add(currency)
            elif value is not None:
                values[counter.name] = value
        if len(currencies) > 1:
            problems.add(join(where, "counters"), f"caps in {len(currencies)} currencies")
        given.counters[key] = Counters(values)
        if currencies:
            given.currencies[key] = min(currencies)
    return given


def _counter(
    msg: pb.UsageCounter, where: str, seen: Mapping[str, Number], problems: Problems
) -> int | tuple[Decimal, str] | None:
    if not COUNTER_NAME.fullmatch(msg.name):
        expected = "allowance:NAME, tier:BUSINESS or cap:BUSINESS[N]"
        problems.add(join(where, "name"), f"{msg.name!r} is not a counter name ({expected})")
        return None
    if msg.name in seen:
        problems.add(join(where, "name"), f"counter {msg.name!r} is given twice")
        return None
    if not msg.name.startswith(CAP_PREFIX):
        if msg.HasField("amount"):
            problems.add(join(where, "amount"), "only cap counters hold money: use units")
        if msg.units < 0:
            problems.add(join(where, "units"), "must not be negative")
        return msg.units
    if msg.units:
        problems.add(join(where, "units"), "a cap counter holds money: use amount")
    if not msg.HasField("amount"):
        problems.add(join(where, "amount"), "is required for a cap counter")
        return None
    money = money_from_proto(msg.amount, join(where, "amount"), problems)
    if money is not None and money[0] < 0:
        problems.add(join(where, "amount"), "must not be negative")
    return money


def counters_to_proto(
    out: pb.SubscriberCounters, key: CounterKey, counters: Mapping[str, Number], currency: str
) -> None:
    """Fill `out` (in place: it is already part of the response) with one pair's counters,
    by name."""
    out.subscriber_id, out.period = key
    add = out.counters.add
    for name in sorted(counters) if len(counters) > 1 else counters:
        value = counters[name]
        if name.startswith(CAP_PREFIX):  # a message given to add() costs more than a copy
            total = _CAP_TOTALS.get((value, currency))
            if total is None:
                total = cap_total_to_proto(Decimal(value), currency)
                if len(_CAP_TOTALS) >= 4096:  # bounded: cleared when full
                    _CAP_TOTALS.clear()
                _CAP_TOTALS[value, currency] = total
            add(name=name).amount.CopyFrom(total)
        else:
            add(name=name, units=int(value))


#: Cap counters on the wire by (total, currency): the messages are only ever copied from.
_CAP_TOTALS: dict[tuple[Number, str], money_pb2.Money] = {}


def cap_total_to_proto(total: Decimal, currency: str) -> money_pb2.Money:
    """A cap counter on the wire: exact, or rounded down to the nano when finer. A total
    finer than a nano only arises above its cap (an event whose own charge is finer is
    rejected and leaves the counters), where flooring keeps it at or above the cap - which
    is all the next events read of it while charges are not negative."""
    try:
        return money_to_proto(total, currency)
    except WirePrecisionError:
        return money_to_proto(round_exact(Fraction(total), RoundingMode.DOWN, NANO), currency)


# -- results ----------------------------------------------------------------------------------


#: The fields of a Lean a result is written from, by name, in one call.
_WRITTEN = attrgetter("charge", "currency", "zone", "band", "rate", "billed", "paid", "parts")

Template = tuple[pb.RatedEvent, int]  # a result to copy from, and its encoded size


@dataclass(slots=True, eq=False)
class ResultParts:
    """A version's result parts, shared by every ResultWriter rating on it: each rate's
    RuleRef, and a template per (rate, zone, band, charge, currency)."""

    rules: dict[str, common_pb2.RuleRef] = field(default_factory=dict)
    templates: dict[tuple[str, str, str, Decimal, str], Template] = field(default_factory=dict)


#: Each version's result parts, kept by the edge (`rules.per_version`).
RESULT_PARTS: PerVersion[ResultParts] = PerVersion(lambda _catalog: ResultParts())


class ResultWriter:
    """Appends RatedEvents to a response's results. Keeps what repeats across events, per
    version (every batch it rates reuses them): each rate's RuleRef, and a result template
    per (rate, zone, band, charge) that a result is copied from, its event id and units set
    (measured: a third of the cost of building the message)."""

    __slots__ = ("_add", "_catalog", "_results", "_rules", "_templates", "size")

    def __init__(self, results: RepeatedCompositeFieldContainer[pb.RatedEvent]) -> None:
        self._results = results
        self._add = results.add
        self._catalog: SaleCatalog | None = None
        self._rules: dict[str, common_pb2.RuleRef] = {}  # rate name -> ref, in `_catalog`
        # (rate, zone, band, charge, currency) -> a template and its encoded size; same
        self._templates: dict[tuple[str, str, str, Decimal, str], tuple[pb.RatedEvent, int]] = {}
        #: An upper bound of the encoded size of the results written (bytes): a template's
        #: size, then what an event adds - its id (at most 4 bytes a character), two
        #: varints and the framing - or a result's exact size where it has parts.
        self.size = 0

    def rejected(self, event_id: str, reason: str, message: str, version: int = 0) -> None:
        """`version`: the catalog version that refused it (0 when none was chosen)."""
        code = REJECTIONS.get(reason)
        if code is None:  # a code this edge does not know yet: say it rather than guess
            code, message = pb.REJECTION_REASON_UNSPECIFIED, f"{reason}: {message}"
        out = self._add(
            event_id=event_id,
            status=REJECTED,
            rejection=code,
            message=message,
            catalog_version=version,
        )
        self.size += out.ByteSize() + FRAMING

    def rated(self, result: RatedRecord, catalog: SaleCatalog) -> None:
        """Raises ValueError - WirePrecisionError for a charge finer than a nano, or a count
        beyond int64 - and then leaves the results as they were."""
        rated = result.rated
        parts = rated.parts
        # what allowances took, all parts: each part's free units (= sum of allowance_used)
        free = parts[0].free if len(parts) == 1 else sum(p.free for p in parts)
        lean = Lean(
            values={},
            charge=rated.charge,
            currency=rated.currency,
            zone=rated.zone,
            band=rated.band,
            billed=rated.billed,
            paid=rated.billed - free,
            used={},
            rate=rated.rate,
            rate_span=rated.rate_span,
            parts=parts,
            exact=0,
        )
        self.lean(result.record.event_id, lean, result.plan, catalog)

    def lean(self, event_id: str, lean: Lean, plan: str, catalog: SaleCatalog) -> None:
        """`rated` for the engine's lean result (rules.rating.EventRating) of `plan` in
        `catalog`; raises as `rated`."""
        charge, currency, zone, band, rate, billed, paid, parts = _WRITTEN(lean)
        if catalog is not self._catalog:
            self._use(catalog)
        found = self._templates.get((rate, zone, band, charge, currency))
        if found is None:  # raises WirePrecisionError
            found = self._template(
                catalog, plan, rate, lean.rate_span, zone, band, charge, currency
            )
        template, size = found
        out = self._add()
        out.CopyFrom(template)
        try:
            out.event_id = event_id
            out.billed_units = billed
            if billed != paid:  # 0 is the template's
                out.allowance_units = billed - paid
            if len(parts) > 1:
                self._parts(out, zone, currency, parts, plan, catalog)
                self.size += out.ByteSize() + FRAMING
            else:
                self.size += size + EVENT_BYTES + 4 * len(event_id)
        except ValueError:
            del self._results[-1:]
            raise

    def _use(self, catalog: SaleCatalog) -> None:
        """Switch to `catalog`'s RuleRefs and templates, kept with the version (every batch
        it rates reuses them)."""
        found = RESULT_PARTS(catalog)
        self._catalog, self._rules, self._templates = catalog, found.rules, found.templates

    def _template(
        self,
        catalog: SaleCatalog,
        plan: str,
        rate: str,
        span: Span,
        zone: str,
        band: str,
        charge: Decimal,
        currency: str,
    ) -> tuple[pb.RatedEvent, int]:
        template = pb.RatedEvent(status=RATED, zone=zone, band=band, catalog_version=catalog.number)
        template.charge.CopyFrom(money_to_proto(charge, currency))
        template.rule.CopyFrom(self._rule(catalog, plan, rate, span))
        if len(self._templates) >= TEMPLATES:  # bounded: charges repeat, but not forever
            self._templates.clear()
        found = (template, template.ByteSize())
        self._templates[rate, zone, band, charge, currency] = found
        return found

    def _parts(
        self,
        out: pb.RatedEvent,
        zone: str,
        currency: str,
        parts: tuple[RatedPart, ...],
        plan: str,
        catalog: SaleCatalog,
    ) -> None:
        add = out.parts.add
        for part in parts:  # bounded: pricing.bands.MAX_PARTS
            piece = add(
                zone=zone,
                band=part.band,
                units=part.used,
                billed_units=part.billed,
                allowance_units=part.free,
            )
            piece.charge.CopyFrom(money_to_proto(_nanos(part.charge), currency))
            piece.rule.CopyFrom(self._rule(catalog, plan, part.rate, part.span))

    def _rule(self, catalog: SaleCatalog, plan: str, rate: str, span: Span) -> common_pb2.RuleRef:
        if catalog is not self._catalog:
            self._use(catalog)
        found = self._rules.get(rate)
        if found is None:
            found = self._rules[rate] = rate_rule(catalog, plan, rate, span)
        return found


def _nanos(exact: Fraction) -> Decimal:
    """A part's exact charge as the wire can carry it (half-even to the nano)."""
    return round_exact(exact, RoundingMode.HALF_EVEN, NANO)


def rate_rule(catalog: SaleCatalog, plan: str, rate: str, span: Span) -> common_pb2.RuleRef:
    """The RuleRef of a rate, built once per version (a rate's name, `plan.business.rate[N]`,
    names one rate of the version, hence its span)."""
    refs = _RATE_RULES(catalog)
    found = refs.get(rate)
    if found is None:
        found = refs[rate] = rule_ref(rate, catalog.book.plan_path(plan), span)
    return found


_RATE_RULES: PerVersion[dict[str, common_pb2.RuleRef]] = PerVersion(lambda _catalog: {})
