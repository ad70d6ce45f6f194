"""The usage reference interpreter (dsl.eval_usage) on hand-computed cases written as DSL
source, a property of the counters, and the usage examples of dsl/examples."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsl import interpreter as ip
from dsl import nodes as n
from dsl.compile_usage import compile_usage
from dsl.eval_usage import Counters, Rated, UsageEvent, rate
from dsl.parser import parse
from dsl.symbols import Scope
from pricing.zones import ZoneTable
from rules.examples_usage import usage_verdict

CST = timezone(timedelta(hours=8))
MONDAY_10 = datetime(2026, 3, 2, 10, 0, tzinfo=CST)  # a weekday, peak
HOLIDAY_10 = datetime(2026, 10, 2, 10, 0, tzinfo=CST)  # a Friday inside 国庆节

HEADER = """
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


def _scope(plan_body: str) -> tuple[Scope, n.PlanDecl]:
    module = parse(HEADER + "plan p {\n  currency CNY\n" + plan_body + "\n}\n", "t.tariff")
    scope = Scope.of(module)
    return scope, scope.plans["p"]


def _rate(
    plan_body: str,
    quantity: int,
    *,
    business: str = "voice",
    start: datetime = MONDAY_10,
    to: str = "075512345678",
    counters: Counters | None = None,
    roaming: bool | None = None,
) -> Rated:
    scope, plan = _scope(plan_body)
    event = UsageEvent(business, start, quantity, to, roaming=roaming)
    return rate(plan, event, counters or Counters(), scope, {})


def _voice(rate_line: str, extra: str = "") -> str:
    return f"usage voice {{\n zones z\n bands pb\n {rate_line}\n {extra}\n}}"


def _charge(result: Rated) -> Decimal:
    assert result.status == "rated", result.message
    return result.charge


# -- increments, connection fee, minimum and maximum -----------------------------------------


@pytest.mark.parametrize(
    ("increments", "seconds", "billed", "charge"),
    [
        ("", 61, 61, "0.61"),  # billed as used: 0.60 × 61/60
        ("increments 60s", 61, 120, "1.20"),
        ("increments 60s", 60, 60, "0.60"),
        ("increments 60s then 6s", 61, 66, "0.66"),
        ("increments 60s then 6s", 30, 60, "0.60"),
        ("increments 60s then 6s", 0, 0, "0"),
    ],
)
def test_increment_schemes(increments: str, seconds: int, billed: int, charge: str) -> None:
    result = _rate(_voice(f"rate * *: 0.60 per minute {increments}"), seconds * 1000)
    assert _charge(result) == Decimal(charge)
    assert result.billed == billed * 1000


def test_connection_fee_is_added_to_the_usage() -> None:
    line = "rate * *: 0.15 per minute increments 60s then 6s connection 0.05 minimum 0.10"
    result = _rate(_voice(line), 95_000)  # bills 96 s: 0.15 × 96/60 + 0.05
    assert _charge(result) == Decimal("0.29")
    assert result.rate == "p.voice.rate[1]"
    assert result.rate_span.line == HEADER.count("\n") + 6


def test_minimum_and_maximum() -> None:
    minimum = "rate * *: 0.01 per minute connection 0.02 minimum 0.10"
    assert _charge(_rate(_voice(minimum), 1000)) == Decimal("0.10")
    maximum = "rate * *: 2.00 per minute increments 60s connection 1.00 maximum 5.00"
    assert _charge(_rate(_voice(maximum), 600_000)) == Decimal("5.00")
    assert _charge(_rate(_voice(maximum), 60_000)) == Decimal("3.00")


def test_an_empty_event_pays_no_connection_fee_nor_minimum() -> None:
    line = "rate * *: 0.15 per minute connection 0.05 minimum 0.10"
    assert _charge(_rate(_voice(line), 0)) == 0


# -- zones, bands and rate selection ---------------------------------------------------------


