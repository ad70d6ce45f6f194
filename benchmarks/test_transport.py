"""Workload `rate_rpc`: PricingService.Rate over gRPC on 127.0.0.1, batches of 1 to 10,000
events per message, each server in its own process.

The events are generated usage (tariff.gen.usage) for the catalog the real server serves
(`benchmarks.support.catalogs.bench_catalog(1,000)`): voice, data and SMS of 1,000
subscribers in March 2026, events that catalog rates. Both servers receive the very same
request messages, the first `size` events of the same list.

Variant `noop` (benchmarks/support/noop.py: the same contract answered with a same-shaped
response of constant values, built per event and per subscriber) is the transport's ceiling
and the baseline. Variant `tariff` is
the real server (benchmarks/support/tariff_server.py: `tariff serve`'s start-up path over the
published generated catalog) rating every event and returning the subscribers' counters
(issue 7's goal: Rate's items/s at least 0.7 of the no-op's at 1,000 events per message).
"""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest

from benchmarks.conftest import Measure
from benchmarks.support.servers import server_process
from benchmarks.test_rating import mixed_rows, usage_event
from tariff.v1 import pricing_service_pb2 as pb
from tariff.v1 import pricing_service_pb2_grpc as pb_grpc

SIZES = {"gate": (1, 100, 1_000), "full": (1, 100, 1_000, 10_000)}
OFFERS = 1_000
EVENTS = 10_000
OPTIONS = [("grpc.max_receive_message_length", 64 << 20)]


@pytest.fixture(scope="module")
def events() -> list[pb.UsageEvent]:
    return [usage_event(row) for row in mixed_rows(OFFERS, EVENTS)]


def rate_request(events: list[pb.UsageEvent], count: int) -> pb.RateRequest:
    return pb.RateRequest(events=events[:count])


def _stub(port: int) -> Iterator[pb_grpc.PricingServiceStub]:
    with grpc.insecure_channel(f"127.0.0.1:{port}", options=OPTIONS) as channel:
        grpc.channel_ready_future(channel).result(timeout=60)
        yield pb_grpc.PricingServiceStub(channel)


@pytest.fixture(scope="module")
def noop_stub() -> Iterator[pb_grpc.PricingServiceStub]:
    with server_process(["-m", "benchmarks.support.noop"]) as port:
        yield from _stub(port)


@pytest.fixture(scope="module")
def tariff_stub() -> Iterator[pb_grpc.PricingServiceStub]:
    args = ["-m", "benchmarks.support.tariff_server", "--offers", str(OFFERS)]
    with server_process(args, startup_seconds=600) as port:
        yield from _stub(port)


def test_rate_noop(
    measure: Measure, size: int, events: list[pb.UsageEvent], noop_stub: pb_grpc.PricingServiceStub
) -> None:
    request = rate_request(events, size)
    response = measure("rate_rpc", "noop", size=size)(noop_stub.Rate, request, timeout=60)
    assert len(response.results) == size
    assert response.results[-1].event_id == events[size - 1].event_id


def test_rate_tariff(
    measure: Measure,
    size: int,
    events: list[pb.UsageEvent],
    tariff_stub: pb_grpc.PricingServiceStub,
) -> None:
    request = rate_request(events, size)
    tariff_stub.Rate(request, timeout=600)  # the first call compiles the raters it meets
    bench = measure("rate_rpc", "tariff", size=size)
    response = bench(tariff_stub.Rate, request, timeout=600)
    assert [r.event_id for r in response.results] == [e.event_id for e in request.events]
    assert response.rated_count >= 0.9 * size
    assert response.counters
    bench.extra_info["rejected"] = response.rejected_count
