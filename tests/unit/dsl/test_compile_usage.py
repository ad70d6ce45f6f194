"""The compiled usage rater (dsl.compile_usage) against the reference interpreter
(dsl.eval_usage): every construct on hand-computed cases, every rejection, the helpers it
binds, and a property over generated usage blocks and event sequences (counters threaded
from event to event, a batch cut anywhere).

`_agree` is the workhorse: it rates events with both engines, one by one and as one batch,
and asserts the results are equal *and* print the same (so Decimal exponents, counter key
order and datetimes agree too). Unless a test says the interpreter must take over, the
compiled rater runs with the interpreter unplugged, so agreement is the compiled code's own.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction
from types import MappingProxyType
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dsl.compile_usage as compile_module
from dsl import interpreter as ip
from dsl import nodes as n
from dsl.compile_usage import CompiledUsage, compile_usage
from dsl.context import CustomerFacts, SaleFacts
from dsl.eval_usage import Counters, Rated, RatedPart, UsageEvent, rate
from dsl.parser import parse
from dsl.runtime_usage import (
    BandFinder,
    Rejected,
    ZoneFinder,
    epoch_ms,
    new_part,
    new_rated,
    new_rejected,
    unrounded,
)
from dsl.symbols import Scope
from pricing.bands import BandRule, TimeBands
from pricing.calendars import Calendar, Holiday
from pricing.rounding import RoundingMode, round_exact, to_decimal
from pricing.zones import ZoneTable
from tests.unit.dsl.test_eval_support import AREAS

CST = timezone(timedelta(hours=8))
MONDAY_10 = datetime(2026, 3, 2, 10, 0, tzinfo=CST)  # a weekday, peak
HOLIDAY_10 = datetime(2026, 10, 2, 10, 0, tzinfo=CST)  # a Friday inside 国庆节
ENV = ip.Env(areas=AREAS)

HEADER = """
attribute event.on_net: bool
attribute event.minutes: int
attribute customer.tier: string

calendar cal {
  weekend sat, sun
  holiday 2026-10-01 .. 2026-10-07 "国庆节"
}

bands pb {
  calendar cal
  peak: weekdays 08:00 .. 22:00
  holiday: holidays
  offpeak: otherwise
}

zones z {
  "0755": local
  "07": province
  "00": intl_other
  "0044": intl_uk
}
"""


def _plan(body: str, plan_items: str = "currency CNY") -> tuple[Scope, n.PlanDecl]:
    module = parse(f"{HEADER}plan p {{\n  {plan_items}\n{body}\n}}\n", "t.tariff")
    scope = Scope.of(module)
    return scope, scope.plans["p"]


def _voice(*lines: str, settings_: str = "zones z\n bands pb") -> str:
    return "usage voice {\n " + settings_ + "\n " + "\n ".join(lines) + "\n}"


def _event(
    quantity: int,
    *,
    business: str = "voice",
    start: datetime = MONDAY_10,
    to: str = "075512345678",
    **names: Any,
) -> UsageEvent:
    return UsageEvent(business, start, quantity, to, **names)


class _Refuse:
    """Stands in for dsl.eval_usage inside dsl.compile_usage: deferring fails the test."""

    @staticmethod
    def rate(*_: object, **__: object) -> Rated:
        raise AssertionError("the compiled rater deferred to the interpreter")


@contextmanager
def _no_interpreter() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(compile_module, "eval_usage", _Refuse)
        yield


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def _same(expected: Sequence[Rated], got: Sequence[Rated]) -> None:
    assert list(got) == list(expected)
    assert repr(list(got)) == repr(list(expected))


def _agree(
    body: str | tuple[Scope, n.PlanDecl],
    events: Sequence[UsageEvent],
    *,
    counters: Counters | None = None,
    facts: SaleFacts | None = None,
    tables: dict[str, ZoneTable] | None = None,
    deferred: bool = False,
) -> list[Rated]:
    """Both engines on `events` in order, counters threaded; the interpreter's results."""
    scope, plan = _plan(body) if isinstance(body, str) else body
    tables = tables or {}
    start = counters or Counters()
    expected: list[Rated] = []
    current = start
    for event in events:
        expected.append(rate(plan, event, current, scope, tables, facts, env=ENV))
        current = expected[-1].counters
    compiled = compile_usage(plan, scope, tables, "t.tariff")
    with _no_interpreter() if not deferred else _nothing():
        got, current = [], start
        for event in events:
            got.append(compiled.rate(event, current, facts, ENV))
            current = got[-1].counters
        _same(expected, got)
        _same(expected, compiled.rate_many(events, start, facts, ENV))
        _lean_agrees(compiled, events, start, facts, expected)
    return expected


