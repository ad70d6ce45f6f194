"""Edits a test makes to a published catalog through CatalogService, as a product manager
would: change a product's rule file, put it back in test, publish a new version."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from google.protobuf import timestamp_pb2

from tariff.v1 import catalog_pb2, catalog_service_pb2, common_pb2

if TYPE_CHECKING:
    from tariff.v1.catalog_service_pb2_grpc import CatalogServiceAsyncStub


async def publish_edited(
    catalog_stub: CatalogServiceAsyncStub,
    code: str,
    edit: Callable[[str], str],
    effective_from: datetime | None = None,
) -> int:
    """Publish a version where product `code`'s own rule file (`…/CODE.tariff`) reads
    `edit(text)`; the new version's number. Unset `effective_from`: in force at once."""
    ref = catalog_pb2.EntityRef(kind=catalog_pb2.ENTITY_KIND_PRODUCT, code=code)
    read = await catalog_stub.GetProduct(catalog_service_pb2.GetProductRequest(code=code))
    [source] = [s for s in read.product.rule_sources if s.path.endswith(f"{code}.tariff")]
    attached = await catalog_stub.AttachRuleSources(
        catalog_service_pb2.AttachRuleSourcesRequest(
            target=ref,
            sources=[common_pb2.RuleSource(path=source.path, text=edit(source.text))],
            expected_revision=read.product.meta.revision,
        )
    )
    await catalog_stub.TransitionLifecycle(  # changed, it is in design again: test it
        catalog_service_pb2.TransitionLifecycleRequest(
            target=ref,
            to_status=catalog_pb2.LIFECYCLE_STATUS_IN_TEST,
            expected_revision=attached.revision,
        )
    )
    request = catalog_service_pb2.PublishCatalogRequest()
    if effective_from is not None:
        stamp = timestamp_pb2.Timestamp()
        stamp.FromDatetime(effective_from)
        request.effective_from.CopyFrom(stamp)
    published = await catalog_stub.PublishCatalog(request)
    return int(published.version.number)
