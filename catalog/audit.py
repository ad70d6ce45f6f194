"""Who changed what: the acting principal, the audit log's entries and the draft's review.

Plain domain: no SQLAlchemy or gRPC. The service edge says who is acting (`acting_as`, or
`set_actor` in an interceptor); the service layer reads it in one place (`current_actor`)
and writes an `AuditEntry` in the same transaction as the change it records, so an entry
exists exactly when the change does. Refusals (a publish refused, an approval refused, a
call without credentials) are recorded in a transaction of their own.

Without an identity set, the actor is `LOCAL`: the demo server on 127.0.0.1 with no
identities configured, and the command line working on the store directly.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from catalog.errors import LifecycleViolation


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting and through which method (a gRPC method name, or a CLI command).

    `local` is the unidentified local principal: it holds every role, and four-eyes review
    is not enforced for it (there is nobody else to be the second pair of eyes)."""

    name: str
    local: bool = False
    method: str = ""


LOCAL = Actor("local", local=True)

_acting: ContextVar[Actor] = ContextVar("tariff_actor", default=LOCAL)


def current_actor() -> Actor:
    """The actor of the running call (LOCAL when nobody set one)."""
    return _acting.get()


def set_actor(actor: Actor) -> Token[Actor]:
    """Set the actor for the rest of the current task (and threads it starts with
    asyncio.to_thread, which copy the context)."""
    return _acting.set(actor)


@contextmanager
def acting_as(actor: Actor) -> Iterator[None]:
    token = _acting.set(actor)
    try:
        yield
    finally:
        _acting.reset(token)


class Action(enum.StrEnum):
    """What an audit entry records."""

    CREATE = "create"
    UPDATE = "update"
    ATTACH_RULES = "attach_rules"
    TRANSITION = "transition"
    PUT_REFERENCE_DATA = "put_reference_data"
    PUT_ZONE_TABLE = "put_zone_table"
    IMPORT = "import"
    SUBMIT = "submit"
    APPROVE = "approve"
    PUBLISH = "publish"
    CALL = "call"  # a call refused before it reached the catalog (credentials, role)


class Outcome(enum.StrEnum):
    OK = "ok"
    REFUSED = "refused"  # the catalog's state refused it (FAILED_PRECONDITION)
    DENIED = "denied"  # the principal lacks the role (PERMISSION_DENIED)
    UNAUTHENTICATED = "unauthenticated"  # no or bad credentials (UNAUTHENTICATED)


#: Actions that change the working draft: whoever did one since the last publish is one of
#: the draft's authors, and may not approve it.
DRAFT_WRITES = frozenset(
    {
        Action.CREATE,
        Action.UPDATE,
        Action.ATTACH_RULES,
        Action.TRANSITION,
        Action.PUT_REFERENCE_DATA,
        Action.PUT_ZONE_TABLE,
        Action.IMPORT,
    }
)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One line of the audit log. `id` is given by the store (0 before it is stored);
    `entity` names what was touched ("product:mobile_59", "catalog", "version:3", "draft")
    and `revision` its revision after the change (for a publish, the version number)."""

    at: datetime
    principal: str
    method: str
    action: Action
    entity: str = ""
    revision: int = 0
    outcome: Outcome = Outcome.OK
    detail: str = ""
    id: int = 0


@dataclass(frozen=True, slots=True)
class Review:
    """The draft submitted for review: which content (its hash), by whom, and whether an
    approver has approved exactly that content."""

    content_hash: str
    submitted_by: str
    submitted_at: datetime
    approved_by: str = ""
    approved_at: datetime | None = None

    @property
    def approved(self) -> bool:
        return bool(self.approved_by)


@dataclass(frozen=True, slots=True)
class SignOff:
    """Who authored (submitted), approved and published a version."""

    number: int
    authored_by: str
    approved_by: str
    published_by: str


class ReviewRefused(LifecycleViolation):
    """The draft's review state refuses the step: not submitted, not approved, changed
    since, or approved by one of its own authors (FAILED_PRECONDITION)."""


class GovernanceRepository(Protocol):
    """The audit log (append-only), the draft's review and the versions' sign-offs, inside
    the same transaction as the catalog repository."""

    def add_audit_entry(self, entry: AuditEntry) -> None: ...

    def list_audit_entries(
        self, before_id: int = 0, limit: int = 100, principal: str = ""
    ) -> list[AuditEntry]:
        """Newest first; only entries with an id below `before_id` when it is set."""
        ...

    def draft_writers(self) -> set[str]:
        """Principals who wrote to the draft since the last publish."""
        ...

    def get_review(self) -> Review | None: ...

    def set_review(self, review: Review | None) -> None: ...

    def put_sign_off(self, sign_off: SignOff) -> None: ...

    def sign_offs(self) -> dict[int, SignOff]: ...