def _lean_agrees(
    compiled: CompiledUsage,
    events: Sequence[UsageEvent],
    start: Counters,
    facts: SaleFacts | None,
    expected: Sequence[Rated],
) -> None:
    """`rate_lean` on the same events, values threaded as plain dicts, the start given in
    epoch milliseconds or not: the same decisions as the interpreter's `expected`."""
    scales = {block.usage.business: block.scale for block in compiled.blocks}
    values: Any = start
    for number, (event, want) in enumerate(zip(events, expected, strict=True)):
        at = epoch_ms(event.start) if number % 2 else None
        got = compiled.rate_lean(event, at, values, facts, ENV)
        if not isinstance(got, tuple):
            assert got == want
            assert repr(got) == repr(want)
            values = dict(got.counters) if got.status == "rated" else values
            continue
        state, charge, currency, zone, band, billed, paid, used, rate_, span, parts, total = got
        assert want.status == "rated"
        assert (str(charge), currency, zone, band, billed) == (
            str(want.charge),
            want.currency,
            want.zone,
            want.band,
            want.billed,
        )
        assert (rate_, span, used) == (want.rate, want.rate_span, dict(want.allowance_used))
        assert billed - paid == sum(p.free for p in want.parts)
        assert parts == (want.parts if len(want.parts) > 1 or parts else ())
        assert Fraction(total, scales[event.business]) == want.exact
        assert state == dict(want.counters)
        assert list(state) == list(want.counters)
        values = state


def _charge(result: Rated) -> str:
    assert result.status == "rated", result.message
    return str(result.charge)


# -- increments, connection fee, minimum and maximum -----------------------------------------


@pytest.mark.parametrize(
    ("increments", "seconds", "billed", "charge"),
    [
        ("", 61, 61, "0.61"),
        ("increments 60s", 61, 120, "1.2"),
        ("increments 60s", 60, 60, "0.6"),
        ("increments 60s then 6s", 61, 66, "0.66"),
        ("increments 60s then 6s", 30, 60, "0.6"),
        ("increments 60s then 6s", 0, 0, "0"),
        ("increments 1 min then 30 sec", 91, 120, "1.2"),
        ("increments 7s then 3s", 8, 10, "0.1"),
    ],
)
def test_increments(increments: str, seconds: int, billed: int, charge: str) -> None:
    [result] = _agree(_voice(f"rate * *: 0.60 per minute {increments}"), [_event(seconds * 1000)])
    assert (_charge(result), result.billed) == (charge, billed * 1000)


@pytest.mark.parametrize(
    ("line", "seconds", "charge"),
    [
        (
            "rate * *: 0.15 per minute increments 60s then 6s connection 0.05 minimum 0.10",
            95,
            "0.29",
        ),
        ("rate * *: 0.01 per minute connection 0.02 minimum 0.10", 1, "0.1"),
        ("rate * *: 2.00 per minute increments 60s connection 1.00 maximum 5.00", 600, "5"),
        ("rate * *: 2.00 per minute increments 60s connection 1.00 maximum 5.00", 60, "3"),
        ("rate * *: 0.15 per minute connection 0.05 minimum 0.10", 0, "0"),
        ("rate * *: 0 per minute connection 0.05", 1, "0.05"),
        ("rate * *: 0.10 per 30 s increments 30s", 31, "0.2"),
    ],
)
def test_connection_minimum_maximum(line: str, seconds: int, charge: str) -> None:
    [result] = _agree(_voice(line), [_event(seconds * 1000)])
    assert _charge(result) == charge


def test_rate_name_span_and_parts() -> None:
    [result] = _agree(_voice("rate * peak: 1 per minute", "rate * *: 2 per minute"), [_event(1)])
    assert (result.rate, result.rate_span.line) == ("p.voice.rate[1]", HEADER.count("\n") + 6)
    assert result.parts[0].rate == result.rate


# -- zones -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("to", "zone"),
    [
        ("0755 1234-5678", "local"),
        ("07311234567", "province"),
        ("+44 20 7946", "intl_uk"),
        ("0049 30 1234", "intl_other"),
        ("(0755) 1234.5678", "local"),
    ],
)
def test_longest_prefix_zone(to: str, zone: str) -> None:
    body = _voice(
        "rate local *: 0.10 per minute", "rate province *: 0.40 per minute",
        "rate intl_* *: 2.00 per minute", "rate intl_uk *: 3.00 per minute",
    )  # fmt: skip
    [result] = _agree(body, [_event(60_000, to=to)])
    assert result.zone == zone