def test_longest_prefix_beats_a_shorter_one() -> None:
    body = _voice("rate local *: 0.10 per minute", "rate province *: 0.40 per minute")
    local = _rate(body, 60_000, to="0755 1234-5678")
    assert (local.zone, _charge(local)) == ("local", Decimal("0.10"))
    province = _rate(body, 60_000, to="07311234567")
    assert (province.zone, _charge(province)) == ("province", Decimal("0.40"))
    uk = _rate(_voice("rate intl_* *: 2.00 per minute"), 60_000, to="+44 20 7946")
    assert uk.zone == "intl_uk"


def test_the_most_specific_rate_wins_then_source_order() -> None:
    body = _voice(
        "rate * *: 9.00 per minute",
        "rate intl_* *: 2.00 per minute\n rate intl_uk *: 3.00 per minute\n"
        " rate intl_uk *: 4.00 per minute when event.roaming\n"
        " rate intl_uk peak: 5.00 per minute when not event.roaming",
    )
    assert _charge(_rate(body, 60_000, to="0044207946")) == Decimal("3.00")  # roaming unknown
    assert _charge(_rate(body, 60_000, to="0044207946", roaming=False)) == Decimal("5.00")
    assert _charge(_rate(body, 60_000, to="0049307946")) == Decimal("2.00")
    assert _charge(_rate(body, 60_000, to="0731")) == Decimal("9.00")
    night = datetime(2026, 3, 2, 23, 0, tzinfo=CST)
    assert _charge(_rate(body, 60_000, to="0044207946", start=night, roaming=False)) == 3


def test_holiday_band() -> None:
    body = _voice(
        "rate * peak: 0.60 per minute increments 60s",
        "rate * holiday: 0.05 per minute increments 60s\n rate * offpeak: 0.30 per minute",
    )
    result = _rate(body, 30_000, start=HOLIDAY_10)
    assert (result.band, _charge(result)) == ("holiday", Decimal("0.05"))
    weekday = _rate(body, 30_000)
    assert (weekday.band, _charge(weekday)) == ("peak", Decimal("0.60"))


def test_band_split_at_an_edge_rates_each_part_with_its_increments() -> None:
    rates = (
        "rate * peak: 0.60 per minute increments 60s",
        "rate * offpeak: 0.30 per minute increments 60s\n rate * holiday: 0 per minute",
    )
    start = datetime(2026, 3, 2, 21, 59, 30, tzinfo=CST)  # 30 s peak, then 30 s offpeak
    body = "usage voice {\n zones z\n bands pb\n split at band edges\n" + "\n".join(rates) + "\n}"
    split = _rate(body, 60_000, start=start)
    assert [(p.band, p.used, p.billed) for p in split.parts] == [
        ("peak", 30_000, 60_000),
        ("offpeak", 30_000, 60_000),
    ]
    assert _charge(split) == Decimal("0.90")
    assert split.band == "peak"
    assert split.billed == 120_000
    assert split.parts[1].rate == "p.voice.rate[2]"
    whole = _rate(_voice(*rates), 60_000, start=start)  # not split: all in the start's band
    assert len(whole.parts) == 1
    assert _charge(whole) == Decimal("0.60")


def test_parts_of_the_same_band_are_merged_across_midnight() -> None:
    body = "usage voice {\n zones z\n bands pb\n split at band edges\n"
    body += " rate * peak: 0.60 per minute\n rate * *: 0.30 per minute increments 60s\n}"
    start = datetime(2026, 3, 2, 23, 59, 30, tzinfo=CST)  # Monday night into Tuesday night
    result = _rate(body, 60_000, start=start)
    assert [(p.band, p.billed) for p in result.parts] == [("offpeak", 60_000)]
    assert _charge(result) == Decimal("0.30")  # increments once, not 60 s per day


