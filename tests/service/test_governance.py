"""Review, approval and the audit log through real gRPC over TLS with tokens, on SQLite and
PostgreSQL: four eyes, publishing only what is approved and passes every example, and an
audit log that shows every attempt, refused ones included."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

import grpc
import pytest

from catalog import bundle
from tariff.demo import DEMO
from tariff.security.roles import Role
from tariff.security.tokens import KeyRing
from tariff.v1 import (
    catalog_pb2,
    catalog_service_pb2,
    catalog_service_pb2_grpc,
    governance_service_pb2,
    governance_service_pb2_grpc,
)
from tests.support.secured import Pki, Served, bearer, make_keys, make_pki, served, token

FAILED_PRECONDITION = grpc.StatusCode.FAILED_PRECONDITION


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, KeyRing]:
    return make_keys(tmp_path)


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return make_pki(tmp_path)


@pytest.fixture
async def server(database_url: str, pki: Pki, keys: tuple[Path, KeyRing]) -> Any:
    async with served(database_url, pki, token_keys=keys[0]) as running:
        yield running


class Clients:
    """Stubs for one principal."""

    def __init__(self, channel: grpc.aio.Channel, metadata: Any) -> None:
        self.metadata = metadata
        self.catalog = catalog_service_pb2_grpc.CatalogServiceStub(channel)
        self.governance = governance_service_pb2_grpc.GovernanceServiceStub(channel)

    async def import_bundle(self, path: Path) -> None:
        archive = bundle.to_zip_bytes(bundle.read_path(path))
        request = catalog_service_pb2.ImportCatalogBundleRequest(archive=archive)
        await self.catalog.ImportCatalogBundle(request, metadata=self.metadata)

    async def submit(self) -> governance_service_pb2.SubmitForReviewResponse:
        request = governance_service_pb2.SubmitForReviewRequest()
        return await self.governance.SubmitForReview(request, metadata=self.metadata)

    async def approve(self) -> governance_service_pb2.ApproveDraftResponse:
        request = governance_service_pb2.ApproveDraftRequest()
        return await self.governance.ApproveDraft(request, metadata=self.metadata)

    async def publish(self) -> catalog_service_pb2.PublishCatalogResponse:
        request = catalog_service_pb2.PublishCatalogRequest(description="release")
        return await self.catalog.PublishCatalog(request, metadata=self.metadata)

    async def audit(self) -> list[governance_service_pb2.AuditEntry]:
        request = governance_service_pb2.ListAuditEntriesRequest(page_size=1000)
        reply = await self.governance.ListAuditEntries(request, metadata=self.metadata)
        return list(reply.entries)


def clients(
    served_: Served, ring: KeyRing, channel: grpc.aio.Channel, sub: str, *roles: Role
) -> Clients:
    return Clients(channel, bearer(token(ring, sub, *roles)))


async def refused(call: Any) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return caught.value


def _log(entries: list[governance_service_pb2.AuditEntry]) -> list[tuple[str, str, str, str]]:
    """(principal, method name, action, outcome), oldest first."""
    return [
        (e.principal, e.method.rsplit("/", 1)[-1], e.action, e.outcome) for e in reversed(entries)
    ]


async def test_four_eyes_review_then_publish_and_the_audit_log_shows_every_attempt(
    server: Served, keys: tuple[Path, KeyRing]
) -> None:
    ring = keys[1]
    async with server.channel() as channel:
        alice = clients(server, ring, channel, "alice", Role.AUTHOR, Role.APPROVER)
        bob = clients(server, ring, channel, "bob", Role.APPROVER)
        carol = clients(server, ring, channel, "carol", Role.ADMIN)
        shop = clients(server, ring, channel, "shop", Role.READER)
        expired = Clients(channel, bearer(token(ring, "eve", Role.ADMIN, ttl=-3600)))

        await alice.import_bundle(DEMO)
        error = await refused(shop.import_bundle(DEMO))
        assert error.code() is grpc.StatusCode.PERMISSION_DENIED
        error = await refused(expired.publish())
        assert error.code() is grpc.StatusCode.UNAUTHENTICATED
        error = await refused(bob.publish())  # not submitted
        assert error.code() is FAILED_PRECONDITION
        assert "approved" in (error.details() or "")

        submitted = await alice.submit()
        assert submitted.review.submitted_by == "alice"
        error = await refused(alice.approve())  # her own draft
        assert error.code() is FAILED_PRECONDITION
        assert "four eyes" in (error.details() or "")
        error = await refused(bob.publish())  # submitted, not approved
        assert error.code() is FAILED_PRECONDITION

        approved = await bob.approve()
        assert approved.review.approved_by == "bob"
        published = await bob.publish()
        version = published.version
        assert (version.number, version.authored_by, version.approved_by, version.published_by) == (
            1,
            "alice",
            "bob",
            "bob",
        )
        got = await shop.catalog.GetCatalogVersion(
            catalog_service_pb2.GetCatalogVersionRequest(), metadata=shop.metadata
        )
        assert got.version.approved_by == "bob"

        error = await refused(bob.audit())  # the audit log is the admin's
        assert error.code() is grpc.StatusCode.PERMISSION_DENIED
        log = _log(await carol.audit())

    assert log == [
        ("alice", "ImportCatalogBundle", "import", "ok"),
        ("shop", "ImportCatalogBundle", "call", "denied"),
        ("anonymous", "PublishCatalog", "call", "unauthenticated"),
        ("bob", "PublishCatalog", "publish", "refused"),
        ("alice", "SubmitForReview", "submit", "ok"),
        ("alice", "ApproveDraft", "approve", "refused"),
        ("bob", "PublishCatalog", "publish", "refused"),
        ("bob", "ApproveDraft", "approve", "ok"),
        ("bob", "PublishCatalog", "publish", "ok"),
        ("bob", "ListAuditEntries", "call", "denied"),
    ]


async def test_a_change_after_approval_needs_a_new_review(
    server: Served, keys: tuple[Path, KeyRing]
) -> None:
    ring = keys[1]
    async with server.channel() as channel:
        alice = clients(server, ring, channel, "alice", Role.AUTHOR)
        dave = clients(server, ring, channel, "dave", Role.AUTHOR)
        bob = clients(server, ring, channel, "bob", Role.APPROVER)
        await alice.import_bundle(DEMO)
        await alice.submit()
        await bob.approve()
        business = catalog_service_pb2.CreateBusinessRequest()
        business.business.code = "hd_voice"
        business.business.name = "HD voice"
        business.business.kind = catalog_pb2.BUSINESS_KIND_VALUE_ADDED
        business.business.usage_measure = catalog_pb2.USAGE_MEASURE_NONE
        business.business.unit = "month"
        await dave.catalog.CreateBusiness(business, metadata=dave.metadata)
        error = await refused(bob.publish())
        assert "changed since it was submitted" in (error.details() or "")
        await dave.submit()
        await bob.approve()
        assert (await bob.publish()).version.authored_by == "dave"


async def test_whoever_wrote_to_the_draft_may_not_approve_what_another_submitted(
    server: Served, keys: tuple[Path, KeyRing]
) -> None:
    ring = keys[1]
    async with server.channel() as channel:
        alice = clients(server, ring, channel, "alice", Role.AUTHOR)
        dave = clients(server, ring, channel, "dave", Role.AUTHOR, Role.APPROVER)
        await dave.import_bundle(DEMO)
        await alice.submit()
        error = await refused(dave.approve())
        assert "four eyes" in (error.details() or "")


async def test_a_publish_with_a_failing_example_is_refused_with_the_list_and_changes_nothing(
    server: Served, keys: tuple[Path, KeyRing], tmp_path: Path
) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(DEMO, broken)
    plan = broken / "products" / "ring_tone_addon.tariff"
    plan.write_text(plan.read_text().replace("expect monthly 5.00", "expect monthly 6.00"))
    ring = keys[1]
    async with server.channel() as channel:
        alice = clients(server, ring, channel, "alice", Role.AUTHOR)
        bob = clients(server, ring, channel, "bob", Role.APPROVER)
        carol = clients(server, ring, channel, "carol", Role.ADMIN)
        await alice.import_bundle(broken)
        await alice.submit()
        await bob.approve()
        error = await refused(bob.publish())
        assert error.code() is FAILED_PRECONDITION
        assert "ring_tone_monthly" in (error.details() or "")
        versions = await bob.catalog.ListCatalogVersions(
            catalog_service_pb2.ListCatalogVersionsRequest(), metadata=bob.metadata
        )
        assert list(versions.versions) == []
        review = await bob.governance.GetReview(
            governance_service_pb2.GetReviewRequest(), metadata=bob.metadata
        )
        assert review.review.approved_by == "bob"  # still approved: nothing changed
        last = (await carol.audit())[0]
    assert (last.principal, last.action, last.outcome) == ("bob", "publish", "refused")
    assert "ring_tone_monthly" in last.detail


async def test_local_mode_audits_as_local_and_tariff_audit_reads_the_log(
    channel: grpc.aio.Channel,
    database_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    catalog = catalog_service_pb2_grpc.CatalogServiceStub(channel)
    governance = governance_service_pb2_grpc.GovernanceServiceStub(channel)
    archive = bundle.to_zip_bytes(bundle.read_path(DEMO))
    await catalog.ImportCatalogBundle(
        catalog_service_pb2.ImportCatalogBundleRequest(archive=archive)
    )
    published = await catalog.PublishCatalog(catalog_service_pb2.PublishCatalogRequest())
    assert published.version.authored_by == published.version.approved_by == "local"
    reply = await governance.ListAuditEntries(governance_service_pb2.ListAuditEntriesRequest())
    assert _log(list(reply.entries)) == [
        ("local", "ImportCatalogBundle", "import", "ok"),
        ("local", "PublishCatalog", "publish", "ok"),
    ]

    from tariff.cli import main

    assert await asyncio.to_thread(main, ["audit", "--database-url", database_url, "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(d["principal"], d["action"]) for d in lines] == [
        ("local", "publish"),
        ("local", "import"),
    ]


async def test_tariff_audit_reads_through_a_tls_server_as_admin_only(
    server: Served, keys: tuple[Path, KeyRing], capsys: pytest.CaptureFixture[str]
) -> None:
    from tariff.cli import main

    ring = keys[1]
    async with server.channel() as channel:
        await clients(server, ring, channel, "alice", Role.AUTHOR).import_bundle(DEMO)
    argv = ["audit", "--server", server.target, "--tls-ca", str(server.pki.authority.cert)]
    reader = token(ring, "shop", Role.READER)
    assert await asyncio.to_thread(main, [*argv, "--token", reader]) == 1
    assert "PERMISSION_DENIED" in capsys.readouterr().err
    admin = token(ring, "carol", Role.ADMIN)
    assert await asyncio.to_thread(main, [*argv, "--token", admin, "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(d["principal"], d["action"], d["outcome"]) for d in lines] == [
        ("shop", "call", "denied"),
        ("alice", "import", "ok"),
    ]
    assert await asyncio.to_thread(main, [*argv, "--token", admin]) == 0  # as a table
    table = capsys.readouterr().out
    assert "alice" in table
    assert "shop" in table


async def test_tariff_review_submits_approves_and_shows(
    server: Served, keys: tuple[Path, KeyRing], capsys: pytest.CaptureFixture[str]
) -> None:
    from tariff.cli import main

    ring = keys[1]
    async with server.channel() as channel:
        alice = clients(server, ring, channel, "alice", Role.AUTHOR, Role.APPROVER)
        await alice.import_bundle(DEMO)
    argv = ["--server", server.target, "--tls-ca", str(server.pki.authority.cert)]
    author = ["--token", alice.metadata[0][1].removeprefix("Bearer ")]
    approver = ["--token", token(ring, "bob", Role.APPROVER)]

    assert await asyncio.to_thread(main, ["review", "show", *argv, *approver]) == 0
    assert "not been submitted" in capsys.readouterr().out
    assert await asyncio.to_thread(main, ["review", "submit", *argv, *author]) == 0
    assert "submitted by alice" in capsys.readouterr().out
    assert await asyncio.to_thread(main, ["review", "approve", *argv, *author]) == 1
    assert "four eyes" in capsys.readouterr().err
    assert await asyncio.to_thread(main, ["review", "approve", *argv, *approver]) == 0
    assert "approved by bob" in capsys.readouterr().out