def test_a_catalog_zone_table_with_a_country_code() -> None:
    body = "usage voice {\n zones cn\n rate far *: 1.00 per minute\n}"
    table = {"cn": ZoneTable([("010", "far")], country_code="86")}
    [result] = _agree(body, [_event(60_000, to="+86 10 1234 5678")], tables=table)
    assert (result.zone, _charge(result)) == ("far", "1")


def test_a_block_without_zones_has_the_empty_zone() -> None:
    body = "usage voice {\n rate * *: 1.00 per minute\n rate local *: 9 per minute\n}"
    [result] = _agree(body, [_event(60_000, to="whatever: never looked at")])
    assert (result.zone, result.band, _charge(result)) == ("", "", "1")


# -- bands and split -------------------------------------------------------------------------


def test_holiday_and_peak_bands() -> None:
    body = _voice(
        "rate * peak: 0.60 per minute increments 60s",
        "rate * holiday: 0.05 per minute increments 60s", "rate * offpeak: 0.30 per minute",
    )  # fmt: skip
    holiday, peak = _agree(body, [_event(30_000, start=HOLIDAY_10), _event(30_000)])
    assert (holiday.band, _charge(holiday)) == ("holiday", "0.05")
    assert (peak.band, _charge(peak)) == ("peak", "0.6")


def test_time_zone_of_the_block() -> None:
    utc_2am = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, 02:00 in London
    body = _voice("rate * peak: 1.00 per minute", "rate * *: 0.50 per minute")
    assert _agree(body, [_event(60_000, start=utc_2am)])[0].band == "peak"
    london = body.replace(" bands pb", ' bands pb\n time zone "Europe/London"')
    assert _agree(london, [_event(60_000, start=utc_2am)])[0].band == "offpeak"


SPLIT = _voice(
    "rate * peak: 0.60 per minute increments 60s",
    "rate * offpeak: 0.30 per minute increments 60s", "rate * holiday: 0 per minute",
    settings_="zones z\n bands pb\n split at band edges",
)  # fmt: skip


def test_split_at_a_band_edge_rates_each_part() -> None:
    start = datetime(2026, 3, 2, 21, 59, 30, tzinfo=CST)
    [result] = _agree(SPLIT, [_event(60_000, start=start)])
    assert [(p.band, p.used, p.billed) for p in result.parts] == [
        ("peak", 30_000, 60_000),
        ("offpeak", 30_000, 60_000),
    ]
    assert (_charge(result), result.band, result.billed) == ("0.9", "peak", 120_000)
    assert result.parts[1].rate == "p.voice.rate[2]"