def test_event_origin_reads_the_area_tree() -> None:
    scope, plan = _scope(_voice("rate * *: 1.00 per minute when event.origin within QH"))
    event = UsageEvent("voice", MONDAY_10, 60_000, "0755", origin="QH_XN")
    assert rate(plan, event, Counters(), scope, {}).reason == "no-rate"  # no tree: QH_XN only
    env = ip.Env(areas={"QH_XN": ("QH_XN", "QH", "CN")})
    assert rate(plan, event, Counters(), scope, {}, env=env).charge == Decimal("1.00")
    attrs = _voice("rate * *: 2.00 per minute when event.on_net")
    scope, plan = _scope(attrs)
    event = UsageEvent("voice", MONDAY_10, 60_000, "0755", attributes={"on_net": True})
    assert rate(plan, event, Counters(), scope, {}).charge == Decimal("2.00")


def test_time_zone_defaults_to_shanghai() -> None:
    body = _voice("rate * peak: 1.00 per minute", "rate * *: 0.50 per minute")
    utc_2am = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai: peak
    assert _rate(body, 60_000, start=utc_2am).band == "peak"
    body = body.replace(" bands pb", ' bands pb\n time zone "Europe/London"')
    assert _rate(body, 60_000, start=utc_2am).band == "offpeak"


# -- allowances ------------------------------------------------------------------------------

VOICE_ALLOWANCE = _voice(
    "rate * *: 0.60 per minute increments 60s then 6s connection 0.05",
    "allowance a: 1 min per month on local",
)


def test_allowance_exhausted_mid_call() -> None:
    used = Counters({"allowance:a": 30_000})
    result = _rate(VOICE_ALLOWANCE, 61_000, counters=used)  # bills 66 s: 30 s free, 36 s paid
    assert _charge(result) == Decimal("0.41")  # 0.60 × 36/60 + 0.05
    assert result.allowance_used == {"a": 30_000}
    assert result.counters["allowance:a"] == 60_000
    assert used["allowance:a"] == 30_000  # never mutated
    again = _rate(VOICE_ALLOWANCE, 6_000, counters=result.counters)
    assert _charge(again) == Decimal("0.65")
    assert dict(again.allowance_used) == {}


def test_a_fully_free_call_pays_no_connection_fee() -> None:
    result = _rate(VOICE_ALLOWANCE, 10_000)  # bills 60 s, all free
    assert _charge(result) == 0
    assert result.allowance_used == {"a": 60_000}


def test_zone_restricted_allowance() -> None:
    result = _rate(VOICE_ALLOWANCE, 60_000, to="07311234")
    assert _charge(result) == Decimal("0.65")
    assert dict(result.allowance_used) == {}
    assert "allowance:a" not in result.counters


def test_allowances_are_consumed_in_source_order() -> None:
    body = _voice(
        "rate * *: 1.00 per minute",
        "allowance small: 1 min per month in peak\n allowance big: 10 min per month",
    )
    result = _rate(body, 90_000)
    assert result.allowance_used == {"small": 60_000, "big": 30_000}
    assert _charge(result) == 0


# -- tiers and caps --------------------------------------------------------------------------


def _fold(body: str, business: str, quantities: Sequence[int]) -> list[Rated]:
    scope, plan = _scope(body)
    counters = Counters()
    results = []
    for quantity in quantities:
        result = rate(plan, UsageEvent(business, MONDAY_10, quantity), counters, scope, {})
        results.append(result)
        counters = result.counters
    return results


def test_graduated_tiers_across_events() -> None:
    body = """usage data {
    rate * *: 1.00 per MB
    tiers graduated per month {
      0 MB .. 1 MB: 1.00 per MB
      1 MB .. : 0.50 per MB
    }
  }"""
    kb = 1024
    results = _fold(body, "data", [768 * kb, 512 * kb, 1024 * kb])
    assert [r.charge for r in results] == [Decimal("0.75"), Decimal("0.375"), Decimal("0.5")]
    assert results[-1].counters["tier:data"] == 2304 * kb


