"""The demo catalog shipped in tariff/demo, as the README tour uses it: the bundle reads,
imports, publishes and exports byte for byte, checks clean and its examples pass; the sample
carts get their documented answers from the engines and from `tariff eligible` / `tariff
quote`, with the amounts computed by hand below; the sample usage file is what make_usage
writes and rates with almost no rejections."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from catalog import bundle
from catalog.content import CatalogContent
from catalog.model import CatalogVersionInfo, Combo, LifecycleStatus, Product
from catalog.validation import check_publishable
from dsl.context import CustomerFacts
from rules.qualification import check_cart
from rules.quoting import CartNotEligible, QuotedCart, quote_cart
from rules.rating import RatedRecord, RatingSession
from rules.sale import CartItem, Sale
from rules.sale_catalog import SaleCatalog
from rules.usage_rows import record_from_row
from rules.verdicts import ItemVerdict
from tariff.cli import main
from tariff.demo import CARTS, DEMO, USAGE
from tariff.demo.carts import DemoCart, load_carts, parse_item
from tariff.demo.make_usage import write_usage
from tariff.eligible_cli import NOT_QUALIFIED
from tariff.gen.usage import USAGE_HEADER

CHINA = timezone(timedelta(hours=8))
INFO = CatalogVersionInfo(
    1, datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC), "demo", "", 0, 0, 0
)
CARTS_BY_NAME = load_carts()
VERBS = {"add_offer": "add", "remove_offer": "remove", "alternate_offer": "instead"}
PROTO_VERBS = {
    "PROPOSAL_KIND_ADD_OFFER": "add",
    "PROPOSAL_KIND_REMOVE_OFFER": "remove",
    "PROPOSAL_KIND_ALTERNATE_OFFER": "instead",
}
MOBILE_OFFERS = {
    "mobile_39",
    "mobile_59",
    "mobile_99",
    "youth_plan",
    "vip_plan",
    "prepaid_card",
    "family_mobile",
    "qh_campus_card",
}


@pytest.fixture(scope="module")
def content() -> CatalogContent:
    return bundle.read_path(DEMO)


@pytest.fixture(scope="module")
def catalog(content: CatalogContent) -> SaleCatalog:
    return SaleCatalog(INFO, content)


def quote(catalog: SaleCatalog, cart: DemoCart) -> QuotedCart:
    return quote_cart(catalog, cart.sale, cart.items, CHINA)


def prices(quoted: QuotedCart, offer: str) -> dict[str, Decimal]:
    """Tax-included amounts of the prices of the first line of `offer`."""
    line = next(line for line in quoted.quote.lines if line.offer == offer)
    return {p.name: p.tax_included for p in line.prices}


# -- the bundle --------------------------------------------------------------------------------


def test_the_bundle_holds_the_carriers_catalog(content: CatalogContent) -> None:
    assert set(content.areas) == {"CN", "GD", "GD_SZ", "GD_GZ", "BJ", "BJ_BJ", "QH", "QH_XN"}
    assert set(content.channels) == {
        "hall",
        "call_center",
        "web",
        "sms",
        "agent",
        "account_manager",
    }
    assert set(content.segments) == {"personal", "family", "youth", "vip", "enterprise"}
    assert {b.code for b in content.businesses()} == {
        "local_voice",
        "ld_voice",
        "intl_voice",
        "mobile_data",
        "sms",
        "caller_id",
        "three_way",
        "ring_tone",
        "fixed_line",
        "broadband_month",
        "installation",
    }
    assert {p.code for p in content.products()} == MOBILE_OFFERS | {
        "broadband_100m",
        "enterprise_broadband",
        "fixed_line_basic",
        "caller_id_addon",
        "ring_tone_addon",
        "three_way_addon",
    }
    assert {c.code for c in content.combos()} == {"family_bundle", "broadband_1plus1"}
    assert {e.status for e in content.entities.values()} == {LifecycleStatus.LAUNCHED}
    [zones] = content.zone_tables.values()
    assert len(zones.prefixes) > 200  # international zones by country code
    assert dict(zones.prefixes)["00852"] == "intl_hkmo"
    listed = {source.path for _, source in content.all_rule_sources()}
    assert listed == {p.relative_to(DEMO).as_posix() for p in DEMO.rglob("*.tariff")}
    assert check_publishable(content) == []


def test_import_publish_and_export_give_back_the_same_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = ["--database-url", f"sqlite:///{tmp_path / 'demo.sqlite'}"]
    assert main(["bundle", "import", str(DEMO), *db]) == 0
    assert main(["publish", "--effective-from", "2026-01-01T00:00:00Z", *db]) == 0
    assert "published version 1" in capsys.readouterr().out
    out = tmp_path / "v1"
    assert main(["bundle", "export", "--version", "1", str(out), *db]) == 0
    exported = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    assert exported == sorted(p.relative_to(DEMO) for p in DEMO.rglob("*") if p.is_file())
    for name in exported:
        assert (out / name).read_bytes() == (DEMO / name).read_bytes(), name


def test_check_finds_no_error_and_no_warning(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(DEMO)]) == 0
    captured = capsys.readouterr()
    assert "0 error(s), 0 warning(s)" in captured.err
    assert captured.out == ""


def test_every_example_passes_and_every_offer_has_some(
    content: CatalogContent, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["test", str(DEMO)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert not [line for line in lines if line.startswith(("FAIL", "NOT RUN"))]
    assert lines[-1].endswith("0 failed, 0 not run")
    passed = Counter(line.split("(")[1].split(":")[0] for line in lines if line.startswith("PASS"))
    offers: list[Product | Combo] = [*content.products(), *content.combos()]
    for offer in offers:
        [source] = offer.rule_sources
        assert passed[source.path] >= 3, f"{offer.code} needs eligibility and price examples"


def test_rule_files_are_in_the_canonical_layout(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fmt", "--check", str(DEMO)]) == 0


# -- the sample carts, in process ------------------------------------------------------------


@pytest.mark.parametrize("name", list(CARTS_BY_NAME))
def test_each_sample_cart_gets_its_documented_verdict(catalog: SaleCatalog, name: str) -> None:
    cart = CARTS_BY_NAME[name]
    verdict = check_cart(catalog, cart.sale, cart.items)
    item: ItemVerdict = verdict.items[0]
    assert item.result == cart.expected.result
    assert verdict.qualified == (cart.expected.result == "qualified")
    assert tuple(r.code for r in item.reasons) == cart.expected.reasons
    proposals = tuple(f"{VERBS[p.kind]} {p.offer_code}" for p in item.proposals)
    assert proposals == cart.expected.proposals
    if verdict.qualified:
        quoted = quote(catalog, cart)
        assert (quoted.quote.due_now, quoted.quote.monthly) == (
            cart.expected.due_now,
            cart.expected.monthly,
        )
    else:
        with pytest.raises(CartNotEligible):
            quote(catalog, cart)


def test_family_bundle_two_lines_by_hand(catalog: SaleCatalog) -> None:
    quoted = quote(catalog, CARTS_BY_NAME["family_two_lines"])
    # 亲情1+ 融合套餐, Shenzhen hall, 2026-03-10:
    #   bundle_rent                              129.00
    #   fixed_line_basic rent 20  -> replaced      0.00
    #   broadband_100m rent 70    -> replaced      0.00
    #   broadband_100m installation 58 -> waived   0.00  (融合业务免初装费)
    #   family_mobile #1 rent 59  -> replaced      0.00
    #   family_mobile #2 rent 59 - 30             29.00
    #   monthly 129 + 29 = 158.00, due now 0.00
    #   first bill, prorated daily from 10 March (22 of 31 days):
    #   129 x 22/31 = 91.548 -> 91.55, 29 x 22/31 = 20.581 -> 20.58; 91.55 + 20.58 = 112.13
    assert quoted.quote.monthly == Decimal("158.00")
    assert quoted.quote.due_now == Decimal("0.00")
    assert quoted.quote.first_bill == Decimal("112.13")
    assert prices(quoted, "family_bundle") == {"bundle_rent": Decimal("129.00")}
    assert prices(quoted, "broadband_100m") == {
        "installation": Decimal("0.00"),
        "rent": Decimal("0.00"),
    }
    waiver = next(
        a
        for line in quoted.quote.lines
        if line.offer == "broadband_100m"
        for p in line.prices
        if p.name == "installation"
        for a in p.alterations
    )
    assert (waiver.label, waiver.change) == ("融合业务免初装费", Decimal("-58.00"))
    lines = [line for line in quoted.quote.lines if line.offer == "family_mobile"]
    assert [line.monthly for line in lines] == [Decimal("0.00"), Decimal("29.00")]
    assert {line.member_of for line in lines} == {"family_bundle"}


def test_family_bundle_three_lines_and_in_beijing(catalog: SaleCatalog) -> None:
    cart = CARTS_BY_NAME["family_two_lines"]
    three = (parse_item("family_bundle=fixed_line_basic,broadband_100m,3*family_mobile", "1"),)
    # 129 + 29 + 29 = 187.00
    assert quote_cart(catalog, cart.sale, three, CHINA).quote.monthly == Decimal("187.00")
    # Beijing prices its fixed line at 25 (fixed_line_bj), but the bundle replaces it: 158.00
    beijing = Sale(cart.sale.customer, "BJ_BJ", "hall", cart.sale.time)
    quoted = quote_cart(catalog, beijing, cart.items, CHINA)
    assert quoted.quote.monthly == Decimal("158.00")
    line = next(line for line in quoted.quote.lines if line.offer == "fixed_line_basic")
    assert line.plan == "fixed_line_bj"
    assert [(p.list_amount, p.tax_included) for p in line.prices] == [
        (Decimal("25.00"), Decimal("0.00"))
    ]


def test_beijing_sells_its_fixed_line_at_its_own_price(catalog: SaleCatalog) -> None:
    # The rule files cannot show it: an example prices an offer under its national plan.
    customer = CustomerFacts(type="personal", attributes={"address_installable": True})
    when = datetime(2026, 3, 10, 10, tzinfo=CHINA)
    fixed = (CartItem("1", "fixed_line_basic"),)
    beijing = quote_cart(catalog, Sale(customer, "BJ_BJ", "hall", when), fixed, CHINA)
    shenzhen = quote_cart(catalog, Sale(customer, "GD_SZ", "hall", when), fixed, CHINA)
    assert (beijing.quote.monthly, shenzhen.quote.monthly) == (Decimal("25.00"), Decimal("20.00"))


def test_four_lines_are_too_many_for_the_catalog_and_for_the_rule(catalog: SaleCatalog) -> None:
    cart = CARTS_BY_NAME["family_four_lines"]
    item = check_cart(catalog, cart.sale, cart.items).items[0]
    slot, rule = item.reasons
    assert (slot.rule, slot.message) == (
        "catalog.members.family_mobile",
        "亲情1+ 融合套餐 takes at most 3 of 亲情1+ 手机卡 (has 4)",
    )
    assert (rule.message, rule.path) == (
        "亲情1+ 可含 1 至 3 条手机线",
        "combos/family_bundle.tariff",
    )
    assert all(member.qualified for member in item.members)


def test_broadband_yearly_prepay_by_hand(catalog: SaleCatalog) -> None:
    quoted = quote(catalog, CARTS_BY_NAME["broadband_yearly_prepay"])
    # 720 prepaid (covering 12 months from next month) + 58 installation = 778.00 due now;
    # nothing recurs monthly; tax 6% included: 720 / 1.06 = 679.25 duty free
    assert prices(quoted, "broadband_100m") == {
        "installation": Decimal("58.00"),
        "prepay": Decimal("720.00"),
    }
    [prepay] = [p for p in quoted.quote.lines[0].prices if p.name == "prepay"]
    assert prepay.duty_free == Decimal("679.25")
    assert prepay.starts == datetime(2026, 4, 1, tzinfo=CHINA)
    assert (quoted.quote.due_now, quoted.quote.monthly) == (Decimal("778.00"), Decimal("0.00"))


def test_a_youth_plan_for_a_thirty_year_old_names_the_age_rule(catalog: SaleCatalog) -> None:
    cart = CARTS_BY_NAME["youth_plan_at_30"]
    [reason] = check_cart(catalog, cart.sale, cart.items).items[0].reasons
    assert reason.message == "新势力仅限 15 至 26 岁客户办理"
    assert (reason.rule, reason.path) == (
        "youth_plan.eligibility.age",
        "products/youth_plan.tariff",
    )


def test_caller_id_needs_a_base_and_qualifies_with_one(catalog: SaleCatalog) -> None:
    cart = CARTS_BY_NAME["caller_id_without_base"]
    with_base = (CartItem("1", "mobile_39"), CartItem("2", "caller_id_addon"))
    verdict = check_cart(catalog, cart.sale, with_base)
    assert verdict.qualified
    # 畅享 39: rent 39 + SIM card 20 (hall); 来电显示 6 a month
    quoted = quote_cart(catalog, cart.sale, with_base, CHINA)
    assert (quoted.quote.due_now, quoted.quote.monthly) == (Decimal("20.00"), Decimal("45.00"))


def test_one_plus_one_with_a_phone_deposit_by_hand(catalog: SaleCatalog) -> None:
    quoted = quote(catalog, CARTS_BY_NAME["one_plus_one_deposit_phone"])
    # 畅享 99 rent 99 (its SIM card fee 20 waived); broadband rent 70 and installation 58
    # waived (1+1 送宽带, 融合业务免初装费); 存费送手机 deposit 1200 due now
    assert prices(quoted, "mobile_99") == {"rent": Decimal("99.00"), "sim_card": Decimal("0.00")}
    assert prices(quoted, "broadband_100m") == {
        "installation": Decimal("0.00"),
        "rent": Decimal("0.00"),
    }
    assert prices(quoted, "broadband_1plus1") == {"phone_deposit": Decimal("1200.00")}
    assert (quoted.quote.due_now, quoted.quote.monthly) == (Decimal("1200.00"), Decimal("99.00"))


def test_enterprise_broadband_is_priced_before_tax_by_hand(catalog: SaleCatalog) -> None:
    cart = CARTS_BY_NAME["enterprise_broadband_static_ip"]
    quoted = quote(catalog, cart)
    # tax 6% excluded: installation 300 x 1.06 = 318.00; rent 300 x 1.06 = 318.00 and
    # static IP 100 x 1.06 = 106.00 a month: 424.00
    assert prices(quoted, "enterprise_broadband") == {
        "installation": Decimal("318.00"),
        "rent": Decimal("318.00"),
        "static_ip": Decimal("106.00"),
    }
    elsewhere = Sale(cart.sale.customer, cart.sale.area, "hall", cart.sale.time)
    [item] = check_cart(catalog, elsewhere, cart.items).items
    assert [r.code for r in item.reasons] == ["channel"]  # only account managers sell it


# -- the sample usage ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def rated(catalog: SaleCatalog, content: CatalogContent) -> list[RatedRecord]:
    businesses = {b.code: b for b in content.businesses()}
    with USAGE.open(encoding="utf-8", newline="") as source:
        records = [record_from_row(row, businesses) for row in csv.DictReader(source)]
    return RatingSession(lambda _start: catalog, CHINA).rate_all(records)


def test_the_usage_file_is_what_make_usage_writes(content: CatalogContent) -> None:
    out = io.StringIO()
    assert write_usage(content, out) == 4000
    assert out.getvalue() == USAGE.read_text(encoding="utf-8")
    header = next(csv.reader(io.StringIO(out.getvalue())))
    assert tuple(header) == USAGE_HEADER


def test_the_usage_file_rates_with_few_rejections(rated: list[RatedRecord]) -> None:
    statuses = Counter(r.rated.status for r in rated)
    assert statuses["rejected"] <= 0.01 * len(rated)
    assert {r.rated.reason for r in rated if r.rated.status == "rejected"} == {"no-zone"}
    assert {r.record.offer_code for r in rated} == MOBILE_OFFERS
    assert {r.record.usage.business for r in rated} == {
        "local_voice",
        "ld_voice",
        "intl_voice",
        "mobile_data",
        "sms",
    }
    assert {r.period for r in rated} == {"2026-05"}
    assert sum(r.rated.charge for r in rated) > 0
    assert sum(1 for r in rated if r.record.usage.roaming) > 0.02 * len(rated)
    zones = {r.rated.zone for r in rated}
    assert {"local", "domestic_ld", "mobile", "mobile_onnet", "service", "intl_hkmo"} <= zones


def test_usage_meets_allowances_caps_and_the_holiday_calendar(rated: list[RatedRecord]) -> None:
    used = [r for r in rated if r.rated.allowance_used]
    assert len(used) > len(rated) / 2  # most voice, data and SMS comes out of allowances
    capped = [r for r in rated if r.rated.status == "rated" and r.rated.exact > r.rated.charge]
    assert capped  # someone went past the data cap
    holiday, swapped = date(2026, 5, 2), date(2026, 5, 9)  # 劳动节; a Saturday worked (调休)
    seen: Counter[tuple[date, str]] = Counter()
    for r in rated:
        local = r.record.usage.start.astimezone(CHINA)
        if r.rated.band in ("peak", "offpeak") and 8 <= local.hour < 22:
            seen[(local.date(), r.rated.band)] += 1
    assert (seen[(holiday, "offpeak")] > 0, seen[(holiday, "peak")]) == (True, 0)
    assert (seen[(swapped, "peak")] > 0, seen[(swapped, "offpeak")]) == (True, 0)


def test_prepaid_calls_cost_what_the_tariff_says(rated: list[RatedRecord]) -> None:
    # 如意通 local calls: per started minute, 0.15 at home, 0.30 roaming, 10010 free
    calls = [
        r
        for r in rated
        if r.record.offer_code == "prepaid_card"
        and r.record.usage.business == "local_voice"
        and r.rated.status == "rated"
    ]
    assert len(calls) > 50
    for r in calls:
        minutes = -(-r.record.usage.quantity // 60_000)
        price = Decimal("0.30") if r.record.usage.roaming else Decimal("0.15")
        expected = Decimal(0) if r.rated.zone == "service" else price * minutes
        assert r.rated.charge == expected, r.record.event_id


def test_campus_calls_on_net_in_xining_are_free(rated: list[RatedRecord]) -> None:
    campus = [
        r
        for r in rated
        if r.record.offer_code == "qh_campus_card" and r.record.usage.business == "local_voice"
    ]
    on_net = [r for r in campus if r.rated.zone == "mobile_onnet" and not r.record.usage.roaming]
    assert on_net
    assert all(r.rated.charge == 0 for r in on_net)
    assert any(r.rated.charge > 0 for r in campus if r.rated.zone != "mobile_onnet")


# -- the command line --------------------------------------------------------------------------


def _money(value: dict[str, Any]) -> Decimal:
    units = Decimal(value.get("units", "0"))
    return units + Decimal(value.get("nanos", 0)) / Decimal(10**9)


@pytest.mark.parametrize("name", list(CARTS_BY_NAME))
def test_tariff_eligible_check_answers_each_cart(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    cart = CARTS_BY_NAME[name]
    code = main(["eligible", "check", "--bundle", str(DEMO), *cart.args()])
    assert code == (0 if cart.expected.result == "qualified" else NOT_QUALIFIED)
    table = capsys.readouterr().out
    assert all(reason in table for reason in cart.expected.reasons)
    main(["eligible", "check", "--bundle", str(DEMO), *cart.args(), "--json"])
    [item] = json.loads(capsys.readouterr().out)["items"]
    assert item["result"] == f"QUALIFICATION_RESULT_{cart.expected.result.upper()}"
    assert tuple(r["code"] for r in item.get("reasons", [])) == cart.expected.reasons
    proposals = tuple(
        f"{PROTO_VERBS[p['kind']]} {p['offerCode']}" for p in item.get("proposals", [])
    )
    assert proposals == cart.expected.proposals


@pytest.mark.parametrize(
    "name", [n for n, c in CARTS_BY_NAME.items() if c.expected.result == "qualified"]
)
def test_tariff_quote_prices_each_eligible_cart(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    cart = CARTS_BY_NAME[name]
    assert main(["quote", "--bundle", str(DEMO), *cart.args(), "--json"]) == 0
    totals = json.loads(capsys.readouterr().out)["totals"]
    assert _money(totals["dueNow"]["taxIncludedAmount"]) == cart.expected.due_now
    assert _money(totals["monthlyRecurring"]["taxIncludedAmount"]) == cart.expected.monthly


def test_tariff_quote_shows_the_waivers_in_its_table(capsys: pytest.CaptureFixture[str]) -> None:
    cart = CARTS_BY_NAME["family_two_lines"]
    assert main(["quote", "--bundle", str(DEMO), *cart.args()]) == 0
    out = capsys.readouterr().out
    assert "融合业务免初装费" in out
    assert "158.00" in out


def test_tariff_quote_refuses_an_ineligible_cart(capsys: pytest.CaptureFixture[str]) -> None:
    cart = CARTS_BY_NAME["youth_plan_at_30"]
    assert main(["quote", "--bundle", str(DEMO), *cart.args()]) == 1
    assert "age_out_of_range" in capsys.readouterr().err


def test_the_carts_file_is_the_one_shipped() -> None:
    assert CARTS.parent == DEMO.parent
    assert load_carts(CARTS) == CARTS_BY_NAME
    with pytest.raises(ValueError, match="is not"):
        parse_item("family_bundle=2*", "1")