@pytest.mark.parametrize(
    ("start", "milliseconds"),
    [
        (datetime(2026, 3, 2, 23, 59, 30, tzinfo=CST), 60_000),  # midnight inside offpeak
        (datetime(2026, 3, 2, 21, 0, tzinfo=CST), 3_600_000),  # ends exactly on the edge
        (datetime(2026, 3, 2, 7, 59, 59, 999_000, tzinfo=CST), 2),  # 1 ms each side
        (datetime(2026, 9, 30, 20, 0, tzinfo=CST), 30 * 3_600_000),  # into the holidays
        (datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")), 90_000),
        (datetime(2026, 3, 2, 2, 0, tzinfo=UTC), 0),
        (datetime(2026, 3, 6, 21, 0, tzinfo=CST), 7 * 86_400_000),  # a week: many parts
    ],
)
def test_split_cases(start: datetime, milliseconds: int) -> None:
    _agree(SPLIT, [_event(milliseconds, start=start)])


def test_split_across_a_dst_change() -> None:
    london = SPLIT.replace(" bands pb", ' bands pb\n time zone "Europe/London"')
    start = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # 00:30 GMT, then 02:00 BST at 01:00 UTC
    [result] = _agree(london, [_event(3 * 3_600_000, start=start)])
    assert sum(p.used for p in result.parts) == 3 * 3_600_000
    fold = datetime(2026, 10, 25, 1, 30, fold=1, tzinfo=ZoneInfo("Europe/London"))
    _agree(london, [_event(600_000, start=fold), _event(600_000, start=fold.replace(fold=0))])


# -- rate selection and `when` ---------------------------------------------------------------

SELECTION = _voice(
    "rate * *: 9.00 per minute",
    "rate intl_* *: 2.00 per minute",
    "rate intl_uk *: 3.00 per minute",
    "rate intl_uk *: 4.00 per minute when event.roaming",
    "rate intl_uk peak: 5.00 per minute when not event.roaming",
)


@pytest.mark.parametrize(
    ("to", "start", "roaming", "charge"),
    [
        ("0044207946", MONDAY_10, None, "3"),  # roaming unknown: no `when` holds
        ("0044207946", MONDAY_10, False, "5"),
        ("0044207946", MONDAY_10, True, "3"),  # `when event.roaming` is not more specific
        ("0049307946", MONDAY_10, None, "2"),
        ("0731", MONDAY_10, None, "9"),
        ("0044207946", datetime(2026, 3, 2, 23, 0, tzinfo=CST), False, "3"),
    ],
)
def test_most_specific_rate_then_source_order(
    to: str, start: datetime, roaming: bool | None, charge: str
) -> None:
    [result] = _agree(SELECTION, [_event(60_000, to=to, start=start, roaming=roaming)])
    assert _charge(result) == charge


def test_conditions_on_origin_attributes_and_facts() -> None:
    body = _voice(
        "rate * *: 1.00 per minute when event.origin within QH",
        "rate local *: 2.00 per minute when event.on_net and event.minutes > 3",
        'rate local peak: 3.00 per minute when customer.tier == "gold"',
        "rate province *: 4.00 per minute when time.time >= 20:00",
    )
    events = [
        _event(60_000, to="0731", origin="QH_XN"),
        _event(60_000, to="0731", origin="GD_SZ"),
        _event(60_000, to="0755", attributes={"on_net": True, "minutes": 5}),
        _event(60_000, to="0755", attributes={"on_net": True}),
        _event(60_000, to="0755"),
        _event(60_000, to="0731", start=datetime(2026, 3, 2, 20, 30, tzinfo=CST)),
    ]
    results = _agree(body, events)
    assert [r.reason or _charge(r) for r in results] == ["1", "no-rate", "2", *["no-rate"] * 2, "4"]
    gold = SaleFacts(
        customer=CustomerFacts(attributes={"tier": "gold"}),
        area="GD_SZ",
        area_lineage=AREAS["GD_SZ"],
        channel="hall",
        time=MONDAY_10,
    )
    [result] = _agree(body, [_event(60_000, to="0755")], facts=gold)
    assert _charge(result) == "3"


def test_an_ill_typed_attribute_is_left_to_the_interpreter() -> None:
    body = _voice("rate * *: 1.00 per minute when event.minutes > 3")
    [result] = _agree(body, [_event(60_000, attributes={"minutes": "ten"})], deferred=True)
    assert (result.status, result.reason) == ("rejected", "rule-error")
    assert "could not be evaluated" in result.message


def test_a_condition_that_does_not_compile_is_left_to_the_interpreter() -> None:
    body = _voice("rate * *: 1.00 per minute when event.undeclared", "rate local *: 2 per minute")
    results = _agree(body, [_event(60_000), _event(60_000, to="0731")], deferred=True)
    assert [r.reason for r in results] == ["", "no-rate"]


# -- allowances ------------------------------------------------------------------------------

ALLOWANCE = _voice(
    "rate * *: 0.60 per minute increments 60s then 6s connection 0.05",
    "allowance a: 1 min per month on local",
)


def test_allowance_exhausted_mid_call_and_threaded() -> None:
    used = Counters({"allowance:a": 30_000})
    first, second = _agree(ALLOWANCE, [_event(61_000), _event(6_000)], counters=used)
    assert (_charge(first), dict(first.allowance_used)) == ("0.41", {"a": 30_000})
    assert (_charge(second), dict(second.allowance_used)) == ("0.65", {})


def test_a_fully_free_call_pays_no_connection_fee() -> None:
    [result] = _agree(ALLOWANCE, [_event(10_000)])
    assert (_charge(result), dict(result.allowance_used)) == ("0", {"a": 60_000})


@pytest.mark.parametrize(
    ("to", "start", "used"),
    [
        ("0755", MONDAY_10, {"small": 60_000, "intl": 30_000, "big": 0}),
        ("0044", datetime(2026, 10, 3, 9, 0, tzinfo=CST), {"small": 0, "intl": 90_000, "big": 0}),
        ("0731", datetime(2026, 3, 2, 23, 0, tzinfo=CST), {"small": 0, "intl": 0, "big": 90_000}),
    ],
)
def test_allowance_filters_and_order(to: str, start: datetime, used: dict[str, int]) -> None:
    body = _voice(
        "rate * *: 1.00 per minute",
        "allowance small: 1 min per month in peak",
        "allowance intl: 10 min per month on intl_*, local in peak, holiday",
        "allowance big: 10 min per month on local, province",
    )
    [result] = _agree(body, [_event(90_000, to=to, start=start)])
    assert dict(result.allowance_used) == {k: v for k, v in used.items() if v}


def test_counters_given_as_decimals_or_overdrawn() -> None:
    counters = Counters({"allowance:a": Decimal("59000"), "other": Decimal("1.50")})
    _agree(ALLOWANCE, [_event(10_000), _event(10_000)], counters=counters)
    _agree(ALLOWANCE, [_event(10_000)], counters=Counters({"allowance:a": 90_000}))


# -- tiers and caps --------------------------------------------------------------------------

GRADUATED = """usage data {
  rate * *: 1.00 per MB increments 1 KB connection 0.01
  tiers graduated per month {
    0 MB .. 1 MB: 1.00 per MB
    1 MB .. 2 MB: 0.50 per MB
    2 MB .. : 0.25 per 512 KB
  }
  allowance d: 100 KB per month
}"""

VOLUME = """usage sms {
  rate * *: 0.10 per message
  tiers volume per month {
    0 messages .. 3 messages: 0.10 per message
    3 messages .. 5 messages: 0.05 per message
    5 messages .. : 0.02 per message
  }
}"""


def test_graduated_tiers_across_events() -> None:
    kb = 1024
    events = [_event(q * kb, business="data") for q in (768, 512, 1024, 0, 3000)]
    results = _agree(GRADUATED, events)
    assert results[3].counters["tier:data"] == results[2].counters["tier:data"]


def test_volume_tiers_reprice_the_period() -> None:
    events = [_event(q, business="sms") for q in (2, 1, 1, 2, 0, 4)]
    results = _agree(VOLUME, events)  # a total moving into a cheaper tier gives a credit
    assert [_charge(r) for r in results] == ["0.2", "-0.05", "0.05", "-0.08", "0", "0.08"]
    floor = VOLUME.replace("per message\n  tiers", "per message minimum 0.01\n  tiers")
    assert [_charge(r) for r in _agree(floor, events)][:2] == ["0.2", "0.01"]


def test_a_negative_tier_counter_is_left_to_the_interpreter() -> None:
    counters = Counters({"tier:sms": -5})
    [result] = _agree(VOLUME, [_event(1, business="sms")], counters=counters, deferred=True)
    assert result.reason == "malformed-tariff"


def test_caps_after_rounding_with_credits() -> None:
    extra = "  cap 0.25 per month\n  cap 1 per month\n  rounding up 2 per event\n"
    body = VOLUME.replace("}\n}", "}\n" + extra + "}")
    events = [_event(q, business="sms") for q in (2, 1, 1, 3, 1)]
    _agree(body, events)
    body = "usage sms {\n rate * *: 1.00 per message\n cap 2.50 per month\n}"
    capped = _agree(body, [_event(1, business="sms") for _ in range(4)])
    assert [_charge(r) for r in capped] == ["1", "1", "0.50", "0.00"]


# -- rounding --------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [m.value for m in RoundingMode])
@pytest.mark.parametrize("where", ["event", "line", "total"])
def test_every_rounding_mode(mode: str, where: str) -> None:
    body = _voice("rate * *: 1.00 per minute", f"rounding {mode} 2 per {where}")
    eighth, tiny = _agree(body, [_event(7_500), _event(1_000)])
    assert (eighth.exact, tiny.exact) == (Fraction(1, 8), Fraction(1, 60))
    credit = VOLUME.replace("}\n}", f"}}\n  rounding {mode} 1\n}}")  # credits: -0.05, -0.08
    _agree(credit, [_event(q, business="sms") for q in (2, 1, 1, 2)])


def test_plan_rounding_and_no_rounding() -> None:
    scoped = _plan(_voice("rate * *: 1.00 per minute"), "currency CNY\n  rounding down 1")
    [result] = _agree(scoped, [_event(7_500)])
    assert _charge(result) == "0.1"
    results = _agree(_voice("rate * *: 0.10 per minute"), [_event(1_000), _event(30_000)])
    assert [_charge(r) for r in results] == ["0.001666667", "0.05"]


# -- rejections ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (_event(1000, business="fax"), "unknown-business"),
        (_event(1000, to="0044207946"), "no-rate"),
        (_event(1000, to="12345"), "no-zone"),
        (_event(1000, to="07-ab"), "malformed"),
        (_event(1000, to="0" * 40), "malformed"),
        (_event(-1), "malformed"),
        (_event(True), "malformed"),  # a bool is not a quantity
        (_event(1.5), "malformed"),  # type: ignore[arg-type]
        (_event(1000, start=datetime(2026, 3, 2, 10, 0)), "malformed"),  # naive
    ],
)
def test_rejected_events(event: UsageEvent, reason: str) -> None:
    body = _voice("rate local *: 1.00 per minute", "rate province *: 1 per minute")
    before = Counters({"allowance:x": 5})
    [result] = _agree(body, [event], counters=before)
    assert (result.status, result.reason) == ("rejected", reason)
    assert result.counters is before


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (_event(1000, start=datetime(2026, 3, 2, 10, 0, 0, 500, tzinfo=CST)), "sub-millisecond"),
        (_event(8 * 86_400_000), "outside 0 .. 7 days"),
    ],
)
def test_split_rejections(event: UsageEvent, message: str) -> None:
    [result] = _agree(SPLIT, [event])
    assert result.reason == "malformed"
    assert message in result.message


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("rate * *: 1.00 per minute minimum 0.50 maximum 0.20", "malformed-tariff"),
        ("rate * *: 1.00 per 0 min", "malformed-tariff"),
        ("rate * *: 1.00 USD per minute", "malformed-tariff"),
        ("rate * *: 1.00 per minute increments 0.5 ms", "malformed-tariff"),
        ("rate * *: 1.00 per minute connection 0.01 + 0.02", "malformed-tariff"),
        ("rate * *: 1.00 per minute\n allowance h: 0.5 ms per month", "malformed-tariff"),
        ("rate * *: 1.00 per minute\n cap 5 USD per month", "malformed-tariff"),
        ("rate * *: 1.00 per minute increments 60s then 0s", "malformed-tariff"),
        ("rate * *: 1.00 per minute increments 0s", "malformed-tariff"),
    ],
)
def test_tariffs_the_interpreter_refuses(line: str, reason: str) -> None:
    results = _agree(_voice(line), [_event(60_000), _event(0)], deferred=True)
    assert results[0].reason == reason