def test_volume_tiers_reprice_the_period() -> None:
    body = """usage sms {
    rate * *: 0.10 per message
    tiers volume per month {
      0 messages .. 3 messages: 0.10 per message
      3 messages .. : 0.05 per message
    }
  }"""
    results = _fold(body, "sms", [2, 1, 1])
    # 2 at 0.10; the 3rd moves all 3 to 0.05 (0.15 - 0.20); the 4th adds 0.05
    assert [r.charge for r in results] == [Decimal("0.2"), Decimal("-0.05"), Decimal("0.05")]


def test_cap_reached() -> None:
    body = "usage sms {\n rate * *: 1.00 per message\n cap 2.50 per month\n}"
    results = _fold(body, "sms", [1, 1, 1, 1])
    assert [r.charge for r in results] == [1, 1, Decimal("0.50"), 0]
    assert [r.exact for r in results] == [1, 1, 1, 1]
    assert results[-1].counters["cap:sms[1]"] == 4  # the uncapped total


def test_cap_applies_after_rounding() -> None:
    body = (
        "usage sms {\n rate * *: 0.333 per message\n rounding up 2 per event\n cap 1 per month\n}"
    )
    results = _fold(body, "sms", [1, 1, 1, 1])
    assert [r.charge for r in results] == [Decimal("0.34"), Decimal("0.34"), Decimal("0.32"), 0]


# -- rounding --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "eighth", "tiny"),
    [
        ("half_up", "0.13", "0.00"),
        ("half_even", "0.12", "0.00"),
        ("down", "0.12", "0.00"),
        ("up", "0.13", "0.01"),
        ("ceiling", "0.13", "0.01"),
        ("floor", "0.12", "0.00"),
    ],
)
@pytest.mark.parametrize("scope", ["event", "line", "total"])
def test_every_rounding_mode(mode: str, eighth: str, tiny: str, scope: str) -> None:
    body = _voice("rate * *: 1.00 per minute", f"rounding {mode} 2 per {scope}")
    result = _rate(body, 7_500)  # exactly 0.125
    assert result.exact == Fraction(1, 8)
    assert str(_charge(result)) == eighth
    body = _voice("rate * *: 0.10 per minute", f"rounding {mode} 2 per {scope}")
    assert str(_charge(_rate(body, 1_000))) == tiny  # 1/600


def test_plan_rounding_applies_when_the_block_has_none() -> None:
    scope, plan = _scope("rounding down 1\n" + _voice("rate * *: 1.00 per minute"))
    result = rate(plan, UsageEvent("voice", MONDAY_10, 7_500, "0755"), Counters(), scope, {})
    assert str(result.charge) == "0.1"


def test_without_rounding_a_non_terminating_charge_keeps_nine_decimals() -> None:
    result = _rate(_voice("rate * *: 0.10 per minute"), 1_000)
    assert result.exact == Fraction(1, 600)
    assert str(result.charge) == "0.001666667"


# -- rejections ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("business", "quantity", "to", "start", "reason"),
    [
        ("fax", 1000, "0755", MONDAY_10, "unknown-business"),
        ("voice", 1000, "0044207946", MONDAY_10, "no-rate"),
        ("voice", 1000, "12345", MONDAY_10, "no-zone"),
        ("voice", 1000, "07-ab", MONDAY_10, "malformed"),
        ("voice", -1, "0755", MONDAY_10, "malformed"),
        ("voice", 1000, "0755", datetime(2026, 3, 2, 10, 0), "malformed"),  # naive
    ],
)
def test_rejected_events(
    business: str, quantity: int, to: str, start: datetime, reason: str
) -> None:
    scope, plan = _scope(_voice("rate local *: 1.00 per minute", "rate province *: 1 per minute"))
    before = Counters({"allowance:x": 5})
    result = rate(plan, UsageEvent(business, start, quantity, to), before, scope, {})
    assert (result.status, result.reason) == ("rejected", reason)
    assert result.counters == before
    assert result.message


