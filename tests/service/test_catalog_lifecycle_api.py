"""Lifecycle, publishing, as-of reads, version listings and diffs through the real server."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import grpc
from google.protobuf import timestamp_pb2

from catalog import model
from tariff.mappers import entities
from tariff.v1 import catalog_pb2, catalog_service_pb2, common_pb2
from tests.service.test_catalog_api import (
    ALL,
    INVALID,
    catalog_state,
    create,
    failure,
    move,
    ref,
    seed_reference_data,
)
from tests.support import catalogs

if TYPE_CHECKING:
    from tariff.v1.catalog_service_pb2_grpc import CatalogServiceAsyncStub as Stub

pb = catalog_service_pb2
S = catalog_pb2
JAN = datetime(2026, 1, 1, tzinfo=UTC)
MAR = datetime(2026, 3, 1, tzinfo=UTC)
JUN = datetime(2026, 6, 1, tzinfo=UTC)
JUL = datetime(2026, 7, 1, tzinfo=UTC)

VOICE = catalogs.BUSINESSES[0]
PLAN = model.Product(
    code="talk_plan",
    name="畅聊 58",
    kind=model.ProductKind.MAIN,
    business_codes=(VOICE.code,),
    owner_area_code="CN",
    tariff_plan="talk_58",
)


def ts(instant: datetime) -> timestamp_pb2.Timestamp:
    out = timestamp_pb2.Timestamp()
    out.FromDatetime(instant)
    return out


def as_of(instant: datetime) -> common_pb2.VersionSelector:
    return common_pb2.VersionSelector(as_of=ts(instant))


async def publish(stub: Stub, effective: datetime, notes: str = "") -> pb.PublishCatalogResponse:
    return await stub.PublishCatalog(
        pb.PublishCatalogRequest(effective_from=ts(effective), description=notes)
    )


async def update_plan(stub: Stub, plan: model.Product) -> catalog_pb2.Product:
    revision = (await stub.GetProduct(pb.GetProductRequest(code=plan.code))).product.meta.revision
    reply = await stub.UpdateProduct(
        pb.UpdateProductRequest(product=entities.product_to_proto(plan), expected_revision=revision)
    )
    return reply.product


async def two_versions(stub: Stub) -> None:
    """v1 (talk_58) in force from January, v2 (talk_68) from June, a talk_78 draft on top."""
    await seed_reference_data(stub, rules=False)
    await create(stub, VOICE)
    await create(stub, PLAN)
    await move(stub, VOICE, S.LIFECYCLE_STATUS_IN_TEST)
    await move(stub, PLAN, S.LIFECYCLE_STATUS_IN_TEST)
    await publish(stub, JAN, "首发")
    await update_plan(stub, replace(PLAN, tariff_plan="talk_68"))
    await move(stub, PLAN, S.LIFECYCLE_STATUS_IN_TEST)
    await publish(stub, JUN, "涨价")
    await update_plan(stub, replace(PLAN, tariff_plan="talk_78"))


# -- lifecycle --------------------------------------------------------------------------------


async def test_an_entity_goes_from_design_through_launch_to_retirement(catalog_stub: Stub) -> None:
    stub = catalog_stub
    await seed_reference_data(stub, rules=False)
    await create(stub, VOICE)
    await create(stub, PLAN)
    to_test = await move(stub, PLAN, S.LIFECYCLE_STATUS_IN_TEST)
    assert (to_test.status, to_test.revision) == (S.LIFECYCLE_STATUS_IN_TEST, 2)
    back = await move(stub, PLAN, S.LIFECYCLE_STATUS_IN_DESIGN)
    assert back.status == S.LIFECYCLE_STATUS_IN_DESIGN
    await move(stub, PLAN, S.LIFECYCLE_STATUS_IN_TEST)
    await move(stub, VOICE, S.LIFECYCLE_STATUS_IN_TEST)

    published = await publish(stub, JAN, "首发 v1")
    assert published.version.number == 1
    assert published.version.description == "首发 v1"
    assert published.version.effective_from == ts(JAN)
    assert (published.version.business_count, published.version.product_count) == (1, 1)
    assert len(published.version.content_hash) == 64
    got = await stub.GetProduct(pb.GetProductRequest(code=PLAN.code))
    assert got.product.status == S.LIFECYCLE_STATUS_LAUNCHED
    assert got.product.meta.version == 1

    retired = await move(stub, PLAN, S.LIFECYCLE_STATUS_RETIRED)
    assert retired.status == S.LIFECYCLE_STATUS_RETIRED
    relaunched = await move(stub, PLAN, S.LIFECYCLE_STATUS_LAUNCHED)
    assert relaunched.status == S.LIFECYCLE_STATUS_LAUNCHED
    await move(stub, PLAN, S.LIFECYCLE_STATUS_RETIRED)
    obsolete = await move(stub, PLAN, S.LIFECYCLE_STATUS_OBSOLETE)
    assert obsolete.status == S.LIFECYCLE_STATUS_OBSOLETE

    failed = await failure(
        stub.UpdateProduct(
            pb.UpdateProductRequest(
                product=entities.product_to_proto(PLAN), expected_revision=obsolete.revision
            )
        )
    )
    assert failed.code is grpc.StatusCode.FAILED_PRECONDITION


async def test_illegal_transitions_fail_their_precondition_and_change_nothing(
    catalog_stub: Stub,
) -> None:
    stub = catalog_stub
    await seed_reference_data(stub, rules=False)
    await create(stub, VOICE)
    await create(stub, PLAN)
    before = await catalog_state(stub)
    for target in (
        S.LIFECYCLE_STATUS_RETIRED,  # only a launched entity retires
        S.LIFECYCLE_STATUS_LAUNCHED,  # launched only by publishing
        S.LIFECYCLE_STATUS_OBSOLETE,
        S.LIFECYCLE_STATUS_IN_DESIGN,  # already there
    ):
        failed = await failure(move(stub, PLAN, target))
        assert failed.code is grpc.StatusCode.FAILED_PRECONDITION, target
    await move(stub, PLAN, S.LIFECYCLE_STATUS_IN_TEST)
    in_test = await catalog_state(stub)
    failed = await failure(move(stub, PLAN, S.LIFECYCLE_STATUS_LAUNCHED))
    assert failed.code is grpc.StatusCode.FAILED_PRECONDITION
    assert "publish" in failed.details
    assert await catalog_state(stub) == in_test
    assert in_test != before


async def test_bad_transition_requests(catalog_stub: Stub) -> None:
    stub = catalog_stub
    await seed_reference_data(stub, rules=False)
    await create(stub, VOICE)
    before = await catalog_state(stub)
    stale = await failure(
        stub.TransitionLifecycle(
            pb.TransitionLifecycleRequest(
                target=ref(model.EntityKind.BUSINESS, VOICE.code),
                to_status=S.LIFECYCLE_STATUS_IN_TEST,
                expected_revision=5,
            )
        )
    )
    assert stale.code is grpc.StatusCode.ABORTED
    malformed = await failure(stub.TransitionLifecycle(pb.TransitionLifecycleRequest()))
    assert (malformed.code, malformed.fields) == (
        INVALID,
        ["target", "toStatus", "expectedRevision"],
    )
    assert await catalog_state(stub) == before


# -- publishing and as-of reads ---------------------------------------------------------------


async def test_reads_as_of_an_instant_see_the_version_then_in_force(catalog_stub: Stub) -> None:
    stub = catalog_stub
    await two_versions(stub)

    async def plan_at(selector: common_pb2.VersionSelector | None) -> catalog_pb2.Product:
        request = pb.GetProductRequest(code=PLAN.code, selector=selector)
        return (await stub.GetProduct(request)).product

    march = await plan_at(as_of(MAR))
    assert march.tariff_plan == "talk_58"
    assert (march.meta.catalog_version, march.meta.version) == (1, 1)
    assert march.status == S.LIFECYCLE_STATUS_LAUNCHED
    july = await plan_at(as_of(JUL))
    assert july.tariff_plan == "talk_68"
    assert (july.meta.catalog_version, july.meta.version) == (2, 2)
    draft = await plan_at(common_pb2.VersionSelector(draft=True))
    assert draft.tariff_plan == "talk_78"
    assert draft.status == S.LIFECYCLE_STATUS_IN_DESIGN
    assert draft.meta.catalog_version == 0
    assert await plan_at(None) == draft
    assert (await plan_at(common_pb2.VersionSelector(version=1))).tariff_plan == "talk_58"

    before_any = await failure(
        stub.GetProduct(
            pb.GetProductRequest(code=PLAN.code, selector=as_of(datetime(2025, 1, 1, tzinfo=UTC)))
        )
    )
    assert before_any.code is grpc.StatusCode.NOT_FOUND

    listed = await stub.ListProducts(pb.ListProductsRequest(selector=as_of(MAR)))
    assert [(p.code, p.tariff_plan) for p in listed.products] == [(PLAN.code, "talk_58")]
    businesses = await stub.ListBusinesses(
        pb.ListBusinessesRequest(selector=common_pb2.VersionSelector(version=2))
    )
    assert [b.code for b in businesses.businesses] == [VOICE.code]
    zones = await stub.GetZoneTable(pb.GetZoneTableRequest(name="cn_zones", selector=as_of(JUL)))
    assert len(zones.table.prefixes) == len(catalogs.CN_ZONES.prefixes)
    ref_data = await stub.GetReferenceData(pb.GetReferenceDataRequest(selector=as_of(MAR)))
    assert len(ref_data.areas) == len(catalogs.AREAS)


async def test_versions_are_listed_newest_first_and_read_by_number_or_instant(
    catalog_stub: Stub,
) -> None:
    stub = catalog_stub
    await two_versions(stub)
    listed = await stub.ListCatalogVersions(pb.ListCatalogVersionsRequest())
    assert [v.number for v in listed.versions] == [2, 1]
    assert [v.description for v in listed.versions] == ["涨价", "首发"]
    assert listed.versions[0].effective_from == ts(JUN)
    first_page = await stub.ListCatalogVersions(pb.ListCatalogVersionsRequest(page_size=1))
    assert [v.number for v in first_page.versions] == [2]
    second_page = await stub.ListCatalogVersions(
        pb.ListCatalogVersionsRequest(page_size=1, page_token=first_page.next_page_token)
    )
    assert [v.number for v in second_page.versions] == [1]
    assert second_page.next_page_token == ""

    async def version(selector: common_pb2.VersionSelector | None) -> catalog_pb2.CatalogVersion:
        request = pb.GetCatalogVersionRequest(selector=selector)
        return (await stub.GetCatalogVersion(request)).version

    assert (await version(as_of(MAR))).number == 1
    assert (await version(common_pb2.VersionSelector(version=2))) == listed.versions[0]
    assert (await version(None)).number == 2  # in force now (the clock is past June 2026)

    draft = await failure(
        stub.GetCatalogVersion(
            pb.GetCatalogVersionRequest(selector=common_pb2.VersionSelector(draft=True))
        )
    )
    assert (draft.code, draft.fields) == (INVALID, ["selector"])
    missing = await failure(
        stub.GetCatalogVersion(
            pb.GetCatalogVersionRequest(selector=common_pb2.VersionSelector(version=3))
        )
    )
    assert missing.code is grpc.StatusCode.NOT_FOUND


async def test_publishing_cannot_rewrite_history(catalog_stub: Stub) -> None:
    stub = catalog_stub
    await two_versions(stub)
    await move(stub, PLAN, S.LIFECYCLE_STATUS_IN_TEST)
    before = await catalog_state(stub)
    for effective in (JUN, MAR):
        failed = await failure(publish(stub, effective))
        assert (failed.code, failed.fields) == (INVALID, ["effectiveFrom"])
    bad_time = await failure(
        stub.PublishCatalog(
            pb.PublishCatalogRequest(effective_from=timestamp_pb2.Timestamp(nanos=-1))
        )
    )
    assert (bad_time.code, bad_time.fields) == (INVALID, ["effectiveFrom"])
    assert await catalog_state(stub) == before
    third = await publish(stub, datetime(2027, 1, 1, tzinfo=UTC))
    assert third.version.number == 3


async def test_publishing_an_unchanged_draft_fails_its_precondition(catalog_stub: Stub) -> None:
    stub = catalog_stub
    await seed_reference_data(stub, rules=False)
    await create(stub, VOICE)
    await move(stub, VOICE, S.LIFECYCLE_STATUS_IN_TEST)
    await publish(stub, JAN)
    before = await catalog_state(stub)
    failed = await failure(publish(stub, JUN))
    assert failed.code is grpc.StatusCode.FAILED_PRECONDITION
    assert await catalog_state(stub) == before


# -- diffs ------------------------------------------------------------------------------------


def diff_request(
    older: common_pb2.VersionSelector | None, newer: common_pb2.VersionSelector | None
) -> pb.DiffCatalogVersionsRequest:
    return pb.DiffCatalogVersionsRequest(base=older, target=newer)


def _changes(reply: pb.DiffCatalogVersionsResponse) -> dict[tuple[str, str], pb.EntityChange]:
    return {(c.kind, c.code): c for c in reply.changes}


async def test_diffs_between_versions_and_against_the_draft(catalog_stub: Stub) -> None:
    stub = catalog_stub
    await two_versions(stub)
    v1, v2 = common_pb2.VersionSelector(version=1), common_pb2.VersionSelector(version=2)

    between = await stub.DiffCatalogVersions(diff_request(v1, v2))
    change = _changes(between)[("product", PLAN.code)]
    assert change.change_type == pb.CHANGE_TYPE_MODIFIED
    fields = {f.path: (f.before, f.after) for f in change.fields}
    assert fields["tariff_plan"] == ('"talk_58"', '"talk_68"')
    assert fields["version"] == ("1", "2")
    assert ("business", VOICE.code) not in _changes(between)

    # defaults: from = in force now (v2), to = the working draft
    against_draft = await stub.DiffCatalogVersions(pb.DiffCatalogVersionsRequest())
    draft_change = _changes(against_draft)[("product", PLAN.code)]
    draft_fields = {f.path: (f.before, f.after) for f in draft_change.fields}
    assert draft_fields["tariff_plan"] == ('"talk_68"', '"talk_78"')
    assert draft_fields["status"] == ('"launched"', '"in_design"')

    await create(stub, replace(PLAN, code="new_plan", name="新套餐"))
    added = await stub.DiffCatalogVersions(
        diff_request(as_of(MAR), common_pb2.VersionSelector(draft=True))
    )
    new = _changes(added)[("product", "new_plan")]
    assert (new.change_type, list(new.fields)) == (pb.CHANGE_TYPE_ADDED, [])
    reverse = await stub.DiffCatalogVersions(diff_request(v2, v1))
    assert _changes(reverse)[("product", PLAN.code)].change_type == pb.CHANGE_TYPE_MODIFIED
    same = await stub.DiffCatalogVersions(diff_request(v1, v1))
    assert list(same.changes) == []

    bad = await failure(
        stub.DiffCatalogVersions(
            diff_request(
                common_pb2.VersionSelector(draft=False), common_pb2.VersionSelector(version=0)
            )
        )
    )
    assert (bad.code, bad.fields) == (INVALID, ["base.draft", "target.version"])
    unknown = await failure(
        stub.DiffCatalogVersions(
            pb.DiffCatalogVersionsRequest(target=common_pb2.VersionSelector(version=9))
        )
    )
    assert unknown.code is grpc.StatusCode.NOT_FOUND


async def test_listing_published_entities_by_status(catalog_stub: Stub) -> None:
    stub = catalog_stub
    await two_versions(stub)
    await move(stub, VOICE, S.LIFECYCLE_STATUS_RETIRED)
    retired = await stub.ListBusinesses(
        pb.ListBusinessesRequest(
            filter=pb.CatalogFilter(statuses=[S.LIFECYCLE_STATUS_RETIRED]), page_size=ALL
        )
    )
    assert [b.code for b in retired.businesses] == [VOICE.code]
    launched_in_v2 = await stub.ListBusinesses(
        pb.ListBusinessesRequest(
            selector=common_pb2.VersionSelector(version=2),
            filter=pb.CatalogFilter(statuses=[S.LIFECYCLE_STATUS_LAUNCHED]),
        )
    )
    assert [b.code for b in launched_in_v2.businesses] == [VOICE.code]