@pytest.mark.parametrize(
    ("settings_", "reason"),
    [
        ("zones nowhere\n bands pb", "unknown-zones"),
        ("zones z\n bands nothing", "unknown-bands"),
        ('zones z\n bands pb\n time zone "Mars/Olympus"', "malformed-tariff"),
    ],
)
def test_unknown_tables_are_rejected_like_the_interpreter(settings_: str, reason: str) -> None:
    body = _voice("rate * *: 1.00 per minute", settings_=settings_)
    [result] = _agree(body, [_event(60_000)], deferred=True)
    assert result.reason == reason


def test_unknown_calendar_and_broken_tiers() -> None:
    scope, plan = _plan(_voice("rate * *: 1.00 per minute"))
    bands = n.BandsDecl(name="pb", calendar="gone", bands=scope.bands["pb"].bands)
    broken = Scope(plans=scope.plans, bands={"pb": bands}, zones=scope.zones)
    assert _agree((broken, plan), [_event(60_000)], deferred=True)[0].reason == "unknown-calendar"
    gap = GRADUATED.replace("1 MB .. 2 MB", "1 MB .. 1.5 MB")
    results = _agree(gap, [_event(2048, business="data")], deferred=True)
    assert results[0].reason == "malformed-tariff"


def test_a_batch_with_rejections_keeps_the_counters() -> None:
    events = [_event(30_000), _event(1, to="bad"), _event(40_000), _event(5, business="x")]
    results = _agree(ALLOWANCE, events)
    assert results[1].counters is results[0].counters
    assert [r.status for r in results] == ["rated", "rejected", "rated", "rejected"]


