"""CatalogService over gRPC: map the request, run the use case off the event loop, map back.

The service layer does blocking database I/O, so every call goes through `asyncio.to_thread`.
Nothing here catches catalog errors: `tariff.errors.ErrorMappingInterceptor` turns them into
statuses once, for every servicer.
"""

# gRPC dictates the method names (the proto's CamelCase RPC names).
# ruff: noqa: N802

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

import grpc
from google.protobuf.message import Message

from catalog import bundle
from catalog.model import EntityKind
from catalog.queries import paginate
from catalog.services import CatalogService, Listed
from catalog.snapshot import SnapshotRegistry
from catalog.versions import DRAFT, Draft, Selector
from rules.offering_prices import offering_prices
from rules.sale_catalog import SaleCatalog
from rules.version_diff import version_diff
from tariff.mappers import catalog as m
from tariff.mappers import masks
from tariff.mappers import versions as vmap
from tariff.mappers.common import Problems
from tariff.mappers.entities import listed_business, listed_combo, listed_product
from tariff.mappers.governance import add_sign_offs
from tariff.mappers.offering_prices import full_view, offering_to_proto
from tariff.mappers.reference import reference_data_to_proto, zone_table_to_proto
from tariff.v1 import catalog_pb2, catalog_service_pb2_grpc, offering_price_pb2
from tariff.v1 import catalog_service_pb2 as pb

Context = grpc.aio.ServicerContext[Any, Any]
U = TypeVar("U", pb.UpdateBusinessRequest, pb.UpdateProductRequest, pb.UpdateComboRequest)