@pytest.mark.parametrize(
    "increments",
    ["increments 60s then 0s", "increments 0s", "increments 0s then 0s"],
)
@pytest.mark.parametrize("seconds", [61, 0])
def test_a_zero_increment_rejects_the_event(increments: str, seconds: int) -> None:
    body = _voice(f"rate * *: 0.60 per minute {increments}")
    before = Counters({"allowance:x": 5})
    result = _rate(body, seconds * 1000, counters=before)
    assert (result.status, result.reason) == ("rejected", "malformed-tariff")
    assert result.message.startswith("the increments of rate 1 of voice: ")
    assert result.counters == before
    _compiled_agrees(body, seconds * 1000, before)


def test_a_zero_first_increment_then_a_next_one_still_rates() -> None:
    result = _rate(_voice("rate * *: 0.60 per minute increments 0s then 6s"), 61_000)
    assert (_charge(result), result.billed) == (Decimal("0.66"), 66_000)


def _negative_cap(plan: n.PlanDecl) -> n.PlanDecl:
    """`plan` with its first usage block's cap at -1 CNY (the grammar cannot say it: it
    reads `-1` as a negation, which the interpreter refuses as not an amount)."""
    usage = next(i for i in plan.items if isinstance(i, n.Usage))
    cap = replace(usage.caps[0], amount=n.MoneyLit(amount=Decimal(-1), currency="CNY"))
    items = tuple(replace(usage, caps=(cap,)) if i is usage else i for i in plan.items)
    return replace(plan, items=items)


def test_a_negative_cap_rejects_the_event() -> None:
    scope, plan = _scope("usage sms {\n rate * *: 1.00 per message\n cap 2 per month\n}")
    capped = _negative_cap(plan)
    before = Counters({"cap:sms[1]": 1})
    result = rate(capped, UsageEvent("sms", MONDAY_10, 1), before, scope, {})
    assert (result.status, result.reason) == ("rejected", "malformed-tariff")
    assert result.message == "cap 1 of sms: cap must be >= 0, got -1"
    assert result.counters == before
    compiled = compile_usage(capped, scope, {})
    assert compiled.rate(UsageEvent("sms", MONDAY_10, 1), before) == result


def _compiled_agrees(body: str, quantity: int, counters: Counters) -> None:
    """The compiled rater (which defers such tariffs to this interpreter) says the same."""
    scope, plan = _scope(body)
    event = UsageEvent("voice", MONDAY_10, quantity, "075512345678")
    expected = rate(plan, event, counters, scope, {})
    assert compile_usage(plan, scope, {}).rate(event, counters) == expected


def test_a_catalog_zone_table_is_used_by_name() -> None:
    body = "usage voice {\n zones cn\n rate far *: 1.00 per minute\n}"
    scope, plan = _scope(body)
    table = {"cn": ZoneTable([("010", "far")], country_code="86")}
    event = UsageEvent("voice", MONDAY_10, 60_000, "+86 10 1234 5678")
    result = rate(plan, event, Counters(), scope, table)
    assert (result.zone, result.charge) == ("far", Decimal(1))


# -- property: counters carry a period exactly -----------------------------------------------

PROPERTY_PLAN = """usage voice {
    zones z
    bands pb
    split at band edges
    rate local peak: 0.15 per minute increments 60s then 6s connection 0.05 minimum 0.10
    rate * *: 0.10 per minute increments 30s
    allowance a: 3 min per month on local
    allowance b: 2 min per month in offpeak
    cap 2.00 per month
    rounding half_up 2 per event
  }
  usage sms {
    rate * *: 0.10 per message
    tiers volume per month {
      0 messages .. 3 messages: 0.10 per message
      3 messages .. : 0.07 per message
    }
    allowance s: 2 messages per month
    cap 0.50 per month
  }"""