# -- the generated module and its helpers ----------------------------------------------------


def _compiled(body: str) -> CompiledUsage:
    scope, plan = _plan(body)
    return compile_usage(plan, scope, {}, "t.tariff")


def test_the_source_folds_every_static_term() -> None:
    compiled = _compiled(ALLOWANCE)
    source = compiled.program.source
    assert "billed = 60000 + -(-(usage - 60000) // 6000) * 6000" in source
    assert "free = 60000 - before" in source  # the allowance amount, in ms
    assert "amount = 300000 + 60 * paid" in source  # 0.05 + 0.60/min, 1 = 100 * 60000
    assert "Decimal(" not in source.split("def block_0")[0]  # parts price with integers
    assert compiled.program is _compiled(ALLOWANCE).program  # cached by content hash
    line = next(i for i, t in enumerate(source.splitlines(), 1) if "def part_0_0" in t)
    assert compiled.span_for_line(line) == compiled.plan.items[1].rates[0].span  # type: ignore[union-attr]


def test_fast_results_equal_the_dataclasses() -> None:
    start, span = MONDAY_10, n.Span(1, 2, 3, 4)
    part = RatedPart("peak", start, 5, 6, 1, 5, Fraction(1, 3), "p.v.rate[1]", span)
    assert repr(new_part("peak", start, 5, 6, 5, Fraction(1, 3), "p.v.rate[1]", span)) == repr(part)
    used = MappingProxyType({"a": 1})
    args = (Counters({"a": 1}), Decimal("0.33"), Fraction(1, 3), "CNY", "z", "peak", 6, used)
    full = Rated("rated", args[0], "", "", *args[1:], "r", span, (part,))
    assert new_rated(*args, "r", span, (part,)) == full
    assert repr(new_rated(*args, "r", span, (part,))) == repr(full)
    rejected = Rated("rejected", args[0], "no-rate", "none")
    assert repr(new_rejected(args[0], "no-rate", "none")) == repr(rejected)
    assert new_rejected(args[0], "no-rate", "none") == rejected


