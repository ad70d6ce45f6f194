"""README command 1 as a newcomer runs it: `tariff serve --demo` on the embedded SQLite default
loads and publishes the demo catalog, comes up SERVING (every service, the sales ones
included), answers a sales question, lists its services by reflection, and stops cleanly on
SIGTERM; started again on the same database it keeps the catalog it has."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from tariff.v1 import (
    catalog_pb2,
    order_pb2,
    qualification_service_pb2,
    qualification_service_pb2_grpc,
)

STARTUP_SECONDS = 60


def tariff_command() -> list[str]:
    script = Path(sys.executable).with_name("tariff")
    return [str(script)] if script.exists() else [sys.executable, "-m", "tariff.cli"]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], int]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TARIFF_")}
    proc = subprocess.Popen(
        [*tariff_command(), "serve", "--demo", "--port", "0"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    port = 0
    deadline = time.monotonic() + STARTUP_SECONDS
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        found = re.search(r"serving on [\d.]+:(\d+)", line)
        if found:
            port = int(found.group(1))
            break
    if not port:
        proc.kill()
        pytest.fail(f"`tariff serve` did not come up: {proc.stdout.read()}")
    try:
        yield proc, port
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def test_serve_answers_health_and_reflection_then_stops_on_sigterm(
    served: tuple[subprocess.Popen[str], int], tmp_path: Path
) -> None:
    proc, port = served
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        health = health_pb2_grpc.HealthStub(channel)
        reply = health.Check(health_pb2.HealthCheckRequest(), timeout=10)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        names = {
            s.name
            for reply in stub.ServerReflectionInfo(iter([request]), timeout=10)
            for s in reply.list_services_response.service
        }
    assert {
        "tariff.v1.CatalogService",
        "tariff.v1.QualificationService",
        "tariff.v1.PricingService",
        "tariff.v1.RulesService",
    } <= names
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        health = health_pb2_grpc.HealthStub(channel)
        for service in ("tariff.v1.QualificationService", "tariff.v1.PricingService"):
            reply = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=10)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING, service
        qualification = qualification_service_pb2_grpc.QualificationServiceStub(channel)
        customer = order_pb2.Customer(
            segment_codes=["youth"], age=20, type=catalog_pb2.CUSTOMER_TYPE_PERSONAL
        )
        context = order_pb2.SaleContext(customer=customer, area_code="GD_SZ", channel_code="hall")
        listed = qualification.ListEligibleOffers(
            qualification_service_pb2.ListEligibleOffersRequest(context=context), timeout=10
        )
        assert "youth_plan" in {o.offer_code for o in listed.offers}
        assert listed.catalog_version == 1
    assert (tmp_path / "tariff.sqlite").exists(), "the embedded SQLite default was not used"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0
