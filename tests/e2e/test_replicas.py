"""Replicas on one PostgreSQL database, as production runs them: two real `tariff serve`
processes. A version published through one answers in the other within a second (NOTIFY,
with polling switched off), and a client balancing `round_robin` over both reaches both."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from sqlalchemy import URL

from tariff.bootstrap import bootstrap
from tariff.cli import load_demo
from tariff.settings import Settings
from tariff.v1 import (
    catalog_pb2,
    catalog_service_pb2,
    catalog_service_pb2_grpc,
    order_pb2,
    qualification_service_pb2,
    qualification_service_pb2_grpc,
)
from tests.support.databases import temporary_postgres_database
from tests.support.served import ServerProcess, server_process

pytestmark = pytest.mark.postgres

#: Polling off: only NOTIFY can tell a replica about the other's publish in time.
REPLICA = {"TARIFF_PROCESSES": "1", "TARIFF_REFRESH_SECONDS": "0", "TARIFF_LOG_FORMAT": "json"}


@pytest.fixture
def database(postgres_server: URL) -> Iterator[str]:
    with temporary_postgres_database(postgres_server) as url:
        app = bootstrap(Settings(database_url=url, refresh_seconds=0))
        try:
            load_demo(app)
        finally:
            app.close()
        yield url


@pytest.fixture
def replicas(database: str, tmp_path: Path) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    with (
        server_process(database, tmp_path, REPLICA, name="a") as a,
        server_process(database, tmp_path, REPLICA, name="b") as b,
    ):
        yield a, b


def listing(channel: grpc.Channel) -> qualification_service_pb2.ListEligibleOffersResponse:
    """The offers on sale now (the version in force, from the server's memory)."""
    context = order_pb2.SaleContext(area_code="GD_SZ", channel_code="hall")
    context.customer.type = catalog_pb2.CUSTOMER_TYPE_PERSONAL
    context.customer.age = 30
    stub = qualification_service_pb2_grpc.QualificationServiceStub(channel)
    request = qualification_service_pb2.ListEligibleOffersRequest(context=context)
    return stub.ListEligibleOffers(request, timeout=10)


def publish_a_change(channel: grpc.Channel) -> int:
    catalog = catalog_service_pb2_grpc.CatalogServiceStub(channel)
    read = catalog.GetBusiness(catalog_service_pb2.GetBusinessRequest(code="sms"), timeout=10)
    business = read.business
    business.name += " (updated)"
    updated = catalog.UpdateBusiness(
        catalog_service_pb2.UpdateBusinessRequest(
            business=business, expected_revision=business.meta.revision
        ),
        timeout=10,
    )
    catalog.TransitionLifecycle(  # changed, it is in design again: tested, it publishes
        catalog_service_pb2.TransitionLifecycleRequest(
            target=catalog_pb2.EntityRef(kind=catalog_pb2.ENTITY_KIND_BUSINESS, code="sms"),
            to_status=catalog_pb2.LIFECYCLE_STATUS_IN_TEST,
            expected_revision=updated.business.meta.revision,
        ),
        timeout=10,
    )
    published = catalog.PublishCatalog(catalog_service_pb2.PublishCatalogRequest(), timeout=60)
    return int(published.version.number)


def test_a_publish_in_one_replica_answers_in_the_other_within_a_second(
    replicas: tuple[ServerProcess, ServerProcess],
) -> None:
    a, b = replicas
    with grpc.insecure_channel(a.address) as first, grpc.insecure_channel(b.address) as second:
        assert listing(second).catalog_version == 1
        wait_for_listener(b)
        number = publish_a_change(first)
        published = time.monotonic()
        seen = 1
        while time.monotonic() - published < 5:  # bounded; the goal is 1 s
            seen = listing(second).catalog_version
            if seen == number:
                break
            time.sleep(0.02)
        took = time.monotonic() - published
    assert seen == number, f"replica b still answers version {seen} after {took:.1f} s"
    assert took < 1.0, f"replica b answered version {number} only after {took:.2f} s"
    assert '"event": "reload"' in b.output()


def wait_for_listener(server: ServerProcess) -> None:
    """Until the replica says it is LISTENing (a publish before that is found by the
    re-read it makes then, not by NOTIFY)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # bounded by the deadline
        if '"event": "listen"' in server.output():
            return
        time.sleep(0.05)
    pytest.fail(f"the replica never listened:\n{server.output()}")


def served_calls(server: ServerProcess, method: str) -> int:
    count = 0
    for line in server.output().splitlines():
        if line.startswith("{") and '"tariff.access"' in line:
            count += json.loads(line)["method"].endswith(method)
    return count


def test_a_round_robin_client_spreads_calls_over_both_replicas(
    replicas: tuple[ServerProcess, ServerProcess],
) -> None:
    a, b = replicas
    target = f"ipv4:{a.address},{b.address}"  # in production: dns:///tariff.example:50051
    options = [("grpc.lb_policy_name", "round_robin")]
    with grpc.insecure_channel(target, options=options) as channel:
        for _ in range(20):
            assert listing(channel).catalog_version == 1
    time.sleep(0.2)  # access-log lines are written as calls end
    counts = [served_calls(s, "/ListEligibleOffers") for s in (a, b)]
    assert sum(counts) == 20
    assert min(counts) >= 5, counts  # round robin: 10 each, give or take the first picks
