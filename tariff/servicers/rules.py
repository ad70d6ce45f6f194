"""RulesService: diagnostics for rule sources before anything is published.

TestRules runs the examples on the reference interpreters (eligibility, prices, usage);
Simulate answers UNIMPLEMENTED until the eligibility, quote and rating engines land.
"""

# ruff: noqa: N802  (method names are the RPC names)

from __future__ import annotations

import asyncio
from typing import Any

import grpc

from catalog.services import CatalogService
from rules.checking import check_catalog
from rules.examples import run_examples
from rules.names import names_from_content, zone_lookups
from tariff.mappers import rules as m
from tariff.v1 import rules_service_pb2 as pb
from tariff.v1 import rules_service_pb2_grpc

Context = grpc.aio.ServicerContext[Any, Any]


class RulesServicer(rules_service_pb2_grpc.RulesServiceServicer):
    def __init__(self, service: CatalogService) -> None:
        self._service = service

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
        await context.abort(
            grpc.StatusCode.UNIMPLEMENTED,
            "Simulate is not served yet: it needs the eligibility, quote and rating engines",
        )
