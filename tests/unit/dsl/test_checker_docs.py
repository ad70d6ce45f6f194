"""The valid examples of docs/dsl.md check without a single problem (no false positives)."""

# ruff: noqa: E501 - the sources are quoted from docs/dsl.md as they stand

from __future__ import annotations

from pathlib import Path

from dsl.checker import check, errors
from dsl.parser import parse
from dsl.symbols import AreaName, CatalogNames, GroupSlot, MemberSlot, OfferName
from tests.unit.dsl.test_checker_helpers import CATALOG, check_source

OFFERS = """
offer youth_plan {
  eligible all {
    age:     customer.age between 15 and 26
             else "age_out_of_range" "新势力仅限 15 至 26 岁客户办理"
    channel: channel in {hall, web, agent}
             else "channel" "请到营业厅、网上营业厅或代理商处办理"
  }
}

offer vip_plan {
  eligible first {
    when customer.vip_level >= 5: allow
    when "vip" in customer.segments and customer.tenure >= 24 months: allow
    when channel == sms: deny "channel" "VIP 套餐不支持短信办理"
    otherwise: deny "not_vip" "仅限 VIP 客户"
  }
}

offer family_bundle {
  composition {
    exactly 1 fixed_line_basic
    exactly 1 broadband_basic
    1..3 mobile_basic          else "lines" "亲情1+ 可含 1 至 3 条手机线"
    at most 2 of {caller_id_addon, ring_tone} as extras
    requires broadband_basic
    excludes qh_campus_card    else "campus" "校园卡不能加入亲情1+"
    add-on caller_id_addon only with mobile_basic, fixed_line_basic
  }
}
"""

BROADBAND = """
plan broadband_100m "宽带 100M" {
  currency CNY
  tax 9% included                  # list prices include 9% VAT (or: tax 6% excluded)
  rounding half_up 2               # where and how amounts are rounded (see Rounding)

  price installation: one_time 58.00 for installation
  option payment default monthly {
    monthly:       price rent: recurring 70.00 per month for broadband_month prorated daily
    yearly_prepay: price prepay: one_time 720.00 for broadband_month starting next month covering 12 months
  }
  commitment 12 months

  discount loyalty: 10% on rent when customer.tenure >= 24 months priority 10 for 12 months
  waive installation when "family_bundle" in cart priority 5 "融合业务免初装费"
  cap rent at 60.00 when customer.vip_level >= 3
}
"""

MOBILE = """
bands peak_offpeak {
  calendar cn_holidays
  peak:    weekdays 08:00 .. 22:00
  offpeak: otherwise
}

plan mobile_39 {
  currency CNY
  usage local_voice {
    zones cn_zones                            # a catalog zone table (or an inline zones block)
    bands peak_offpeak
    time zone "Asia/Shanghai"
    split at band edges
    rate local peak:     0.15 per minute increments 60s then 6s connection 0.05 minimum 0.10
    rate local offpeak:  0.10 per minute increments 60s then 6s
    rate domestic_ld *:  0.20 per minute increments 60s
    rate intl_* *:       2.00 per minute increments 60s maximum 200.00
    allowance voice_300: 300 minutes per month on local, domestic_ld
    rounding half_up 2 per event
  }
  usage mobile_data {
    rate * *: 0.29 per MB increments 1 KB
    tiers graduated per month {
      0 GB .. 5 GB:  0.29 per MB
      5 GB .. :      0.10 per MB
    }
    allowance data_1g: 1 GB per month
    cap 60.00 per month
  }
  usage sms {
    rate * *: 0.10 per message
  }
}
"""

CALENDARS = """
calendar cn_holidays {
  weekend sat, sun
  holiday 2026-10-01 .. 2026-10-07 "国庆节"
  holiday 2026-01-01 "元旦"
  workday 2026-10-10                    # a weekend day worked as a weekday
}

zones xining_local {
  "0971": local
  "0972": qinghai
}
"""

EXAMPLES = """
example youth_ok {
  given customer.age = 20, area = GD_SZ, channel = hall
  expect eligible youth_plan
}
example youth_too_old {
  given customer.age = 31, area = GD_SZ, channel = hall
  expect not eligible youth_plan because age_out_of_range
}
example prepay_due_now {
  given area = GD_SZ, channel = hall, cart = [broadband_100m with payment = yearly_prepay]
  expect due now 720.00 CNY
}
example long_call {
  given event local_voice 95s to "075512345678" at 2026-03-02T10:00:00+08:00 under mobile_39
  expect charge 0.29 CNY, zone local, band peak
}
"""


def test_every_valid_example_of_the_docs_checks_clean() -> None:
    assert check_source(OFFERS, BROADBAND, MOBILE, CALENDARS, EXAMPLES) == []


def test_declarations_may_be_used_across_files_in_any_order() -> None:
    assert check_source(EXAMPLES, CALENDARS, MOBILE, BROADBAND, OFFERS) == []


EXAMPLES_DIR = Path(__file__).parents[3] / "dsl" / "examples"
EXAMPLE_FILES = sorted(EXAMPLES_DIR.glob("**/*.tariff")) if EXAMPLES_DIR.is_dir() else []

#: What the files of dsl/examples/ refer to.
EXAMPLES_CATALOG = CatalogNames.of(
    areas=[
        "CN",
        AreaName("GD", "CN"),
        AreaName("GD_SZ", "GD"),
        AreaName("BJ", "CN"),
        AreaName("QH", "CN"),
        AreaName("QH_XN", "QH"),
    ],
    channels=["hall", "web", "agent", "sms"],
    segments=["vip", "student", "youth", "family"],
    offers=[
        OfferName("youth_plan", "main"),
        OfferName("vip_plan", "main"),
        OfferName("broadband_basic", "main"),
        OfferName("broadband_100m", "main", plan="broadband_100m"),
        OfferName("broadband_pro", "main", plan="broadband_business"),
        OfferName("qh_campus_card", "main", plan="qh_campus"),
        OfferName("mobile_basic", "main", plan="mobile_39"),
        OfferName("family_plan", "main"),
        OfferName("fixed_line_basic", "main"),
        OfferName("caller_id_addon", "add_on"),
        OfferName("ring_tone", "add_on"),
        OfferName(
            "family_bundle",
            "combo",
            plan="family_bundle",
            members=(
                MemberSlot("fixed_line_basic", 1, 1),
                MemberSlot("broadband_basic", 1, 1),
                MemberSlot("family_plan", 1, 3),
                MemberSlot("mobile_basic", 0, 3),
            ),
            groups=(GroupSlot("extras", ("caller_id_addon", "ring_tone"), 0, 2),),
        ),
    ],
    businesses=CATALOG.businesses,
    zone_tables={"cn_zones": ["local", "national", "mobile", "domestic_ld", "intl_asia"]},
)


def test_every_example_file_checks_without_errors() -> None:
    modules = [
        parse(path.read_text("utf-8"), str(path.relative_to(EXAMPLES_DIR)))
        for path in EXAMPLE_FILES
    ]
    assert EXAMPLE_FILES
    assert errors(check(modules, EXAMPLES_CATALOG)) == []
