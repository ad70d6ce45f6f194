"""Publishing, catalog versions, diffs and bundles: requests -> service arguments, results ->
responses (the version-level half of the CatalogService mapping)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from catalog import model
from catalog.diff import Change
from catalog.services import ImportMode, ImportResult, Published
from catalog.versions import DRAFT, AsOf, Selector, VersionNumber
from rules.version_diff import VersionDiff
from tariff.mappers.common import (
    REQUIRED,
    Problems,
    datetime_to_timestamp,
    done,
    published_selector_from_proto,
    selector_from_proto,
    selector_only,
    timestamp_to_datetime,
)
from tariff.mappers.enums import CHANGE_TYPE, IMPORT_MODE, OFFER_ASPECT
from tariff.mappers.rules import finding_to_proto
from tariff.v1 import catalog_pb2, catalog_service_pb2

# Newest-first keyset paging over version numbers (uint32): the key grows as numbers shrink.
_VERSION_KEY_BASE = 1 << 32


@dataclass(frozen=True, slots=True)
class Import:
    """ImportCatalogBundle as arguments: the raw archive, how to merge, whether to write."""

    archive: bytes
    mode: ImportMode
    dry_run: bool


# -- versions ---------------------------------------------------------------------------------


def publish(request: catalog_service_pb2.PublishCatalogRequest) -> tuple[datetime | None, str]:
    """Effective time (None = now) and release notes."""
    problems = Problems()
    ts = request.effective_from if request.HasField("effective_from") else None
    effective = timestamp_to_datetime(ts, "effective_from", problems)
    problems.check()
    return effective, request.description


def catalog_version_to_proto(info: model.CatalogVersionInfo) -> catalog_pb2.CatalogVersion:
    return catalog_pb2.CatalogVersion(
        number=info.number,
        effective_from=datetime_to_timestamp(info.effective_from),
        publish_time=datetime_to_timestamp(info.published_at),
        description=info.description,
        content_hash=info.content_hash,
        business_count=info.business_count,
        product_count=info.product_count,
        combo_count=info.combo_count,
    )


def published_to_proto(published: Published) -> catalog_service_pb2.PublishCatalogResponse:
    """Warnings of the published version's rules, located in their sources."""
    texts = {s.path: s.text for _, s in published.content.all_rule_sources()}
    return catalog_service_pb2.PublishCatalogResponse(
        version=catalog_version_to_proto(published.info),
        diagnostics=[finding_to_proto(w, texts.get(w.path, "")) for w in published.warnings],
    )


def newest_first_key(info: model.CatalogVersionInfo) -> str:
    """Paging key for `catalog.queries.paginate`, which pages in ascending key order."""
    return f"{_VERSION_KEY_BASE - info.number:010d}"


def newest_first(versions: Iterable[model.CatalogVersionInfo]) -> list[model.CatalogVersionInfo]:
    return sorted(versions, key=newest_first_key)


def versions_to_proto(
    page: Iterable[model.CatalogVersionInfo], next_token: str
) -> catalog_service_pb2.ListCatalogVersionsResponse:
    return catalog_service_pb2.ListCatalogVersionsResponse(
        versions=[catalog_version_to_proto(v) for v in page], next_page_token=next_token
    )


def version_read(
    request: catalog_service_pb2.GetCatalogVersionRequest,
) -> AsOf | VersionNumber | None:
    """A published version by number or as-of time; None = in force now; the draft is refused."""
    problems = Problems()
    selector = published_selector_from_proto(request.selector, "selector", problems)
    problems.check()
    return selector


def diff_sides(
    request: catalog_service_pb2.DiffCatalogVersionsRequest,
) -> tuple[Selector | None, Selector | None]:
    """(base, target); None leaves the service's defaults: in force now, the working draft."""
    problems = Problems()
    before = selector_from_proto(request.base, "base", None, problems)
    after = selector_from_proto(request.target, "target", None, problems)
    problems.check()
    return before, after


def change_to_proto(change: Change) -> catalog_service_pb2.EntityChange:
    return catalog_service_pb2.EntityChange(
        kind=change.kind,
        code=change.code,
        change_type=CHANGE_TYPE.to_proto(change.change_type),
        fields=[
            catalog_service_pb2.FieldChange(path=f.path, before=f.before, after=f.after)
            for f in change.fields
        ],
    )


def changes_to_proto(changes: Iterable[Change]) -> catalog_service_pb2.DiffCatalogVersionsResponse:
    return catalog_service_pb2.DiffCatalogVersionsResponse(
        changes=[change_to_proto(c) for c in changes]
    )


def version_diff_to_proto(found: VersionDiff) -> catalog_service_pb2.DiffCatalogVersionsResponse:
    """The entity changes, then per offer and per rule file, all of `found`."""
    response = changes_to_proto(found.entities)
    response.offer_changes.extend(
        catalog_service_pb2.OfferChange(
            offer_code=offer.code,
            kind=offer.kind,
            change_type=CHANGE_TYPE.to_proto(offer.change_type),
            items=[
                catalog_service_pb2.OfferItemChange(
                    aspect=OFFER_ASPECT.to_proto(item.aspect),
                    item=item.item,
                    change_type=CHANGE_TYPE.to_proto(item.change_type),
                    before=item.before,
                    after=item.after,
                )
                for item in offer.items
            ],
        )
        for offer in found.offers
    )
    response.rule_file_changes.extend(
        catalog_service_pb2.RuleFileChange(
            path=file.path,
            owner=file.owner,
            change_type=CHANGE_TYPE.to_proto(file.change_type),
            diff_lines=file.lines,
        )
        for file in found.files
    )
    return response


# -- bundles ----------------------------------------------------------------------------------


def bundle_import(request: catalog_service_pb2.ImportCatalogBundleRequest) -> Import:
    """Mode UNSPECIFIED is MERGE, as the contract says; an empty archive is a violation."""
    problems = Problems()
    if not request.archive:
        problems.add("archive", REQUIRED)
    mode: ImportMode | None = ImportMode.MERGE
    if request.mode != IMPORT_MODE.unspecified:
        mode = IMPORT_MODE.from_proto(request.mode, "mode", problems)
    return Import(bytes(request.archive), done(problems, mode), request.dry_run)


def import_result_to_proto(result: ImportResult) -> catalog_service_pb2.ImportCatalogBundleResponse:
    return catalog_service_pb2.ImportCatalogBundleResponse(
        created=result.created, updated=result.updated, obsoleted=result.obsoleted
    )


def export_selector(request: catalog_service_pb2.ExportCatalogBundleRequest) -> Selector:
    """An unset selector exports the working draft."""
    return selector_only(request.selector, "selector", DRAFT)
