"""Use cases of the service layer over the in-memory store: each one all or nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from catalog.errors import (
    AlreadyExists,
    LifecycleViolation,
    NotFound,
    PublishRejected,
    StaleRevision,
    ValidationError,
)
from catalog.model import (
    AreaLevel,
    Audience,
    ComboMember,
    EntityKind,
    LifecycleStatus,
    ProductKind,
    RuleSource,
)
from catalog.queries import CatalogFilter
from catalog.repository import InMemoryUnitOfWork
from catalog.services import CatalogService, ImportMode
from catalog.versions import DRAFT, AsOf, VersionNumber
from tests.support.builders import area, business, channel, combo, product, segment

S = LifecycleStatus
JAN = datetime(2026, 1, 1, tzinfo=UTC)
JUN = datetime(2026, 6, 1, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2025, 12, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def uow() -> InMemoryUnitOfWork:
    return InMemoryUnitOfWork()


@pytest.fixture
def service(uow: InMemoryUnitOfWork) -> CatalogService:
    svc = CatalogService(lambda: uow, clock=Clock())
    svc.put_reference_data(
        [
            area("CN"),
            area("GD", parent_code="CN"),
            area("SZ", level=AreaLevel.CITY, parent_code="GD"),
            area("QH", parent_code="CN"),
        ],
        [channel("hall"), channel("web")],
        [segment("mass"), segment("youth")],
    )
    svc.create(business("voice"))
    return svc


def _ready(service: CatalogService, kind: EntityKind, code: str) -> None:
    current = service.get(kind, code)
    service.transition(kind, code, S.IN_TEST, current.revision)


def test_create_then_read_back_with_unicode(service: CatalogService) -> None:
    created = service.create(product("family", name="亲情1+"))
    assert created.status is S.IN_DESIGN
    assert created.revision == 1
    assert service.get(EntityKind.PRODUCT, "family").definition.name == "亲情1+"


def test_duplicate_codes_are_refused_across_products_and_combos(service: CatalogService) -> None:
    service.create(product("p1"))
    with pytest.raises(AlreadyExists):
        service.create(product("p1"))
    with pytest.raises(AlreadyExists):
        service.create(combo("p1", members=(ComboMember("p1"),)))


def test_unknown_references_are_each_reported(service: CatalogService) -> None:
    bad = product(
        "p1",
        business_codes=("voice", "vocie"),
        area_codes=("XX",),
        channel_codes=("hal",),
        audience=Audience(segment_codes=("yuth",)),
    )
    with pytest.raises(ValidationError) as caught:
        service.create(bad)
    fields = {v.field: v.description for v in caught.value.violations}
    assert "did you mean 'voice'" in fields["product.business_codes[1]"]
    assert "unknown area 'XX'" in fields["product.area_codes[0]"]
    assert "did you mean 'hall'" in fields["product.channel_codes[0]"]
    assert "did you mean 'youth'" in fields["product.audience.segment_codes[0]"]
    with pytest.raises(NotFound):
        service.get(EntityKind.PRODUCT, "p1")


def test_provincial_products_stay_in_their_province(service: CatalogService) -> None:
    with pytest.raises(ValidationError, match="outside the owner area 'QH'"):
        service.create(product("campus", owner_area_code="QH", area_codes=("SZ",)))
    service.create(product("campus", owner_area_code="QH", area_codes=("QH",)))


def test_update_needs_the_current_revision(service: CatalogService) -> None:
    service.create(product("p1"))
    updated = service.update(product("p1", name="v2"), expected_revision=1)
    assert updated.revision == 2
    with pytest.raises(StaleRevision, match="at revision 2, not 1"):
        service.update(product("p1", name="lost update"), expected_revision=1)
    assert service.get(EntityKind.PRODUCT, "p1").definition.name == "v2"


def test_update_of_an_unknown_code_is_not_found(service: CatalogService) -> None:
    with pytest.raises(NotFound):
        service.update(product("nope"), expected_revision=1)


def test_combo_cycles_are_refused(service: CatalogService) -> None:
    service.create(product("p1"))
    service.create(combo("a", members=(ComboMember("p1"),)))
    service.create(combo("b", members=(ComboMember("a"),)))
    current = service.get(EntityKind.COMBO, "a")
    with pytest.raises(ValidationError, match="a -> b -> a"):
        service.update(combo("a", members=(ComboMember("b"),)), current.revision)
    assert service.get(EntityKind.COMBO, "a").definition == combo("a", members=(ComboMember("p1"),))


def test_add_on_needs_a_main_base(service: CatalogService) -> None:
    with pytest.raises(ValidationError, match="an add-on needs at least one base product"):
        service.create(product("caller_id", kind=ProductKind.ADD_ON))
    service.create(product("plan"))
    service.create(product("caller_id", kind=ProductKind.ADD_ON, base_product_codes=("plan",)))
    with pytest.raises(ValidationError, match="is an add-on, not a main product"):
        service.create(
            product("ring_tone", kind=ProductKind.ADD_ON, base_product_codes=("caller_id",))
        )


def test_lifecycle_transitions(service: CatalogService) -> None:
    service.create(product("p1"))
    with pytest.raises(LifecycleViolation, match="IN_DESIGN to RETIRED"):
        service.transition(EntityKind.PRODUCT, "p1", S.RETIRED, 1)
    with pytest.raises(LifecycleViolation, match="by publishing"):
        service.transition(EntityKind.PRODUCT, "p1", S.LAUNCHED, 1)
    assert service.transition(EntityKind.PRODUCT, "p1", S.IN_TEST, 1).status is S.IN_TEST
    assert service.transition(EntityKind.PRODUCT, "p1", S.IN_DESIGN, 2).status is S.IN_DESIGN


def test_publish_launches_what_is_in_test_only(service: CatalogService) -> None:
    _ready(service, EntityKind.BUSINESS, "voice")
    service.create(product("ready"))
    service.create(product("draft_only"))
    _ready(service, EntityKind.PRODUCT, "ready")
    published = service.publish(JAN, "first")
    assert published.info.number == 1
    assert {code for _, code in published.content.entities} == {"voice", "ready"}
    assert service.get(EntityKind.PRODUCT, "ready").status is S.LAUNCHED
    assert service.get(EntityKind.PRODUCT, "ready").version == 1
    assert service.get(EntityKind.PRODUCT, "draft_only").status is S.IN_DESIGN


def test_publish_refuses_references_to_unpublished_entities(service: CatalogService) -> None:
    service.create(product("p1"))
    _ready(service, EntityKind.PRODUCT, "p1")  # its business "voice" stays IN_DESIGN
    with pytest.raises(PublishRejected, match="unknown business 'voice'"):
        service.publish(JAN, "")
    assert service.list_versions() == []
    assert service.get(EntityKind.PRODUCT, "p1").status is S.IN_TEST


def test_published_versions_never_change_and_as_of_reads(service: CatalogService) -> None:
    _ready(service, EntityKind.BUSINESS, "voice")
    service.create(product("p1", name="first name"))
    _ready(service, EntityKind.PRODUCT, "p1")
    service.publish(JAN, "v1")
    launched = service.get(EntityKind.PRODUCT, "p1")
    redesigned = service.update(product("p1", name="second name"), launched.revision)
    assert redesigned.status is S.IN_DESIGN
    with pytest.raises(LifecycleViolation, match="nothing to publish"):
        service.publish(JUN, "the redesign is not ready")
    service.transition(EntityKind.PRODUCT, "p1", S.IN_TEST, redesigned.revision)
    service.publish(JUN, "v2")
    assert (
        service.get(EntityKind.PRODUCT, "p1", AsOf(JAN + timedelta(days=40))).definition.name
        == "first name"
    )
    assert service.get(EntityKind.PRODUCT, "p1", AsOf(JUN)).definition.name == "second name"
    v1 = service.get(EntityKind.PRODUCT, "p1", VersionNumber(1))
    assert (v1.version, v1.catalog_version) == (1, 1)
    assert service.get(EntityKind.PRODUCT, "p1", VersionNumber(2)).version == 2
    with pytest.raises(NotFound):
        service.get(EntityKind.PRODUCT, "p1", AsOf(JAN - timedelta(days=1)))


def test_a_redesign_in_progress_does_not_leak_into_a_publish(service: CatalogService) -> None:
    _ready(service, EntityKind.BUSINESS, "voice")
    service.create(product("p1", name="live"))
    _ready(service, EntityKind.PRODUCT, "p1")
    service.publish(JAN, "v1")
    service.update(product("p1", name="half-done"), service.get(EntityKind.PRODUCT, "p1").revision)
    service.create(product("p2"))
    _ready(service, EntityKind.PRODUCT, "p2")
    published = service.publish(JUN, "v2")
    p1 = published.content.get(EntityKind.PRODUCT, "p1")
    assert p1 is not None
    assert (p1.definition.name, p1.status, p1.version) == ("live", S.LAUNCHED, 1)


def test_retired_offers_stay_in_versions_and_obsolete_ones_leave(service: CatalogService) -> None:
    _ready(service, EntityKind.BUSINESS, "voice")
    service.create(product("p1"))
    _ready(service, EntityKind.PRODUCT, "p1")
    service.publish(JAN, "v1")
    rev = service.get(EntityKind.PRODUCT, "p1").revision
    service.transition(EntityKind.PRODUCT, "p1", S.RETIRED, rev)
    v2 = service.publish(JUN, "v2").content.get(EntityKind.PRODUCT, "p1")
    assert v2 is not None
    assert v2.status is S.RETIRED
    service.transition(EntityKind.PRODUCT, "p1", S.OBSOLETE, rev + 1)
    v3 = service.publish(JUN + timedelta(days=30), "v3")
    assert v3.content.get(EntityKind.PRODUCT, "p1") is None
    with pytest.raises(LifecycleViolation, match="OBSOLETE"):
        service.update(product("p1", name="again"), service.get(EntityKind.PRODUCT, "p1").revision)


def test_effective_times_only_move_forward(service: CatalogService) -> None:
    _ready(service, EntityKind.BUSINESS, "voice")
    service.publish(JUN, "v1")
    service.create(product("p1"))
    _ready(service, EntityKind.PRODUCT, "p1")
    with pytest.raises(ValidationError, match="must be later than"):
        service.publish(JAN, "rewrites history")
    assert len(service.list_versions()) == 1


def test_list_filters_by_area_containment_channel_segment_and_pages(
    service: CatalogService,
) -> None:
    service.create(product("national"))
    service.create(product("gd_only", owner_area_code="GD", area_codes=("GD",)))
    service.create(product("qh_only", owner_area_code="QH"))
    service.create(
        product("web_youth", channel_codes=("web",), audience=Audience(segment_codes=("youth",)))
    )

    def codes(area_code: str = "", channel_code: str = "", segment_code: str = "") -> list[str]:
        flt = CatalogFilter(
            area_code=area_code, channel_code=channel_code, segment_code=segment_code
        )
        items, _ = service.list_entities(EntityKind.PRODUCT, DRAFT, flt)
        return [i.definition.code for i in items]

    assert codes(area_code="SZ") == ["gd_only", "national", "web_youth"]
    assert codes(area_code="QH") == ["national", "qh_only", "web_youth"]
    assert codes(channel_code="hall") == ["gd_only", "national", "qh_only"]
    assert codes(segment_code="mass") == ["gd_only", "national", "qh_only"]
    with pytest.raises(ValidationError, match="unknown area 'ZZ'"):
        codes(area_code="ZZ")
    first, token = service.list_entities(EntityKind.PRODUCT, DRAFT, None, page_size=3)
    rest, end = service.list_entities(
        EntityKind.PRODUCT, DRAFT, None, page_size=3, page_token=token
    )
    assert [i.definition.code for i in first + rest] == [
        "gd_only",
        "national",
        "qh_only",
        "web_youth",
    ]
    assert end == ""
    with pytest.raises(ValidationError, match="page_token"):
        service.list_entities(EntityKind.PRODUCT, DRAFT, None, page_token="!!not a token!!")


def test_rule_sources_attach_replace_and_remove(service: CatalogService) -> None:
    service.create(product("p1"))
    a = RuleSource("products/p1.tariff", "# v1")
    sources, revision = service.attach_rule_sources((EntityKind.PRODUCT, "p1"), [a], [], 1)
    assert sources == (a,)
    assert revision == 2
    a2 = replace(a, text="# v2")
    sources, revision = service.attach_rule_sources((EntityKind.PRODUCT, "p1"), [a2], [], 2)
    assert sources == (a2,)
    with pytest.raises(ValidationError, match="already used by product 'p1'"):
        service.attach_rule_sources(None, [RuleSource("products/p1.tariff", "")], [], 0)
    with pytest.raises(ValidationError, match="not attached"):
        service.attach_rule_sources((EntityKind.PRODUCT, "p1"), [], ["nope.tariff"], revision)
    sources, _ = service.attach_rule_sources(
        (EntityKind.PRODUCT, "p1"), [], ["products/p1.tariff"], revision
    )
    assert sources == ()


def test_import_merge_replace_and_dry_run(service: CatalogService) -> None:
    exported = service.content(DRAFT)
    store = InMemoryUnitOfWork()
    fresh = CatalogService(lambda: store, clock=Clock())
    result = fresh.import_content(exported, dry_run=True)
    assert result.created == ("business:voice",)
    assert fresh.list_versions() == []
    assert fresh.content(DRAFT).entities == {}
    fresh.import_content(exported)
    assert fresh.content(DRAFT) == exported
    service.create(product("extra"))
    replaced = service.import_content(exported, ImportMode.REPLACE)
    assert replaced.obsoleted == ("product:extra",)
    assert service.get(EntityKind.PRODUCT, "extra").status is S.OBSOLETE


def test_import_is_all_or_nothing(service: CatalogService) -> None:
    before = service.content(DRAFT)
    bad = service.content(DRAFT)
    good = product("fine")
    broken = product("broken", business_codes=("missing",))
    from catalog.content import CatalogContent
    from catalog.model import VersionedEntity

    bundle = CatalogContent.build(
        areas=bad.areas,
        channels=bad.channels,
        segments=bad.segments,
        entities={
            **bad.entities,
            (EntityKind.PRODUCT, "fine"): VersionedEntity(good, S.IN_DESIGN, 0),
            (EntityKind.PRODUCT, "broken"): VersionedEntity(broken, S.IN_DESIGN, 0),
        },
    )
    with pytest.raises(ValidationError, match="unknown business 'missing'"):
        service.import_content(bundle)
    assert service.content(DRAFT) == before


def test_reference_data_must_stay_one_tree(service: CatalogService) -> None:
    with pytest.raises(ValidationError, match="unknown parent area 'XX'"):
        service.put_reference_data([area("YY", parent_code="XX")], [], [])
    with pytest.raises(ValidationError, match="only one nation"):
        service.put_reference_data([area("US")], [], [])
    with pytest.raises(ValidationError, match="a city belongs to a province"):
        service.put_reference_data([area("ZZ", level=AreaLevel.CITY, parent_code="CN")], [], [])


def test_diff_between_version_and_draft(service: CatalogService) -> None:
    _ready(service, EntityKind.BUSINESS, "voice")
    service.publish(JAN, "v1")
    service.create(product("p1"))
    changes = service.diff(VersionNumber(1), DRAFT)
    assert [(c.kind, c.code, c.change_type.name) for c in changes] == [("product", "p1", "ADDED")]
    assert service.diff(VersionNumber(1), VersionNumber(1)) == []


def test_add_ons_join_combos_through_choice_groups_only(service: CatalogService) -> None:
    from catalog.model import ChoiceGroup

    service.create(product("plan"))
    service.create(product("caller_id", kind=ProductKind.ADD_ON, base_product_codes=("plan",)))
    with pytest.raises(ValidationError, match="member slots take main products"):
        service.create(combo("bad", members=(ComboMember("plan"), ComboMember("caller_id"))))
    extras = ChoiceGroup("extras", ("caller_id",), min_count=0, max_count=1)
    created = service.create(combo("good", members=(ComboMember("plan"),), choice_groups=(extras,)))
    assert created.status is S.IN_DESIGN
