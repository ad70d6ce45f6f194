"""Review, audit entries and sign-offs to and from GovernanceService messages."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from catalog.audit import AuditEntry, Review, SignOff
from catalog.errors import ValidationError, Violation
from tariff.mappers.common import datetime_to_timestamp
from tariff.v1 import catalog_pb2
from tariff.v1 import governance_service_pb2 as pb

DEFAULT_PAGE = 100


def review_to_proto(review: Review, current: bool) -> pb.DraftReview:
    return pb.DraftReview(
        content_hash=review.content_hash,
        submitted_by=review.submitted_by,
        submit_time=datetime_to_timestamp(review.submitted_at),
        approved_by=review.approved_by,
        approve_time=datetime_to_timestamp(review.approved_at),
        current=current,
    )


def entry_to_proto(entry: AuditEntry) -> pb.AuditEntry:
    return pb.AuditEntry(
        id=entry.id,
        time=datetime_to_timestamp(entry.at),
        principal=entry.principal,
        method=entry.method,
        action=entry.action.value,
        entity=entry.entity,
        revision=entry.revision,
        outcome=entry.outcome.value,
        detail=entry.detail,
    )


def audit_page(request: pb.ListAuditEntriesRequest) -> tuple[int, int]:
    """(before_id, page size) of a request. Raises ValidationError."""
    problems = []
    if request.page_size < 0:
        problems.append(Violation("page_size", "must not be negative"))
    before = 0
    if request.page_token:
        if not request.page_token.isdigit() or int(request.page_token) <= 0:
            problems.append(Violation("page_token", "is not a token this server gave"))
        else:
            before = int(request.page_token)
    if problems:
        raise ValidationError(problems)
    return before, min(request.page_size or DEFAULT_PAGE, 1000)


def audit_to_proto(entries: list[AuditEntry], size: int) -> pb.ListAuditEntriesResponse:
    token = str(entries[-1].id) if len(entries) == size and entries else ""
    return pb.ListAuditEntriesResponse(
        entries=[entry_to_proto(e) for e in entries], next_page_token=token
    )


def add_sign_offs(
    versions: Iterable[catalog_pb2.CatalogVersion], sign_offs: Mapping[int, SignOff]
) -> None:
    """Fill who authored, approved and published each version (versions published before
    the audit log existed have none)."""
    for version in versions:
        found = sign_offs.get(version.number)
        if found is not None:
            version.authored_by = found.authored_by
            version.approved_by = found.approved_by
            version.published_by = found.published_by
