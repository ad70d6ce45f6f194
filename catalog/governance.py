"""Review and approval of the draft, and the audit log's use cases.

A draft is submitted for review (its content hash is recorded), an approver who is not one
of its authors approves exactly that content (four eyes), and only an approved draft
publishes (`approval_for`, called by CatalogService.publish). Any change to the draft after
submission makes the review stale: submit again. The local principal (no identities
configured) is its own second pair of eyes: four eyes is enforced only between identified
principals, and a local publish without a review records "local" as author and approver.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from catalog import codec
from catalog.audit import (
    Action,
    Actor,
    AuditEntry,
    GovernanceRepository,
    Outcome,
    Review,
    ReviewRefused,
    SignOff,
    current_actor,
)
from catalog.repository import CatalogRepository, UnitOfWork

MAX_PAGE = 1000


def entry(
    now: datetime,
    action: Action,
    entity: str,
    revision: int = 0,
    outcome: Outcome = Outcome.OK,
    detail: str = "",
    actor: Actor | None = None,
) -> AuditEntry:
    """An audit entry for the current actor."""
    who = actor or current_actor()
    return AuditEntry(now, who.name, who.method, action, entity, revision, outcome, detail)


def draft_hash(repo: CatalogRepository) -> str:
    from catalog.services import draft_content  # the draft as one content (services owns it)

    return codec.content_hash(draft_content(repo))


def approval_for(
    gov: GovernanceRepository, digest: Callable[[], str], actor: Actor
) -> tuple[str, str]:
    """(author, approver) of the draft (whose content hash `digest` computes, only when
    there is a review to compare it with) about to be published by `actor`. Raises
    ReviewRefused when it is not approved (identified principals only)."""
    review = gov.get_review()
    if review is None and actor.local:
        return actor.name, actor.name
    if review is None:
        raise ReviewRefused("only an approved draft publishes: submit it for review first")
    current = review.content_hash == digest()
    if review.approved and current:
        return review.submitted_by, review.approved_by
    if actor.local:
        return actor.name, actor.name
    if not current:
        raise ReviewRefused("the draft changed since it was submitted: submit it again")
    raise ReviewRefused(f"the draft submitted by {review.submitted_by!r} is not approved yet")


class Governance:
    """Submit, approve, read the review and the audit log; record refused calls."""

    def __init__(self, uow: Callable[[], UnitOfWork], clock: Callable[[], datetime]) -> None:
        self._uow = uow
        self._clock = clock

    def submit(self) -> Review:
        """Submit the draft as it is now for review (replacing an earlier submission)."""
        now = self._clock()
        actor = current_actor()
        with self._uow() as uow:
            digest = draft_hash(uow.catalog)
            review = Review(digest, actor.name, now)
            uow.governance.set_review(review)
            uow.governance.add_audit_entry(entry(now, Action.SUBMIT, "draft", detail=digest))
            uow.commit()
        return review

    def approve(self) -> Review:
        """Approve the submitted draft. Raises ReviewRefused (recorded in the audit log):
        nothing submitted, the draft changed since, or the approver is one of its authors."""
        now = self._clock()
        actor = current_actor()
        try:
            with self._uow() as uow:
                review = uow.governance.get_review()
                if review is None:
                    raise ReviewRefused("the draft has not been submitted for review")
                if review.content_hash != draft_hash(uow.catalog):
                    raise ReviewRefused("the draft changed since it was submitted: submit again")
                if not actor.local:
                    authors = uow.governance.draft_writers() | {review.submitted_by}
                    if actor.name in authors:
                        raise ReviewRefused(
                            f"four eyes: {actor.name!r} is an author of this draft and may "
                            "not approve it; another approver must"
                        )
                approved = replace(review, approved_by=actor.name, approved_at=now)
                uow.governance.set_review(approved)
                uow.governance.add_audit_entry(
                    entry(now, Action.APPROVE, "draft", detail=review.content_hash)
                )
                uow.commit()
        except ReviewRefused as refused:
            self.record(entry(now, Action.APPROVE, "draft", 0, Outcome.REFUSED, str(refused)))
            raise
        return approved

    def review(self) -> tuple[Review | None, bool]:
        """The review on record, and whether it is of the draft as it is now."""
        with self._uow() as uow:
            review = uow.governance.get_review()
            current = review is not None and review.content_hash == draft_hash(uow.catalog)
        return review, current

    def audit_entries(
        self, before_id: int = 0, limit: int = 100, principal: str = ""
    ) -> list[AuditEntry]:
        """Newest first, `limit` at most (bounded by MAX_PAGE)."""
        with self._uow() as uow:
            return uow.governance.list_audit_entries(
                before_id, max(1, min(limit, MAX_PAGE)), principal
            )

    def sign_offs(self) -> dict[int, SignOff]:
        with self._uow() as uow:
            return uow.governance.sign_offs()

    def record(self, refused: AuditEntry) -> None:
        """Write one entry in a transaction of its own (a refusal: nothing else changed)."""
        with self._uow() as uow:
            uow.governance.add_audit_entry(refused)
            uow.commit()
