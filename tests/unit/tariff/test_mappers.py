"""Proto <-> domain mapping: exact round trips, and every malformed input named by its path."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from google.protobuf import timestamp_pb2
from google.protobuf.message import Message

from catalog import model
from catalog.diff import Change, ChangeType, FieldChange
from catalog.errors import ValidationError
from catalog.queries import paginate
from catalog.services import ImportMode, ImportResult, Listed, Published
from catalog.versions import DRAFT, AsOf, Draft, VersionNumber
from dsl.diagnostics import Diagnostic
from tariff.mappers import catalog as m
from tariff.mappers import common, entities, enums, reference
from tariff.mappers import versions as vmap
from tariff.mappers.common import EnumMap, Problems
from tariff.v1 import catalog_pb2, catalog_service_pb2, common_pb2
from tests.support.builders import business, combo, product, version_info
from tests.support.catalogs import sample_content

T1 = datetime(2026, 1, 1, tzinfo=UTC)
T2 = datetime(2026, 6, 1, 8, 30, 15, 123456, tzinfo=UTC)


def violations(call: Callable[[], object]) -> list[str]:
    """Field paths of the ValidationError `call` raises."""
    with pytest.raises(ValidationError) as caught:
        call()
    return [v.field for v in caught.value.violations]


def wire(message: Message) -> Any:
    """The message after a trip over the wire (serialize, parse)."""
    return type(message).FromString(message.SerializeToString())


def full_product() -> model.Product:
    """Every field of a product set to something other than its default."""
    return product(
        "family_plus",
        name="亲情1+ 融合套餐",
        kind=model.ProductKind.ADD_ON,
        business_codes=("local_voice", "broadband"),
        owner_area_code="GD",
        category="fusion",
        description="固话 + 宽带 + 手机, one family bill",
        base_product_codes=("broadband_70",),
        audience=model.Audience(
            customer_types=(model.CustomerType.PERSONAL, model.CustomerType.ENTERPRISE),
            segment_codes=("family", "youth"),
        ),
        area_codes=("GD", "GD_SZ"),
        tariff_plan="family_plan",
        tariff_overrides=(model.AreaTariffOverride("GD_SZ", "family_plan_sz"),),
        channel_codes=("hall", "web"),
        service_level="gold",
        resources=("sim_card", "optical_port"),
        valid_for=model.TimePeriod(T1, T2),
        requires_codes=("mobile_base",),
        excludes_codes=("campus_card",),
        rule_sources=(model.RuleSource("products/family_plus.tariff", "价格 58 元\n"),),
    )


def full_combo() -> model.Combo:
    return combo(
        "family_bundle",
        name="亲情1+",
        owner_area_code="CN",
        members=(
            model.ComboMember("fixed_line", 1, 1, 1),
            model.ComboMember("mobile_line", 1, 5, 2),
            model.ComboMember("broadband", 0, 1, 0),
        ),
        category="family",
        description="3G broadband 1+1",
        choice_groups=(model.ChoiceGroup("handset_gift", ("deposit_phone", "two_phones"), 0, 1),),
        audience=model.Audience(customer_types=(model.CustomerType.PERSONAL,)),
        area_codes=("CN",),
        tariff_plan="bundle",
        tariff_overrides=(model.AreaTariffOverride("GD", "bundle_gd"),),
        channel_codes=("hall",),
        service_level="standard",
        valid_for=model.TimePeriod(start=T1),
        requires_codes=("id_card",),
        excludes_codes=("other_bundle",),
        rule_sources=(model.RuleSource("combos/family_bundle.tariff", "waive install 58\n"),),
    )


# -- round trips ------------------------------------------------------------------------------


def _round_trip(definition: model.Definition) -> model.Definition:
    problems = Problems()
    back: model.Definition | None
    if isinstance(definition, model.Business):
        back = entities.business_from_proto(
            wire(entities.business_to_proto(definition)), "business", problems
        )
    elif isinstance(definition, model.Product):
        back = entities.product_from_proto(
            wire(entities.product_to_proto(definition)), "product", problems
        )
    else:
        back = entities.combo_from_proto(
            wire(entities.combo_to_proto(definition)), "combo", problems
        )
    assert problems.violations == []
    assert back is not None
    return back


def test_every_entity_of_the_sample_catalog_round_trips() -> None:
    catalog = sample_content()
    assert catalog.entities, "the sample catalog has entities"
    for entity in catalog.entities.values():
        assert _round_trip(entity.definition) == entity.definition


@pytest.mark.parametrize(
    "definition",
    [
        full_product(),
        full_combo(),
        business(
            "caller_id",
            name="来电显示",
            kind=model.BusinessKind.VALUE_ADDED,
            usage_measure=model.UsageMeasure.NONE,
            unit="month",
            description="显示来电号码",
            rule_sources=(model.RuleSource("businesses/caller_id.tariff", "月费 5 元\n"),),
        ),
    ],
    ids=["product", "combo", "business"],
)
def test_fully_populated_definitions_round_trip(definition: model.Definition) -> None:
    assert _round_trip(definition) == definition


def test_reference_data_of_the_sample_catalog_round_trips() -> None:
    catalog = sample_content()
    problems = Problems()
    for area in catalog.areas.values():
        msg = wire(reference.area_to_proto(area))
        assert reference.area_from_proto(msg, "areas[0]", problems) == area
    for channel in catalog.channels.values():
        msg = wire(reference.channel_to_proto(channel))
        assert reference.channel_from_proto(msg, "channels[0]", problems) == channel
    for segment in catalog.segments.values():
        msg = wire(reference.segment_to_proto(segment))
        assert reference.segment_from_proto(msg, "segments[0]", problems) == segment
    for table in catalog.zone_tables.values():
        msg = wire(reference.zone_table_to_proto(table))
        assert reference.zone_table_from_proto(msg, "table", problems) == table
    for source in catalog.rule_sources:
        msg = wire(common.rule_source_to_proto(source))
        assert common.rule_source_from_proto(msg, "sources[0]", problems) == source
    assert problems.violations == []


def test_unicode_text_is_sent_exactly() -> None:
    name = "亲情1+ e\u0301 \u00e9 𝄞 \u200d"  # CJK, decomposed and composed é, astral plane, ZWJ
    msg = wire(entities.combo_to_proto(replace(full_combo(), name=name)))
    assert msg.name == name
    assert entities.combo_from_proto(msg, "combo", Problems()).name == name


def test_reads_carry_status_and_meta() -> None:
    created = datetime(2026, 2, 3, 4, 5, 6, 789000, tzinfo=UTC)
    listed = Listed(
        definition=full_product(),
        status=model.LifecycleStatus.IN_TEST,
        version=2,
        catalog_version=0,
        revision=7,
        created_at=created,
        updated_at=created + timedelta(hours=1),
    )
    msg = wire(entities.listed_product(listed))
    assert msg.status == catalog_pb2.LIFECYCLE_STATUS_IN_TEST
    assert msg.meta.revision == 7
    assert msg.meta.version == 2
    assert msg.meta.catalog_version == 0
    assert msg.meta.create_time.ToDatetime(tzinfo=UTC) == created
    assert msg.meta.update_time.ToDatetime(tzinfo=UTC) == created + timedelta(hours=1)


def test_a_published_read_leaves_revision_and_times_unset() -> None:
    listed = Listed(business("voice"), model.LifecycleStatus.LAUNCHED, 1, catalog_version=3)
    msg = entities.listed_business(listed)
    assert msg.meta.catalog_version == 3
    assert msg.meta.revision == 0
    assert not msg.meta.HasField("create_time")
    assert not msg.meta.HasField("update_time")


def test_a_read_of_the_wrong_kind_is_a_bug_not_a_silent_mismatch() -> None:
    listed = Listed(business("voice"), model.LifecycleStatus.IN_DESIGN, 0)
    with pytest.raises(TypeError):
        entities.listed_product(listed)


def test_status_and_meta_sent_by_a_client_are_ignored_on_write() -> None:
    msg = entities.business_to_proto(business("voice"), model.LifecycleStatus.RETIRED)
    msg.meta.revision = 99
    request = catalog_service_pb2.CreateBusinessRequest(business=msg)
    assert m.business_create(request) == business("voice")


# -- instants ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "instant",
    [
        T2,
        datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    ],
)
def test_instants_round_trip_to_the_microsecond(instant: datetime) -> None:
    ts = common.datetime_to_timestamp(instant)
    assert ts is not None
    back = common.timestamp_to_datetime(wire(ts), "t", Problems())
    assert back == instant
    assert back is not None
    assert back.tzinfo is UTC


def test_an_instant_in_another_zone_is_sent_as_the_same_instant() -> None:
    beijing = T2.astimezone(timezone(timedelta(hours=8)))
    ts = common.datetime_to_timestamp(beijing)
    assert ts is not None
    assert ts.ToDatetime(tzinfo=UTC) == T2


def test_a_naive_instant_is_taken_as_utc_and_none_stays_unset() -> None:
    ts = common.datetime_to_timestamp(T2.replace(tzinfo=None))
    assert ts is not None
    assert ts.ToDatetime(tzinfo=UTC) == T2
    assert common.datetime_to_timestamp(None) is None


def test_nanoseconds_below_a_microsecond_are_dropped() -> None:
    ts = timestamp_pb2.Timestamp(seconds=0, nanos=1_999)
    assert common.timestamp_to_datetime(ts, "t", Problems()) == datetime(
        1970, 1, 1, 0, 0, 0, 1, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("seconds", "nanos"),
    [(0, -1), (0, 1_000_000_000), (common.MAX_SECONDS + 1, 0), (common.MIN_SECONDS - 1, 0)],
)
def test_out_of_range_timestamps_are_violations(seconds: int, nanos: int) -> None:
    problems = Problems()
    ts = timestamp_pb2.Timestamp(seconds=seconds, nanos=nanos)
    assert common.timestamp_to_datetime(ts, "product.valid_for.start", problems) is None
    assert [v.field for v in problems.violations] == ["product.valid_for.start"]


def test_time_periods_keep_open_bounds_open() -> None:
    for period in (model.TimePeriod(), model.TimePeriod(start=T1), model.TimePeriod(end=T2)):
        msg = wire(common.time_period_to_proto(period))
        assert common.time_period_from_proto(msg, "valid_for", Problems()) == period


# -- enums ------------------------------------------------------------------------------------

ALL_ENUMS: list[tuple[EnumMap[Any, Any], type[Any]]] = [
    (enums.LIFECYCLE_STATUS, model.LifecycleStatus),
    (enums.BUSINESS_KIND, model.BusinessKind),
    (enums.USAGE_MEASURE, model.UsageMeasure),
    (enums.PRODUCT_KIND, model.ProductKind),
    (enums.CUSTOMER_TYPE, model.CustomerType),
    (enums.AREA_LEVEL, model.AreaLevel),
    (enums.CHANNEL_KIND, model.ChannelKind),
    (enums.ENTITY_KIND, model.EntityKind),
    (enums.CHANGE_TYPE, ChangeType),
    (enums.IMPORT_MODE, ImportMode),
]


@pytest.mark.parametrize(("mapping", "domain"), ALL_ENUMS)
def test_every_enum_value_maps_both_ways(mapping: EnumMap[Any, Any], domain: type[Any]) -> None:
    problems = Problems()
    for member in domain:
        number = mapping.to_proto(member)
        assert number != mapping.unspecified
        assert mapping.from_proto(number, "f", problems) is member
    assert problems.violations == []


def test_proto_and_domain_enums_are_matched_by_name() -> None:
    assert enums.LIFECYCLE_STATUS.to_proto(model.LifecycleStatus.LAUNCHED) == (
        catalog_pb2.LIFECYCLE_STATUS_LAUNCHED
    )
    assert enums.IMPORT_MODE.to_proto(ImportMode.REPLACE) == catalog_service_pb2.IMPORT_MODE_REPLACE


@pytest.mark.parametrize(("mapping", "domain"), ALL_ENUMS)
def test_unspecified_and_unknown_enum_values_are_violations(
    mapping: EnumMap[Any, Any], domain: type[Any]
) -> None:
    problems = Problems()
    assert mapping.from_proto(mapping.unspecified, "a", problems) is None
    assert mapping.from_proto(99, "b", problems) is None
    assert mapping.optional_from_proto(mapping.unspecified, "c", problems) is None
    assert mapping.optional_from_proto(99, "d", problems) is None
    assert [v.field for v in problems.violations] == ["a", "b", "d"]


def test_an_enum_missing_on_the_domain_side_fails_at_import_time() -> None:
    with pytest.raises(RuntimeError, match="IMPORT_MODE_REPLACE"):
        EnumMap(catalog_service_pb2.ImportMode, "IMPORT_MODE", _OnlyMerge)


class _OnlyMerge(enum.Enum):
    MERGE = "merge"


# -- entity writes: every problem, by proto path ----------------------------------------------


def test_an_empty_business_reports_every_required_field_at_once() -> None:
    request = catalog_service_pb2.CreateBusinessRequest(
        business=catalog_pb2.Business(rule_sources=[common_pb2.RuleSource(text="x")])
    )
    assert violations(lambda: m.business_create(request)) == [
        "business.code",
        "business.name",
        "business.kind",
        "business.usage_measure",
        "business.rule_sources[0].path",
    ]


def test_a_write_without_its_entity_names_the_entity() -> None:
    assert violations(lambda: m.business_create(catalog_service_pb2.CreateBusinessRequest())) == [
        "business"
    ]
    assert violations(lambda: m.product_create(catalog_service_pb2.CreateProductRequest())) == [
        "product"
    ]
    assert violations(lambda: m.combo_create(catalog_service_pb2.CreateComboRequest())) == ["combo"]


def test_a_malformed_product_reports_every_problem_with_its_path() -> None:
    msg = entities.product_to_proto(full_product())
    msg.kind = catalog_pb2.PRODUCT_KIND_UNSPECIFIED
    msg.name = "   "
    msg.owner_area_code = ""
    msg.audience.customer_types.append(catalog_pb2.CUSTOMER_TYPE_UNSPECIFIED)
    msg.area_codes.append("")
    msg.channel_codes[0] = ""
    msg.tariff_overrides.add(area_code="GD", tariff_plan="")
    msg.valid_for.start.nanos = -5
    msg.rule_sources.add(path="", text="")
    request = catalog_service_pb2.CreateProductRequest(product=msg)
    assert violations(lambda: m.product_create(request)) == [
        "product.name",
        "product.kind",
        "product.owner_area_code",
        "product.audience.customer_types[2]",
        "product.area_codes[2]",
        "product.tariff_overrides[1].tariff_plan",
        "product.channel_codes[0]",
        "product.valid_for.start",
        "product.rule_sources[1].path",
    ]


def test_a_malformed_combo_reports_members_and_groups_by_index() -> None:
    msg = entities.combo_to_proto(full_combo())
    msg.code = ""
    msg.members[1].offer_code = ""
    msg.choice_groups[0].name = ""
    msg.choice_groups[0].offer_codes.append(" ")
    msg.valid_for.end.seconds = common.MAX_SECONDS + 10
    request = catalog_service_pb2.UpdateComboRequest(combo=msg, expected_revision=3)
    assert violations(lambda: m.combo_update(request)) == [
        "combo.code",
        "combo.members[1].offer_code",
        "combo.choice_groups[0].name",
        "combo.choice_groups[0].offer_codes[2]",
        "combo.valid_for.end",
    ]


def test_updates_need_the_revision_read_reported_with_the_definition_problems() -> None:
    msg = entities.business_to_proto(business("voice"))
    msg.kind = catalog_pb2.BUSINESS_KIND_UNSPECIFIED
    request = catalog_service_pb2.UpdateBusinessRequest(business=msg)
    assert violations(lambda: m.business_update(request)) == [
        "business.kind",
        "expected_revision",
    ]
    good = catalog_service_pb2.UpdateProductRequest(
        product=entities.product_to_proto(full_product()), expected_revision=4
    )
    assert m.product_update(good) == (full_product(), 4)


# -- reads, selectors, filters ----------------------------------------------------------------


def test_an_unset_selector_reads_the_draft() -> None:
    read = m.entity_read(catalog_service_pb2.GetProductRequest(code="p"))
    assert read == m.EntityRead("p", DRAFT)


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        (common_pb2.VersionSelector(version=3), VersionNumber(3)),
        (common_pb2.VersionSelector(draft=True), Draft()),
        (
            common_pb2.VersionSelector(as_of=common.datetime_to_timestamp(T2)),
            AsOf(T2),
        ),
    ],
)
def test_selectors_name_a_version_an_instant_or_the_draft(
    selector: common_pb2.VersionSelector, expected: object
) -> None:
    request = catalog_service_pb2.GetComboRequest(code="c", selector=selector)
    assert m.entity_read(request).selector == expected


@pytest.mark.parametrize(
    ("selector", "path"),
    [
        (common_pb2.VersionSelector(version=0), "selector.version"),
        (common_pb2.VersionSelector(draft=False), "selector.draft"),
        (
            common_pb2.VersionSelector(as_of=timestamp_pb2.Timestamp(nanos=-1)),
            "selector.as_of",
        ),
    ],
)
def test_bad_selectors_are_violations(selector: common_pb2.VersionSelector, path: str) -> None:
    request = catalog_service_pb2.GetBusinessRequest(code="", selector=selector)
    assert violations(lambda: m.entity_read(request)) == ["code", path]


def test_the_catalog_version_header_refuses_the_draft() -> None:
    draft = catalog_service_pb2.GetCatalogVersionRequest(
        selector=common_pb2.VersionSelector(draft=True)
    )
    assert violations(lambda: vmap.version_read(draft)) == ["selector"]
    assert vmap.version_read(catalog_service_pb2.GetCatalogVersionRequest()) is None
    by_number = catalog_service_pb2.GetCatalogVersionRequest(
        selector=common_pb2.VersionSelector(version=2)
    )
    assert vmap.version_read(by_number) == VersionNumber(2)


def test_diff_sides_default_to_the_service_and_name_base_and_target() -> None:
    assert vmap.diff_sides(catalog_service_pb2.DiffCatalogVersionsRequest()) == (None, None)
    request = catalog_service_pb2.DiffCatalogVersionsRequest(
        base=common_pb2.VersionSelector(version=0), target=common_pb2.VersionSelector(version=0)
    )
    assert violations(lambda: vmap.diff_sides(request)) == ["base.version", "target.version"]
    request.base.version = 1
    request.target.draft = True
    assert vmap.diff_sides(request) == (VersionNumber(1), DRAFT)


def test_list_filters_map_every_field_and_refuse_unspecified_statuses() -> None:
    request = catalog_service_pb2.ListProductsRequest(
        filter=catalog_service_pb2.CatalogFilter(
            area_code="GD_SZ",
            channel_code="hall",
            segment_code="youth",
            statuses=[catalog_pb2.LIFECYCLE_STATUS_LAUNCHED, catalog_pb2.LIFECYCLE_STATUS_RETIRED],
            category="mobile",
        ),
        page_size=5,
        page_token="abc",
    )
    query = m.list_query(request)
    assert query.selector == DRAFT
    assert query.filter.area_code == "GD_SZ"
    assert query.filter.channel_code == "hall"
    assert query.filter.segment_code == "youth"
    assert query.filter.statuses == {model.LifecycleStatus.LAUNCHED, model.LifecycleStatus.RETIRED}
    assert query.filter.category == "mobile"
    assert (query.page_size, query.page_token) == (5, "abc")
    request.filter.statuses.append(catalog_pb2.LIFECYCLE_STATUS_UNSPECIFIED)
    request.selector.version = 0
    assert violations(lambda: m.list_query(request)) == ["selector.version", "filter.statuses[2]"]


# -- lifecycle, rule sources, reference data --------------------------------------------------


def test_transitions_need_a_target_a_state_and_a_revision() -> None:
    assert violations(lambda: m.transition(catalog_service_pb2.TransitionLifecycleRequest())) == [
        "target",
        "to_status",
        "expected_revision",
    ]
    request = catalog_service_pb2.TransitionLifecycleRequest(
        target=catalog_pb2.EntityRef(kind=catalog_pb2.ENTITY_KIND_UNSPECIFIED, code=""),
        to_status=catalog_pb2.LIFECYCLE_STATUS_IN_TEST,
        expected_revision=1,
    )
    assert violations(lambda: m.transition(request)) == ["target.kind", "target.code"]
    request.target.kind = catalog_pb2.ENTITY_KIND_COMBO
    request.target.code = "family_bundle"
    assert m.transition(request) == m.Transition(
        model.EntityKind.COMBO, "family_bundle", model.LifecycleStatus.IN_TEST, 1
    )


def test_rule_sources_attach_to_the_catalog_without_a_revision() -> None:
    request = catalog_service_pb2.AttachRuleSourcesRequest(
        sources=[common_pb2.RuleSource(path="common/zones.tariff", text="区")],
        remove_paths=["old.tariff"],
    )
    assert m.attach(request) == m.Attach(
        None, (model.RuleSource("common/zones.tariff", "区"),), ("old.tariff",), 0
    )
    request.target.kind = catalog_pb2.ENTITY_KIND_PRODUCT
    request.remove_paths.append("")
    assert violations(lambda: m.attach(request)) == [
        "target.code",
        "expected_revision",
        "remove_paths[1]",
    ]


def test_reference_data_reports_unspecified_levels_kinds_and_unknown_types() -> None:
    request = catalog_service_pb2.PutReferenceDataRequest(
        areas=[
            catalog_pb2.Area(code="CN", name="中国", level=catalog_pb2.AREA_LEVEL_NATION),
            catalog_pb2.Area(code="GD", name=""),
        ],
        channels=[catalog_pb2.Channel(code="hall", name="营业厅")],
        segments=[catalog_pb2.Segment(code="", name="VIP", customer_type=42)],  # type: ignore[arg-type]
    )
    assert violations(lambda: m.reference_data(request)) == [
        "areas[1].name",
        "areas[1].level",
        "channels[0].kind",
        "segments[0].code",
        "segments[0].customer_type",
    ]


def test_a_segment_without_customer_type_admits_either() -> None:
    request = catalog_service_pb2.PutReferenceDataRequest(
        segments=[catalog_pb2.Segment(code="youth", name="新势力")]
    )
    assert m.reference_data(request).segments == (model.Segment("youth", "新势力", None),)


def test_zone_tables_need_a_name_and_full_rows() -> None:
    assert violations(lambda: m.zone_table(catalog_service_pb2.PutZoneTableRequest())) == ["table"]
    request = catalog_service_pb2.PutZoneTableRequest(
        table=catalog_pb2.ZoneTable(
            name="", prefixes=[catalog_pb2.ZonePrefix(prefix="0086", zone="")]
        )
    )
    assert violations(lambda: m.zone_table(request)) == ["table.name", "table.prefixes[0].zone"]
    assert violations(lambda: m.zone_table_read(catalog_service_pb2.GetZoneTableRequest())) == [
        "name"
    ]


def test_reference_data_lists_areas_parents_first() -> None:
    response = reference.reference_data_to_proto(sample_content())
    seen: set[str] = set()
    for area in response.areas:
        assert not area.parent_code or area.parent_code in seen, area.code
        seen.add(area.code)
    assert seen == set(sample_content().areas)
    assert [a.code for a in response.areas][:4] == ["CN", "BJ", "GD", "QH"]
    assert list(response.zone_table_names) == list(sample_content().zone_tables)
    assert [s.path for s in response.rule_sources] == [
        s.path for s in sample_content().rule_sources
    ]


# -- versions, diff, bundles ------------------------------------------------------------------


def test_publish_takes_an_optional_effective_time() -> None:
    assert vmap.publish(catalog_service_pb2.PublishCatalogRequest(description="v1")) == (None, "v1")
    request = catalog_service_pb2.PublishCatalogRequest(
        effective_from=common.datetime_to_timestamp(T1)
    )
    assert vmap.publish(request) == (T1, "")
    request.effective_from.nanos = 2_000_000_000
    assert violations(lambda: vmap.publish(request)) == ["effective_from"]


def test_catalog_versions_map_every_field() -> None:
    info = version_info(2, sample_content(), effective_from=T1, published_at=T2, description="春")
    msg = wire(vmap.catalog_version_to_proto(info))
    assert msg.number == 2
    assert msg.effective_from.ToDatetime(tzinfo=UTC) == T1
    assert msg.publish_time.ToDatetime(tzinfo=UTC) == T2
    assert msg.description == "春"
    assert msg.content_hash == info.content_hash
    assert (msg.business_count, msg.product_count, msg.combo_count) == info_counts(info)


def info_counts(info: model.CatalogVersionInfo) -> tuple[int, int, int]:
    assert info.business_count > 0
    return info.business_count, info.product_count, info.combo_count


def test_published_warnings_become_located_diagnostics() -> None:
    info = version_info(1, sample_content())
    warning = Diagnostic(
        "warning", "unused-plan", "no product uses plan `x`", "rules/common.tariff", 11, 1, 11, 5
    )
    response = vmap.published_to_proto(Published(info, sample_content(), (warning,)))
    assert response.version.number == 1
    [diagnostic] = response.diagnostics
    assert diagnostic.severity == common_pb2.SEVERITY_WARNING
    assert (diagnostic.code, diagnostic.message) == ("unused-plan", "no product uses plan `x`")
    assert (diagnostic.location.path, diagnostic.location.line) == ("rules/common.tariff", 11)
    assert diagnostic.source_line.startswith("plan long_distance")


def test_versions_page_newest_first() -> None:
    versions = [version_info(n, sample_content()) for n in range(1, 6)]
    ordered = vmap.newest_first(versions)
    first, token = paginate(ordered, vmap.newest_first_key, 2, "")
    second, token2 = paginate(ordered, vmap.newest_first_key, 2, token)
    third, token3 = paginate(ordered, vmap.newest_first_key, 2, token2)
    assert [v.number for v in first + second + third] == [5, 4, 3, 2, 1]
    assert token3 == ""


def test_diff_changes_map_every_field() -> None:
    change = Change(
        kind="product",
        code="family_plus",
        change_type=ChangeType.MODIFIED,
        fields=(FieldChange("name", '"亲情1"', '"亲情1+"'),),
    )
    response = wire(vmap.changes_to_proto([change]))
    [msg] = response.changes
    assert (msg.kind, msg.code) == ("product", "family_plus")
    assert msg.change_type == catalog_service_pb2.CHANGE_TYPE_MODIFIED
    assert [(f.path, f.before, f.after) for f in msg.fields] == [("name", '"亲情1"', '"亲情1+"')]


def test_imports_default_to_merge_and_refuse_unknown_modes() -> None:
    request = catalog_service_pb2.ImportCatalogBundleRequest(archive=b"PK", dry_run=True)
    assert vmap.bundle_import(request) == vmap.Import(b"PK", ImportMode.MERGE, True)
    request.mode = catalog_service_pb2.IMPORT_MODE_REPLACE
    assert vmap.bundle_import(request).mode is ImportMode.REPLACE
    request.mode = 7  # type: ignore[assignment]
    request.archive = b""
    assert violations(lambda: vmap.bundle_import(request)) == ["archive", "mode"]


def test_import_results_and_export_selectors() -> None:
    result = ImportResult(("product:a",), ("business:b",), ("combo:c",))
    response = vmap.import_result_to_proto(result)
    assert (list(response.created), list(response.updated), list(response.obsoleted)) == (
        ["product:a"],
        ["business:b"],
        ["combo:c"],
    )
    assert vmap.export_selector(catalog_service_pb2.ExportCatalogBundleRequest()) == DRAFT
    request = catalog_service_pb2.ExportCatalogBundleRequest(
        selector=common_pb2.VersionSelector(version=0)
    )
    assert violations(lambda: vmap.export_selector(request)) == ["selector.version"]
