"""GovernanceService over gRPC: review and approval of the draft, and the audit log.

The acting principal is not read here: the security interceptor set it for the call, and
the service layer reads it (catalog.audit.current_actor).
"""

# ruff: noqa: N802  (method names are the RPC names)

from __future__ import annotations

import asyncio
from typing import Any

import grpc

from catalog.governance import Governance
from tariff.mappers import governance as m
from tariff.v1 import governance_service_pb2 as pb
from tariff.v1 import governance_service_pb2_grpc

Context = grpc.aio.ServicerContext[Any, Any]


class GovernanceServicer(governance_service_pb2_grpc.GovernanceServiceServicer):
    def __init__(self, governance: Governance) -> None:
        self._governance = governance

    async def SubmitForReview(
        self, request: pb.SubmitForReviewRequest, context: Context
    ) -> pb.SubmitForReviewResponse:
        review = await asyncio.to_thread(self._governance.submit)
        return pb.SubmitForReviewResponse(review=m.review_to_proto(review, True))

    async def ApproveDraft(
        self, request: pb.ApproveDraftRequest, context: Context
    ) -> pb.ApproveDraftResponse:
        review = await asyncio.to_thread(self._governance.approve)
        return pb.ApproveDraftResponse(review=m.review_to_proto(review, True))

    async def GetReview(
        self, request: pb.GetReviewRequest, context: Context
    ) -> pb.GetReviewResponse:
        review, current = await asyncio.to_thread(self._governance.review)
        if review is None:
            return pb.GetReviewResponse()
        return pb.GetReviewResponse(review=m.review_to_proto(review, current))

    async def ListAuditEntries(
        self, request: pb.ListAuditEntriesRequest, context: Context
    ) -> pb.ListAuditEntriesResponse:
        before, size = m.audit_page(request)
        principal = request.principal
        entries = await asyncio.to_thread(self._governance.audit_entries, before, size, principal)
        return m.audit_to_proto(entries, size)


SERVICE_NAME = pb.DESCRIPTOR.services_by_name["GovernanceService"].full_name


def add_to_server(governance: Governance, server: grpc.aio.Server) -> str:
    """Register the servicer; its service name (for health and reflection)."""
    governance_service_pb2_grpc.add_GovernanceServiceServicer_to_server(
        GovernanceServicer(governance), server
    )
    return SERVICE_NAME