class CatalogServicer(catalog_service_pb2_grpc.CatalogServiceServicer):
    """Thin adapter: all translation lives in `tariff.mappers`, all rules in the service."""

    def __init__(
        self, service: CatalogService, snapshots: SnapshotRegistry[SaleCatalog] | None = None
    ) -> None:
        self._service = service
        self._snapshots = snapshots

    def _priced_catalog(self, view: int, selector: Selector) -> SaleCatalog | None:
        """The installed version whose structured prices a read with `view` returns (None
        for a BASIC read). Raises ValidationError for an unknown view or a FULL read of the
        draft (prices are those of a published version's compiled rules)."""
        problems = Problems()
        full = full_view(view, "view", problems)
        if full and (isinstance(selector, Draft) or self._snapshots is None):
            problems.add(
                "view",
                "structured prices are read from a published version: set `selector`",
            )
        problems.check()
        if not full or isinstance(selector, Draft) or self._snapshots is None:
            return None
        return self._snapshots.get(selector)

    @staticmethod
    def _prices_of(catalog: SaleCatalog, code: str) -> offering_price_pb2.OfferingPrices:
        offer = catalog.offers.get(code)
        if offer is None:  # in the version, but not a sellable offer of it
            return offering_price_pb2.OfferingPrices(
                offer_code=code, catalog_version=catalog.number
            )
        return offering_to_proto(offering_prices(catalog, offer))

    async def _masked(
        self, request: U, name: str, kind: EntityKind, to_proto: Callable[[Listed], Message]
    ) -> U:
        """The request as a whole update: the stored entity with the fields its update_mask
        names taken from it (tariff.mappers.masks). Raises ValidationError for a bad mask,
        NotFound for an entity that does not exist."""
        problems = Problems()
        given = getattr(request, name)
        paths = masks.mask_paths(request.update_mask, given, "update_mask", problems)
        problems.check()
        message: Message = request
        if paths is None or not message.HasField(name) or not given.code.strip():
            return request  # replaced whole, or the mapper reports what is missing
        stored = await asyncio.to_thread(self._service.get, kind, given.code, DRAFT)
        whole = type(request)()
        whole.CopyFrom(request)
        getattr(whole, name).CopyFrom(masks.merged(to_proto(stored), given, paths))
        return whole

    # -- businesses -----------------------------------------------------------------------

    async def CreateBusiness(
        self, request: pb.CreateBusinessRequest, context: Context
    ) -> pb.CreateBusinessResponse:
        business = m.business_create(request)
        listed = await asyncio.to_thread(self._service.create, business)
        return pb.CreateBusinessResponse(business=listed_business(listed))

    async def GetBusiness(
        self, request: pb.GetBusinessRequest, context: Context
    ) -> pb.GetBusinessResponse:
        read = m.entity_read(request)
        listed = await asyncio.to_thread(
            self._service.get, EntityKind.BUSINESS, read.code, read.selector
        )
        return pb.GetBusinessResponse(business=listed_business(listed))

    async def ListBusinesses(
        self, request: pb.ListBusinessesRequest, context: Context
    ) -> pb.ListBusinessesResponse:
        q = m.list_query(request)
        page, token = await asyncio.to_thread(
            self._service.list_entities,
            EntityKind.BUSINESS,
            q.selector,
            q.filter,
            q.page_size,
            q.page_token,
        )
        return pb.ListBusinessesResponse(
            businesses=[listed_business(i) for i in page], next_page_token=token
        )

    async def UpdateBusiness(
        self, request: pb.UpdateBusinessRequest, context: Context
    ) -> pb.UpdateBusinessResponse:
        request = await self._masked(request, "business", EntityKind.BUSINESS, listed_business)
        business, revision = m.business_update(request)
        listed = await asyncio.to_thread(self._service.update, business, revision)
        return pb.UpdateBusinessResponse(business=listed_business(listed))

    # -- products -------------------------------------------------------------------------

    async def CreateProduct(
        self, request: pb.CreateProductRequest, context: Context
    ) -> pb.CreateProductResponse:
        product = m.product_create(request)
        listed = await asyncio.to_thread(self._service.create, product)
        return pb.CreateProductResponse(product=listed_product(listed))

    async def GetProduct(
        self, request: pb.GetProductRequest, context: Context
    ) -> pb.GetProductResponse:
        read = m.entity_read(request)
        priced = await asyncio.to_thread(self._priced_catalog, request.view, read.selector)
        listed = await asyncio.to_thread(
            self._service.get, EntityKind.PRODUCT, read.code, read.selector
        )
        answer = pb.GetProductResponse(product=listed_product(listed))
        if priced is not None:
            answer.prices.CopyFrom(self._prices_of(priced, read.code))
        return answer

    async def ListProducts(
        self, request: pb.ListProductsRequest, context: Context
    ) -> pb.ListProductsResponse:
        q = m.list_query(request)
        priced = await asyncio.to_thread(self._priced_catalog, request.view, q.selector)
        page, token = await asyncio.to_thread(
            self._service.list_entities,
            EntityKind.PRODUCT,
            q.selector,
            q.filter,
            q.page_size,
            q.page_token,
        )
        answer = pb.ListProductsResponse(
            products=[listed_product(i) for i in page], next_page_token=token
        )
        if priced is not None:
            answer.prices.extend(self._prices_of(priced, i.definition.code) for i in page)
        return answer

    async def UpdateProduct(
        self, request: pb.UpdateProductRequest, context: Context
    ) -> pb.UpdateProductResponse:
        request = await self._masked(request, "product", EntityKind.PRODUCT, listed_product)
        product, revision = m.product_update(request)
        listed = await asyncio.to_thread(self._service.update, product, revision)
        return pb.UpdateProductResponse(product=listed_product(listed))

    # -- combos ---------------------------------------------------------------------------

    async def CreateCombo(
        self, request: pb.CreateComboRequest, context: Context
    ) -> pb.CreateComboResponse:
        combo = m.combo_create(request)
        listed = await asyncio.to_thread(self._service.create, combo)
        return pb.CreateComboResponse(combo=listed_combo(listed))

    async def GetCombo(self, request: pb.GetComboRequest, context: Context) -> pb.GetComboResponse:
        read = m.entity_read(request)
        priced = await asyncio.to_thread(self._priced_catalog, request.view, read.selector)
        listed = await asyncio.to_thread(
            self._service.get, EntityKind.COMBO, read.code, read.selector
        )
        answer = pb.GetComboResponse(combo=listed_combo(listed))
        if priced is not None:
            answer.prices.CopyFrom(self._prices_of(priced, read.code))
        return answer

    async def ListCombos(
        self, request: pb.ListCombosRequest, context: Context
    ) -> pb.ListCombosResponse:
        q = m.list_query(request)
        priced = await asyncio.to_thread(self._priced_catalog, request.view, q.selector)
        page, token = await asyncio.to_thread(
            self._service.list_entities,
            EntityKind.COMBO,
            q.selector,
            q.filter,
            q.page_size,
            q.page_token,
        )
        answer = pb.ListCombosResponse(
            combos=[listed_combo(i) for i in page], next_page_token=token
        )
        if priced is not None:
            answer.prices.extend(self._prices_of(priced, i.definition.code) for i in page)
        return answer

    async def UpdateCombo(
        self, request: pb.UpdateComboRequest, context: Context
    ) -> pb.UpdateComboResponse:
        request = await self._masked(request, "combo", EntityKind.COMBO, listed_combo)
        combo, revision = m.combo_update(request)
        listed = await asyncio.to_thread(self._service.update, combo, revision)
        return pb.UpdateComboResponse(combo=listed_combo(listed))

    # -- rule sources and lifecycle -------------------------------------------------------

    async def AttachRuleSources(
        self, request: pb.AttachRuleSourcesRequest, context: Context
    ) -> pb.AttachRuleSourcesResponse:
        a = m.attach(request)
        sources, revision = await asyncio.to_thread(
            self._service.attach_rule_sources,
            a.target,
            a.sources,
            a.remove_paths,
            a.expected_revision,
        )
        return m.attached_to_proto(sources, revision)

    async def TransitionLifecycle(
        self, request: pb.TransitionLifecycleRequest, context: Context
    ) -> pb.TransitionLifecycleResponse:
        t = m.transition(request)
        listed = await asyncio.to_thread(
            self._service.transition, t.kind, t.code, t.to, t.expected_revision
        )
        return m.transitioned_to_proto(listed.status, listed.revision)

    # -- reference data -------------------------------------------------------------------

    async def PutReferenceData(
        self, request: pb.PutReferenceDataRequest, context: Context
    ) -> pb.PutReferenceDataResponse:
        data = m.reference_data(request)
        written = await asyncio.to_thread(
            self._service.put_reference_data, data.areas, data.channels, data.segments
        )
        return pb.PutReferenceDataResponse(written_count=written)

    async def GetReferenceData(
        self, request: pb.GetReferenceDataRequest, context: Context
    ) -> pb.GetReferenceDataResponse:
        selector = m.reference_selector(request)
        content = await asyncio.to_thread(self._service.reference_data, selector)
        return reference_data_to_proto(content)

    async def PutZoneTable(
        self, request: pb.PutZoneTableRequest, context: Context
    ) -> pb.PutZoneTableResponse:
        table = m.zone_table(request)
        count = await asyncio.to_thread(self._service.put_zone_table, table)
        return pb.PutZoneTableResponse(prefix_count=count)

    async def GetZoneTable(
        self, request: pb.GetZoneTableRequest, context: Context
    ) -> pb.GetZoneTableResponse:
        name, selector = m.zone_table_read(request)
        table = await asyncio.to_thread(self._service.get_zone_table, name, selector)
        return pb.GetZoneTableResponse(table=zone_table_to_proto(table))

    # -- versions -------------------------------------------------------------------------

    async def PublishCatalog(
        self, request: pb.PublishCatalogRequest, context: Context
    ) -> pb.PublishCatalogResponse:
        effective_from, description = vmap.publish(request)
        published = await asyncio.to_thread(self._service.publish, effective_from, description)
        response = vmap.published_to_proto(published)
        await self._sign(response.version)
        return response

    async def ListCatalogVersions(
        self, request: pb.ListCatalogVersionsRequest, context: Context
    ) -> pb.ListCatalogVersionsResponse:
        versions = await asyncio.to_thread(self._service.list_versions)
        ordered = vmap.newest_first(versions)
        page, token = paginate(
            ordered, vmap.newest_first_key, request.page_size, request.page_token
        )
        response = vmap.versions_to_proto(page, token)
        await self._sign(*response.versions)
        return response

    async def GetCatalogVersion(
        self, request: pb.GetCatalogVersionRequest, context: Context
    ) -> pb.GetCatalogVersionResponse:
        selector = vmap.version_read(request)
        info = await asyncio.to_thread(self._service.get_version, selector)
        response = pb.GetCatalogVersionResponse(version=vmap.catalog_version_to_proto(info))
        await self._sign(response.version)
        return response

    async def DiffCatalogVersions(
        self, request: pb.DiffCatalogVersionsRequest, context: Context
    ) -> pb.DiffCatalogVersionsResponse:
        before, after = vmap.diff_sides(request)
        older, newer = await asyncio.to_thread(self._service.diff_sides, before, after)
        found = await asyncio.to_thread(version_diff, older, newer)
        return vmap.version_diff_to_proto(found)

    async def _sign(self, *versions: catalog_pb2.CatalogVersion) -> None:
        """Who authored, approved and published each version."""
        sign_offs = await asyncio.to_thread(self._service.governance.sign_offs)
        add_sign_offs(versions, sign_offs)

    # -- bundles --------------------------------------------------------------------------

    async def ImportCatalogBundle(
        self, request: pb.ImportCatalogBundleRequest, context: Context
    ) -> pb.ImportCatalogBundleResponse:
        job = vmap.bundle_import(request)
        content = await asyncio.to_thread(bundle.from_zip_bytes, job.archive)
        result = await asyncio.to_thread(
            self._service.import_content, content, job.mode, job.dry_run
        )
        return vmap.import_result_to_proto(result)

    async def ExportCatalogBundle(
        self, request: pb.ExportCatalogBundleRequest, context: Context
    ) -> pb.ExportCatalogBundleResponse:
        selector = vmap.export_selector(request)
        content = await asyncio.to_thread(self._service.content, selector)
        archive = await asyncio.to_thread(bundle.to_zip_bytes, content)
        return pb.ExportCatalogBundleResponse(archive=archive)