_EVENTS = st.builds(
    UsageEvent,
    business=st.sampled_from(["voice", "sms"]),
    start=st.integers(0, 14 * 24 * 60).map(
        lambda minutes: datetime(2026, 9, 28, tzinfo=CST) + timedelta(minutes=minutes)
    ),
    quantity=st.integers(0, 400_000),
    destination=st.sampled_from(["075512345678", "07311234", "0044207946"]),
)


def _run(events: Sequence[UsageEvent], counters: Counters) -> tuple[list[Decimal], Counters]:
    scope, plan = _scope(PROPERTY_PLAN)
    charges = []
    for event in events:
        if event.business == "sms":
            event = UsageEvent("sms", event.start, event.quantity % 5, event.destination)
        result = rate(plan, event, counters, scope, {})
        charges.append(result.charge)
        counters = result.counters
    return charges, counters


@settings(max_examples=60, deadline=None)
@given(st.lists(_EVENTS, max_size=12), st.integers(0, 12))
def test_rating_in_two_parts_equals_rating_in_one_go(events: list[UsageEvent], cut: int) -> None:
    whole, final = _run(events, Counters())
    head, middle = _run(events[:cut], Counters())
    tail, end = _run(events[cut:], middle)
    assert head + tail == whole
    assert end == final


# -- the usage examples of dsl/examples ------------------------------------------------------

EXAMPLES_DIR = Path(__file__).resolve().parents[3] / "dsl" / "examples"
CN_ZONES = ZoneTable(
    [
        ("0755", "local"),
        ("010", "national"),
        ("0", "domestic_ld"),
        ("1", "mobile"),
        ("0081", "intl_asia"),
    ]
)


def _example_scope() -> Scope:
    files = ("mobile.tariff", "campus.tariff")
    return Scope.merge(parse((EXAMPLES_DIR / f).read_text("utf-8"), f) for f in files)


def _usage_examples() -> list[str]:
    scope = _example_scope()
    kinds = {"charge", "zone", "band", "allowance_used"}
    return [name for name, ex in scope.examples.items() if any(e.kind in kinds for e in ex.expect)]


@pytest.mark.parametrize("name", _usage_examples())
def test_the_usage_examples_pass(name: str) -> None:
    scope = _example_scope()
    status, expected, actual = usage_verdict(
        scope.examples[name], scope.plans, scope, {"cn_zones": CN_ZONES}, datetime.now(UTC)
    )
    assert status == "passed", (expected, actual)


def test_a_wrong_expectation_fails_with_both_sides() -> None:
    scope = _example_scope()
    example = scope.examples["long_call"]
    wrong = n.Example(
        name="wrong",
        events=example.events,
        expect=(n.Expectation(kind="charge", value=n.MoneyLit(amount=Decimal("0.30"))),),
    )
    status, expected, actual = usage_verdict(
        wrong, scope.plans, scope, {"cn_zones": CN_ZONES}, datetime.now(UTC)
    )
    assert (status, expected, actual) == ("failed", "charge 0.30", "charge 0.00 CNY")


def test_examples_without_usage_expectations_are_not_run() -> None:
    scope = _example_scope()
    example = n.Example(name="x", expect=(n.Expectation(kind="eligible", subject="o"),))
    assert usage_verdict(example, scope.plans, scope, {}, datetime.now(UTC))[0] == "not_run"


def test_an_unrounded_charge_finer_than_a_nano_is_rounded_half_even_to_9_decimals() -> None:
    from fractions import Fraction

    from dsl.eval_usage import _round

    assert str(_round(Fraction(290449218750, 10**12), None)) == "0.290449219"
    assert str(_round(Fraction(29, 100), None)) == "0.29"  # within 9 decimals: exact
    assert str(_round(Fraction(1, 3), None)) == "0.333333333"
