"""Review, approval and the audit log in the service layer, on every store (memory, SQLite,
PostgreSQL): who acts comes from `catalog.audit.acting_as`, as the interceptor sets it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from catalog.audit import Action, Actor, Outcome, ReviewRefused, acting_as
from catalog.errors import LifecycleViolation
from catalog.model import EntityKind, LifecycleStatus
from catalog.repository import UnitOfWork
from catalog.services import CatalogService
from catalog.versions import DRAFT
from tests.support import builders as b

ALICE = Actor("alice", method="/m/Write")
BOB = Actor("bob", method="/m/Approve")
START = datetime(2026, 1, 1, tzinfo=UTC)


def service(factory: Callable[[], UnitOfWork]) -> CatalogService:
    ticks = iter(range(10_000))
    return CatalogService(factory, clock=lambda: START + timedelta(seconds=next(ticks)))


def ready_business(catalog: CatalogService, code: str = "local_voice") -> None:
    catalog.create(b.business(code))
    catalog.transition(EntityKind.BUSINESS, code, LifecycleStatus.IN_TEST, 1)


def test_writes_are_audited_with_who_and_how_newest_first_and_paged(
    uow_factory: Callable[[], UnitOfWork],
) -> None:
    catalog = service(uow_factory)
    with acting_as(ALICE):
        ready_business(catalog)
    catalog.put_reference_data(b.areas(), [], [])  # the command line: the local principal
    entries = catalog.governance.audit_entries()
    assert [(e.principal, e.method, e.action, e.entity, e.revision) for e in entries] == [
        ("local", "", Action.PUT_REFERENCE_DATA, "reference_data", 0),
        ("alice", "/m/Write", Action.TRANSITION, "business:local_voice", 2),
        ("alice", "/m/Write", Action.CREATE, "business:local_voice", 1),
    ]
    assert entries[1].detail == "in_design -> in_test"
    ids = [e.id for e in entries]
    assert ids == sorted(ids, reverse=True)
    page = catalog.governance.audit_entries(before_id=ids[0], limit=1)
    assert [e.id for e in page] == [ids[1]]
    assert [e.principal for e in catalog.governance.audit_entries(principal="alice")] == [
        "alice",
        "alice",
    ]


def test_four_eyes_then_publish_signed_off_and_review_cleared(
    uow_factory: Callable[[], UnitOfWork],
) -> None:
    catalog = service(uow_factory)
    with acting_as(ALICE):
        ready_business(catalog)
        catalog.governance.submit()
        with pytest.raises(ReviewRefused, match="four eyes"):
            catalog.governance.approve()
    with acting_as(BOB), pytest.raises(ReviewRefused, match="not approved"):
        catalog.publish(None, "v1")
    with acting_as(BOB):
        catalog.governance.approve()
        published = catalog.publish(None, "v1")
    assert catalog.governance.sign_offs()[published.info.number].authored_by == "alice"
    assert catalog.governance.sign_offs()[1].approved_by == "bob"
    assert catalog.governance.review() == (None, False)
    outcomes = [(e.principal, e.action, e.outcome) for e in catalog.governance.audit_entries()]
    assert outcomes[:4] == [
        ("bob", Action.PUBLISH, Outcome.OK),
        ("bob", Action.APPROVE, Outcome.OK),
        ("bob", Action.PUBLISH, Outcome.REFUSED),
        ("alice", Action.APPROVE, Outcome.REFUSED),
    ]


def test_authors_are_counted_since_the_last_publish_only(
    uow_factory: Callable[[], UnitOfWork],
) -> None:
    catalog = service(uow_factory)
    with acting_as(BOB):
        ready_business(catalog, "local_voice")
    catalog.publish(None, "v1")  # local: needs no review
    with acting_as(ALICE):
        ready_business(catalog, "sms")
        catalog.governance.submit()
    with acting_as(BOB):  # bob wrote before the last publish: not an author of this draft
        assert catalog.governance.approve().approved_by == "bob"


def test_a_refused_publish_changes_nothing_but_the_audit_log(
    uow_factory: Callable[[], UnitOfWork],
) -> None:
    catalog = service(uow_factory)
    ready_business(catalog)
    catalog.publish(None, "v1")
    before = catalog.content(DRAFT)
    with pytest.raises(LifecycleViolation, match="nothing to publish"):
        catalog.publish(None, "again")
    assert len(catalog.list_versions()) == 1
    assert catalog.content(DRAFT) == before
    last = catalog.governance.audit_entries()[0]
    assert (last.principal, last.action, last.outcome) == ("local", Action.PUBLISH, Outcome.REFUSED)
    assert "nothing to publish" in last.detail
