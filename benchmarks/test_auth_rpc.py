"""Workload `auth_rpc`: what the authentication interceptor costs per call.

QualificationService.CheckEligibility of the quote benchmark's 5-item cart for 32
customers (a light call, so a per-call cost shows) over gRPC on 127.0.0.1, against two
server processes serving the same catalog: variant `tokens` with a token key file (every
call authenticated from its bearer token and its role checked, as in production), and
baseline `open`, the same server with the interceptor removed. Both receive the very same
messages with the same `authorization` metadata and must give the same answers.

Timed by the *server's* CPU (every thread, nanosecond schedstat), not the client's wall
clock: the interceptor's cost is server work, and on this shared 2-core machine wall-clock
pairs measured seconds apart drifted ±30% with the load of other processes while the
server CPU per call did not (research.md: compare servers by server CPU per call). The
ratio is the interceptor's cost (goal: under 1.05).
"""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest

from benchmarks.conftest import Measure
from benchmarks.support.requests import sale_context
from benchmarks.support.servers import cpu_seconds, server_process_pid, stub_on
from benchmarks.test_quote import customers
from benchmarks.test_quote_rpc import cart_message
from tariff.security.roles import Role
from tariff.security.tokens import issue, new_ring
from tariff.v1 import qualification_service_pb2 as pb
from tariff.v1 import qualification_service_pb2_grpc as pb_grpc

SIZES = {"gate": (32,), "full": (32,)}

_measured = {"pid": 0}  # the server whose CPU the timer reads
_ticks = itertools.count()


def server_cpu() -> float:
    """The measured server's CPU seconds; plus a vanishing increasing term, so that
    pytest-benchmark's precision probe sees the clock move while the server idles."""
    return cpu_seconds(_measured["pid"]) + next(_ticks) * 1e-12


@pytest.fixture(scope="module")
def keys() -> Iterator[tuple[Path, str]]:
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "keys.json"
        ring = new_ring("bench")
        ring.save(path)
        token = issue(ring, "order-system", [Role.READER], timedelta(hours=8), datetime.now(UTC))
        yield path, token


@pytest.fixture(scope="module")
def metadata(keys: tuple[Path, str]) -> tuple[tuple[str, str]]:
    return (("authorization", f"Bearer {keys[1]}"),)


@pytest.fixture(scope="module")
def requests() -> list[pb.CheckEligibilityRequest]:
    return [
        pb.CheckEligibilityRequest(context=sale_context(s), items=cart_message())
        for s in customers()
    ]


Server = tuple[pb_grpc.QualificationServiceStub, int]


def _server(args: list[str]) -> Iterator[Server]:
    command = ["-m", "benchmarks.support.tariff_server", "--quotes", *args]
    with server_process_pid(command) as (port, pid):
        for stub in stub_on(port, pb_grpc.QualificationServiceStub):
            yield stub, pid


@pytest.fixture(scope="module")
def tokens_server(keys: tuple[Path, str]) -> Iterator[Server]:
    yield from _server(["--token-keys", str(keys[0])])


@pytest.fixture(scope="module")
def open_server() -> Iterator[Server]:
    yield from _server(["--no-auth"])


@pytest.mark.benchmark(timer=server_cpu)
@pytest.mark.parametrize("variant", ["tokens", "open"])
def test_auth_rpc(
    measure: Measure,
    size: int,
    variant: str,
    requests: list[pb.CheckEligibilityRequest],
    metadata: tuple[tuple[str, str]],
    request: pytest.FixtureRequest,
) -> None:
    stub, pid = request.getfixturevalue(f"{variant}_server")
    chosen = requests[:size]

    def check_all() -> list[pb.CheckEligibilityResponse]:
        return [stub.CheckEligibility(r, metadata=metadata, timeout=30) for r in chosen]

    check_all()  # warm: the first calls compile what they meet
    _measured["pid"] = pid
    bench = measure("auth_rpc", variant, size=size, items=len(chosen))
    responses = bench(check_all)
    assert len(responses) == len(chosen)
    assert all(r.items for r in responses)
    if variant == "open":
        assert stub.CheckEligibility(chosen[0], timeout=30).items  # no token: nothing checks
    else:
        with pytest.raises(grpc.RpcError) as refused:
            stub.CheckEligibility(chosen[0], timeout=30)
        assert refused.value.code() is grpc.StatusCode.UNAUTHENTICATED
