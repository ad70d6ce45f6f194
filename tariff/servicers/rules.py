"""RulesService: diagnostics for rule sources before anything is published.

TestRules runs the examples (eligibility, prices, usage). Simulate answers an order system's
question on the draft (or any version), optionally beside a baseline version, with the very
code the live services run: the draft is installed as a SaleCatalog of its own (version 0),
as it would sell once published (catalog.publishing.preview_content: work in design or in
test counts as launched), built once per draft content and reused while it does not change.
Eligibility, listing, quotes and rating are simulated: a simulated Rate rates every event
under the one catalog simulated (shadow rating), whatever the events' times.
"""

# ruff: noqa: N802  (method names are the RPC names)

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from typing import Any

import grpc

from catalog import codec
from catalog.errors import NotFound, ValidationError, Violation
from catalog.publishing import preview_content
from catalog.services import CatalogService, utcnow
from catalog.snapshot import SnapshotRegistry, registry_of
from catalog.versions import DRAFT, Draft, Selector
from rules.checking import check_catalog
from rules.examples import run_examples
from rules.names import names_from_content, zone_lookups
from rules.sale_catalog import SaleCatalog
from tariff.bootstrap import draft_catalog
from tariff.errors import Refused
from tariff.mappers import rules as m
from tariff.mappers.common import Problems, selector_from_proto
from tariff.mappers.rules import finding_to_proto
from tariff.mappers.sale import sale_time
from tariff.servicers.pricing import answer_quote
from tariff.servicers.qualification import answer_check, answer_list
from tariff.servicers.rating import rate_batch
from tariff.v1 import rules_service_pb2 as pb
from tariff.v1 import rules_service_pb2_grpc

Context = grpc.aio.ServicerContext[Any, Any]


SIMULATED = ("check_eligibility", "list_eligible_offers", "quote", "rate")


class RulesServicer(rules_service_pb2_grpc.RulesServiceServicer):
    def __init__(
        self,
        service: CatalogService,
        snapshots: SnapshotRegistry[SaleCatalog] | None = None,
        clock: Callable[[], datetime] = utcnow,
        tz: tzinfo = UTC,
        max_events: int = 10_000,
    ) -> None:
        self._service = service
        self._snapshots = snapshots
        self._clock = clock
        self._tz = tz
        self._max_events = max_events
        self._draft: tuple[str, SaleCatalog] | None = None  # (content hash, installed draft)
        self._draft_lock = asyncio.Lock()

    async def CheckRules(
        self, request: pb.CheckRulesRequest, context: Context
    ) -> pb.CheckRulesResponse:
        asked = m.check_request(request)
        content = await asyncio.to_thread(self._service.content, asked.selector)
        result = await asyncio.to_thread(check_catalog, content, asked.sources)
        texts = {s.path: s.text for _, s in content.all_rule_sources()}
        texts.update({s.path: s.text for s in asked.sources})
        diagnostics = result.diagnostics
        if asked.sources:  # only what was asked about, though checked with the rest
            paths = {s.path for s in asked.sources}
            diagnostics = tuple(d for d in diagnostics if d.path in paths)
        return m.check_response(diagnostics, texts)

    async def TestRules(
        self, request: pb.TestRulesRequest, context: Context
    ) -> pb.TestRulesResponse:
        asked = m.check_request(request)
        content = await asyncio.to_thread(self._service.content, asked.selector)
        result = await asyncio.to_thread(check_catalog, content, asked.sources)
        texts = {s.path: s.text for _, s in content.all_rule_sources()}
        texts.update({s.path: s.text for s in asked.sources})
        if not result.ok:
            return m.test_response((), result.diagnostics, texts)
        results = await asyncio.to_thread(
            run_examples,
            list(result.modules),
            names_from_content(content),
            None,
            zone_lookups(content),
        )
        if asked.sources:  # the examples of the sources asked about
            paths = {s.path for s in asked.sources}
            results = [r for r in results if r.path in paths]
        return m.test_response(results, (), texts)

    async def Simulate(self, request: pb.SimulateRequest, context: Context) -> pb.SimulateResponse:
        which = request.WhichOneof("request")
        problems = Problems()
        if which is None:
            problems.add("request", "is required: one of " + ", ".join(SIMULATED))
        selector = selector_from_proto(request.selector, "selector", DRAFT, problems)
        baseline = None
        if request.HasField("baseline"):
            baseline = selector_from_proto(request.baseline, "baseline", DRAFT, problems)
        problems.check()
        assert which is not None
        assert selector is not None
        inner = getattr(request, which)
        now = self._clock()
        time = (
            now
            if which == "rate"
            else sale_time(inner.context, f"{which}.context", now, problems, self._tz)
        )
        problems.check()
        catalog = await self._catalog(selector)
        response = pb.SimulateResponse(result=self._answer(catalog, which, inner, time))
        response.diagnostics.extend(
            finding_to_proto(d, catalog.book.texts.get(d.path, ""))
            for d in catalog.book.diagnostics
        )
        if baseline is not None:
            other = await self._catalog(baseline)
            response.baseline_result.CopyFrom(self._answer(other, which, inner, time))
        return response

    def _answer(
        self, catalog: SaleCatalog, which: str, inner: Any, time: datetime
    ) -> pb.SimulationResult:
        try:
            if which == "check_eligibility":
                checked = answer_check(catalog, inner, time)
                return pb.SimulationResult(
                    catalog_version=catalog.number, check_eligibility=checked
                )
            if which == "quote":
                quoted = answer_quote(catalog, inner, time, self._tz)
                return pb.SimulationResult(catalog_version=catalog.number, quote=quoted)
            if which == "rate":
                rated = rate_batch(
                    registry_of(catalog), _unpinned(inner), self._tz, self._max_events
                )
                return pb.SimulationResult(catalog_version=catalog.number, rate=rated)
            listed = answer_list(catalog, inner, time)
            return pb.SimulationResult(catalog_version=catalog.number, list_eligible_offers=listed)
        except Refused as refused:  # e.g. an ineligible cart: the same refusal, named
            raise Refused(
                f"{which}: {refused}",
                refused.violations,
                refused.status_details,
                reason=refused.reason,
            ) from None
        except ValidationError as error:  # the inner request's paths, under its field
            raise ValidationError(
                [Violation(f"{which}.{v.field}", v.description) for v in error.violations]
            ) from None

    async def _catalog(self, selector: Selector) -> SaleCatalog:
        """The catalog a simulation reads: a published version from the live registry, or
        the draft installed on its own (rebuilt only when the draft's content changed)."""
        if not isinstance(selector, Draft):
            if self._snapshots is None:
                raise NotFound("no published versions are loaded in this server")
            return self._snapshots.get(selector)
        content = preview_content(await asyncio.to_thread(self._service.content, DRAFT))
        digest = await asyncio.to_thread(codec.content_hash, content)
        async with self._draft_lock:
            if self._draft is None or self._draft[0] != digest:
                draft = await asyncio.to_thread(draft_catalog, content, digest)
                self._draft = (digest, draft)
            return self._draft[1]


def _unpinned(request: Any) -> Any:
    """The inner request without its own selector (Simulate's selector chose the catalog)."""
    copy = type(request)()
    copy.CopyFrom(request)
    copy.ClearField("selector")
    return copy
