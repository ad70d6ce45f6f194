"""DSL text of generated catalogs: shared calendar and bands, offer blocks and tariff plans.

Every function is pure given its `random.Random`, so texts are reproducible from the seed.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

ZONE_TABLE = "zones"
BANDS = "day_night"
CALENDAR = "gen_holidays"
VOICE_BUSINESSES = ("local_voice", "ld_voice", "intl_voice")
RATED_BUSINESSES = (*VOICE_BUSINESSES, "mobile_data", "sms")

COMMON_TEXT = f"""# 生成目录共用定义: 节假日与忙闲时段
calendar {CALENDAR} {{
  weekend sat, sun
  holiday 2026-01-01 "元旦"
  holiday 2026-02-17 .. 2026-02-23 "春节"
  holiday 2026-10-01 .. 2026-10-07 "国庆节"
}}

bands {BANDS} {{
  calendar {CALENDAR}
  peak: weekdays 08:00 .. 22:00  # 忙时
  offpeak: otherwise  # 闲时
}}
"""

_CREDIT_CLASSES = ("A", "B", "C")


@dataclass(frozen=True, slots=True)
class OfferFacts:
    """What eligibility templates need to know about an offer."""

    code: str
    province: str  # owner province code, "" for a national offer
    nation: str
    channels: tuple[str, ...]
    segments: tuple[str, ...]
    enterprise: bool


def _channel_rule(rng: random.Random, facts: OfferFacts) -> str:
    picks = facts.channels or ("hall",)
    return f'channel in {{{", ".join(picks)}}} else "channel" "请通过 {len(picks)} 个指定渠道办理"'


def _age_rule(rng: random.Random, facts: OfferFacts) -> str:
    if "youth" in facts.segments:
        low, high = 15, 26
    else:
        low = rng.choice((16, 18, 18, 18, 20))
        high = rng.choice((60, 65, 70, 80))
    return f'customer.age between {low} and {high} else "age_out_of_range" "年龄不符"'


def _area_rule(rng: random.Random, facts: OfferFacts) -> str:
    area = facts.province or facts.nation
    return f'area within {area} else "area" "仅限 {area} 地区办理"'


def _vip_rule(rng: random.Random, facts: OfferFacts) -> str:
    level = rng.randint(1, 5)
    return f'customer.vip_level >= {level} else "vip_level" "需 VIP {level} 级及以上"'


def _segment_rule(rng: random.Random, facts: OfferFacts) -> str:
    segments = facts.segments or ("personal",)
    test = " or ".join(f'"{s}" in customer.segments' for s in segments)
    return f'{test} else "segment" "客户群不符"'


def _tenure_rule(rng: random.Random, facts: OfferFacts) -> str:
    months = rng.choice((3, 6, 12, 24))
    return f'customer.tenure >= {months} months else "tenure" "在网时长不足 {months} 个月"'


def _credit_rule(rng: random.Random, facts: OfferFacts) -> str:
    classes = _CREDIT_CLASSES[: rng.randint(1, 3)]
    quoted = ", ".join(f'"{c}"' for c in classes)
    return f'customer.credit_class in {{{quoted}}} else "credit" "信用等级不足"'


def _type_rule(rng: random.Random, facts: OfferFacts) -> str:
    kind = "enterprise" if facts.enterprise else "personal"
    return f'customer.type == {kind} else "customer_type" "客户类型不符"'


_TEMPLATES = (
    ("age", _age_rule),
    ("channel", _channel_rule),
    ("area", _area_rule),
    ("vip", _vip_rule),
    ("segment", _segment_rule),
    ("tenure", _tenure_rule),
    ("credit", _credit_rule),
    ("customer_type", _type_rule),
)


def eligibility_rules(rng: random.Random, facts: OfferFacts, count: int) -> list[str]:
    """`count` named rules (`name: COND else ...`) drawn from the templates."""
    order = list(range(len(_TEMPLATES)))
    rules: list[str] = []
    round_ = 0
    while len(rules) < count:
        rng.shuffle(order)
        for index in order[: count - len(rules)]:
            name, template = _TEMPLATES[index]
            label = name if round_ == 0 else f"{name}_{round_ + 1}"
            rules.append(f"{label}: {template(rng, facts)}")
        round_ += 1
    return rules


def offer_block(code: str, rules: Sequence[str], composition: Sequence[str] = ()) -> str:
    lines = [f"offer {code} {{"]
    if rules:
        lines.append("  eligible all {")
        lines.extend(f"    {rule}" for rule in rules)
        lines.append("  }")
    if composition:
        lines.append("  composition {")
        lines.extend(f"    {rule}" for rule in composition)
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _voice_block(rng: random.Random, plan: str, business: str) -> list[str]:
    local_peak = rng.choice((10, 12, 15, 19))
    ld = rng.choice((15, 20, 25, 30))
    intl = rng.choice((150, 200, 280, 360))
    then = rng.choice(("6s", "30s", "60s"))
    lines = [
        f"  usage {business} {{",
        f"    zones {ZONE_TABLE}",
        f"    bands {BANDS}",
        '    time zone "Asia/Shanghai"',
        f"    rate local peak: {_money(local_peak)} per minute increments 60s then {then}",
        f"    rate local offpeak: {_money(local_peak * 2 // 3)} per minute increments 60s",
        f"    rate mobile *: {_money(local_peak)} per minute increments 60s then {then}",
        f"    rate national *: {_money(ld)} per minute increments 60s",
        f"    rate intl_* *: {_money(intl)} per minute increments 60s"
        f" connection {_money(rng.choice((0, 10, 20)))}",
    ]
    if business == "local_voice":
        minutes = rng.choice((100, 200, 300, 500, 1000))
        lines.append(f"    allowance {plan}_voice: {minutes} minutes per month on local, mobile")
    lines += ["    rounding half_up 2 per event", "  }"]
    return lines


def _data_block(rng: random.Random, plan: str) -> list[str]:
    quota = rng.choice(("1 GB", "2 GB", "5 GB", "10 GB", "20 GB", "500 MB"))
    return [
        "  usage mobile_data {",
        f"    rate * *: {_money(rng.choice((3, 5, 10, 29)))} per MB increments 1 KB",
        f"    allowance {plan}_data: {quota} per month",
        f"    cap {rng.choice((60, 100, 200))}.00 per month",
        "  }",
    ]


def _sms_block(rng: random.Random, plan: str) -> list[str]:
    return [
        "  usage sms {",
        f"    rate * *: {_money(rng.choice((5, 10, 15)))} per message",
        f"    allowance {plan}_sms: {rng.choice((20, 50, 100, 200))} messages per month",
        "  }",
    ]


def product_plan(
    rng: random.Random, plan: str, category: str, businesses: Sequence[str], title: str
) -> str:
    """A plan with a recurring `rent`, one-time prices and, for mobile, usage tariffs."""
    lines = [f'plan {plan} "{title}" {{', "  currency CNY"]
    if category == "mobile":
        rent = rng.choice((1900, 2900, 3900, 5900, 7900, 9900, 12900, 19900))
        lines.append(f"  price rent: recurring {_money(rent)} per month")
    elif category == "broadband":
        rent = rng.choice((5000, 7000, 9900, 12900))
        lines.append(f"  price rent: recurring {_money(rent)} per month for broadband_month")
    elif category == "fixed":
        rent = rng.choice((1000, 1500, 2000, 2500))
        lines.append(f"  price rent: recurring {_money(rent)} per month for fixed_line")
    else:
        rent = rng.choice((300, 500, 600, 1000, 1500))
        lines.append(f"  price rent: recurring {_money(rent)} per month for {businesses[0]}")
    if "installation" in businesses:
        lines.append("  price installation: one_time 58.00 for installation  # 初装费")
    if category == "mobile":
        for business in businesses:
            if business in VOICE_BUSINESSES:
                lines += _voice_block(rng, plan, business)
        if "mobile_data" in businesses:
            lines += _data_block(rng, plan)
        if "sms" in businesses:
            lines += _sms_block(rng, plan)
    lines.append("}")
    return "\n".join(lines) + "\n"


def combo_plan(rng: random.Random, plan: str, members: Sequence[str], title: str) -> str:
    rent = rng.choice((9900, 12900, 16900, 19900, 29900))
    lines = [
        f'plan {plan} "{title}" {{',
        "  currency CNY",
        f"  price bundle_rent: recurring {_money(rent)} per month prorated",
    ]
    for member in members:
        percent = rng.choice((10, 20, 30, 50))
        lines.append(f"  discount {member}_off: {percent}% on each {member}.rent")
    lines.append("}")
    return "\n".join(lines) + "\n"
