"""QualificationService: thin adapter from messages to rules.qualification / rules.listing.

Both RPCs read only the installed SaleCatalog of the version the request selects (by
default the one in force at the sale's time): no database access, no thread hop — the work
is CPU-bound and short, so it runs on the event loop.
"""

# ruff: noqa: N802  (method names are the RPC names)

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from typing import Any

import grpc

from catalog.snapshot import SnapshotRegistry
from catalog.versions import AsOf, VersionNumber
from rules.listing import list_offers
from rules.offering_prices import offering_prices
from rules.qualification import check_cart
from rules.sale_catalog import SaleCatalog
from tariff.mappers import qualification as m
from tariff.mappers.common import Problems, published_selector_from_proto
from tariff.mappers.offering_prices import full_view, offering_to_proto
from tariff.mappers.sale import cart_from_proto, sale_from_proto, sale_time
from tariff.v1 import common_pb2, order_pb2, qualification_service_pb2_grpc
from tariff.v1 import qualification_service_pb2 as pb

Context = grpc.aio.ServicerContext[Any, Any]


def catalog_for(
    registry: SnapshotRegistry[SaleCatalog],
    selector_msg: common_pb2.VersionSelector,
    context_msg: order_pb2.SaleContext,
    now: datetime,
    problems: Problems,
    tz: tzinfo = UTC,
) -> tuple[SaleCatalog, datetime] | None:
    """The version a sale request reads and the sale's instant; None after a violation."""
    time = sale_time(context_msg, "context", now, problems, tz)
    selector = published_selector_from_proto(selector_msg, "selector", problems)
    if problems:
        return None
    chosen: AsOf | VersionNumber = selector if selector is not None else AsOf(time)
    return registry.get(chosen), time


def answer_check(
    catalog: SaleCatalog, request: pb.CheckEligibilityRequest, time: datetime
) -> pb.CheckEligibilityResponse:
    """CheckEligibility on a chosen catalog (published or, in Simulate, the draft)."""
    problems = Problems()
    sale = sale_from_proto(request.context, "context", catalog, time, problems)
    cart = cart_from_proto(request.items, "items", catalog, problems)
    problems.check()
    verdict = check_cart(catalog, sale, cart, explain=request.explain)
    return m.cart_to_proto(verdict, catalog.book.texts, m.listing_parts(catalog))


def answer_list(
    catalog: SaleCatalog, request: pb.ListEligibleOffersRequest, time: datetime
) -> pb.ListEligibleOffersResponse:
    """ListEligibleOffers on a chosen catalog (published or, in Simulate, the draft)."""
    problems = Problems()
    token = m.decode_page_token(request.page_token, "page_token", problems)
    if token is not None and token[0] != catalog.number:
        problems.add("page_token", "belongs to another catalog version than the selector")
    elif token is not None and token[1] not in catalog.offers:
        problems.add("page_token", "is not a page token this server issued")
    kind = ""
    if request.kind:
        kind = m.KIND_NAMES.get(request.kind, "")
        if not kind:
            problems.add("kind", f"unknown offer kind {request.kind}")
    if request.page_size > m.MAX_PAGE:
        problems.add("page_size", f"at most {m.MAX_PAGE} offers per page")
    full = full_view(request.view, "view", problems)
    sale = sale_from_proto(request.context, "context", catalog, time, problems)
    problems.check()
    page = list_offers(
        catalog,
        sale,
        category=request.category,
        kind=kind,
        page_size=request.page_size,
        after=token[1] if token else "",
        explain=request.explain,
    )
    answer = m.page_to_proto(page, catalog.book.texts, m.listing_parts(catalog))
    if full:
        lineage = catalog.tree.lineage(sale.area)
        for listed, message in zip(page.offers, answer.offers, strict=True):
            prices = offering_prices(catalog, listed.offer, lineage)
            message.offering_prices.CopyFrom(offering_to_proto(prices))
    return answer


class QualificationServicer(qualification_service_pb2_grpc.QualificationServiceServicer):
    def __init__(
        self,
        snapshots: SnapshotRegistry[SaleCatalog],
        clock: Callable[[], datetime],
        tz: tzinfo = UTC,
    ) -> None:
        self._snapshots = snapshots
        self._clock = clock
        self._tz = tz

    async def CheckEligibility(
        self, request: pb.CheckEligibilityRequest, context: Context
    ) -> pb.CheckEligibilityResponse:
        problems = Problems()
        found = catalog_for(
            self._snapshots, request.selector, request.context, self._clock(), problems, self._tz
        )
        problems.check()
        assert found is not None
        return answer_check(found[0], request, found[1])

    async def ListEligibleOffers(
        self, request: pb.ListEligibleOffersRequest, context: Context
    ) -> pb.ListEligibleOffersResponse:
        problems = Problems()
        selector = request.selector
        token = m.decode_page_token(request.page_token, "page_token", problems)
        if token is not None and not request.HasField("selector"):
            selector = common_pb2.VersionSelector(version=token[0])  # page on the same version
        found = catalog_for(
            self._snapshots, selector, request.context, self._clock(), problems, self._tz
        )
        problems.check()
        assert found is not None
        return answer_list(found[0], request, found[1])
