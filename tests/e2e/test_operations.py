"""What an operator sees and does, on real `tariff serve` processes: /metrics after real calls,
the JSON access log of a call, the multi-process server (its children share the port, one
killed with SIGKILL comes back while calls go on), and one-line failures at the edge."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from tariff.bootstrap import bootstrap
from tariff.cli import load_demo
from tariff.settings import Settings
from tariff.v1 import (
    catalog_pb2,
    order_pb2,
    pricing_service_pb2,
    pricing_service_pb2_grpc,
    qualification_service_pb2,
    qualification_service_pb2_grpc,
)
from tests.support.demo_requests import sales_requests
from tests.support.served import ServerProcess, server_process, tariff_command


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def store(tmp_path: Path) -> str:
    """A SQLite store holding the demo catalog, published."""
    url = f"sqlite:///{tmp_path / 'ops.sqlite'}"
    app = bootstrap(Settings(database_url=url, refresh_seconds=0))
    try:
        load_demo(app)
    finally:
        app.close()
    return url


def sale() -> order_pb2.SaleContext:
    context = order_pb2.SaleContext(area_code="GD_SZ", channel_code="hall")
    context.customer.type = catalog_pb2.CUSTOMER_TYPE_PERSONAL
    context.customer.age = 30
    context.time.FromJsonString("2026-03-10T02:00:00Z")
    return context


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
        return str(answer.read().decode())


def calls(address: str) -> None:
    """A few real calls: a listing, a good and a bad quote, a Rate with a rejection."""
    # a connection of its own (channels share connections otherwise): the kernel spreads
    # new connections over the processes sharing the port
    own = [("grpc.use_local_subchannel_pool", 1)]
    with grpc.insecure_channel(address, options=own) as channel:
        qualification = qualification_service_pb2_grpc.QualificationServiceStub(channel)
        qualification.ListEligibleOffers(
            qualification_service_pb2.ListEligibleOffersRequest(context=sale()), timeout=10
        )
        pricing = pricing_service_pb2_grpc.PricingServiceStub(channel)
        cart = [order_pb2.CartItem(offer_code="mobile_39")]
        pricing.Quote(pricing_service_pb2.QuoteRequest(context=sale(), items=cart), timeout=10)
        bad = [order_pb2.CartItem(offer_code="mobile_39", quantity=-1)]  # INVALID_ARGUMENT
        with pytest.raises(grpc.RpcError):
            pricing.Quote(pricing_service_pb2.QuoteRequest(context=sale(), items=bad), timeout=10)
        good = pricing_service_pb2.UsageEvent(
            event_id="e1",
            subscriber_id="s1",
            offer_code="mobile_39",
            business_code="sms",
            count=1,
            destination="13800138000",
        )
        good.start_time.FromJsonString("2026-03-10T02:00:00Z")
        unknown = pricing_service_pb2.UsageEvent()
        unknown.CopyFrom(good)
        unknown.event_id, unknown.offer_code = "e2", "no_such_offer"
        rated = pricing.Rate(pricing_service_pb2.RateRequest(events=[good, unknown]), timeout=10)
        assert (rated.rated_count, rated.rejected_count) == (1, 1), rated


def test_metrics_and_the_json_access_log_after_real_calls(store: str, tmp_path: Path) -> None:
    metrics_port = free_port()
    env = {
        "TARIFF_PROCESSES": "1",
        "TARIFF_METRICS_PORT": str(metrics_port),
        "TARIFF_LOG_FORMAT": "json",
    }
    with server_process(store, tmp_path, env) as server:
        calls(server.address)
        text = scrape(metrics_port)
        healthy = run_tariff("health", "--server", server.address)
        assert (healthy.returncode, healthy.stdout) == (0, "server: SERVING\n")
        lines = [json.loads(line) for line in server.output().splitlines() if line.startswith("{")]
    quote = 'method="/tariff.v1.PricingService/Quote"'
    assert f'tariff_rpc_calls_total{{code="OK",{quote}}} 1.0' in text
    assert f'tariff_rpc_calls_total{{code="INVALID_ARGUMENT",{quote}}} 1.0' in text
    assert f"tariff_rpc_duration_seconds_count{{{quote}}} 2.0" in text
    assert 'tariff_rated_events_total{reason="",status="rated"} 1.0' in text
    assert 'tariff_rated_events_total{reason="unknown_offer",status="rejected"} 1.0' in text
    assert 'tariff_quoted_carts_total{outcome="priced"} 1.0' in text
    assert 'tariff_quoted_carts_total{outcome="invalid_argument"} 1.0' in text
    assert "tariff_catalog_versions_installed 1.0" in text
    assert "tariff_catalog_version_latest 1.0" in text
    assert 'tariff_catalog_install_seconds_count{trigger="start-up"} 1.0' in text
    assert 'tariff_catalog_snapshot_bytes{version="1"}' in text
    assert "process_resident_memory_bytes" in text
    access = [line for line in lines if line["logger"] == "tariff.access"]
    quotes = [line for line in access if line["method"].endswith("/Quote")]
    assert [q["code"] for q in quotes] == ["OK", "INVALID_ARGUMENT"]
    assert quotes[0]["catalog_version"] == 1
    assert quotes[0]["duration_ms"] > 0
    assert quotes[0]["peer"].startswith("ipv4:127.0.0.1")
    assert {"time", "level", "message", "pid"} <= quotes[0].keys()
    installs = [line for line in lines if line.get("event") == "install"]
    assert installs
    assert installs[0]["trigger"] == "start-up"
    assert installs[0]["duration_ms"] > 0


def pids_answering(server: ServerProcess, method: str = "") -> set[int]:
    """The processes that wrote an access-log line (for a method ending in `method`)."""
    found = set()
    for line in server.output().splitlines():
        if line.startswith("{") and '"tariff.access"' in line:
            record = json.loads(line)
            if record["method"].endswith(method):
                found.add(int(record["pid"]))
    return found


def children_of(pid: int) -> list[int]:
    found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return sorted(int(p) for p in found)


def wait_for(what: str, check: object, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:  # bounded by the deadline
        if callable(check) and check():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


@pytest.fixture
def two_processes(store: str, tmp_path: Path) -> Iterator[ServerProcess]:
    env = {"TARIFF_PROCESSES": "2", "TARIFF_LOG_FORMAT": "json"}
    with server_process(store, tmp_path, env) as server:
        wait_for("two children", lambda: len(children_of(server.proc.pid)) == 2)
        yield server


def test_two_processes_share_the_port_and_a_killed_one_comes_back(
    two_processes: ServerProcess,
) -> None:
    server = two_processes
    first = children_of(server.proc.pid)
    for _ in range(60):  # new connections spread over both children (SO_REUSEPORT)
        calls(server.address)
        if pids_answering(server, "/Quote") == set(first):
            break
    assert pids_answering(server, "/Quote") == set(first), server.output()[-3000:]  # both served
    victim = first[0]
    os.kill(victim, signal.SIGKILL)
    failed = 0
    for _ in range(20):  # calls go on: new connections reach the live child
        try:
            calls(server.address)
        except grpc.RpcError:
            failed += 1
    assert failed <= 2  # at most the calls caught on the dying process's connections

    def replaced() -> bool:
        now = children_of(server.proc.pid)
        return len(now) == 2 and victim not in now

    wait_for("the killed child to be replaced", replaced)
    calls(server.address)
    assert "exited with status -9" in server.output()
    server.proc.send_signal(signal.SIGTERM)  # the parent drains every child and exits 0
    assert server.proc.wait(60) == 0
    assert "all server processes stopped" in server.output()


def test_the_children_die_with_a_killed_supervisor(two_processes: ServerProcess) -> None:
    children = children_of(two_processes.proc.pid)
    two_processes.kill()
    wait_for("orphans to stop", lambda: not any(Path(f"/proc/{c}").exists() for c in children))


def run_tariff(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TARIFF_")}
    environ.update(env or {})
    return subprocess.run(
        [*tariff_command(), *args], capture_output=True, text=True, env=environ, timeout=120
    )


def test_failures_at_the_edge_are_one_line_and_a_non_zero_exit(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        for processes in ("1", "2"):
            busy = run_tariff("serve", "--port", port, "--processes", processes,
                              "--database-url", f"sqlite:///{tmp_path / 'a.sqlite'}")  # fmt: skip
            assert busy.returncode != 0
            assert (
                busy.stderr.strip()
                .splitlines()[-1]
                .startswith(f"tariff: error: cannot listen on 127.0.0.1:{port}")
            ), busy.stderr
            assert "Traceback" not in busy.stderr
    bad = run_tariff("serve", env={"TARIFF_PORT": "eighty"})
    assert bad.returncode != 0
    assert "Traceback" not in bad.stderr
    assert bad.stderr.strip().startswith("tariff: error: TARIFF_PORT (or --port):"), bad.stderr
    nowhere = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    down = run_tariff("serve", "--processes", "1", "--database-url", nowhere)
    assert down.returncode != 0
    assert "Traceback" not in down.stderr
    assert "the catalog database is unavailable" in down.stderr.strip().splitlines()[-1]
    healthy = run_tariff("health", "--server", "127.0.0.1:1", "--timeout", "1")
    assert healthy.returncode == 4  # no server answers
    assert healthy.stderr.startswith("tariff: 127.0.0.1:1: UNAVAILABLE")
    version = run_tariff("--version")
    assert version.returncode == 0
    assert version.stdout.startswith("tariff ")


def test_two_processes_answer_every_sales_call_as_one_process_does(
    store: str, tmp_path: Path
) -> None:
    """The service calls of the demo (every sample cart quoted, checked and listed; a Rate
    batch; simulations) give the same bytes from a 2-process server, over many connections
    (so both children answer), as from a 1-process server on the same store."""
    methods = {
        "Quote": "/tariff.v1.PricingService/Quote",
        "CheckEligibility": "/tariff.v1.QualificationService/CheckEligibility",
        "ListEligibleOffers": "/tariff.v1.QualificationService/ListEligibleOffers",
        "Rate": "/tariff.v1.PricingService/Rate",
        "Simulate": "/tariff.v1.RulesService/Simulate",
    }
    calls = [(methods[m], r.SerializeToString()) for m, rs in sales_requests(200).items()
             if m in methods for r in rs]  # fmt: skip
    one_env = {"TARIFF_PROCESSES": "1", "TARIFF_LOG_FORMAT": "json"}
    two_env = {"TARIFF_PROCESSES": "2", "TARIFF_LOG_FORMAT": "json"}
    with (
        server_process(store, tmp_path, one_env, name="one") as one,
        server_process(store, tmp_path, two_env, name="two") as two,
    ):
        expected = answers(one.address, calls)
        for _ in range(6):  # each round a new connection: the kernel picks a child
            assert answers(two.address, calls) == expected
        assert len(pids_answering(two)) == 2


def answers(address: str, calls: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """Each call's status and answer bytes, on one new connection."""
    found = []
    with grpc.insecure_channel(address, options=[("grpc.use_local_subchannel_pool", 1)]) as ch:
        for path, request in calls:
            try:
                found.append(("OK", ch.unary_unary(path, None, None)(request, timeout=30)))
            except grpc.RpcError as error:
                found.append((error.code().name, (error.details() or "").encode()))
    return found
