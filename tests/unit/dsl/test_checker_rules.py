"""One row per check: the source, then the code, severity, position and hint expected.

Each source is checked with the docs' broadband and mobile plans and calendars beside it (so
`item.option.*`, member prices and bands resolve) against the catalog of the helpers.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from dsl import nodes as n
from tests.unit.dsl.test_checker_docs import BROADBAND, CALENDARS, MOBILE
from tests.unit.dsl.test_checker_helpers import check_source, only, parse_source, run


def elig(condition: str, offer: str = "youth_plan") -> str:
    """An eligibility rule on line 3; the condition starts at column 8."""
    return f"offer {offer} {{\n  eligible all {{\n    a: {condition}\n  }}\n}}\n"


def in_plan(*lines: str, currency: str = "CNY") -> str:
    """Plan items from line 3 (line 2 declares the currency), each indented by 2."""
    body = "\n".join(f"  {line}" for line in lines)
    return f"plan p {{\n  currency {currency}\n{body}\n}}\n"


def in_usage(business: str, *lines: str) -> str:
    """Usage items of mobile_39-like plan `p`, from line 4, each indented by 4."""
    body = "\n".join(f"    {line}" for line in lines)
    return f"plan p {{\n  currency CNY\n  usage {business} {{\n{body}\n  }}\n}}\n"


def in_example(*lines: str) -> str:
    body = "\n".join(f"  {line}" for line in lines)
    return f"example e {{\n{body}\n}}\n"


VIP = (
    "offer vip_plan {\n  eligible first {\n    when customer.vip_level >= 5: allow\n"
    '    otherwise: deny "not_vip" "仅限 VIP 客户"\n  }\n}\n'
)


Row = tuple[str, str, str, int, int, str]  # source, code, severity, line, column, hint part

ROWS: dict[str, Row] = {
    # -- names and codes ------------------------------------------------------------------
    "unknown context name": (
        elig("customer.agee between 15 and 26"),
        "unknown-name",
        "error",
        3,
        8,
        "customer.age",
    ),
    "undeclared attribute": (
        elig("customer.installable"),
        "unknown-name",
        "error",
        3,
        8,
        "attribute customer.",
    ),
    "unknown method": (elig("cart.size(x) > 1"), "unknown-name", "error", 3, 8, ""),
    "unknown area": (elig("area within GD_SX"), "unknown-area", "error", 3, 20, "GD_SZ"),
    "unknown channel": (elig("channel == hal"), "unknown-channel", "error", 3, 19, "hall"),
    "unknown segment": (
        elig("studnet in customer.segments"),
        "unknown-segment",
        "error",
        3,
        8,
        "student",
    ),
    "unknown offer in cart": (
        elig("mobile_basik in cart"),
        "unknown-offer",
        "error",
        3,
        8,
        "mobile_basic",
    ),
    "unknown offer counted": (
        elig("cart.count(ring_tones) > 0"),
        "unknown-offer",
        "error",
        3,
        19,
        "ring_tone",
    ),
    "unknown customer type": (
        elig("customer.type == persnal"),
        "unknown-customer-type",
        "error",
        3,
        25,
        "personal",
    ),
    "unknown weekday": (elig("time.weekday == mnd"), "unknown-weekday", "error", 3, 24, "mon"),
    "event outside usage": (elig("event.roaming"), "wrong-context", "error", 3, 8, ""),
    "bundle outside a combo": (elig("bundle.lines > 1"), "wrong-context", "error", 3, 8, ""),
    "unknown option group": (
        elig('item.option.paymnt == "monthly"', "broadband_100m"),
        "unknown-option",
        "error",
        3,
        8,
        "payment",
    ),
    "unknown option choice": (
        elig('item.option.payment == "yearly"', "broadband_100m"),
        "unknown-option",
        "error",
        3,
        31,
        "yearly_prepay",
    ),
    "unknown offer declared": ("offer youth_plam {\n}\n", "unknown-offer", "error", 1, 1, "youth"),
    # -- types -------------------------------------------------------------------------------
    "comparison of two types": (elig('customer.age == "20"'), "type-mismatch", "error", 3, 8, ""),
    "condition not bool": (elig("customer.age + 1"), "type-mismatch", "error", 3, 8, ""),
    "ordering of codes": (elig("channel < hall"), "type-mismatch", "error", 3, 8, ""),
    "within on a channel": (elig("channel within GD"), "type-mismatch", "error", 3, 8, ""),
    "between bounds": (
        elig("customer.tenure between 1 and 2 months"),
        "type-mismatch",
        "error",
        3,
        32,
        "",
    ),
    "set literal mixes types": (
        elig("customer.age in {1, 2 months}"),
        "type-mismatch",
        "error",
        3,
        28,
        "",
    ),
    "in needs a set": (elig("customer.age in 3"), "type-mismatch", "error", 3, 24, ""),
    "empty between": (
        elig("customer.age between 26 and 15"),
        "empty-range",
        "warning",
        3,
        8,
        "smaller",
    ),
    # -- eligibility and composition ------------------------------------------------------------
    "shadowed branch": (
        "offer vip_plan {\n  eligible first {\n    otherwise: allow\n"
        "    when channel == hall: deny\n  }\n}\n",
        "shadowed-rule",
        "warning",
        4,
        5,
        "line 3",
    ),
    "shadowed by when true": (
        "offer vip_plan {\n  eligible first {\n    when true: allow\n    otherwise: deny\n  }\n}\n",
        "shadowed-rule",
        "warning",
        4,
        5,
        "",
    ),
    "duplicate rule name": (
        "offer vip_plan {\n  eligible all {\n    a: true\n    a: false\n  }\n}\n",
        "duplicate",
        "error",
        4,
        5,
        "",
    ),
    "composition of a product": (
        "offer youth_plan {\n  composition {\n    requires broadband_basic\n  }\n}\n",
        "composition-outside-combo",
        "error",
        2,
        3,
        "",
    ),
    "composition names an unknown offer": (
        "offer family_bundle {\n  composition {\n    excludes qh_campus\n  }\n}\n",
        "unknown-offer",
        "error",
        3,
        5,
        "qh_campus_card",
    ),
    "more than the slots allow": (
        "offer family_bundle {\n  composition {\n    at least 4 mobile_basic\n  }\n}\n",
        "unreachable-cardinality",
        "error",
        3,
        5,
        "",
    ),
    "fewer than the slots force": (
        "offer family_bundle {\n  composition {\n    at most 0 broadband_basic\n  }\n}\n",
        "unreachable-cardinality",
        "error",
        3,
        5,
        "",
    ),
    "low above high": (
        "offer family_bundle {\n  composition {\n    3..1 mobile_basic\n  }\n}\n",
        "unreachable-cardinality",
        "error",
        3,
        5,
        "smaller bound",
    ),
    "choice group needs more than it lists": (
        "offer family_bundle {\n  composition {\n"
        "    at least 3 of {caller_id_addon, ring_tone} as extras\n  }\n}\n",
        "unreachable-cardinality",
        "error",
        3,
        5,
        "",
    ),
    "not a member": (
        "offer family_bundle {\n  composition {\n    exactly 1 youth_plan\n  }\n}\n",
        "not-a-member",
        "error",
        3,
        5,
        "mobile_basic",
    ),
    "add-on that is not one": (
        "offer family_bundle {\n  composition {\n"
        "    add-on mobile_basic only with fixed_line_basic\n  }\n}\n",
        "not-an-add-on",
        "error",
        3,
        5,
        "",
    ),
    # -- plans ---------------------------------------------------------------------------------
    "two currencies": (in_plan("currency USD"), "duplicate", "error", 3, 3, "keep one"),
    "duplicate price": (
        in_plan("price a: one_time 1", "option o default x {", "  x: price a: one_time 2", "}"),
        "duplicate",
        "error",
        5,
        8,
        "",
    ),
    "unknown default": (
        in_plan("option o default y {", "  x: price a: one_time 2", "}"),
        "unknown-option",
        "error",
        3,
        3,
        "",
    ),
    "unknown alteration target": (
        in_plan("price rent: recurring 1 per month", "discount d: 10% on rnet"),
        "unknown-price",
        "error",
        4,
        22,
        "rent",
    ),
    "member price outside a combo plan": (
        "plan youth_39 {\n  currency CNY\n  waive broadband_basic.rent\n}\n",
        "not-a-combo-plan",
        "error",
        3,
        9,
        "",
    ),
    "missing currency": (
        "plan p {\n  price a: one_time 58.00\n}\n",
        "missing-currency",
        "error",
        2,
        21,
        "CNY",
    ),
    "currency mismatch": (
        in_plan("price a: one_time 58.00 USD"),
        "currency-mismatch",
        "error",
        3,
        21,
        "",
    ),
    "percent price": (in_plan("price a: one_time 5%"), "type-mismatch", "error", 3, 21, ""),
    "discount above 100%": (
        in_plan("price a: one_time 1", "discount d: 120% on a"),
        "bad-percent",
        "error",
        4,
        15,
        "",
    ),
    "bad rounding": (in_plan("rounding half_up 12"), "bad-rounding", "error", 3, 3, ""),
    "unknown price business": (
        in_plan("price a: one_time 1 for instalation"),
        "unknown-business",
        "error",
        3,
        3,
        "installation",
    ),
    # -- usage ---------------------------------------------------------------------------------
    "unknown business": (
        in_usage("voice", "rate * *: 1 per minute"),
        "unknown-business",
        "error",
        3,
        3,
        "",
    ),
    "business without usage": (
        in_usage("installation", "rate * *: 1 per minute"),
        "not-rated",
        "error",
        3,
        3,
        "",
    ),
    "unknown zone table": (
        in_usage("local_voice", "zones cn_zone"),
        "unknown-zone",
        "error",
        3,
        3,
        "cn_zones",
    ),
    "unknown zone": (
        in_usage("local_voice", "zones cn_zones", "rate locl *: 1 per minute"),
        "unknown-zone",
        "error",
        5,
        10,
        "local",
    ),
    "prefix matching no zone": (
        in_usage("local_voice", "zones cn_zones", "rate int_* *: 1 per minute"),
        "unknown-zone",
        "error",
        5,
        10,
        "",
    ),
    "zone without a table": (
        in_usage("local_voice", "rate local *: 1 per minute"),
        "unknown-zone",
        "error",
        4,
        10,
        "zones NAME",
    ),
    "unknown band": (
        in_usage("local_voice", "bands peak_offpeak", "rate * peek: 1 per minute"),
        "unknown-band",
        "error",
        5,
        12,
        "peak",
    ),
    "unknown bands": (
        in_usage("local_voice", "bands peak_off"),
        "unknown-band",
        "error",
        3,
        3,
        "peak_offpeak",
    ),
    "two identical rates": (
        in_usage("local_voice", "rate * *: 1 per minute", "rate * *: 2 per minute"),
        "duplicate-rate",
        "error",
        5,
        5,
        "when",
    ),
    "unit of another measure": (
        in_usage("local_voice", "rate * *: 1 per MB"),
        "type-mismatch",
        "error",
        4,
        21,
        "",
    ),
    "increment of another measure": (
        in_usage("mobile_data", "rate * *: 1 per MB increments 60s"),
        "type-mismatch",
        "error",
        4,
        35,
        "",
    ),
    "allowance of another measure": (
        in_usage("sms", "allowance a: 1 GB per month"),
        "type-mismatch",
        "error",
        4,
        18,
        "",
    ),
    "tiers with a gap": (
        in_usage(
            "mobile_data",
            "tiers graduated per month {",
            "  0 GB .. 5 GB: 0.29 per MB",
            "  6 GB .. : 0.10 per MB",
            "}",
        ),
        "tier-gap",
        "error",
        6,
        7,
        "start at 0",
    ),
    "tiers not from 0": (
        in_usage("mobile_data", "tiers volume per month {", "  1 GB .. : 0.29 per MB", "}"),
        "tier-gap",
        "error",
        5,
        7,
        "",
    ),
    "overlapping tiers": (
        in_usage(
            "mobile_data",
            "tiers graduated per month {",
            "  0 GB .. 5 GB: 0.29 per MB",
            "  4 GB .. : 0.10 per MB",
            "}",
        ),
        "tier-overlap",
        "error",
        6,
        7,
        "",
    ),
    "rate per zero units": (
        in_usage("local_voice", "rate * *: 1 per 0 s"),
        "bad-rate",
        "error",
        4,
        21,
        "per minute",
    ),
    "zero increment": (
        in_usage("local_voice", "rate * *: 1 per minute increments 0s"),
        "bad-rate",
        "error",
        4,
        39,
        "then 6s",
    ),
    "zero next increment": (
        in_usage("local_voice", "rate * *: 1 per minute increments 60s then 0s"),
        "bad-rate",
        "error",
        4,
        48,
        "then 6s",
    ),
    "negative connection fee": (
        in_usage("local_voice", "rate * *: 1 per minute connection -0.05"),
        "bad-rate",
        "error",
        4,
        39,
        "connection 0.05",
    ),
    "negative minimum": (
        in_usage("local_voice", "rate * *: 1 per minute minimum -1 CNY"),
        "bad-rate",
        "error",
        4,
        36,
        "0 or more",
    ),
    "negative maximum": (
        in_usage("local_voice", "rate * *: 1 per minute maximum -2"),
        "bad-rate",
        "error",
        4,
        36,
        "0 or more",
    ),
    "minimum above maximum": (
        in_usage("local_voice", "rate * *: 1 per minute connection 0.05 minimum 2 maximum 1.50"),
        "bad-rate",
        "error",
        4,
        52,
        "may not exceed",
    ),
    "unknown time zone": (
        in_usage("local_voice", 'time zone "Asia/Shanghia"'),
        "unknown-time-zone",
        "error",
        3,
        3,
        "",
    ),
    # -- calendars, bands, zones -----------------------------------------------------------------
    "overlapping bands": (
        "bands b {\n  peak: weekdays 08:00 .. 22:00\n  busy: mon 20:00 .. 23:00\n"
        "  off: otherwise\n}\n",
        "overlapping-bands",
        "error",
        3,
        3,
        "",
    ),
    "uncovered time": (
        "bands b {\n  peak: weekdays 08:00 .. 22:00\n}\n",
        "uncovered-time",
        "error",
        1,
        1,
        "otherwise",
    ),
    "unknown calendar": (
        "bands b {\n  calendar cn_holiday\n  off: otherwise\n}\n",
        "unknown-calendar",
        "error",
        1,
        1,
        "cn_holidays",
    ),
    "holiday ending before it starts": (
        "calendar c {\n  holiday 2026-10-07 .. 2026-10-01\n}\n",
        "bad-holiday",
        "error",
        2,
        3,
        "",
    ),
    "prefix in two zones": (
        'zones z {\n  "0971": local\n  "0971": qinghai\n}\n',
        "zone-conflict",
        "error",
        3,
        3,
        "",
    ),
    "prefix listed twice": (
        'zones z {\n  "0971": local\n  "0971": local\n}\n',
        "zone-conflict",
        "error",
        3,
        3,
        "",
    ),
    # -- examples ---------------------------------------------------------------------------------
    "example given unknown name": (
        in_example("given customer.agee = 20"),
        "unknown-name",
        "error",
        2,
        9,
        "customer.age",
    ),
    "example given wrong type": (
        in_example('given customer.age = "20"'),
        "type-mismatch",
        "error",
        2,
        24,
        "",
    ),
    "example given unknown area": (
        in_example("given area = GD_SX"),
        "unknown-area",
        "error",
        2,
        16,
        "GD_SZ",
    ),
    "example expects unknown offer": (
        in_example("expect eligible youth_plam"),
        "unknown-offer",
        "error",
        2,
        10,
        "youth_plan",
    ),
    "example expects unknown price": (
        in_example("expect price rnt 70.00 CNY"),
        "unknown-price",
        "error",
        2,
        10,
        "rent",
    ),
    "example expects unknown zone": (
        in_example("expect zone locl"),
        "unknown-zone",
        "error",
        2,
        10,
        "local",
    ),
    "example expects unknown band": (
        in_example("expect band peek"),
        "unknown-band",
        "error",
        2,
        10,
        "peak",
    ),
    "example under unknown plan": (
        in_example("given event local_voice 95s under mobile_38"),
        "unknown-plan",
        "error",
        2,
        9,
        "mobile_39",
    ),
    "example event of another measure": (
        in_example("given event local_voice 1 GB under mobile_39"),
        "type-mismatch",
        "error",
        2,
        27,
        "",
    ),
    "example reason no rule gives": (
        VIP + in_example("expect not eligible vip_plan because too_young"),
        "unknown-reason",
        "warning",
        8,
        10,
        "",
    ),
    "example amount without currency": (
        in_example("expect due now 720.00"),
        "missing-currency",
        "error",
        2,
        18,
        "",
    ),
    "example cart option": (
        in_example("given cart = [broadband_100m with payment = yearly]"),
        "unknown-option",
        "error",
        2,
        17,
        "yearly_prepay",
    ),
    # -- arithmetic ------------------------------------------------------------------------------
    "literal division by zero": (
        elig("customer.age > 1 / 0"),
        "division-by-zero",
        "error",
        3,
        27,
        "unknown",
    ),
    "a name divided by zero": (
        elig("customer.age / 0 > 1"),
        "division-by-zero",
        "error",
        3,
        23,
        "unknown",
    ),
    "division by a constant zero": (
        elig("customer.age / (1.5 - 1.50) * 2 > 1"),
        "division-by-zero",
        "error",
        3,
        24,
        "unknown",
    ),
    "money divided by zero": (
        in_plan("price rent: recurring 39.00 CNY / (2 - 2) per month"),
        "division-by-zero",
        "error",
        3,
        38,
        "unknown",
    ),
    # -- declarations ------------------------------------------------------------------------------
    "built-in attribute declared": (
        "attribute customer.age: int\n",
        "bad-attribute",
        "error",
        1,
        1,
        "",
    ),
}


@pytest.mark.parametrize("row", ROWS.values(), ids=list(ROWS))
def test_check(row: Row) -> None:
    source, code, severity, line, column, hint = row
    found = check_source(source, BROADBAND, MOBILE, CALENDARS)
    matching = [d for d in found if d.code == code]
    assert len(matching) == 1, found
    diagnostic = matching[0]
    assert (diagnostic.severity, diagnostic.line, diagnostic.column) == (severity, line, column)
    assert diagnostic.path == "a.tariff"
    assert hint in diagnostic.hint
    assert diagnostic.message
    others = [d for d in found if d is not diagnostic and d.severity == "error"]
    assert not others, others


@pytest.mark.parametrize(
    "condition",
    ["customer.age / cart.count(mobile_basic) > 1", "customer.age / 0.5 > 1", "1 / (1 - 2) > 0"],
)
def test_division_by_what_may_not_be_zero_is_fine(condition: str) -> None:
    assert check_source(elig(condition), BROADBAND, MOBILE, CALENDARS) == []


# -- bad-rate: messages, what passes, trees built by tools -----------------------------------


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("rate * *: 1 per 0 s", "a rate priced per 0 s: a price needs a positive number of units"),
        ("rate * *: 1 per minute increments 0s", "a first increment of 0 s: increments must be"),
        ("rate * *: 1 per minute increments 60s then 0s", "a next increment of 0 s"),
        ("rate * *: 1 per minute connection -0.05", "a negative connection fee of -0.05: "),
        ("rate * *: 1 per minute minimum 2 maximum 1.50", "minimum 2 is above maximum 1.50"),
    ],
)
def test_bad_rate_messages(line: str, message: str) -> None:
    found = check_source(in_usage("local_voice", line), BROADBAND, MOBILE, CALENDARS)
    assert only(found, "bad-rate").message.startswith(message)


@pytest.mark.parametrize(
    "line",
    [
        "rate * *: 1 per minute",
        "rate * *: 0 per 30 s increments 0s then 6s connection 0 minimum 0.10 maximum 0.10",
        "rate * *: 0.15 per minute increments 60s then 6s connection 0.05 minimum 0.10",
        "rate * *: 2.00 per minute increments 1 ms maximum 200.00",
    ],
)
def test_a_valid_rate_is_not_a_bad_rate(line: str) -> None:
    found = check_source(in_usage("local_voice", line), BROADBAND, MOBILE, CALENDARS)
    assert [d for d in found if d.severity == "error"] == []


def test_a_negative_increment_or_unit_from_a_tool_is_a_bad_rate() -> None:
    source = in_usage("local_voice", "rate * *: 1 per minute increments 60s")
    module = parse_source(source, "a.tariff")
    plan = module.declarations[0]
    assert isinstance(plan, n.PlanDecl)
    assert isinstance(plan.items[1], n.Usage)
    usage = plan.items[1]
    rule = usage.rates[0]
    assert isinstance(rule.first_increment, n.DurationLit)
    assert isinstance(rule.per, n.DurationLit)
    broken = replace(
        rule,
        first_increment=replace(rule.first_increment, amount=Decimal(-60)),
        per=replace(rule.per, amount=Decimal(-1)),
    )
    items = (plan.items[0], replace(usage, rates=(broken,)))
    module = replace(module, declarations=(replace(plan, items=items),))
    others = [
        parse_source(text, f"{path}.tariff")
        for path, text in zip("bcd", [BROADBAND, MOBILE, CALENDARS], strict=True)
    ]
    found = run([module, *others])
    bad = sorted((d.column, d.message) for d in found if d.code == "bad-rate")
    assert bad == [
        (21, "a rate priced per -1 min: a price needs a positive number of units"),
        (39, "a first increment of -60 s: increments must be positive"),
    ]