@settings(max_examples=150, deadline=None)
@given(st.integers(-(10**12), 10**12), st.integers(1, 10**9))
def test_unrounded_is_the_interpreters_unrounded_charge(num: int, den: int) -> None:
    exact = Fraction(num, den)
    try:
        want = to_decimal(exact)
    except ValueError:
        want = round_exact(exact, RoundingMode.HALF_EVEN, 9)
    if want.as_tuple().exponent < -9:  # type: ignore[operator]  # finer than the wire carries
        want = round_exact(exact, RoundingMode.HALF_EVEN, 9)
    assert repr(unrounded(exact)) == repr(want)


def test_zone_finder_memo_is_bounded() -> None:
    finder = ZoneFinder(ZoneTable([("07", "far")]), "t", limit=2)
    assert [finder(f"07{i}") for i in range(5)] == ["far"] * 5
    assert len(finder._memo) <= 2


LONDON = ZoneInfo("Europe/London")
EDGY_BANDS = TimeBands(
    [
        BandRule.of("early", ["weekdays"], "00:00", "01:30"),
        BandRule.of("dst", ["weekdays", "weekends"], "01:30", "02:15"),
        BandRule.of("day", ["weekdays"], "08:00", "20:00"),
        BandRule.of("feast", ["holidays"], "00:00", "24:00"),
    ],
    tz=LONDON,
    calendar=Calendar.of(holidays=[Holiday(date(2026, 3, 30), date(2026, 3, 30))]),
    otherwise="rest",
)
INSTANTS = st.builds(
    lambda minutes, us, tz, fold: (
        (datetime(2026, 3, 28, tzinfo=UTC) + timedelta(minutes=minutes, microseconds=us))
        .astimezone(tz)
        .replace(fold=fold)
    ),
    st.integers(0, 4 * 24 * 60),
    st.sampled_from([0, 1000, 999_000, 500, 59_999_000]),
    st.sampled_from([UTC, CST, LONDON, ZoneInfo("Asia/Shanghai")]),
    st.sampled_from([0, 0, 1]),
)


@settings(max_examples=300, deadline=None)
@given(INSTANTS, st.integers(0, 3 * 3_600_000))
def test_band_finder_is_time_bands(start: datetime, milliseconds: int) -> None:
    finder = BandFinder(EDGY_BANDS, limit=8)
    assert finder.band_at(start) == EDGY_BANDS.band_at(start)
    try:
        want = repr(EDGY_BANDS.split(start, milliseconds))
    except ValueError as error:
        with pytest.raises(Rejected, match=str(error)):
            finder.split(start, milliseconds)
    else:
        assert repr(finder.split(start, milliseconds)) == want


# -- property: generated blocks, compiled == interpreted, event by event ---------------------

MODES = [m.value for m in RoundingMode]
money = st.one_of(
    st.integers(0, 300).map(lambda c: str(Decimal(c).scaleb(-2))),
    st.integers(0, 3000).map(lambda c: str(Decimal(c).scaleb(-3))),
    st.sampled_from(["0", "1", "0.1"]),
)
option = st.sampled_from


@st.composite
def rate_lines(draw: st.DrawFn, zoned: bool, banded: bool) -> str:
    zone = draw(option(["*", "local", "province", "intl_*", "intl_uk"] if zoned else ["*"]))
    band = draw(option(["*", "peak", "offpeak", "holiday"] if banded else ["*"]))
    per = draw(option(["minute", "30 s", "1 s", "7 s", "6 s"]))
    terms = [
        draw(option(["", "increments 60s", "increments 60s then 6s", "increments 30s then 1s",
                     "increments 1s", "increments 7s then 3s"])),
        draw(option(["", "connection 0.05", "connection 0.333"])),
        draw(option(["", "minimum 0.10"])),
        draw(option(["", "maximum 2.00", "maximum 200"])),
        draw(option(["", "", "when event.roaming", "when not event.roaming",
                     "when event.origin within QH", "when event.on_net"])),
    ]  # fmt: skip
    return f"rate {zone} {band}: {draw(money)} per {per} " + " ".join(draw(st.permutations(terms)))


