"""Shared pieces of proto <-> domain mapping: violation collection, instants, periods, enums,
version selectors and rule sources.

Inbound helpers never raise on their own: they record a `Violation` under the proto field path
and return None, so one request reports every problem at once. The public entry points of
`tariff.mappers.catalog` raise a single `ValidationError` at the end.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Generic, TypeVar

from google.protobuf import timestamp_pb2

from catalog import model
from catalog.errors import ValidationError, Violation
from catalog.versions import AsOf, Draft, Selector, VersionNumber
from tariff.v1 import common_pb2

if TYPE_CHECKING:
    from google.protobuf.internal.enum_type_wrapper import _EnumTypeWrapper

T = TypeVar("T")
E = TypeVar("E", bound=enum.Enum)
V = TypeVar("V", bound=int)
D = TypeVar("D")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# google.protobuf.Timestamp's documented range: 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z.
MIN_SECONDS = -62_135_596_800
MAX_SECONDS = 253_402_300_799
_NANOS_PER_SECOND = 1_000_000_000
#: The instants a sale, a usage event or an as-of selector may name (docs/operations.md,
#: "Request limits"): the Timestamp range less a year at each end, so any of them can be
#: taken to any time zone, to the first of its next month and to its rating period without
#: leaving the calendar. Catalog dates (validity, effective-from) keep the whole range.
SALE_MIN = datetime(2, 1, 1, tzinfo=UTC)
SALE_MAX = datetime(9998, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
SALE_MIN_SECONDS = int((SALE_MIN - _EPOCH).total_seconds())
SALE_MAX_SECONDS = int((SALE_MAX - _EPOCH).total_seconds())
_SALE_RANGE = f"must lie between {SALE_MIN.date()} and {SALE_MAX.date()} (UTC)"

REQUIRED = "is required"

#: A proto field path as mappers and the domain write it: names, `[index]`, `['key']`.
_STEP = r"[a-z][a-z0-9_]*(\[(\d+|'([^'\\]|\\.)*')\])*"
_PATH = re.compile(rf"{_STEP}(\.{_STEP})*")
_NAME = re.compile(r"(?<![\[\w'])[a-z][a-z0-9_]*")


def json_path(field: str) -> str:
    """The path a client wrote, in the proto3 JSON mapping's lowerCamelCase, of a field path
    written with proto names: `items[0].offer_code` -> `items[0].offerCode`; indexes and map
    keys (`options['pay_by']`) stay as they are. Anything that is not such a path (a bundle
    file name, a sentence) is returned unchanged."""
    if "_" not in field or not _PATH.fullmatch(field):
        return field
    out = []
    position = 0
    for key in re.finditer(r"\['([^'\\]|\\.)*'\]", field):  # map keys are left alone
        out.append(_NAME.sub(_camel, field[position : key.start()]))
        out.append(key.group())
        position = key.end()
    out.append(_NAME.sub(_camel, field[position:]))
    return "".join(out)


def _camel(name: re.Match[str]) -> str:
    """protobuf's json_name: each `_` dropped and the letter after it upper-cased."""
    head, *rest = name.group().split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def wire_error(error: ValidationError) -> ValidationError:
    """`error` with its field paths as the client wrote them (`json_path`): what the gRPC
    edge sends in BadRequest and in the status message."""
    violations = [Violation(json_path(v.field), v.description) for v in error.violations]
    return ValidationError(violations, error.message)


class Problems:
    """Violations collected while mapping one request; raised together by `check`."""

    __slots__ = ("violations",)

    def __init__(self) -> None:
        self.violations: list[Violation] = []

    def __bool__(self) -> bool:
        return bool(self.violations)

    def add(self, field: str, description: str) -> None:
        self.violations.append(Violation(field, description))

    def required(self, value: str, field: str) -> str:
        """A string the domain cannot do without (a code, a name): blank is a violation."""
        if not value.strip():
            self.add(field, REQUIRED)
        return value

    def check(self) -> None:
        if self.violations:
            raise ValidationError(self.violations)


