"""CatalogService requests -> service-layer arguments, and service results -> responses.

One function per request shape: each checks the whole message, raises one `ValidationError`
naming every bad field by its proto path, and returns plain domain values; each response
function is exact (no field dropped, no text altered). The servicer stays a thin shell.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar, cast

from catalog import model
from catalog.diff import Change
from catalog.queries import CatalogFilter
from catalog.services import ImportMode, ImportResult, Published
from catalog.versions import DRAFT, AsOf, Selector, VersionNumber
from tariff.mappers.common import (
    REQUIRED,
    Problems,
    datetime_to_timestamp,
    published_selector_from_proto,
    rule_sources_from_proto,
    selector_from_proto,
    timestamp_to_datetime,
)
from tariff.mappers.entities import (
    business_from_proto,
    combo_from_proto,
    product_from_proto,
)
from tariff.mappers.enums import CHANGE_TYPE, ENTITY_KIND, IMPORT_MODE, LIFECYCLE_STATUS
from tariff.mappers.reference import (
    area_from_proto,
    channel_from_proto,
    segment_from_proto,
    zone_table_from_proto,
)
from tariff.v1 import catalog_pb2, catalog_service_pb2, common_pb2

T = TypeVar("T")

# Newest-first keyset paging over version numbers (uint32): the key grows as numbers shrink.
_VERSION_KEY_BASE = 1 << 32
_REVISION_HINT = "is required: send the meta.revision you read (revisions start at 1)"

GetRequest = (
    catalog_service_pb2.GetBusinessRequest
    | catalog_service_pb2.GetProductRequest
    | catalog_service_pb2.GetComboRequest
)
BusinessWrite = (
    catalog_service_pb2.CreateBusinessRequest | catalog_service_pb2.UpdateBusinessRequest
)
ProductWrite = catalog_service_pb2.CreateProductRequest | catalog_service_pb2.UpdateProductRequest
ComboWrite = catalog_service_pb2.CreateComboRequest | catalog_service_pb2.UpdateComboRequest
ListRequest = (
    catalog_service_pb2.ListBusinessesRequest
    | catalog_service_pb2.ListProductsRequest
    | catalog_service_pb2.ListCombosRequest
)


@dataclass(frozen=True, slots=True)
class EntityRead:
    """GetBusiness/GetProduct/GetCombo as service arguments."""

    code: str
    selector: Selector


@dataclass(frozen=True, slots=True)
class ListQuery:
    """ListBusinesses/ListProducts/ListCombos as service arguments."""

    selector: Selector
    filter: CatalogFilter
    page_size: int
    page_token: str


@dataclass(frozen=True, slots=True)
class Attach:
    """AttachRuleSources as service arguments; `target` None is the catalog itself."""

    target: tuple[model.EntityKind, str] | None
    sources: tuple[model.RuleSource, ...]
    remove_paths: tuple[str, ...]
    expected_revision: int


@dataclass(frozen=True, slots=True)
class Transition:
    kind: model.EntityKind
    code: str
    to: model.LifecycleStatus
    expected_revision: int


@dataclass(frozen=True, slots=True)
class ReferenceData:
    areas: tuple[model.Area, ...]
    channels: tuple[model.Channel, ...]
    segments: tuple[model.Segment, ...]


@dataclass(frozen=True, slots=True)
class Import:
    archive: bytes
    mode: ImportMode
    dry_run: bool


# -- entity writes ----------------------------------------------------------------------------


def _expected_revision(value: int, field: str, problems: Problems) -> int:
    if value < 1:
        problems.add(field, _REVISION_HINT)
    return value


def _present(present: bool, field: str, problems: Problems) -> bool:
    if not present:
        problems.add(field, REQUIRED)
    return present


def _business(request: BusinessWrite, problems: Problems) -> model.Business | None:
    if _present(request.HasField("business"), "business", problems):
        return business_from_proto(request.business, "business", problems)
    return None


def _product(request: ProductWrite, problems: Problems) -> model.Product | None:
    if _present(request.HasField("product"), "product", problems):
        return product_from_proto(request.product, "product", problems)
    return None


def _combo(request: ComboWrite, problems: Problems) -> model.Combo | None:
    if _present(request.HasField("combo"), "combo", problems):
        return combo_from_proto(request.combo, "combo", problems)
    return None


def business_create(request: catalog_service_pb2.CreateBusinessRequest) -> model.Business:
    problems = Problems()
    return _done(problems, _business(request, problems))


def business_update(
    request: catalog_service_pb2.UpdateBusinessRequest,
) -> tuple[model.Business, int]:
    """Definition and expected revision, their problems reported together."""
    problems = Problems()
    business = _business(request, problems)
    revision = _expected_revision(request.expected_revision, "expected_revision", problems)
    return _done(problems, business), revision


def product_create(request: catalog_service_pb2.CreateProductRequest) -> model.Product:
    problems = Problems()
    return _done(problems, _product(request, problems))


def product_update(request: catalog_service_pb2.UpdateProductRequest) -> tuple[model.Product, int]:
    problems = Problems()
    product = _product(request, problems)
    revision = _expected_revision(request.expected_revision, "expected_revision", problems)
    return _done(problems, product), revision


def combo_create(request: catalog_service_pb2.CreateComboRequest) -> model.Combo:
    problems = Problems()
    return _done(problems, _combo(request, problems))


def combo_update(request: catalog_service_pb2.UpdateComboRequest) -> tuple[model.Combo, int]:
    problems = Problems()
    combo = _combo(request, problems)
    revision = _expected_revision(request.expected_revision, "expected_revision", problems)
    return _done(problems, combo), revision


# -- entity reads -----------------------------------------------------------------------------


def entity_read(request: GetRequest) -> EntityRead:
    """Code and catalog of a Get*; an unset selector reads the working draft."""
    problems = Problems()
    code = problems.required(request.code, "code")
    selector = _draft_default(request.selector, problems)
    return EntityRead(code, _done_selector(problems, selector))


def catalog_filter(msg: catalog_service_pb2.CatalogFilter, problems: Problems) -> CatalogFilter:
    statuses = LIFECYCLE_STATUS.many_from_proto(msg.statuses, "filter.statuses", problems)
    return CatalogFilter(
        area_code=msg.area_code,
        channel_code=msg.channel_code,
        segment_code=msg.segment_code,
        statuses=frozenset(statuses),
        category=msg.category,
    )


def list_query(request: ListRequest) -> ListQuery:
    """Catalog, filter and page of a List*; an unset selector lists the working draft."""
    problems = Problems()
    selector = _draft_default(request.selector, problems)
    flt = catalog_filter(request.filter, problems)
    return ListQuery(_done_selector(problems, selector), flt, request.page_size, request.page_token)


# -- rule sources and lifecycle ---------------------------------------------------------------


def _entity_ref(
    msg: catalog_pb2.EntityRef, field: str, problems: Problems
) -> tuple[model.EntityKind, str] | None:
    kind = ENTITY_KIND.from_proto(msg.kind, f"{field}.kind", problems)
    code = problems.required(msg.code, f"{field}.code")
    return None if kind is None else (kind, code)


def attach(request: catalog_service_pb2.AttachRuleSourcesRequest) -> Attach:
    """An unset target is the catalog itself, whose revision is ignored."""
    problems = Problems()
    target = None
    revision = request.expected_revision
    if request.HasField("target"):
        target = _entity_ref(request.target, "target", problems)
        _expected_revision(revision, "expected_revision", problems)
    sources = rule_sources_from_proto(request.sources, "sources", problems)
    for i, path in enumerate(request.remove_paths):
        problems.required(path, f"remove_paths[{i}]")
    problems.check()
    return Attach(target, sources, tuple(request.remove_paths), revision)


def attached_to_proto(
    sources: Iterable[model.RuleSource], revision: int
) -> catalog_service_pb2.AttachRuleSourcesResponse:
    return catalog_service_pb2.AttachRuleSourcesResponse(
        sources=[common_pb2.RuleSource(path=s.path, text=s.text) for s in sources],
        revision=revision,
    )


def transition(request: catalog_service_pb2.TransitionLifecycleRequest) -> Transition:
    problems = Problems()
    target = None
    if _present(request.HasField("target"), "target", problems):
        target = _entity_ref(request.target, "target", problems)
    to = LIFECYCLE_STATUS.from_proto(request.to_status, "to_status", problems)
    revision = _expected_revision(request.expected_revision, "expected_revision", problems)
    kind, code = _done(problems, target)
    return Transition(kind, code, _done(problems, to), revision)


def transitioned_to_proto(
    status: model.LifecycleStatus, revision: int
) -> catalog_service_pb2.TransitionLifecycleResponse:
    return catalog_service_pb2.TransitionLifecycleResponse(
        status=LIFECYCLE_STATUS.to_proto(status), revision=revision
    )


# -- reference data ---------------------------------------------------------------------------


def reference_data(request: catalog_service_pb2.PutReferenceDataRequest) -> ReferenceData:
    problems = Problems()
    areas = [area_from_proto(a, f"areas[{i}]", problems) for i, a in enumerate(request.areas)]
    channels = [
        channel_from_proto(c, f"channels[{i}]", problems) for i, c in enumerate(request.channels)
    ]
    segments = tuple(
        segment_from_proto(s, f"segments[{i}]", problems) for i, s in enumerate(request.segments)
    )
    problems.check()
    return ReferenceData(
        tuple(a for a in areas if a is not None),
        tuple(c for c in channels if c is not None),
        segments,
    )


def reference_selector(request: catalog_service_pb2.GetReferenceDataRequest) -> Selector:
    return _selector(request.selector, "selector", DRAFT)


def zone_table(request: catalog_service_pb2.PutZoneTableRequest) -> model.ZoneTable:
    problems = Problems()
    table = None
    if _present(request.HasField("table"), "table", problems):
        table = zone_table_from_proto(request.table, "table", problems)
    return _done(problems, table)


def zone_table_read(request: catalog_service_pb2.GetZoneTableRequest) -> tuple[str, Selector]:
    problems = Problems()
    name = problems.required(request.name, "name")
    selector = _draft_default(request.selector, problems)
    return name, _done_selector(problems, selector)


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
    """Warnings carry no source location: they are about entities, not rule text."""
    return catalog_service_pb2.PublishCatalogResponse(
        version=catalog_version_to_proto(published.info),
        diagnostics=[
            common_pb2.Diagnostic(
                severity=common_pb2.SEVERITY_WARNING,
                code="publish-warning",
                message=f"{w.field}: {w.description}",
            )
            for w in published.warnings
        ],
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
    """(from, to); None leaves the service's defaults: in force now, the working draft."""
    problems = Problems()
    # `from` is a Python keyword, hence getattr; mypy-protobuf omits the attribute.
    older = cast(common_pb2.VersionSelector, getattr(request, "from"))
    before = selector_from_proto(older, "from", None, problems)
    after = selector_from_proto(request.to, "to", None, problems)
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