@st.composite
def voice_blocks(draw: st.DrawFn) -> str:
    zoned, banded = draw(st.booleans()), draw(st.booleans())
    split = banded and draw(st.integers(0, 3)) > 0
    lines = ["zones z" if zoned else "", "bands pb" if banded else ""]
    lines.append("split at band edges" if split else "")
    if banded and draw(st.booleans()):
        lines.append('time zone "Europe/London"')
    lines += draw(st.lists(rate_lines(zoned, banded), min_size=1, max_size=4))
    if split or draw(st.booleans()):  # a fallback, so most parts of split events find a rate
        lines.append(f"rate * *: {draw(money)} per minute {draw(option(['', 'increments 60s']))}")
    if draw(st.booleans()):
        bounds = [0, *sorted(draw(st.sets(st.integers(1, 20), max_size=2)))]
        prices = sorted((draw(money) for _ in bounds), key=Decimal, reverse=draw(st.booleans()))
        tiers = [f"{low} min .. {high} min: {price} per minute"
                 for low, high, price in zip(bounds, bounds[1:], prices, strict=False)]  # fmt: skip
        per = draw(option(["minute", "6 s"]))
        tiers.append(f"{bounds[-1]} min .. : {prices[-1]} per {per}")
        mode = draw(option(["graduated", "volume"]))
        lines.append(f"tiers {mode} per month {{\n  " + "\n  ".join(tiers) + "\n }")
    for index in range(draw(st.integers(0, 2))):
        amount = draw(option(["1 min", "90 s", "10 min", "0 s"]))
        on = draw(option(["", "on local", "on intl_*, province"] if zoned else [""]))
        in_ = draw(option(["", "in peak", "in offpeak, holiday"] if banded else [""]))
        lines.append(f"allowance a{index}: {amount} per month {on} {in_}")
    lines += [f"cap {draw(money)} per month" for _ in range(draw(st.integers(0, 2)))]
    if draw(st.booleans()):
        lines.append(f"rounding {draw(option(MODES))} {draw(st.integers(0, 4))} per event")
    return "usage voice {\n " + "\n ".join(line for line in lines if line) + "\n}"


SMS = """usage sms {
 rate * *: 0.10 per message connection 0.01
 allowance s: 2 messages per month
}"""
events = st.builds(
    lambda business, minutes, ms, tz, quantity, to, roaming, origin, on_net: UsageEvent(
        business,
        (
            datetime(2026, 9, 30, tzinfo=CST) + timedelta(minutes=minutes, milliseconds=ms)
        ).astimezone(tz),
        quantity % 7 if business == "sms" else quantity,
        to,
        origin=origin,
        roaming=roaming,
        attributes={} if on_net is None else {"on_net": on_net},
    ),
    option(["voice"] * 6 + ["sms", "fax"]),
    st.integers(0, 10 * 24 * 60),
    option([0, 0, 0, 30_000, 1]),
    option([CST, UTC, ZoneInfo("Asia/Shanghai"), LONDON]),
    st.one_of(st.integers(0, 400_000), st.integers(0, 30_000_000), st.just(0)),
    option(["075512345678", "07311234", "0044207946", "0049301234", "12345", "07-ab"]),
    option([None, True, False]),
    option([None, "QH_XN", "GD_SZ"]),
    option([None, True, False]),
)
counters = st.fixed_dictionaries(
    {},
    optional={
        "allowance:a0": st.integers(0, 100_000),
        "tier:voice": st.integers(0, 600_000),
        "cap:voice[1]": st.integers(0, 300).map(lambda c: Decimal(c).scaleb(-2)),
    },
).map(lambda values: Counters(cast(dict[str, int | Decimal], values)))


@settings(max_examples=60, deadline=None)
@given(
    voice_blocks(),
    st.booleans(),
    st.one_of(st.none(), st.sampled_from(MODES)),
    st.lists(events, max_size=10),
    counters,
    st.integers(0, 10),
)
def test_compiled_equals_interpreted(
    block: str,
    with_sms: bool,
    plan_rounding: str | None,
    event_list: list[UsageEvent],
    start: Counters,
    cut: int,
) -> None:
    items = "currency CNY" + (f"\n  rounding {plan_rounding} 2" if plan_rounding else "")
    scope, plan = _plan(block + ("\n" + SMS if with_sms else ""), items)
    expected = _agree((scope, plan), event_list, counters=start)
    compiled = compile_usage(plan, scope, {}, "t.tariff")
    with _no_interpreter():
        head = compiled.rate_many(event_list[:cut], start, None, ENV)
        middle = head[-1].counters if head else start
        _same(expected, head + compiled.rate_many(event_list[cut:], middle, None, ENV))
