"""Catalog diffs: what changed, where, and nothing when the canonical documents are equal."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from catalog import codec
from catalog.content import CatalogContent
from catalog.diff import MAX_PREFIX_CHANGES, Change, ChangeType, FieldChange, diff
from catalog.model import (
    Area,
    AreaLevel,
    Audience,
    Channel,
    ChannelKind,
    Combo,
    CustomerType,
    Definition,
    EntityKind,
    LifecycleStatus,
    Product,
    RuleSource,
    Segment,
    TimePeriod,
    VersionedEntity,
    ZoneTable,
)
from tests.support.catalogs import CN_ZONES, YOUTH_PLAN, sample_content
from tests.support.strategies import contents, variants

ADDED, REMOVED, MODIFIED = ChangeType.ADDED, ChangeType.REMOVED, ChangeType.MODIFIED


def edited(
    content: CatalogContent,
    *,
    put: tuple[Definition, ...] = (),
    drop: tuple[tuple[EntityKind, str], ...] = (),
    status: LifecycleStatus | None = None,
    version: int | None = None,
    areas: Mapping[str, Area] | None = None,
    channels: Mapping[str, Channel] | None = None,
    segments: Mapping[str, Segment] | None = None,
    zone_tables: Mapping[str, ZoneTable] | None = None,
    rule_sources: tuple[RuleSource, ...] | None = None,
) -> CatalogContent:
    """`content` with entities put or dropped, and reference data replaced when given."""
    entities = dict(content.entities)
    for definition in put:
        key = (definition.entity_kind, definition.code)
        old = entities.get(key)
        entities[key] = VersionedEntity(
            definition,
            status or (old.status if old else LifecycleStatus.IN_DESIGN),
            version if version is not None else (old.version if old else 0),
        )
    for key in drop:
        del entities[key]
    return CatalogContent.build(
        areas=content.areas if areas is None else areas,
        channels=content.channels if channels is None else channels,
        segments=content.segments if segments is None else segments,
        zone_tables=content.zone_tables if zone_tables is None else zone_tables,
        rule_sources=content.rule_sources if rule_sources is None else rule_sources,
        entities=entities,
    )


def only(changes: list[Change]) -> Change:
    assert len(changes) == 1, changes
    return changes[0]


def test_identical_contents_have_no_changes() -> None:
    assert diff(sample_content(), sample_content()) == []
    assert diff(CatalogContent.build(), CatalogContent.build()) == []


def test_added_and_removed_entities_carry_no_fields() -> None:
    before = sample_content()
    after = edited(before, drop=((EntityKind.PRODUCT, "youth_plan"),))
    assert diff(before, after) == [Change("product", "youth_plan", REMOVED, ())]
    assert diff(after, before) == [Change("product", "youth_plan", ADDED, ())]


def test_status_and_version_are_fields() -> None:
    before = sample_content()
    after = edited(before, put=(YOUTH_PLAN,), status=LifecycleStatus.RETIRED, version=2)
    assert only(diff(before, after)) == Change(
        "product",
        "youth_plan",
        MODIFIED,
        (
            FieldChange("status", '"launched"', '"retired"'),
            FieldChange("version", "1", "2"),
        ),
    )


def test_nested_fields_get_dotted_paths_and_compact_json() -> None:
    before = sample_content()
    youth = dataclasses.replace(
        YOUTH_PLAN,
        name="新势力 59",
        audience=Audience((CustomerType.PERSONAL,), ("youth", "vip")),
        valid_for=TimePeriod(datetime(2026, 3, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)),
        channel_codes=(),
    )
    change = only(diff(before, edited(before, put=(youth,))))
    assert change.fields == (
        FieldChange("name", '"新势力 39"', '"新势力 59"'),
        FieldChange("audience.segment_codes", '["youth"]', '["youth","vip"]'),
        FieldChange("channel_codes", '["hall","web","sms","agent"]', ""),
        FieldChange("valid_for.start", '"2026-01-01T00:00:00Z"', '"2026-03-01T00:00:00Z"'),
        FieldChange("valid_for.end", "", '"2027-01-01T00:00:00Z"'),
    )


def test_a_whole_nested_object_appearing_is_reported_per_field() -> None:
    before = sample_content()
    family = before.get(EntityKind.PRODUCT, "family_plan")
    assert family is not None
    assert isinstance(family.definition, Product)
    plain = dataclasses.replace(family.definition, audience=Audience())
    change = only(diff(before, edited(before, put=(plain,))))
    assert change.fields == (
        FieldChange("audience.customer_types", '["personal"]', ""),
        FieldChange("audience.segment_codes", '["family"]', ""),
    )


def test_lists_of_objects_are_compared_whole() -> None:
    before = sample_content()
    bundle = before.get(EntityKind.COMBO, "family_bundle")
    assert bundle is not None
    assert isinstance(bundle.definition, Combo)
    members = bundle.definition.members[:2]
    after = edited(before, put=(dataclasses.replace(bundle.definition, members=members),))
    (field,) = only(diff(before, after)).fields
    assert field.path == "members"
    assert json.loads(field.before)[2] == {
        "offer_code": "family_plan",
        "max_count": 3,
        "default_count": 2,
    }
    assert len(json.loads(field.after)) == 2


def test_rule_sources_are_keyed_by_path() -> None:
    before = sample_content()
    youth = dataclasses.replace(
        YOUTH_PLAN,
        rule_sources=(
            RuleSource("products/youth_plan.tariff", "price monthly 29.00\n"),
            RuleSource("products/youth_extra.tariff", "# 新\n"),
        ),
    )
    change = only(diff(before, edited(before, put=(youth,))))
    old_text = YOUTH_PLAN.rule_sources[0].text
    assert change.fields == (
        FieldChange("rule_sources[products/youth_extra.tariff]", "", '"# 新\\n"'),
        FieldChange(
            "rule_sources[products/youth_plan.tariff]",
            json.dumps(old_text, ensure_ascii=False),
            '"price monthly 29.00\\n"',
        ),
    )


def test_rule_source_order_change_is_reported_on_the_list() -> None:
    first, second = RuleSource("a.tariff", "1"), RuleSource("b.tariff", "2")
    before = edited(
        sample_content(), put=(dataclasses.replace(YOUTH_PLAN, rule_sources=(first, second)),)
    )
    after = edited(before, put=(dataclasses.replace(YOUTH_PLAN, rule_sources=(second, first)),))
    assert only(diff(before, after)).fields == (
        FieldChange("rule_sources", '["a.tariff","b.tariff"]', '["b.tariff","a.tariff"]'),
    )


def test_reference_data_changes() -> None:
    before = sample_content()
    areas = {**before.areas, "HN": Area("HN", "海南", AreaLevel.PROVINCE, "CN")}
    areas["GD"] = Area("GD", "广东省", AreaLevel.PROVINCE, "CN")
    channels = {k: v for k, v in before.channels.items() if k != "agent"}
    segments = {**before.segments, "vip": Segment("vip", "世界风高端客户")}
    after = edited(before, areas=areas, channels=channels, segments=segments)
    assert diff(before, after) == [
        Change("area", "GD", MODIFIED, (FieldChange("name", '"广东"', '"广东省"'),)),
        Change("area", "HN", ADDED),
        Change("channel", "agent", REMOVED),
        Change("segment", "vip", MODIFIED, (FieldChange("customer_type", '"personal"', ""),)),
    ]


def test_catalog_rule_sources_are_items_keyed_by_path() -> None:
    before = sample_content()
    common, _ = before.rule_sources
    after = edited(
        before,
        rule_sources=(
            RuleSource(common.path, common.text + "# 新规则\n"),
            RuleSource("rules/zones.tariff", "zone_table cn_zones\n"),
        ),
    )
    changes = diff(before, after)
    assert [(c.kind, c.code, c.change_type) for c in changes] == [
        ("catalog_rule_source", "rules/common.tariff", MODIFIED),
        ("catalog_rule_source", "rules/holidays.tariff", REMOVED),
        ("catalog_rule_source", "rules/zones.tariff", ADDED),
    ]
    (field,) = changes[0].fields
    assert field.path == "text"
    assert json.loads(field.after) == common.text + "# 新规则\n"


def with_table(content: CatalogContent, table: ZoneTable) -> CatalogContent:
    return edited(content, zone_tables={**content.zone_tables, table.name: table})


def test_zone_tables_are_reported_per_prefix() -> None:
    before = sample_content()
    rows = dict(CN_ZONES.prefixes)
    rows["1380"] = "mobile_gd"
    rows["0898"] = "national"
    del rows["00"]
    table = dataclasses.replace(CN_ZONES, prefixes=tuple(sorted(rows.items())), description="")
    change = only(diff(before, with_table(before, table)))
    assert change == Change(
        "zone_table",
        "cn_zones",
        MODIFIED,
        (
            FieldChange("prefixes[00]", '"international"', ""),
            FieldChange("prefixes[0898]", "", '"national"'),
            FieldChange("prefixes[1380]", '"mobile"', '"mobile_gd"'),
            FieldChange("description", json.dumps(CN_ZONES.description, ensure_ascii=False), ""),
        ),
    )


def test_many_prefix_changes_are_capped_with_a_summary() -> None:
    before = with_table(CatalogContent.build(), ZoneTable("big", (("1", "a"),)))
    rows = tuple((f"{n:04d}", "z") for n in range(MAX_PREFIX_CHANGES + 50))
    after = with_table(before, ZoneTable("big", (("1", "b"), *rows)))
    fields = only(diff(before, after)).fields
    assert len(fields) == MAX_PREFIX_CHANGES + 1
    assert fields[0] == FieldChange("prefixes[0000]", "", '"z"')
    assert fields[-1] == FieldChange(
        "prefixes",
        '{"rows":1}',
        '{"added":150,"changed":1,"not_listed":51,"removed":0,"rows":151}',
    )


def test_exactly_the_cap_needs_no_summary() -> None:
    rows = tuple((str(n), "z") for n in range(MAX_PREFIX_CHANGES))
    after = with_table(CatalogContent.build(), ZoneTable("t", rows))
    before = with_table(CatalogContent.build(), ZoneTable("t", ()))
    fields = only(diff(before, after)).fields
    assert len(fields) == MAX_PREFIX_CHANGES
    assert all(f.path.startswith("prefixes[") for f in fields)


def test_prefix_order_change_gets_a_summary_without_counts() -> None:
    before = with_table(CatalogContent.build(), CN_ZONES)
    after = with_table(before, dataclasses.replace(CN_ZONES, prefixes=CN_ZONES.prefixes[::-1]))
    assert only(diff(before, after)).fields == (
        FieldChange(
            "prefixes", '{"rows":8}', '{"added":0,"changed":0,"not_listed":0,"removed":0,"rows":8}'
        ),
    )


def test_changes_are_ordered_by_kind_then_code() -> None:
    before = CatalogContent.build()
    after = sample_content()
    changes = diff(before, after)
    kinds = ["business", "product", "combo", "area", "channel", "segment", "zone_table"]
    kinds.append("catalog_rule_source")
    order = [(kinds.index(c.kind), c.code) for c in changes]
    assert order == sorted(order)
    assert {c.change_type for c in changes} == {ADDED}
    assert [c.kind for c in changes][-1] == "catalog_rule_source"
    assert len(changes) == 8 + 7 + 1 + 7 + 6 + 5 + 1 + 2


def test_channel_kind_change() -> None:
    before = sample_content()
    channels = {**before.channels, "web": Channel("web", "网上营业厅", ChannelKind.PARTNER)}
    change = only(diff(before, edited(before, channels=channels)))
    assert change.fields == (FieldChange("kind", '"self_service"', '"partner"'),)


# --- properties ------------------------------------------------------------------------------


@given(contents())
@settings(max_examples=100, deadline=None)
def test_a_content_has_no_changes_against_itself(content: CatalogContent) -> None:
    assert diff(content, content) == []


@st.composite
def pairs(draw: st.DrawFn) -> tuple[CatalogContent, CatalogContent]:
    first = draw(contents())
    second = draw(st.one_of(variants(first), contents(), st.just(first)))
    return first, second


@given(pairs())
@settings(max_examples=200, deadline=None)
def test_diff_is_empty_exactly_when_canonical_documents_are_equal(
    pair: tuple[CatalogContent, CatalogContent],
) -> None:
    before, after = pair
    changes = diff(before, after)
    same = codec.encode_content(before) == codec.encode_content(after)
    assert (changes == []) == same
    reverse = diff(after, before)
    assert len(reverse) == len(changes)
    for change, back in zip(changes, reverse, strict=True):
        assert (change.kind, change.code) == (back.kind, back.code)
        assert all(f.before != f.after for f in change.fields)
        if change.change_type is MODIFIED:
            assert change.fields
            assert [(f.path, f.before, f.after) for f in change.fields] == [
                (f.path, f.after, f.before) for f in back.fields
            ] or any(f.path == "prefixes" for f in change.fields)
        else:
            assert change.fields == ()