def done(problems: Problems, value: T | None) -> T:
    """Raise the collected violations, else return the value (None only ever comes with one)."""
    problems.check()
    assert value is not None, "a mapper returned None without recording a violation"
    return value


def done_selector(problems: Problems, selector: Selector | None) -> Selector:
    """`done` for selectors (a TypeVar would widen the Selector union to object)."""
    problems.check()
    assert selector is not None, "a mapper returned None without recording a violation"
    return selector


def join(prefix: str, name: str) -> str:
    """Field path of `name` under `prefix` ("" = top level of the request)."""
    return f"{prefix}.{name}" if prefix else name


# -- instants ---------------------------------------------------------------------------------


def timestamp_to_datetime(
    ts: timestamp_pb2.Timestamp | None, field: str, problems: Problems
) -> datetime | None:
    """A tz-aware UTC instant, None for an unset field (the caller passes None then).

    Nanoseconds below a microsecond are dropped: the domain keeps microseconds, and clients
    stamping "now" send nanos that no one means to be significant. Out-of-range seconds or
    nanos are violations, never exceptions."""
    if ts is None:
        return None
    bad = False
    if not 0 <= ts.nanos < _NANOS_PER_SECOND:
        problems.add(field, f"nanos {ts.nanos} is outside 0..999999999")
        bad = True
    if not MIN_SECONDS <= ts.seconds <= MAX_SECONDS:
        problems.add(field, f"seconds {ts.seconds} is outside the years 1 to 9999")
        bad = True
    if bad:
        return None
    return _EPOCH + timedelta(seconds=ts.seconds, microseconds=ts.nanos // 1000)


def moment_from_proto(
    ts: timestamp_pb2.Timestamp, field: str, problems: Problems
) -> datetime | None:
    """`timestamp_to_datetime` for the instant of a sale, an event or an as-of: inside
    [SALE_MIN, SALE_MAX] or a violation (None then)."""
    moment = timestamp_to_datetime(ts, field, problems)
    if moment is not None and not SALE_MIN <= moment <= SALE_MAX:
        problems.add(field, f"{moment.isoformat()} is out of range: instants {_SALE_RANGE}")
        return None
    return moment


def datetime_to_timestamp(value: datetime | None) -> timestamp_pb2.Timestamp | None:
    """None stays unset. The domain holds tz-aware instants only; a naive one is read as UTC
    rather than failing the whole response."""
    if value is None:
        return None
    ts = timestamp_pb2.Timestamp()
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    delta = aware - _EPOCH
    ts.seconds = delta.days * 86_400 + delta.seconds
    ts.nanos = delta.microseconds * 1000
    return ts


def time_period_from_proto(
    msg: common_pb2.TimePeriod, field: str, problems: Problems
) -> model.TimePeriod:
    """Unset bounds are open. An empty or inverted window is left to the domain's check."""
    start = msg.start if msg.HasField("start") else None
    end = msg.end if msg.HasField("end") else None
    return model.TimePeriod(
        start=timestamp_to_datetime(start, f"{field}.start", problems),
        end=timestamp_to_datetime(end, f"{field}.end", problems),
    )


def time_period_to_proto(period: model.TimePeriod) -> common_pb2.TimePeriod:
    return common_pb2.TimePeriod(
        start=datetime_to_timestamp(period.start), end=datetime_to_timestamp(period.end)
    )


# -- enums ------------------------------------------------------------------------------------


class EnumMap(Generic[E, V]):
    """Proto enum <-> domain enum by name (`PREFIX_NAME` <-> `Domain.NAME`).

    Built at import time and checked both ways, so a value added to one side only fails at
    start-up instead of leaking through as UNSPECIFIED or a KeyError mid-request.
    """

    def __init__(self, wrapper: _EnumTypeWrapper[V], prefix: str, domain: type[E]) -> None:
        self.unspecified: V = wrapper.Value(f"{prefix}_UNSPECIFIED")
        self._to_proto: dict[E, V] = {m: wrapper.Value(f"{prefix}_{m.name}") for m in domain}
        self._from_proto: dict[int, E] = {int(v): m for m, v in self._to_proto.items()}
        extra = [
            n for n, v in wrapper.items() if v != self.unspecified and v not in self._from_proto
        ]
        if extra:
            raise RuntimeError(f"{domain.__name__} has no member for {', '.join(extra)}")
        self._names = ", ".join(wrapper.Name(v) for v in self._to_proto.values())

    def to_proto(self, value: E) -> V:
        return self._to_proto[value]

    def from_proto(self, value: int, field: str, problems: Problems) -> E | None:
        """A required value: UNSPECIFIED or a number this server does not know is a violation."""
        if value == self.unspecified:
            problems.add(field, f"{REQUIRED}: one of {self._names}")
            return None
        return self.optional_from_proto(value, field, problems)

    def optional_from_proto(self, value: int, field: str, problems: Problems) -> E | None:
        """UNSPECIFIED means "not set" (None); an unknown number is still a violation."""
        if value == self.unspecified:
            return None
        found = self._from_proto.get(value)
        if found is None:
            problems.add(field, f"unknown value {value}; expected one of {self._names}")
        return found

    def many_from_proto(self, values: Iterable[int], field: str, problems: Problems) -> list[E]:
        """A repeated enum: every element must be set and known."""
        found = (self.from_proto(v, f"{field}[{i}]", problems) for i, v in enumerate(values))
        return [m for m in found if m is not None]


# -- version selectors ------------------------------------------------------------------------


def selector_from_proto(
    msg: common_pb2.VersionSelector, field: str, default: D, problems: Problems
) -> Selector | D | None:
    """The catalog a read names; an unset selector means `default` (which differs by RPC).
    Returns None only after recording a violation."""
    which = msg.WhichOneof("selector")
    if which is None:
        return default
    if which == "as_of":
        instant = moment_from_proto(msg.as_of, f"{field}.as_of", problems)
        return AsOf(instant) if instant is not None else None
    if which == "version":
        if msg.version < 1:
            problems.add(f"{field}.version", "catalog versions start at 1")
            return None
        return VersionNumber(msg.version)
    if not msg.draft:
        problems.add(f"{field}.draft", "must be true when set; leave the selector unset instead")
        return None
    return Draft()


def selector_only(msg: common_pb2.VersionSelector, field: str, default: Selector) -> Selector:
    """A request whose only input is a selector: map it or raise its violation."""
    problems = Problems()
    return done_selector(problems, selector_from_proto(msg, field, default, problems))


def published_selector_from_proto(
    msg: common_pb2.VersionSelector, field: str, problems: Problems
) -> AsOf | VersionNumber | None:
    """A selector that must name a published version (or be unset: None = in force now)."""
    if msg.WhichOneof("selector") == "draft":
        problems.add(field, "the draft is not a published version; give a version or as_of")
        return None
    selector = selector_from_proto(msg, field, None, problems)
    assert not isinstance(selector, Draft)
    return selector


# -- rule sources -----------------------------------------------------------------------------


def rule_source_from_proto(
    msg: common_pb2.RuleSource, field: str, problems: Problems
) -> model.RuleSource:
    problems.required(msg.path, f"{field}.path")
    return model.RuleSource(path=msg.path, text=msg.text)


def rule_sources_from_proto(
    msgs: Iterable[common_pb2.RuleSource], field: str, problems: Problems
) -> tuple[model.RuleSource, ...]:
    return tuple(rule_source_from_proto(m, f"{field}[{i}]", problems) for i, m in enumerate(msgs))


def rule_source_to_proto(source: model.RuleSource) -> common_pb2.RuleSource:
    return common_pb2.RuleSource(path=source.path, text=source.text)
