"""CatalogService entity and reference-data requests -> service-layer arguments, and service
results -> responses (versions, diffs and bundles are in `tariff.mappers.versions`).

One function per request shape: each checks the whole message, raises one `ValidationError`
naming every bad field by its proto path, and returns plain domain values; each response
function is exact (no field dropped, no text altered). The servicer stays a thin shell.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from catalog import model
from catalog.queries import CatalogFilter
from catalog.versions import DRAFT, Selector
from tariff.mappers.common import (
    REQUIRED,
    Problems,
    done,
    done_selector,
    rule_source_to_proto,
    rule_sources_from_proto,
    selector_from_proto,
    selector_only,
)
from tariff.mappers.entities import (
    business_from_proto,
    combo_from_proto,
    product_from_proto,
)
from tariff.mappers.enums import ENTITY_KIND, LIFECYCLE_STATUS
from tariff.mappers.reference import (
    area_from_proto,
    channel_from_proto,
    segment_from_proto,
    zone_table_from_proto,
)
from tariff.v1 import catalog_pb2, catalog_service_pb2, common_pb2

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
    return done(problems, _business(request, problems))


def business_update(
    request: catalog_service_pb2.UpdateBusinessRequest,
) -> tuple[model.Business, int]:
    """Definition and expected revision, their problems reported together."""
    problems = Problems()
    business = _business(request, problems)
    revision = _expected_revision(request.expected_revision, "expected_revision", problems)
    return done(problems, business), revision


def product_create(request: catalog_service_pb2.CreateProductRequest) -> model.Product:
    problems = Problems()
    return done(problems, _product(request, problems))


def product_update(request: catalog_service_pb2.UpdateProductRequest) -> tuple[model.Product, int]:
    problems = Problems()
    product = _product(request, problems)
    revision = _expected_revision(request.expected_revision, "expected_revision", problems)
    return done(problems, product), revision


def combo_create(request: catalog_service_pb2.CreateComboRequest) -> model.Combo:
    problems = Problems()
    return done(problems, _combo(request, problems))


def combo_update(request: catalog_service_pb2.UpdateComboRequest) -> tuple[model.Combo, int]:
    problems = Problems()
    combo = _combo(request, problems)
    revision = _expected_revision(request.expected_revision, "expected_revision", problems)
    return done(problems, combo), revision


# -- entity reads -----------------------------------------------------------------------------


def entity_read(request: GetRequest) -> EntityRead:
    """Code and catalog of a Get*; an unset selector reads the working draft."""
    problems = Problems()
    code = problems.required(request.code, "code")
    selector = _draft_default(request.selector, problems)
    return EntityRead(code, done_selector(problems, selector))


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
    return ListQuery(done_selector(problems, selector), flt, request.page_size, request.page_token)


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
        sources=[rule_source_to_proto(s) for s in sources],
        revision=revision,
    )


def transition(request: catalog_service_pb2.TransitionLifecycleRequest) -> Transition:
    problems = Problems()
    target = None
    if _present(request.HasField("target"), "target", problems):
        target = _entity_ref(request.target, "target", problems)
    to = LIFECYCLE_STATUS.from_proto(request.to_status, "to_status", problems)
    revision = _expected_revision(request.expected_revision, "expected_revision", problems)
    kind, code = done(problems, target)
    return Transition(kind, code, done(problems, to), revision)


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
    return selector_only(request.selector, "selector", DRAFT)


def zone_table(request: catalog_service_pb2.PutZoneTableRequest) -> model.ZoneTable:
    problems = Problems()
    table = None
    if _present(request.HasField("table"), "table", problems):
        table = zone_table_from_proto(request.table, "table", problems)
    return done(problems, table)


def zone_table_read(request: catalog_service_pb2.GetZoneTableRequest) -> tuple[str, Selector]:
    problems = Problems()
    name = problems.required(request.name, "name")
    selector = _draft_default(request.selector, problems)
    return name, done_selector(problems, selector)


def _draft_default(msg: common_pb2.VersionSelector, problems: Problems) -> Selector | None:
    """The `selector` field of a CatalogService read: unset reads the working draft."""
    return selector_from_proto(msg, "selector", DRAFT, problems)