# -- bundles ----------------------------------------------------------------------------------


def bundle_import(request: catalog_service_pb2.ImportCatalogBundleRequest) -> Import:
    """Mode UNSPECIFIED is MERGE, as the contract says; an empty archive is a violation."""
    problems = Problems()
    if not request.archive:
        problems.add("archive", REQUIRED)
    mode: ImportMode | None = ImportMode.MERGE
    if request.mode != IMPORT_MODE.unspecified:
        mode = IMPORT_MODE.from_proto(request.mode, "mode", problems)
    return Import(bytes(request.archive), _done(problems, mode), request.dry_run)


def import_result_to_proto(result: ImportResult) -> catalog_service_pb2.ImportCatalogBundleResponse:
    return catalog_service_pb2.ImportCatalogBundleResponse(
        created=result.created, updated=result.updated, obsoleted=result.obsoleted
    )


def export_selector(request: catalog_service_pb2.ExportCatalogBundleRequest) -> Selector:
    """An unset selector exports the working draft."""
    return _selector(request.selector, "selector", DRAFT)


# -- helpers ----------------------------------------------------------------------------------


def _done(problems: Problems, value: T | None) -> T:
    """Raise the collected violations, else return the value (None only ever comes with one)."""
    problems.check()
    assert value is not None, "a mapper returned None without recording a violation"
    return value


def _draft_default(msg: common_pb2.VersionSelector, problems: Problems) -> Selector | None:
    """The `selector` field of a CatalogService read: unset reads the working draft."""
    return selector_from_proto(msg, "selector", DRAFT, problems)


def _selector(msg: common_pb2.VersionSelector, field: str, default: Selector) -> Selector:
    problems = Problems()
    return _done_selector(problems, selector_from_proto(msg, field, default, problems))


def _done_selector(problems: Problems, selector: Selector | None) -> Selector:
    """`_done` for selectors (a TypeVar would widen the Selector union to object)."""
    problems.check()
    assert selector is not None, "a mapper returned None without recording a violation"
    return selector
