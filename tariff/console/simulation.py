"""Quotes and shadow ratings for the console, on the draft as it would sell once published or
on the live version: the very functions Simulate and `tariff shadow` run
(tariff.servicers.pricing.answer_quote, tariff.rate_cli.shadow_file)."""

from __future__ import annotations

import threading
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from catalog import codec
from catalog.errors import NotFound
from catalog.publishing import preview_content
from catalog.services import CatalogService
from catalog.snapshot import SnapshotRegistry
from catalog.versions import DRAFT, AsOf
from rules.sale_catalog import SaleCatalog
from tariff.bootstrap import draft_catalog
from tariff.console.workbench import ConsoleRefusal
from tariff.rate_cli import Source, shadow_file
from tariff.rate_report import shadow_report
from tariff.servicers.pricing import answer_quote
from tariff.v1 import order_pb2
from tariff.v1 import pricing_service_pb2 as pb

MAX_CART_ITEMS = 50


class Catalogs:
    """The live version and the draft installed on its own (rebuilt only when the draft's
    content changed), as RulesServicer.Simulate holds them."""

    def __init__(
        self, service: CatalogService, snapshots: SnapshotRegistry[SaleCatalog], clock: Any
    ) -> None:
        self._service = service
        self._snapshots = snapshots
        self._clock = clock
        self._draft: tuple[str, SaleCatalog] | None = None
        self._lock = threading.Lock()

    def live(self) -> SaleCatalog:
        try:
            return self._snapshots.get(AsOf(self._clock()))
        except NotFound:
            raise ConsoleRefusal("no catalog version is in force yet: publish one first") from None

    def draft(self) -> SaleCatalog:
        content = preview_content(self._service.content(DRAFT))
        digest = codec.content_hash(content)
        with self._lock:
            if self._draft is None or self._draft[0] != digest:
                self._draft = (digest, draft_catalog(content, digest))
            return self._draft[1]

    def side(self, name: str) -> SaleCatalog:
        return self.draft() if name == "draft" else self.live()


def quote_request(form: dict[str, str]) -> pb.QuoteRequest:
    """A QuoteRequest from the page's fields: offers comma separated, optional segment."""
    codes = [c.strip() for c in form.get("offers", "").replace("，", ",").split(",")]
    codes = [c for c in codes if c]
    if not codes:
        raise ConsoleRefusal("name at least one offer to quote")
    if len(codes) > MAX_CART_ITEMS:
        raise ConsoleRefusal(f"a cart holds at most {MAX_CART_ITEMS} offers")
    customer = order_pb2.Customer()
    if form.get("segment"):
        customer.segment_codes.append(form["segment"])
    context = order_pb2.SaleContext(
        customer=customer, area_code=form.get("area", ""), channel_code=form.get("channel", "")
    )
    return pb.QuoteRequest(
        context=context,
        items=[order_pb2.CartItem(item_id=str(i + 1), offer_code=c) for i, c in enumerate(codes)],
    )


def quote(catalog: SaleCatalog, form: dict[str, str], now: datetime, tz: tzinfo) -> Any:
    """The QuoteResponse, or raises what Quote raises (ValidationError, Refused)."""
    return answer_quote(catalog, quote_request(form), now, tz)


def shadow(live: SaleCatalog, draft: SaleCatalog, usage: Path, tz: tzinfo) -> dict[str, Any]:
    """`tariff shadow FILE --version LIVE --version draft`'s report (B = the draft)."""
    a = Source.pinned(live, f"version {live.number}")
    b = Source.pinned(draft, "draft")
    found = shadow_file(usage, a, b, tz)
    return shadow_report(found, usage, (a.label, b.label))
