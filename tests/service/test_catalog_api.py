"""CatalogService through a real grpc.aio server and client, on SQLite and PostgreSQL: entity
CRUD, listings, reference data, rule sources, and bad input that must leave the catalog as it
was.

The helpers at the top are shared with the other `test_catalog_*` modules.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from catalog import model
from tariff.mappers import entities, reference
from tariff.mappers.common import Problems, rule_source_to_proto
from tariff.v1 import catalog_pb2, catalog_service_pb2, common_pb2
from tests.support import catalogs

if TYPE_CHECKING:  # the async stub class exists only in the typed stubs
    from tariff.v1.catalog_service_pb2_grpc import CatalogServiceAsyncStub as Stub

pb = catalog_service_pb2
INVALID = grpc.StatusCode.INVALID_ARGUMENT
ALL = 1000


# -- shared helpers ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Failure:
    """What a failed call told the client: status code, message and BadRequest field paths."""

    code: grpc.StatusCode
    details: str
    fields: list[str]


async def failure(call: Awaitable[object]) -> Failure:
    """Await a call that must fail; decode the google.rpc.Status from its trailers."""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    err = caught.value
    # rpc_status checks code and message against the trailers; grpc-stubs type it for grpc.Call,
    # whose methods an AioRpcError has.
    status = rpc_status.from_call(err)  # type: ignore[arg-type]
    fields: list[str] = []
    if status is not None:
        for detail in status.details:
            bad = error_details_pb2.BadRequest()
            if detail.Unpack(bad):
                fields += [v.field for v in bad.field_violations]
    return Failure(err.code(), err.details() or "", fields)


async def catalog_state(stub: Stub) -> list[bytes]:
    """Everything a client can see of the catalog: the draft bundle, every entity with its
    meta (revision, times), the versions and the reference data. Equal before and after a
    refused call means the call changed nothing."""
    draft = await stub.ExportCatalogBundle(pb.ExportCatalogBundleRequest())
    replies = [
        await stub.ListBusinesses(pb.ListBusinessesRequest(page_size=ALL)),
        await stub.ListProducts(pb.ListProductsRequest(page_size=ALL)),
        await stub.ListCombos(pb.ListCombosRequest(page_size=ALL)),
        await stub.ListCatalogVersions(pb.ListCatalogVersionsRequest(page_size=ALL)),
        await stub.GetReferenceData(pb.GetReferenceDataRequest()),
    ]
    return [draft.archive, *(r.SerializeToString(deterministic=True) for r in replies)]


async def seed_reference_data(stub: Stub, *, rules: bool = True) -> None:
    """Areas, channels, segments, the zone table and (unless told not to) the catalog rule
    sources of the sample; those name the sample's businesses, so a version holding only
    some of them publishes without them."""
    await stub.PutReferenceData(
        pb.PutReferenceDataRequest(
            areas=[reference.area_to_proto(a) for a in catalogs.AREAS],
            channels=[reference.channel_to_proto(c) for c in catalogs.CHANNELS],
            segments=[reference.segment_to_proto(s) for s in catalogs.SEGMENTS],
        )
    )
    await stub.PutZoneTable(
        pb.PutZoneTableRequest(table=reference.zone_table_to_proto(catalogs.CN_ZONES))
    )
    if rules:
        await stub.AttachRuleSources(
            pb.AttachRuleSourcesRequest(
                sources=[
                    rule_source_to_proto(s) for s in (catalogs.COMMON_RULES, catalogs.HOLIDAY_RULES)
                ]
            )
        )


async def create(stub: Stub, definition: model.Definition) -> catalog_pb2.EntityMeta:
    """Create any entity; returns its meta."""
    if isinstance(definition, model.Business):
        business = entities.business_to_proto(definition)
        return (
            await stub.CreateBusiness(pb.CreateBusinessRequest(business=business))
        ).business.meta
    if isinstance(definition, model.Product):
        product = entities.product_to_proto(definition)
        return (await stub.CreateProduct(pb.CreateProductRequest(product=product))).product.meta
    combo = entities.combo_to_proto(definition)
    return (await stub.CreateCombo(pb.CreateComboRequest(combo=combo))).combo.meta


async def seed_catalog(stub: Stub) -> None:
    """The whole sample catalog (`tests.support.catalogs`) in the draft, all IN_DESIGN."""
    await seed_reference_data(stub)
    for definition in catalogs.DEFINITIONS:
        await create(stub, definition)


def ref(kind: model.EntityKind, code: str) -> catalog_pb2.EntityRef:
    kinds = {
        model.EntityKind.BUSINESS: catalog_pb2.ENTITY_KIND_BUSINESS,
        model.EntityKind.PRODUCT: catalog_pb2.ENTITY_KIND_PRODUCT,
        model.EntityKind.COMBO: catalog_pb2.ENTITY_KIND_COMBO,
    }
    return catalog_pb2.EntityRef(kind=kinds[kind], code=code)


async def move(
    stub: Stub, definition: model.Definition, to: catalog_pb2.LifecycleStatus.ValueType
) -> pb.TransitionLifecycleResponse:
    """Transition an entity from whatever revision it is at now."""
    kind, code = definition.entity_kind, definition.code
    revision = await current_revision(stub, kind, code)
    return await stub.TransitionLifecycle(
        pb.TransitionLifecycleRequest(
            target=ref(kind, code), to_status=to, expected_revision=revision
        )
    )


async def current_revision(stub: Stub, kind: model.EntityKind, code: str) -> int:
    if kind is model.EntityKind.BUSINESS:
        return (await stub.GetBusiness(pb.GetBusinessRequest(code=code))).business.meta.revision
    if kind is model.EntityKind.PRODUCT:
        return (await stub.GetProduct(pb.GetProductRequest(code=code))).product.meta.revision
    return (await stub.GetCombo(pb.GetComboRequest(code=code))).combo.meta.revision


def product_of(msg: catalog_pb2.Product) -> model.Product:
    problems = Problems()
    found = entities.product_from_proto(msg, "product", problems)
    assert not problems.violations
    assert found is not None
    return found


def combo_of(msg: catalog_pb2.Combo) -> model.Combo:
    problems = Problems()
    found = entities.combo_from_proto(msg, "combo", problems)
    assert not problems.violations
    return found


def business_of(msg: catalog_pb2.Business) -> model.Business:
    problems = Problems()
    found = entities.business_from_proto(msg, "business", problems)
    assert not problems.violations
    assert found is not None
    return found


# -- businesses -------------------------------------------------------------------------------


async def test_businesses_are_created_read_listed_and_updated_with_unicode_names(
    catalog_stub: Stub,
) -> None:
    stub = catalog_stub
    created = await stub.CreateBusiness(
        pb.CreateBusinessRequest(
            business=catalog_pb2.Business(
                code="caller_id",
                name="来电显示",
                description="显示来电号码 — caller ID",
                kind=catalog_pb2.BUSINESS_KIND_VALUE_ADDED,
                usage_measure=catalog_pb2.USAGE_MEASURE_NONE,
                unit="月",
                status=catalog_pb2.LIFECYCLE_STATUS_LAUNCHED,  # read-only: ignored
            )
        )
    )
    stored = created.business
    assert stored.name == "来电显示"
    assert stored.status == catalog_pb2.LIFECYCLE_STATUS_IN_DESIGN
    assert (stored.meta.revision, stored.meta.version, stored.meta.catalog_version) == (1, 0, 0)
    assert stored.meta.HasField("create_time")
    assert stored.meta.update_time == stored.meta.create_time

    got = await stub.GetBusiness(pb.GetBusinessRequest(code="caller_id"))
    assert got.business == stored

    listed = await stub.ListBusinesses(pb.ListBusinessesRequest())
    assert list(listed.businesses) == [stored]
    assert listed.next_page_token == ""

    changed = catalog_pb2.Business()
    changed.CopyFrom(stored)
    changed.name = "来电显示 (彩色)"
    changed.rule_sources.add(path="businesses/caller_id.tariff", text="月费 6 元\n")
    updated = await stub.UpdateBusiness(
        pb.UpdateBusinessRequest(business=changed, expected_revision=1)
    )
    assert updated.business.name == "来电显示 (彩色)"
    assert updated.business.meta.revision == 2
    assert [s.text for s in updated.business.rule_sources] == ["月费 6 元\n"]
    again = await stub.GetBusiness(pb.GetBusinessRequest(code="caller_id"))
    assert again.business == updated.business


# -- products ---------------------------------------------------------------------------------


async def test_products_keep_every_field_exactly(catalog_stub: Stub) -> None:
    stub = catalog_stub
    await seed_catalog(stub)
    for definition in (catalogs.YOUTH_PLAN, catalogs.BROADBAND, catalogs.CALLER_ID):
        got = await stub.GetProduct(pb.GetProductRequest(code=definition.code))
        assert product_of(got.product) == definition
        assert got.product.status == catalog_pb2.LIFECYCLE_STATUS_IN_DESIGN
        assert got.product.meta.revision == 1
    youth = await stub.GetProduct(pb.GetProductRequest(code="youth_plan"))
    assert youth.product.name == "新势力 39"
    assert youth.product.valid_for.start.ToJsonString() == "2026-01-01T00:00:00Z"
    assert not youth.product.valid_for.HasField("end")


async def test_product_updates_bump_the_revision_and_keep_the_rest(catalog_stub: Stub) -> None:
    stub = catalog_stub
    await seed_catalog(stub)
    family = replace(catalogs.FAMILY_PLAN, name="亲情1+ 升级版", tariff_plan="family_mobile_2")
    reply = await stub.UpdateProduct(
        pb.UpdateProductRequest(product=entities.product_to_proto(family), expected_revision=1)
    )
    assert product_of(reply.product) == family
    assert reply.product.meta.revision == 2
    assert (
        reply.product.meta.update_time.ToDatetime() >= reply.product.meta.create_time.ToDatetime()
    )
    got = await stub.GetProduct(pb.GetProductRequest(code="family_plan"))
    assert got.product == reply.product


async def test_a_stale_update_is_aborted_and_the_product_is_unchanged(catalog_stub: Stub) -> None:
    stub = catalog_stub
    await seed_catalog(stub)
    first = replace(catalogs.FAMILY_PLAN, tariff_plan="first_writer")
    await stub.UpdateProduct(
        pb.UpdateProductRequest(product=entities.product_to_proto(first), expected_revision=1)
    )
    before = await catalog_state(stub)

    second = replace(catalogs.FAMILY_PLAN, tariff_plan="second_writer")
    failed = await failure(
        stub.UpdateProduct(
            pb.UpdateProductRequest(product=entities.product_to_proto(second), expected_revision=1)
        )
    )
    assert failed.code is grpc.StatusCode.ABORTED
    assert "revision 2" in failed.details
    assert await catalog_state(stub) == before
    got = await stub.GetProduct(pb.GetProductRequest(code="family_plan"))
    assert got.product.tariff_plan == "first_writer"
    assert got.product.meta.revision == 2


async def test_stale_business_and_combo_updates_are_aborted_too(catalog_stub: Stub) -> None:
    stub = catalog_stub
    await seed_catalog(stub)
    before = await catalog_state(stub)
    business = entities.business_to_proto(replace(catalogs.BUSINESSES[0], name="改"))
    combo = entities.combo_to_proto(replace(catalogs.FAMILY_BUNDLE, name="改"))
    for call in (
        stub.UpdateBusiness(pb.UpdateBusinessRequest(business=business, expected_revision=7)),
        stub.UpdateCombo(pb.UpdateComboRequest(combo=combo, expected_revision=2)),
    ):
        assert (await failure(call)).code is grpc.StatusCode.ABORTED
    assert await catalog_state(stub) == before


# -- combos -----------------------------------------------------------------------------------


async def test_combos_are_created_read_listed_and_updated(catalog_stub: Stub) -> None:
    stub = catalog_stub
    await seed_catalog(stub)
    got = await stub.GetCombo(pb.GetComboRequest(code="family_bundle"))
    assert combo_of(got.combo) == catalogs.FAMILY_BUNDLE
    assert got.combo.name == "亲情1+ 融合套餐"
    listed = await stub.ListCombos(pb.ListCombosRequest())
    assert [c.code for c in listed.combos] == ["family_bundle"]

    bigger = replace(
        catalogs.FAMILY_BUNDLE,
        members=(*catalogs.FAMILY_BUNDLE.members[:2], model.ComboMember("family_plan", 1, 5, 3)),
        choice_groups=(model.ChoiceGroup("mobile_choice", ("youth_plan", "mobile_basic"), 0, 1),),
    )
    reply = await stub.UpdateCombo(
        pb.UpdateComboRequest(combo=entities.combo_to_proto(bigger), expected_revision=1)
    )
    assert combo_of(reply.combo) == bigger
    assert reply.combo.meta.revision == 2


async def test_a_combo_cycle_is_refused_and_nothing_changes(catalog_stub: Stub) -> None:
    stub = catalog_stub
    await seed_catalog(stub)
    outer = model.Combo(
        code="outer_bundle",
        name="外层",
        owner_area_code="CN",
        members=(model.ComboMember("family_bundle"),),
    )
    await create(stub, outer)
    before = await catalog_state(stub)
    cyclic = replace(
        catalogs.FAMILY_BUNDLE,
        members=(*catalogs.FAMILY_BUNDLE.members, model.ComboMember("outer_bundle")),
    )
    failed = await failure(
        stub.UpdateCombo(
            pb.UpdateComboRequest(combo=entities.combo_to_proto(cyclic), expected_revision=1)
        )
    )
    assert failed.code is INVALID
    assert "combo.members" in failed.fields
    assert "outer_bundle" in failed.details
    assert await catalog_state(stub) == before


# -- listings ---------------------------------------------------------------------------------


async def _product_codes(stub: Stub, flt: pb.CatalogFilter) -> list[str]:
    reply = await stub.ListProducts(pb.ListProductsRequest(filter=flt, page_size=ALL))
    return [p.code for p in reply.products]


async def test_area_filters_find_products_listed_for_an_enclosing_area(catalog_stub: Stub) -> None:
    stub = catalog_stub
    await seed_catalog(stub)
    in_shenzhen = await _product_codes(stub, pb.CatalogFilter(area_code="GD_SZ"))
    assert "broadband_basic" in in_shenzhen  # listed for province GD
    assert "youth_plan" in in_shenzhen  # listed for the nation
    assert "qh_campus_card" not in in_shenzhen  # only Xining
    assert await _product_codes(stub, pb.CatalogFilter(area_code="QH_XN")) == [
        "caller_id_addon",
        "family_plan",
        "fixed_line_basic",
        "mobile_basic",
        "qh_campus_card",
        "youth_plan",
    ]
    combos = await stub.ListCombos(pb.ListCombosRequest(filter=pb.CatalogFilter(area_code="GD_GZ")))
    assert [c.code for c in combos.combos] == ["family_bundle"]
    combos = await stub.ListCombos(pb.ListCombosRequest(filter=pb.CatalogFilter(area_code="QH")))
    assert list(combos.combos) == []


async def test_channel_segment_category_and_status_filters(catalog_stub: Stub) -> None:
    stub = catalog_stub
    await seed_catalog(stub)
    by_agent = await _product_codes(stub, pb.CatalogFilter(channel_code="agent"))
    assert "youth_plan" in by_agent  # sold through agents
    assert "mobile_basic" in by_agent  # no channel list: every channel
    assert "broadband_basic" not in by_agent  # hall, call center and web only
    for_youth = await _product_codes(stub, pb.CatalogFilter(segment_code="youth"))
    assert "youth_plan" in for_youth
    assert "family_plan" not in for_youth  # family segment only
    assert await _product_codes(stub, pb.CatalogFilter(category="broadband")) == ["broadband_basic"]
    assert await _product_codes(
        stub, pb.CatalogFilter(channel_code="web", segment_code="youth", area_code="GD_SZ")
    ) == ["broadband_basic", "caller_id_addon", "fixed_line_basic", "mobile_basic", "youth_plan"]

    await move(stub, catalogs.YOUTH_PLAN, catalog_pb2.LIFECYCLE_STATUS_IN_TEST)
    in_test = pb.CatalogFilter(statuses=[catalog_pb2.LIFECYCLE_STATUS_IN_TEST])
    assert await _product_codes(stub, in_test) == ["youth_plan"]
    businesses = await stub.ListBusinesses(pb.ListBusinessesRequest(filter=in_test))
    assert list(businesses.businesses) == []


async def test_listings_page_with_tokens(catalog_stub: Stub) -> None:
    stub = catalog_stub
    await seed_catalog(stub)
    codes: list[str] = []
    token = ""
    pages = 0
    while True:
        reply = await stub.ListProducts(pb.ListProductsRequest(page_size=3, page_token=token))
        codes += [p.code for p in reply.products]
        pages += 1
        token = reply.next_page_token
        if not token:
            break
    products = [d.code for d in catalogs.DEFINITIONS if isinstance(d, model.Product)]
    assert codes == sorted(products)
    assert pages == 3
    businesses = await stub.ListBusinesses(pb.ListBusinessesRequest(page_size=5))
    assert len(businesses.businesses) == 5
    assert businesses.next_page_token


async def test_bad_listing_requests_name_the_field(catalog_stub: Stub) -> None:
    stub = catalog_stub
    await seed_catalog(stub)
    cases: list[tuple[pb.ListProductsRequest, list[str]]] = [
        (pb.ListProductsRequest(filter=pb.CatalogFilter(area_code="MARS")), ["filter.areaCode"]),
        (
            pb.ListProductsRequest(filter=pb.CatalogFilter(channel_code="fax", segment_code="x")),
            ["filter.channelCode", "filter.segmentCode"],
        ),
        (
            pb.ListProductsRequest(
                filter=pb.CatalogFilter(statuses=[catalog_pb2.LIFECYCLE_STATUS_UNSPECIFIED])
            ),
            ["filter.statuses[0]"],
        ),
        (pb.ListProductsRequest(page_token="%%%not-a-token"), ["pageToken"]),
        (
            pb.ListProductsRequest(selector=common_pb2.VersionSelector(version=0)),
            ["selector.version"],
        ),
    ]
    for request, fields in cases:
        failed = await failure(stub.ListProducts(request))
        assert (failed.code, failed.fields) == (INVALID, fields), request


# -- bad input leaves the catalog unchanged ---------------------------------------------------


async def test_unknown_codes_are_not_found(catalog_stub: Stub) -> None:
    stub = catalog_stub
    await seed_catalog(stub)
    before = await catalog_state(stub)
    ghost = replace(catalogs.FAMILY_PLAN, code="ghost_plan")
    calls: list[Awaitable[object]] = [
        stub.GetBusiness(pb.GetBusinessRequest(code="no_such_business")),
        stub.GetProduct(pb.GetProductRequest(code="no_such_product")),
        stub.GetCombo(pb.GetComboRequest(code="family_plan")),  # a product, not a combo
        stub.UpdateProduct(
            pb.UpdateProductRequest(product=entities.product_to_proto(ghost), expected_revision=1)
        ),
        stub.TransitionLifecycle(
            pb.TransitionLifecycleRequest(
                target=ref(model.EntityKind.COMBO, "ghost"),
                to_status=catalog_pb2.LIFECYCLE_STATUS_IN_TEST,
                expected_revision=1,
            )
        ),
        stub.AttachRuleSources(
            pb.AttachRuleSourcesRequest(
                target=ref(model.EntityKind.BUSINESS, "ghost"),
                sources=[common_pb2.RuleSource(path="ghost.tariff", text="")],
                expected_revision=1,
            )
        ),
        stub.GetZoneTable(pb.GetZoneTableRequest(name="no_such_table")),
        stub.GetProduct(
            pb.GetProductRequest(code="youth_plan", selector=common_pb2.VersionSelector(version=1))
        ),
    ]
    for call in calls:
        assert (await failure(call)).code is grpc.StatusCode.NOT_FOUND
    assert await catalog_state(stub) == before


async def test_unknown_references_in_a_product_name_each_field(catalog_stub: Stub) -> None:
    stub = catalog_stub
    await seed_catalog(stub)
    before = await catalog_state(stub)
    bad = replace(
        catalogs.YOUTH_PLAN,
        code="bad_plan",
        business_codes=("local_voice", "telepathy"),
        area_codes=("GD", "ATLANTIS"),
        channel_codes=("hall", "carrier_pigeon"),
        audience=model.Audience(segment_codes=("youth", "martians")),
        rule_sources=(),
    )
    failed = await failure(
        stub.CreateProduct(pb.CreateProductRequest(product=entities.product_to_proto(bad)))
    )
    assert failed.code is INVALID
    assert set(failed.fields) >= {
        "product.businessCodes[1]",
        "product.areaCodes[1]",
        "product.channelCodes[1]",
        "product.audience.segmentCodes[1]",
    }
    assert await catalog_state(stub) == before


async def test_malformed_messages_never_reach_the_catalog(catalog_stub: Stub) -> None:
    stub = catalog_stub
    await seed_catalog(stub)
    before = await catalog_state(stub)
    product = entities.product_to_proto(replace(catalogs.YOUTH_PLAN, code="new_plan"))
    product.kind = catalog_pb2.PRODUCT_KIND_UNSPECIFIED
    product.name = ""
    product.valid_for.end.nanos = 1_000_000_000
    failed = await failure(stub.CreateProduct(pb.CreateProductRequest(product=product)))
    assert (failed.code, failed.fields) == (
        INVALID,
        ["product.name", "product.kind", "product.validFor.end"],
    )
    failed = await failure(stub.CreateBusiness(pb.CreateBusinessRequest()))
    assert (failed.code, failed.fields) == (INVALID, ["business"])
    failed = await failure(stub.GetProduct(pb.GetProductRequest(code="")))
    assert (failed.code, failed.fields) == (INVALID, ["code"])
    failed = await failure(
        stub.PutReferenceData(
            pb.PutReferenceDataRequest(
                areas=[catalog_pb2.Area(code="GD_FS", name="佛山", parent_code="GD")],
                channels=[catalog_pb2.Channel(code="kiosk", name="自助终端")],
            )
        )
    )
    assert (failed.code, failed.fields) == (INVALID, ["areas[0].level", "channels[0].kind"])
    assert await catalog_state(stub) == before


async def test_invalid_codes_are_refused_by_the_domain_with_their_path(catalog_stub: Stub) -> None:
    stub = catalog_stub
    await seed_reference_data(stub)
    before = await catalog_state(stub)
    business = entities.business_to_proto(replace(catalogs.BUSINESSES[0], code="Local Voice"))
    failed = await failure(stub.CreateBusiness(pb.CreateBusinessRequest(business=business)))
    assert (failed.code, failed.fields) == (INVALID, ["business.code"])
    table = catalog_pb2.ZoneTable(
        name="zones", prefixes=[catalog_pb2.ZonePrefix(prefix="+86", zone="china")]
    )
    failed = await failure(stub.PutZoneTable(pb.PutZoneTableRequest(table=table)))
    assert (failed.code, failed.fields) == (INVALID, ["table.prefixes[0].prefix"])
    assert await catalog_state(stub) == before


async def test_duplicate_codes_already_exist(catalog_stub: Stub) -> None:
    stub = catalog_stub
    await seed_catalog(stub)
    before = await catalog_state(stub)
    duplicate_business = entities.business_to_proto(replace(catalogs.BUSINESSES[0], name="重复"))
    failed = await failure(
        stub.CreateBusiness(pb.CreateBusinessRequest(business=duplicate_business))
    )
    assert failed.code is grpc.StatusCode.ALREADY_EXISTS
    # products and combos share one namespace of offer codes
    combo = model.Combo(
        code="youth_plan",
        name="同名组合",
        owner_area_code="CN",
        members=(model.ComboMember("family_plan"),),
    )
    failed = await failure(
        stub.CreateCombo(pb.CreateComboRequest(combo=entities.combo_to_proto(combo)))
    )
    assert failed.code is grpc.StatusCode.ALREADY_EXISTS
    assert await catalog_state(stub) == before


# -- reference data, zone tables, rule sources ------------------------------------------------


async def test_reference_data_reads_back_parents_first(catalog_stub: Stub) -> None:
    stub = catalog_stub
    await seed_reference_data(stub)
    got = await stub.GetReferenceData(pb.GetReferenceDataRequest())
    codes = [a.code for a in got.areas]
    assert codes.index("CN") < codes.index("GD") < codes.index("GD_SZ")
    assert codes.index("QH") < codes.index("QH_XN")
    assert {a.code: a.name for a in got.areas}["GD_SZ"] == "深圳"
    assert {reference.segment_from_proto(s, "s", Problems()) for s in got.segments} == set(
        catalogs.SEGMENTS
    )
    assert [c.code for c in got.channels] == sorted(c.code for c in catalogs.CHANNELS)
    assert list(got.zone_table_names) == ["cn_zones"]
    assert [s.path for s in got.rule_sources] == ["rules/common.tariff", "rules/holidays.tariff"]
    assert got.rule_sources[0].text == catalogs.COMMON_RULES.text

    count = await stub.PutReferenceData(
        pb.PutReferenceDataRequest(
            areas=[
                catalog_pb2.Area(
                    code="GD_SZ", name="深圳市", level=catalog_pb2.AREA_LEVEL_CITY, parent_code="GD"
                )
            ]
        )
    )
    assert count.written_count == 1
    again = await stub.GetReferenceData(pb.GetReferenceDataRequest())
    assert {a.code: a.name for a in again.areas}["GD_SZ"] == "深圳市"


async def test_zone_tables_are_stored_sorted_and_read_back(catalog_stub: Stub) -> None:
    stub = catalog_stub
    table = catalog_pb2.ZoneTable(
        name="intl_zones",
        description="国际长途",
        prefixes=[
            catalog_pb2.ZonePrefix(prefix="0086", zone="china"),
            catalog_pb2.ZonePrefix(prefix="001", zone="north_america"),
        ],
    )
    reply = await stub.PutZoneTable(pb.PutZoneTableRequest(table=table))
    assert reply.prefix_count == 2
    got = await stub.GetZoneTable(pb.GetZoneTableRequest(name="intl_zones"))
    assert got.table.description == "国际长途"
    assert [(p.prefix, p.zone) for p in got.table.prefixes] == [
        ("001", "north_america"),
        ("0086", "china"),
    ]


async def test_rule_sources_attach_replace_and_detach(catalog_stub: Stub) -> None:
    stub = catalog_stub
    await seed_catalog(stub)
    target = ref(model.EntityKind.PRODUCT, "family_plan")
    added = await stub.AttachRuleSources(
        pb.AttachRuleSourcesRequest(
            target=target,
            sources=[
                common_pb2.RuleSource(path="products/family_plan.tariff", text="月租 88 元\n"),
                common_pb2.RuleSource(path="products/family_extra.tariff", text="# 附加\n"),
            ],
            expected_revision=1,
        )
    )
    assert [s.path for s in added.sources] == [
        "products/family_extra.tariff",
        "products/family_plan.tariff",
    ]
    assert added.revision == 2
    replaced = await stub.AttachRuleSources(
        pb.AttachRuleSourcesRequest(
            target=target,
            sources=[
                common_pb2.RuleSource(path="products/family_plan.tariff", text="月租 98 元\n")
            ],
            remove_paths=["products/family_extra.tariff"],
            expected_revision=2,
        )
    )
    assert [(s.path, s.text) for s in replaced.sources] == [
        ("products/family_plan.tariff", "月租 98 元\n")
    ]
    got = await stub.GetProduct(pb.GetProductRequest(code="family_plan"))
    assert list(got.product.rule_sources) == list(replaced.sources)

    before = await catalog_state(stub)
    failed = await failure(
        stub.AttachRuleSources(
            pb.AttachRuleSourcesRequest(
                target=target, remove_paths=["nowhere.tariff"], expected_revision=3
            )
        )
    )
    assert (failed.code, failed.fields) == (INVALID, ["removePaths[0]"])
    taken = await failure(
        stub.AttachRuleSources(
            pb.AttachRuleSourcesRequest(
                sources=[common_pb2.RuleSource(path="products/family_plan.tariff", text="")]
            )
        )
    )
    assert taken.code is INVALID
    assert await catalog_state(stub) == before

    catalog_level = await stub.AttachRuleSources(
        pb.AttachRuleSourcesRequest(remove_paths=["rules/holidays.tariff"])
    )
    assert [s.path for s in catalog_level.sources] == ["rules/common.tariff"]
    assert catalog_level.revision == 0


@pytest.mark.parametrize("code", ["亲情1+", "family plan"])
async def test_codes_must_be_lower_snake_even_when_names_are_unicode(
    catalog_stub: Stub, code: str
) -> None:
    stub = catalog_stub
    await seed_catalog(stub)
    before = await catalog_state(stub)
    product = entities.product_to_proto(replace(catalogs.FAMILY_PLAN, code=code))
    failed = await failure(stub.CreateProduct(pb.CreateProductRequest(product=product)))
    assert (failed.code, failed.fields) == (INVALID, ["product.code"])
    assert await catalog_state(stub) == before
