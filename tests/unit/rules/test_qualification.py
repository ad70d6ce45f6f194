"""CheckEligibility and ListEligibleOffers on the sample catalog, in process: every reason the
catalog and the rules can give, the proposals, alternates, traces and paging."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from catalog.content import CatalogContent
from catalog.model import (
    CatalogVersionInfo,
    EntityKind,
    LifecycleStatus,
    Product,
    RuleSource,
    TimePeriod,
    VersionedEntity,
)
from dsl.context import CustomerFacts
from rules.listing import list_offers
from rules.qualification import check_cart
from rules.sale import CartItem, Sale
from rules.sale_catalog import SaleCatalog
from rules.verdicts import ItemVerdict
from tests.support.catalogs import sample_content

CHINA = timezone(timedelta(hours=8))
NOW = datetime(2026, 3, 2, 10, tzinfo=CHINA)
INFO = CatalogVersionInfo(
    1, datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC), "test", "", 0, 0, 0
)


def catalog_of(content: CatalogContent) -> SaleCatalog:
    return SaleCatalog(INFO, content)


@pytest.fixture(scope="module")
def catalog() -> SaleCatalog:
    return catalog_of(sample_content())


def with_status(content: CatalogContent, code: str, status: LifecycleStatus) -> CatalogContent:
    entities = dict(content.entities)
    key = next(k for k in entities if k[1] == code)
    entities[key] = dataclasses.replace(entities[key], status=status)
    return dataclasses.replace(content, entities=entities)


def youth(**changes: object) -> CustomerFacts:
    base = CustomerFacts(type="personal", segments=frozenset({"youth"}), age=20)
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def sale(
    customer: CustomerFacts | None = None,
    area: str = "GD_SZ",
    channel: str = "hall",
    time: datetime = NOW,
) -> Sale:
    return Sale(customer or youth(), area, channel, time)


def one(catalog: SaleCatalog, s: Sale, *items: CartItem) -> ItemVerdict:
    verdict = check_cart(catalog, s, items or (CartItem("1", "youth_plan"),))
    return verdict.items[0]


def codes(verdict: ItemVerdict) -> list[str]:
    return [r.code for r in verdict.reasons]


# -- the catalog's own checks ------------------------------------------------------------------


def test_a_youth_customer_in_a_city_of_a_national_offer_qualifies(catalog: SaleCatalog) -> None:
    verdict = check_cart(catalog, sale(), [CartItem("1", "youth_plan")])
    assert verdict.qualified
    assert verdict.items[0].result == "qualified"
    assert verdict.version == 1


def test_the_written_age_rule_gives_its_own_code_message_and_location(catalog: SaleCatalog) -> None:
    verdict = one(catalog, sale(youth(age=31)))
    [reason] = verdict.reasons
    assert reason.code == "age_out_of_range"
    assert reason.message == "新势力仅限 15 至 26 岁客户"
    assert reason.rule == "youth_plan.eligibility.age"
    assert reason.path == "products/youth_plan.tariff"
    assert reason.span.line == 4


def test_an_unknown_age_is_not_a_pass(catalog: SaleCatalog) -> None:
    assert codes(one(catalog, sale(youth(age=None)))) == ["age_out_of_range"]


def test_channel_mismatch(catalog: SaleCatalog) -> None:
    verdict = one(catalog, sale(channel="call_center"))
    assert codes(verdict) == ["channel"]
    assert "10010" in verdict.reasons[0].message


def test_audience_segment_and_type_mismatch(catalog: SaleCatalog) -> None:
    customer = youth(segments=frozenset({"personal"}), type="enterprise")
    assert codes(one(catalog, sale(customer))) == ["customer_type", "segment"]


def test_provincial_offer_is_sold_in_its_listed_city_only(catalog: SaleCatalog) -> None:
    campus = CartItem("1", "qh_campus_card")
    assert one(catalog, sale(area="QH_XN"), campus).qualified
    assert codes(one(catalog, sale(area="GD_SZ"), campus)) == ["area"]
    assert "深圳" in one(catalog, sale(area="GD_SZ"), campus).reasons[0].message


def test_an_offer_listed_for_a_province_is_sold_in_its_cities(catalog: SaleCatalog) -> None:
    broadband = CartItem("1", "broadband_basic")
    customer = CustomerFacts(type="personal")
    assert one(catalog, sale(customer, area="GD_GZ"), broadband).qualified
    assert codes(one(catalog, sale(customer, area="QH_XN"), broadband)) == ["area"]


def test_validity_dates(catalog: SaleCatalog) -> None:
    before = datetime(2025, 12, 31, 23, tzinfo=UTC)
    assert codes(one(catalog, sale(time=before))) == ["not_yet_available"]
    assert one(catalog, sale(time=datetime(2026, 1, 1, tzinfo=UTC))).qualified


def with_product(content: CatalogContent, code: str, **changes: Any) -> CatalogContent:
    entities = dict(content.entities)
    key = (EntityKind.PRODUCT, code)
    entity = entities[key]
    assert isinstance(entity.definition, Product)
    definition = dataclasses.replace(entity.definition, **changes)
    entities[key] = VersionedEntity(definition, entity.status, entity.version)
    return dataclasses.replace(content, entities=entities)


def test_ended_validity() -> None:
    period = TimePeriod(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC))
    ended = catalog_of(with_product(sample_content(), "youth_plan", valid_for=period))
    assert codes(one(ended, sale())) == ["no_longer_available"]


def test_a_retired_offer_is_not_sold_to_new_customers_but_can_be_modified() -> None:
    retired = catalog_of(with_status(sample_content(), "youth_plan", LifecycleStatus.RETIRED))
    assert codes(one(retired, sale())) == ["retired"]
    held = sale(youth(products=frozenset({"youth_plan"})))
    assert one(retired, held, CartItem("1", "youth_plan", action="modify")).qualified


def test_every_reason_is_reported_at_once(catalog: SaleCatalog) -> None:
    customer = youth(age=40, segments=frozenset())
    verdict = one(
        catalog, sale(customer, channel="account_manager", time=datetime(2025, 6, 1, tzinfo=UTC))
    )
    assert codes(verdict) == ["not_yet_available", "channel", "segment", "age_out_of_range"]


# -- the cart ----------------------------------------------------------------------------------


def test_an_add_on_without_its_base_proposes_the_base(catalog: SaleCatalog) -> None:
    verdict = one(catalog, sale(), CartItem("1", "caller_id_addon"))
    assert codes(verdict) == ["addon_without_base"]
    assert [(p.kind, p.offer_code) for p in verdict.proposals] == [("add_offer", "mobile_basic")]
    assert verdict.result == "unqualified"


def test_an_add_on_with_its_base_in_the_cart_or_held_qualifies(catalog: SaleCatalog) -> None:
    cart = check_cart(
        catalog, sale(), [CartItem("1", "caller_id_addon"), CartItem("2", "mobile_basic")]
    )
    assert cart.qualified
    held = sale(youth(products=frozenset({"mobile_basic"})))
    assert one(catalog, held, CartItem("1", "caller_id_addon")).qualified


def test_removing_a_base_strands_a_held_add_on(catalog: SaleCatalog) -> None:
    held = sale(youth(products=frozenset({"mobile_basic", "caller_id_addon"})))
    verdict = one(catalog, held, CartItem("1", "mobile_basic", action="remove"))
    assert codes(verdict) == ["base_still_needed"]
    assert [(p.kind, p.offer_code) for p in verdict.proposals] == [
        ("remove_offer", "caller_id_addon")
    ]
    both = check_cart(
        catalog,
        held,
        [
            CartItem("1", "mobile_basic", action="remove"),
            CartItem("2", "caller_id_addon", action="remove"),
        ],
    )
    assert both.qualified


def test_removing_or_modifying_what_is_not_held(catalog: SaleCatalog) -> None:
    assert codes(one(catalog, sale(), CartItem("1", "mobile_basic", action="remove"))) == [
        "not_held"
    ]
    assert codes(one(catalog, sale(), CartItem("1", "mobile_basic", action="modify"))) == [
        "not_held"
    ]


def test_an_excluded_pair_in_one_cart_is_reported_on_both_items(catalog: SaleCatalog) -> None:
    s = sale(area="QH_XN")
    cart = check_cart(catalog, s, [CartItem("1", "qh_campus_card"), CartItem("2", "youth_plan")])
    assert not cart.qualified
    assert [codes(i) for i in cart.items] == [["excludes"], ["excludes"]]
    assert cart.items[0].reasons[0].offer == "youth_plan"
    assert "in the cart" in cart.items[0].reasons[0].message
    assert [(p.kind, p.offer_code) for p in cart.items[0].proposals] == [
        ("remove_offer", "youth_plan")
    ]


def test_an_offer_excluded_by_a_held_product(catalog: SaleCatalog) -> None:
    held = sale(youth(products=frozenset({"youth_plan"})), area="QH_XN")
    verdict = one(catalog, held, CartItem("1", "qh_campus_card"))
    assert codes(verdict) == ["excludes"]
    assert "held by the customer" in verdict.reasons[0].message


def test_a_cart_mixing_qualified_and_unqualified_items(catalog: SaleCatalog) -> None:
    cart = check_cart(
        catalog, sale(), [CartItem("a", "mobile_basic"), CartItem("b", "qh_campus_card")]
    )
    assert not cart.qualified
    assert [(i.item_id, i.result) for i in cart.items] == [("a", "qualified"), ("b", "alternate")]


# -- combos -----------------------------------------------------------------------------------


FAMILY = CustomerFacts(type="personal", segments=frozenset({"family"}))


def bundle(lines: int, *, fixed: bool = True) -> CartItem:
    members = [CartItem("1.1", "broadband_basic")]
    if fixed:
        members.append(CartItem("1.2", "fixed_line_basic"))
    members += [CartItem(f"1.{3 + i}", "family_plan") for i in range(lines)]
    return CartItem("1", "family_bundle", members=tuple(members))


def test_a_family_bundle_with_one_to_three_lines_qualifies(catalog: SaleCatalog) -> None:
    for lines in (1, 2, 3):
        verdict = one(catalog, sale(FAMILY), bundle(lines))
        assert verdict.qualified, (lines, verdict.reasons)
        assert len(verdict.members) == 2 + lines


def test_four_mobile_lines_are_too_many(catalog: SaleCatalog) -> None:
    verdict = one(catalog, sale(FAMILY), bundle(4))
    assert codes(verdict) == ["too_many_members"]
    assert "at most 3" in verdict.reasons[0].message
    assert [(p.kind, p.offer_code) for p in verdict.proposals] == [("remove_offer", "family_plan")]


def test_a_missing_member_is_proposed(catalog: SaleCatalog) -> None:
    verdict = one(catalog, sale(FAMILY), bundle(1, fixed=False))
    assert codes(verdict) == ["too_few_members"]
    assert [(p.kind, p.offer_code) for p in verdict.proposals] == [
        ("add_offer", "fixed_line_basic")
    ]


def test_a_member_that_is_not_part_of_the_combo(catalog: SaleCatalog) -> None:
    item = bundle(1)
    item = dataclasses.replace(item, members=(*item.members, CartItem("1.9", "youth_plan")))
    verdict = one(catalog, sale(FAMILY), item)
    assert "member_unqualified" in codes(verdict)
    assert codes(verdict.members[-1]) == ["not_a_member"]


def test_a_member_not_sold_in_the_area_makes_the_combo_unqualified(catalog: SaleCatalog) -> None:
    verdict = one(catalog, sale(FAMILY, area="GD_SZ"), bundle(1))
    assert verdict.qualified
    beijing = one(catalog, sale(FAMILY, area="QH_XN"), bundle(1))
    assert "area" in codes(beijing)
    assert "member_unqualified" in codes(beijing)


# -- alternates and traces --------------------------------------------------------------------


def test_an_offer_this_customer_cannot_buy_gets_alternates_of_its_category(
    catalog: SaleCatalog,
) -> None:
    verdict = one(catalog, sale(youth(age=31)))
    assert verdict.result == "alternate"
    alternates = [p.offer_code for p in verdict.proposals if p.kind == "alternate_offer"]
    assert alternates
    assert "youth_plan" not in alternates
    assert all(catalog.offers[c].category == "mobile" for c in alternates)


def test_items_of_one_category_share_the_search_but_each_gets_its_own_alternates(
    catalog: SaleCatalog,
) -> None:
    alone = one(catalog, sale(youth(age=31)))
    alternates = [p.offer_code for p in alone.proposals if p.kind == "alternate_offer"]
    items = (CartItem("1", "youth_plan"), CartItem("2", "youth_plan"), CartItem("3", alternates[0]))
    verdict = check_cart(catalog, sale(youth(age=31)), items)
    first, second = verdict.items[0], verdict.items[1]
    assert first.proposals == second.proposals  # the same search, answered twice
    shared = [p.offer_code for p in first.proposals if p.kind == "alternate_offer"]
    assert alternates[0] not in shared  # already in the cart
    assert shared == [c for c in alternates if c != alternates[0]] or len(shared) == 3


def test_explain_traces_the_conditions_that_decided(catalog: SaleCatalog) -> None:
    verdict = check_cart(catalog, sale(youth(age=31)), [CartItem("1", "youth_plan")], explain=True)
    [step] = verdict.items[0].trace
    assert step.rule == "youth_plan.eligibility.age"
    assert step.outcome is False
    assert ("customer.age", 31) in step.observed
    assert not check_cart(catalog, sale(), [CartItem("1", "youth_plan")]).items[0].trace


# -- listing ----------------------------------------------------------------------------------


def test_listing_shows_what_this_customer_may_buy_here(catalog: SaleCatalog) -> None:
    page = list_offers(catalog, sale())
    listed = [o.offer.code for o in page.offers]
    assert "youth_plan" in listed
    assert "mobile_basic" in listed
    assert "qh_campus_card" not in listed  # not sold in Shenzhen
    assert "family_bundle" not in listed  # for family customers
    assert "caller_id_addon" not in listed  # no base held
    assert listed == sorted(listed)
    assert page.after == ""


def test_listing_applies_the_written_rules(catalog: SaleCatalog) -> None:
    listed = [o.offer.code for o in list_offers(catalog, sale(youth(age=31))).offers]
    assert "youth_plan" not in listed


def test_listing_an_add_on_needs_a_held_base(catalog: SaleCatalog) -> None:
    held = sale(youth(products=frozenset({"mobile_basic"})))
    assert "caller_id_addon" in [o.offer.code for o in list_offers(catalog, held).offers]


def test_listing_with_and_without_held_bases_share_one_cached_context() -> None:
    catalog = catalog_of(sample_content())  # fresh: nothing cached yet
    none_held = sale(youth())
    held = sale(youth(products=frozenset({"mobile_basic"})))
    for _ in range(2):  # the second round reads the cached stretches
        without = [o.offer.code for o in list_offers(catalog, none_held).offers]
        with_base = [o.offer.code for o in list_offers(catalog, held).offers]
        assert "caller_id_addon" not in without
        assert "caller_id_addon" in with_base
        assert [c for c in with_base if c != "caller_id_addon"] == without


def test_listing_filters_by_category_and_kind(catalog: SaleCatalog) -> None:
    listed = list_offers(catalog, sale(), category="broadband").offers
    assert [o.offer.code for o in listed] == ["broadband_basic"]
    combos = list_offers(catalog, sale(FAMILY), kind="combo").offers
    assert [o.offer.code for o in combos] == ["family_bundle"]


def test_listing_pages(catalog: SaleCatalog) -> None:
    everything = [o.offer.code for o in list_offers(catalog, sale()).offers]
    seen: list[str] = []
    after = ""
    for _ in range(len(everything) + 1):
        page = list_offers(catalog, sale(), page_size=1, after=after)
        seen += [o.offer.code for o in page.offers]
        after = page.after
        if not after:
            break
    assert seen == everything


def test_listing_carries_list_prices_tax_included(catalog: SaleCatalog) -> None:
    [broadband] = list_offers(catalog, sale(), category="broadband").offers
    assert broadband.prices is not None
    assert broadband.prices.currency == "CNY"
    assert str(broadband.prices.recurring) == "70.00"
    assert str(broadband.prices.one_time) == "58.00"
    assert broadband.prices.period == "month"


def test_listing_uses_the_cached_candidates_for_a_repeated_context(catalog: SaleCatalog) -> None:
    first = catalog.candidates(sale())
    assert catalog.candidates(sale()) is first


def test_the_same_version_and_request_give_the_same_answer(catalog: SaleCatalog) -> None:
    again = catalog_of(sample_content())
    assert list_offers(again, sale()) == list_offers(catalog, sale())


def test_a_version_with_a_rule_error_never_qualifies_the_offer() -> None:
    text = "offer youth_plan {\n  eligible all {\n    age: customer.agee > 1\n  }\n}\n"
    source = RuleSource("products/youth_plan.tariff", text)
    broken = catalog_of(with_product(sample_content(), "youth_plan", rule_sources=(source,)))
    assert not broken.book.ok
    assert codes(one(broken, sale())) == ["rules_not_compiled"]
    assert "youth_plan" not in [o.offer.code for o in list_offers(broken, sale()).offers]


def test_an_unknown_offer_is_its_items_result_whatever_its_action(catalog: SaleCatalog) -> None:
    for action in ("add", "modify", "remove"):
        cart = [CartItem("1", "youth_plan"), CartItem("2", "nope", action)]
        verdict = check_cart(catalog, sale(), cart)
        assert not verdict.qualified, action
        assert verdict.items[0].qualified, action
        [reason] = verdict.items[1].reasons
        assert (reason.code, reason.rule) == ("unknown_offer", "catalog.offers"), action
        assert reason.message == "catalog version 1 has no offer 'nope'"
