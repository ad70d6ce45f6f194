"""Catalog bundles through the real server: exact export/import round trips, dry runs, REPLACE,
and malformed archives refused with nothing imported."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

import grpc
import pytest

from catalog import bundle, model
from catalog.content import CatalogContent
from catalog.model import LifecycleStatus
from tariff.v1 import catalog_pb2, catalog_service_pb2, common_pb2
from tests.service.test_catalog_api import (
    INVALID,
    catalog_state,
    failure,
    seed_catalog,
    seed_reference_data,
)
from tests.support import catalogs

if TYPE_CHECKING:
    from tariff.v1.catalog_service_pb2_grpc import CatalogServiceAsyncStub as Stub

pb = catalog_service_pb2
DRAFT = common_pb2.VersionSelector(draft=True)


async def export(stub: Stub, selector: common_pb2.VersionSelector | None = None) -> bytes:
    reply = await stub.ExportCatalogBundle(pb.ExportCatalogBundleRequest(selector=selector))
    return reply.archive


async def import_bundle(
    stub: Stub,
    archive: bytes,
    mode: pb.ImportMode.ValueType = pb.IMPORT_MODE_UNSPECIFIED,
    *,
    dry_run: bool = False,
) -> pb.ImportCatalogBundleResponse:
    return await stub.ImportCatalogBundle(
        pb.ImportCatalogBundleRequest(archive=archive, mode=mode, dry_run=dry_run)
    )


def labels(content: CatalogContent) -> list[str]:
    return [f"{kind.value}:{code}" for kind, code in content.entities]


def rezip(archive: bytes, change: Callable[[dict[str, bytes]], None]) -> bytes:
    """The archive with its files edited by `change` (a dict of path -> bytes)."""
    with zipfile.ZipFile(io.BytesIO(archive)) as source:
        files = {name: source.read(name) for name in source.namelist()}
    change(files)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name, data in files.items():
            target.writestr(name, data)
    return out.getvalue()


# -- round trips ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "version"),
    [(LifecycleStatus.IN_DESIGN, 0), (LifecycleStatus.LAUNCHED, 1)],
    ids=["designed", "launched"],
)
async def test_a_bundle_imported_into_a_fresh_catalog_exports_to_the_same_bytes(
    catalog_stub: Stub, status: LifecycleStatus, version: int
) -> None:
    stub = catalog_stub
    content = catalogs.sample_content(status, version)
    archive = bundle.to_zip_bytes(content)
    result = await import_bundle(stub, archive)
    assert sorted(result.created) == sorted(labels(content))
    assert (list(result.updated), list(result.obsoleted)) == ([], [])
    assert await export(stub) == archive
    assert await export(stub, DRAFT) == archive
    got = await stub.GetCombo(pb.GetComboRequest(code="family_bundle"))
    assert got.combo.name == "亲情1+ 融合套餐"


async def test_the_server_export_is_the_canonical_bundle_and_re_imports_as_a_no_op(
    catalog_stub: Stub,
) -> None:
    stub = catalog_stub
    await seed_catalog(stub)
    exported = await export(stub)
    assert exported == bundle.to_zip_bytes(catalogs.sample_content(LifecycleStatus.IN_DESIGN, 0))
    before = await catalog_state(stub)
    result = await import_bundle(stub, exported, pb.IMPORT_MODE_MERGE)
    assert (list(result.created), list(result.updated), list(result.obsoleted)) == ([], [], [])
    assert await export(stub) == exported
    assert await catalog_state(stub) == before


async def test_a_published_version_exports_like_the_draft_it_froze(catalog_stub: Stub) -> None:
    stub = catalog_stub
    archive = bundle.to_zip_bytes(catalogs.sample_content())
    await import_bundle(stub, archive)
    await stub.PublishCatalog(pb.PublishCatalogRequest(description="imported"))
    assert await export(stub, common_pb2.VersionSelector(version=1)) == archive
    missing = await failure(
        stub.ExportCatalogBundle(
            pb.ExportCatalogBundleRequest(selector=common_pb2.VersionSelector(version=2))
        )
    )
    assert missing.code is grpc.StatusCode.NOT_FOUND


async def test_a_dry_run_reports_without_writing(catalog_stub: Stub) -> None:
    stub = catalog_stub
    before = await catalog_state(stub)
    content = catalogs.sample_content()
    result = await import_bundle(stub, bundle.to_zip_bytes(content), dry_run=True)
    assert sorted(result.created) == sorted(labels(content))
    assert await catalog_state(stub) == before


async def test_replace_obsoletes_what_the_bundle_leaves_out(catalog_stub: Stub) -> None:
    stub = catalog_stub
    await seed_catalog(stub)
    full = catalogs.sample_content(LifecycleStatus.IN_DESIGN, 0)
    without_combo = CatalogContent.build(
        areas=full.areas,
        channels=full.channels,
        segments=full.segments,
        zone_tables=full.zone_tables,
        rule_sources=full.rule_sources,
        entities={k: v for k, v in full.entities.items() if k[0] is not model.EntityKind.COMBO},
    )
    result = await import_bundle(stub, bundle.to_zip_bytes(without_combo), pb.IMPORT_MODE_REPLACE)
    assert list(result.obsoleted) == ["combo:family_bundle"]
    assert (list(result.created), list(result.updated)) == ([], [])
    got = await stub.GetCombo(pb.GetComboRequest(code="family_bundle"))
    assert got.combo.status == catalog_pb2.LIFECYCLE_STATUS_OBSOLETE


async def test_merge_updates_changed_entities(catalog_stub: Stub) -> None:
    stub = catalog_stub
    await seed_catalog(stub)
    renamed = replace(catalogs.FAMILY_PLAN, name="亲情1+ 新版")
    full = catalogs.sample_content(LifecycleStatus.IN_DESIGN, 0)
    entities = dict(full.entities)
    key = (model.EntityKind.PRODUCT, renamed.code)
    entities[key] = replace(entities[key], definition=renamed)
    changed = CatalogContent.build(
        areas=full.areas,
        channels=full.channels,
        segments=full.segments,
        zone_tables=full.zone_tables,
        rule_sources=full.rule_sources,
        entities=entities,
    )
    result = await import_bundle(stub, bundle.to_zip_bytes(changed))
    assert list(result.updated) == ["product:family_plan"]
    got = await stub.GetProduct(pb.GetProductRequest(code="family_plan"))
    assert got.product.name == "亲情1+ 新版"
    assert got.product.meta.revision == 2


# -- malformed bundles ------------------------------------------------------------------------


def _valid() -> bytes:
    return bundle.to_zip_bytes(catalogs.sample_content())


def _unknown_references() -> bytes:
    """Well-formed files, but a product refers to a business the bundle does not have."""
    full = catalogs.sample_content()
    entities = {k: v for k, v in full.entities.items() if k != (model.EntityKind.BUSINESS, "sms")}
    return bundle.to_zip_bytes(
        CatalogContent.build(
            areas=full.areas,
            channels=full.channels,
            segments=full.segments,
            zone_tables=full.zone_tables,
            rule_sources=full.rule_sources,
            entities=entities,
        )
    )


MALFORMED: dict[str, tuple[Callable[[], bytes], str]] = {
    "not a zip": (lambda: b"PK\x03\x04 but not really a zip archive", "archive"),
    "path traversal": (
        lambda: rezip(_valid(), lambda f: f.__setitem__("../../etc/evil.tariff", b"x")),
        "../../etc/evil.tariff",
    ),
    "absolute path": (
        lambda: rezip(_valid(), lambda f: f.__setitem__("/tmp/evil.tariff", b"x")),
        "/tmp/evil.tariff",
    ),
    "bad json": (
        lambda: rezip(_valid(), lambda f: f.__setitem__("products/youth_plan.json", b"{oops")),
        "products/youth_plan.json",
    ),
    "unknown format": (
        lambda: rezip(_valid(), lambda f: f.__setitem__("catalog.json", b'{"format": "v0"}')),
        "catalog.json",
    ),
    "unknown reference": (_unknown_references, "product:mobile_basic"),
    "empty": (lambda: b"", "archive"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
async def test_malformed_bundles_are_refused_and_nothing_is_imported(
    catalog_stub: Stub, case: str
) -> None:
    stub = catalog_stub
    await seed_reference_data(stub)
    before = await catalog_state(stub)
    make, field = MALFORMED[case]
    failed = await failure(stub.ImportCatalogBundle(pb.ImportCatalogBundleRequest(archive=make())))
    assert failed.code is INVALID
    assert failed.fields, "every problem is a field violation"
    assert any(f.startswith(field) for f in failed.fields), failed.fields
    assert await catalog_state(stub) == before


async def test_an_unknown_import_mode_is_refused(catalog_stub: Stub) -> None:
    stub = catalog_stub
    before = await catalog_state(stub)
    request = pb.ImportCatalogBundleRequest(archive=_valid())
    request.mode = 9  # type: ignore[assignment]
    failed = await failure(stub.ImportCatalogBundle(request))
    assert (failed.code, failed.fields) == (INVALID, ["mode"])
    assert await catalog_state(stub) == before
