"""The storage contract of `catalog.repository`, run against every implementation.

Tests taking `uow_factory` run on the in-memory store, SQLite and PostgreSQL. The last sections
need two transactions open at once, which the in-memory unit of work (one transaction at a
time, shared by every caller) cannot model, and the SQL adapter's own promises; they run on
SQLite and PostgreSQL only.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from catalog import codec
from catalog.content import CatalogContent
from catalog.errors import AlreadyExists, ConcurrentWrite, NotFound, StaleRevision, ValidationError
from catalog.model import (
    AreaLevel,
    AreaTariffOverride,
    Audience,
    BusinessKind,
    ChannelKind,
    ChoiceGroup,
    ComboMember,
    CustomerType,
    EntityKind,
    Entry,
    LifecycleStatus,
    ProductKind,
    RuleSource,
    TimePeriod,
    UsageMeasure,
    ZoneTable,
)
from catalog.repository import UnitOfWork
from catalog.sqlstore import SqlUnitOfWork, create_engine_for, entity_table, zone_table_table
from tests.support import builders as b
from tests.support.catalogs import sample_content
from tests.support.databases import migrated_database

UowFactory = Callable[[], UnitOfWork]

CST = timezone(timedelta(hours=8))


def _add(factory: UowFactory, *entries: Entry) -> None:
    with factory() as uow:
        for e in entries:
            uow.catalog.add_entry(e)
        uow.commit()


def _get(factory: UowFactory, kind: EntityKind, code: str) -> Entry | None:
    with factory() as uow:
        return uow.catalog.get_entry(kind, code)


def _rich_business() -> Entry:
    definition = b.business(
        "ring_tone",
        name="炫铃",
        kind=BusinessKind.VALUE_ADDED,
        usage_measure=UsageMeasure.COUNT,
        unit="次",
        description="Colour ring-back tone",
        rule_sources=(RuleSource("ring_tone/price.tariff", "价格 = 5\n"),),
    )
    return b.entry(definition, LifecycleStatus.LAUNCHED, 4, version=2)


def _rich_product() -> Entry:
    """A product with every field set, instants in a non-UTC zone."""
    definition = b.product(
        "family_mobile",
        name="亲情1+",
        kind=ProductKind.MAIN,
        business_codes=("voice", "data"),
        owner_area_code="GD",
        category="family",
        description="一家人，一张账单",
        base_product_codes=("base",),
        audience=Audience((CustomerType.PERSONAL,), ("mass", "vip")),
        area_codes=("GD", "SZ"),
        tariff_plan="family_58",
        tariff_overrides=(AreaTariffOverride("SZ", "family_48"),),
        channel_codes=("hall", "hotline"),
        service_level="gold",
        resources=("sim", "router"),
        valid_for=TimePeriod(datetime(2025, 3, 1, 8, tzinfo=CST), datetime(2026, 1, 1, tzinfo=UTC)),
        requires_codes=("voice_base",),
        excludes_codes=("campus",),
        rule_sources=(RuleSource("family_mobile/eligible.tariff", "age >= 18\n"),),
    )
    return b.entry(
        definition,
        LifecycleStatus.IN_TEST,
        7,
        version=1,
        created_at=datetime(2025, 2, 3, 4, 5, 6, 789, tzinfo=CST),
        updated_at=datetime(2025, 2, 4, tzinfo=UTC),
        published=b.product("family_mobile", name="亲情1+ (v1)"),
        published_status=LifecycleStatus.LAUNCHED,
    )


def _rich_combo() -> Entry:
    definition = b.combo(
        "fusion",
        name="融合套餐 3G 1+1",
        members=(ComboMember("family_mobile", 1, 3, 2), ComboMember("broadband")),
        choice_groups=(ChoiceGroup("handset", ("phone_a", "phone_b"), 0, 1),),
        audience=Audience(segment_codes=("vip",)),
        valid_for=TimePeriod(start=datetime(2025, 1, 1, tzinfo=UTC)),
    )
    return b.entry(definition, LifecycleStatus.IN_DESIGN, 1)


# --- entries -------------------------------------------------------------------------------


def test_entries_of_every_kind_round_trip(uow_factory: UowFactory) -> None:
    business, product, combo = _rich_business(), _rich_product(), _rich_combo()
    _add(uow_factory, product, combo, business)

    with uow_factory() as uow:
        repo = uow.catalog
        assert repo.get_entry(EntityKind.BUSINESS, "ring_tone") == business
        assert repo.get_entry(EntityKind.PRODUCT, "family_mobile") == product
        assert repo.get_entry(EntityKind.COMBO, "fusion") == combo
        assert repo.list_entries() == [business, combo, product]
        assert repo.list_entries(EntityKind.PRODUCT) == [product]
        assert repo.list_entries(EntityKind.COMBO) == [combo]


def test_instants_keep_their_moment_and_a_time_zone(uow_factory: UowFactory) -> None:
    stored = _rich_product()
    _add(uow_factory, stored)

    found = _get(uow_factory, EntityKind.PRODUCT, "family_mobile")

    assert found is not None
    assert found.state.created_at == stored.state.created_at
    assert found.state.created_at.utcoffset() is not None
    assert found.state.created_at.microsecond == 789


def test_missing_entry_is_none(uow_factory: UowFactory) -> None:
    assert _get(uow_factory, EntityKind.PRODUCT, "nothing") is None
    with uow_factory() as uow:
        assert uow.catalog.list_entries() == []


def test_entries_are_listed_by_kind_then_code_point(uow_factory: UowFactory) -> None:
    codes = ["z", "a_b", "ab", "A", "é", "_", "a", "Z9", "亲情"]
    _add(uow_factory, *(b.entry(b.product(code)) for code in codes))
    _add(uow_factory, b.entry(b.business("z")), b.entry(b.combo("combo")))

    with uow_factory() as uow:
        listed = [(e.kind.value, e.code) for e in uow.catalog.list_entries()]

    expected = [("business", "z"), ("combo", "combo")] + [("product", c) for c in sorted(codes)]
    assert listed == expected


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param(b.business("x"), b.business("x", name="other"), id="business-business"),
        pytest.param(b.product("x"), b.product("x", name="other"), id="product-product"),
        pytest.param(b.combo("x"), b.combo("x", name="other"), id="combo-combo"),
        pytest.param(b.product("x"), b.combo("x"), id="product-combo"),
        pytest.param(b.combo("x"), b.product("x"), id="combo-product"),
    ],
)
@pytest.mark.parametrize("committed", [True, False], ids=["committed", "same-transaction"])
def test_taken_code_raises_already_exists(
    uow_factory: UowFactory, first: Any, second: Any, committed: bool
) -> None:
    original = b.entry(first)
    with uow_factory() as uow:
        uow.catalog.add_entry(original)
        if committed:
            uow.commit()
        with pytest.raises(AlreadyExists):
            uow.catalog.add_entry(b.entry(second))
        # the refusal leaves the transaction usable
        uow.catalog.add_entry(b.entry(b.business("after")))
        uow.commit()

    with uow_factory() as uow:
        assert uow.catalog.list_entries() == sorted(
            [original, b.entry(b.business("after"))], key=lambda e: (e.kind.value, e.code)
        )


def test_a_business_and_an_offer_may_share_a_code(uow_factory: UowFactory) -> None:
    business, product = b.entry(b.business("x")), b.entry(b.product("x"))
    _add(uow_factory, business, product)

    with uow_factory() as uow:
        assert uow.catalog.list_entries() == [business, product]


def test_save_entry_is_a_compare_and_set(uow_factory: UowFactory) -> None:
    first = b.entry(b.product("p1"), revision=1)
    _add(uow_factory, first)
    second = b.entry(
        b.product("p1", name="改名"),
        LifecycleStatus.IN_TEST,
        revision=2,
        updated_at=b.T0 + timedelta(hours=1),
    )

    with uow_factory() as uow:
        uow.catalog.save_entry(second, expected_revision=1)
        assert uow.catalog.get_entry(EntityKind.PRODUCT, "p1") == second
        with pytest.raises(StaleRevision) as raised:
            uow.catalog.save_entry(replace(second, definition=b.product("p1", name="lost")), 1)
        assert (raised.value.expected, raised.value.current) == (1, 2)
        assert uow.catalog.get_entry(EntityKind.PRODUCT, "p1") == second
        uow.commit()

    with uow_factory() as uow:
        with pytest.raises(StaleRevision):
            uow.catalog.save_entry(replace(first, definition=b.product("p1", name="lost")), 1)
        uow.commit()
    assert _get(uow_factory, EntityKind.PRODUCT, "p1") == second


def test_saving_a_missing_entry_raises_not_found(uow_factory: UowFactory) -> None:
    with uow_factory() as uow, pytest.raises(NotFound):
        uow.catalog.save_entry(b.entry(b.product("ghost"), revision=2), expected_revision=1)


def test_delete_entry_frees_the_code(uow_factory: UowFactory) -> None:
    _add(uow_factory, b.entry(b.product("x")), b.entry(b.business("x")))

    with uow_factory() as uow:
        uow.catalog.delete_entry(EntityKind.PRODUCT, "x")
        uow.catalog.delete_entry(EntityKind.PRODUCT, "x")  # already gone: no error
        uow.catalog.delete_entry(EntityKind.COMBO, "never")
        uow.catalog.add_entry(b.entry(b.combo("x")))
        uow.commit()

    with uow_factory() as uow:
        assert [(e.kind, e.code) for e in uow.catalog.list_entries()] == [
            (EntityKind.BUSINESS, "x"),
            (EntityKind.COMBO, "x"),
        ]


# --- reference data ------------------------------------------------------------------------


def test_reference_data_is_put_listed_and_replaced(uow_factory: UowFactory) -> None:
    with uow_factory() as uow:
        uow.catalog.put_areas(b.areas())
        uow.catalog.put_channels([b.channel("hall", "营业厅"), b.channel("app", "掌上营业厅")])
        uow.catalog.put_segments([b.segment("vip", "世界风", CustomerType.PERSONAL)])
        uow.commit()

    renamed = b.area("GD", "广东省", parent_code="CN")
    with uow_factory() as uow:
        uow.catalog.put_areas([renamed, b.area("BJ", "北京", parent_code="CN")])
        uow.catalog.put_channels([b.channel("hall", "Hall", ChannelKind.PARTNER)])
        uow.catalog.put_segments([b.segment("mass"), b.segment("vip", "VIP")])
        uow.commit()

    with uow_factory() as uow:
        assert uow.catalog.list_areas() == [
            b.area("BJ", "北京", parent_code="CN"),
            b.area("CN", "中国"),
            renamed,
            b.area("SZ", "深圳", AreaLevel.CITY, parent_code="GD"),
        ]
        assert uow.catalog.list_channels() == [
            b.channel("app", "掌上营业厅"),
            b.channel("hall", "Hall", ChannelKind.PARTNER),
        ]
        assert uow.catalog.list_segments() == [b.segment("mass"), b.segment("vip", "VIP")]


def test_reference_data_starts_empty(uow_factory: UowFactory) -> None:
    with uow_factory() as uow:
        uow.catalog.put_areas([])
        assert uow.catalog.list_areas() == []
        assert uow.catalog.list_channels() == []
        assert uow.catalog.list_segments() == []
        assert uow.catalog.list_zone_tables() == []
        assert uow.catalog.get_catalog_rule_sources() == []
        assert uow.catalog.list_versions() == []


def test_zone_tables_are_put_got_listed_and_replaced(uow_factory: UowFactory) -> None:
    domestic = b.zone_table("domestic", [("10", "北京"), ("20", "guangzhou, city")], "国内")
    empty = b.zone_table("empty", [])
    with uow_factory() as uow:
        uow.catalog.put_zone_table(domestic)
        uow.catalog.put_zone_table(empty)
        uow.commit()

    replaced = b.zone_table("domestic", [("755", "shenzhen")])
    with uow_factory() as uow:
        assert uow.catalog.get_zone_table("domestic") == domestic
        assert uow.catalog.get_zone_table("missing") is None
        uow.catalog.put_zone_table(replaced)
        uow.commit()

    with uow_factory() as uow:
        assert uow.catalog.list_zone_tables() == [replaced, empty]


def test_a_zone_table_of_100_000_prefixes_round_trips_exactly(uow_factory: UowFactory) -> None:
    big = b.zone_table(
        "international",
        ((f"{1_000_000 + i * 7}", f"zone_{i % 97}") for i in range(100_000)),
        "every prefix of the world",
    )
    with uow_factory() as uow:
        uow.catalog.put_zone_table(big)
        uow.commit()

    with uow_factory() as uow:
        assert uow.catalog.get_zone_table("international") == big


def test_catalog_rule_sources_are_replaced_as_a_whole(uow_factory: UowFactory) -> None:
    first = [RuleSource("z.tariff", "z\n"), RuleSource("a.tariff", "规则\r\nline two\n")]
    with uow_factory() as uow:
        uow.catalog.set_catalog_rule_sources(first)
        uow.commit()

    with uow_factory() as uow:
        assert uow.catalog.get_catalog_rule_sources() == sorted(first, key=lambda s: s.path)
        uow.catalog.set_catalog_rule_sources([RuleSource("m.tariff", "")])
        uow.commit()

    with uow_factory() as uow:
        assert uow.catalog.get_catalog_rule_sources() == [RuleSource("m.tariff", "")]
        uow.catalog.set_catalog_rule_sources([])
        uow.commit()

    with uow_factory() as uow:
        assert uow.catalog.get_catalog_rule_sources() == []


# --- versions ------------------------------------------------------------------------------


def _second_content(first: CatalogContent) -> CatalogContent:
    entities = dict(first.entities)
    entities[(EntityKind.PRODUCT, "p3")] = replace(
        entities[(EntityKind.PRODUCT, "youth_plan")],
        definition=b.product("p3", name="第三", business_codes=("local_voice",)),
    )
    return CatalogContent.build(
        areas=first.areas,
        channels=first.channels,
        segments=first.segments,
        zone_tables=first.zone_tables,
        rule_sources=first.rule_sources,
        entities=entities,
    )


def test_versions_round_trip(uow_factory: UowFactory) -> None:
    first = sample_content()
    second = _second_content(first)
    info1 = b.version_info(1, first, published_at=datetime(2025, 1, 1, 9, tzinfo=CST))
    info2 = b.version_info(2, second, effective_from=b.T0 + timedelta(days=1), description="二")
    with uow_factory() as uow:
        uow.catalog.add_version(info2, second)
        uow.catalog.add_version(info1, first)
        uow.commit()

    with uow_factory() as uow:
        assert uow.catalog.list_versions() == [info1, info2]
        assert uow.catalog.get_version(2) == info2
        assert uow.catalog.get_version(3) is None
        loaded = uow.catalog.load_version_content(1)
        assert loaded == first
        assert codec.content_hash(loaded) == info1.content_hash
        assert uow.catalog.load_version_content(2) == second
        with pytest.raises(NotFound):
            uow.catalog.load_version_content(3)


def test_a_taken_version_number_raises_concurrent_write(uow_factory: UowFactory) -> None:
    first = sample_content()
    info = b.version_info(1, first)
    with uow_factory() as uow:
        uow.catalog.add_version(info, first)
        with pytest.raises(ConcurrentWrite):
            uow.catalog.add_version(replace(info, description="same transaction"), first)
        uow.commit()

    with uow_factory() as uow:
        with pytest.raises(ConcurrentWrite):
            uow.catalog.add_version(replace(info, description="later"), CatalogContent())
        uow.commit()

    with uow_factory() as uow:
        assert uow.catalog.list_versions() == [info]
        assert uow.catalog.load_version_content(1) == first


# --- transactions --------------------------------------------------------------------------


def _write_everything(uow: UnitOfWork) -> None:
    content = sample_content()
    uow.catalog.add_entry(b.entry(b.product("p1")))
    uow.catalog.put_areas(b.areas())
    uow.catalog.put_channels([b.channel()])
    uow.catalog.put_segments([b.segment()])
    uow.catalog.put_zone_table(b.zone_table())
    uow.catalog.set_catalog_rule_sources([b.rule_source()])
    uow.catalog.add_version(b.version_info(1, content), content)


def _assert_empty(factory: UowFactory) -> None:
    with factory() as uow:
        repo = uow.catalog
        assert repo.list_entries() == []
        assert repo.list_areas() == []
        assert repo.list_channels() == []
        assert repo.list_segments() == []
        assert repo.list_zone_tables() == []
        assert repo.get_catalog_rule_sources() == []
        assert repo.list_versions() == []


def test_an_exception_before_commit_writes_nothing(uow_factory: UowFactory) -> None:
    def fail_midway() -> None:
        with uow_factory() as uow:
            _write_everything(uow)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        fail_midway()

    _assert_empty(uow_factory)


def test_leaving_without_commit_writes_nothing(uow_factory: UowFactory) -> None:
    with uow_factory() as uow:
        _write_everything(uow)

    _assert_empty(uow_factory)


def test_rollback_discards_and_the_unit_of_work_goes_on(uow_factory: UowFactory) -> None:
    kept = b.entry(b.product("kept"))
    with uow_factory() as uow:
        _write_everything(uow)
        uow.rollback()
        assert uow.catalog.list_entries() == []
        uow.catalog.add_entry(kept)
        uow.commit()
        uow.catalog.add_entry(b.entry(b.product("uncommitted")))

    with uow_factory() as uow:
        assert uow.catalog.list_entries() == [kept]


# --- two transactions at once (SQL stores only) --------------------------------------------


@pytest.fixture
def sql_uow_factory(database_url: str) -> Iterator[Callable[[], SqlUnitOfWork]]:
    """Independent units of work over one database, each with its own connection."""
    engine = create_engine_for(database_url)
    try:
        yield lambda: SqlUnitOfWork(engine)
    finally:
        engine.dispose()


def test_an_uncommitted_write_is_invisible_to_another_unit_of_work(
    sql_uow_factory: Callable[[], SqlUnitOfWork],
) -> None:
    product = b.entry(b.product("p1"))
    with sql_uow_factory() as writer:
        writer.catalog.add_entry(product)
        writer.catalog.put_areas(b.areas())
        with sql_uow_factory() as reader:
            assert reader.catalog.get_entry(EntityKind.PRODUCT, "p1") is None
            assert reader.catalog.list_entries() == []
            assert reader.catalog.list_areas() == []
        writer.commit()

    with sql_uow_factory() as reader:
        assert reader.catalog.get_entry(EntityKind.PRODUCT, "p1") == product


def test_concurrent_publish_of_one_number_raises_concurrent_write(
    sql_uow_factory: Callable[[], SqlUnitOfWork],
) -> None:
    content = sample_content()
    winner = b.version_info(1, content, description="winner")

    def publish_late() -> None:
        with sql_uow_factory() as loser:
            loser.catalog.add_version(replace(winner, description="loser"), CatalogContent())
            loser.commit()

    with ThreadPoolExecutor(max_workers=1) as pool, sql_uow_factory() as first:
        first.catalog.add_version(winner, content)
        late = pool.submit(publish_late)
        time.sleep(0.3)  # let the second writer reach the database and wait on the first
        first.commit()
        with pytest.raises(ConcurrentWrite):
            late.result(timeout=30)

    with sql_uow_factory() as uow:
        assert uow.catalog.list_versions() == [winner]


def test_interleaved_saves_let_the_first_commit_win(
    sql_uow_factory: Callable[[], SqlUnitOfWork],
) -> None:
    original = b.entry(b.product("p1"), revision=1)
    with sql_uow_factory() as uow:
        uow.catalog.add_entry(original)
        uow.commit()
    by_a = b.entry(b.product("p1", name="by a"), revision=2)
    by_b = b.entry(b.product("p1", name="by b"), revision=2)

    with sql_uow_factory() as a, sql_uow_factory() as other:
        assert a.catalog.get_entry(EntityKind.PRODUCT, "p1") == original
        assert other.catalog.get_entry(EntityKind.PRODUCT, "p1") == original
        a.catalog.save_entry(by_a, 1)
        a.commit()
        # PostgreSQL re-reads the row and finds revision 2; SQLite refuses to write from a
        # snapshot older than the last commit. Both mean "read again and retry".
        with pytest.raises((StaleRevision, ConcurrentWrite)):
            other.catalog.save_entry(by_b, 1)

    with sql_uow_factory() as uow:
        assert uow.catalog.get_entry(EntityKind.PRODUCT, "p1") == by_a


# --- the SQL adapter's own promises --------------------------------------------------------


def test_instants_come_back_in_utc(sql_uow_factory: Callable[[], SqlUnitOfWork]) -> None:
    stored = _rich_product()
    with sql_uow_factory() as uow:
        uow.catalog.add_entry(stored)
        content = sample_content()
        uow.catalog.add_version(
            b.version_info(1, content, published_at=stored.state.created_at), content
        )
        uow.commit()

    with sql_uow_factory() as uow:
        found = uow.catalog.get_entry(EntityKind.PRODUCT, "family_mobile")
        version = uow.catalog.get_version(1)
    assert found is not None
    assert version is not None
    for instant in (found.state.created_at, found.state.updated_at, version.published_at):
        assert instant.tzinfo is UTC
    assert found.state.created_at == stored.state.created_at


def test_storage_layout(database_url: str, sql_uow_factory: Callable[[], SqlUnitOfWork]) -> None:
    product, business = _rich_product(), _rich_business()
    table = b.zone_table("t", [("1", "a"), ("2", "b,c")])
    with sql_uow_factory() as uow:
        uow.catalog.add_entry(product)
        uow.catalog.add_entry(business)
        uow.catalog.put_zone_table(table)
        content = sample_content()
        uow.catalog.add_version(b.version_info(1, content), content)
        uow.commit()

    engine = create_engine_for(database_url)
    try:
        with engine.connect() as connection:
            rows = {
                r.kind: r
                for r in connection.execute(
                    select(
                        entity_table.c.kind, entity_table.c.offer_code, entity_table.c.definition
                    )
                )
            }
            zones = connection.execute(select(zone_table_table)).one()
            document = connection.execute(text("SELECT document FROM catalog_version")).scalar_one()
    finally:
        engine.dispose()

    assert rows["product"].offer_code == "family_mobile"
    assert rows["business"].offer_code is None
    assert rows["product"].definition == codec.dumps(codec.encode_definition(product.definition))
    assert (zones.prefix_count, zones.content) == (2, "1,a\n2,b,c\n")
    assert zlib.decompress(document).decode() == codec.dumps(codec.encode_content(content))


def test_a_prefix_the_line_format_cannot_hold_is_refused(
    sql_uow_factory: Callable[[], SqlUnitOfWork],
) -> None:
    bad = ZoneTable("t", (("1,2", "a"), ("3", "line\nbreak")))
    with sql_uow_factory() as uow, pytest.raises(ValidationError) as raised:
        uow.catalog.put_zone_table(bad)
    assert [v.field for v in raised.value.violations] == [
        "zone_table.prefixes[0]",
        "zone_table.prefixes[1]",
    ]


def test_commit_after_a_failed_statement_is_refused(
    sql_uow_factory: Callable[[], SqlUnitOfWork],
) -> None:
    """PostgreSQL would turn that COMMIT into a silent rollback; refuse it on both."""
    with sql_uow_factory() as uow:
        uow.catalog.add_entry(b.entry(b.product("p1")))
        with pytest.raises(IntegrityError):
            uow.catalog.put_zone_table(ZoneTable("t", (), cast(str, None)))
        with pytest.raises(RuntimeError, match="rolled back"):
            uow.commit()
        uow.catalog.add_entry(b.entry(b.product("p2")))
        uow.commit()

    with sql_uow_factory() as uow:
        assert [e.code for e in uow.catalog.list_entries()] == ["p2"]


def test_the_repository_needs_an_open_unit_of_work(
    sql_uow_factory: Callable[[], SqlUnitOfWork],
) -> None:
    uow = sql_uow_factory()
    with pytest.raises(RuntimeError, match="with"):
        uow.catalog.list_entries()
    with uow, pytest.raises(RuntimeError, match="already open"):
        uow.__enter__()


def test_sqlite_connections_use_wal_and_foreign_keys(tmp_path: Path) -> None:
    with migrated_database("sqlite", tmp_path) as url:
        engine = create_engine_for(url)
        try:
            with engine.connect() as connection:
                assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
                assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        finally:
            engine.dispose()


@pytest.mark.parametrize(
    "url",
    ["postgresql://u@localhost/db", "postgres://u@localhost/db", "postgresql+psycopg://u@h/db"],
)
def test_postgres_urls_use_psycopg(url: str) -> None:
    engine = create_engine_for(url)
    try:
        assert (engine.dialect.name, engine.dialect.driver) == ("postgresql", "psycopg")
    finally:
        engine.dispose()


def test_other_databases_are_refused() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        create_engine_for("mysql://u@localhost/db")
