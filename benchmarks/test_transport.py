"""Workload `rate_rpc`: PricingService.Rate over gRPC on 127.0.0.1, batches of 1 to 10,000
events per message, the server in its own process.

Variant `noop` (benchmarks/support/noop.py: the same contract answered with constant results,
built per event) is the transport's ceiling and the baseline every real server is held to
(issue 4: the Rate RPC's items/s at least 0.6 of the no-op's). The real Rate variant joins
this workload when the rating service lands (issue 7).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import grpc
import pytest

from benchmarks.conftest import Measure
from benchmarks.support.servers import server_process
from tariff.v1 import pricing_service_pb2 as pb
from tariff.v1 import pricing_service_pb2_grpc as pb_grpc

SIZES = {"gate": (1, 100, 1_000), "full": (1, 100, 1_000, 10_000)}
START = datetime(2026, 3, 2, 9, tzinfo=UTC)


def rate_request(count: int) -> pb.RateRequest:
    request = pb.RateRequest()
    for index in range(count):
        event = request.events.add(
            event_id=f"e{index}",
            subscriber_id=f"s{index % 97}",
            offer_code="mobile_58",
            business_code="local_voice",
            duration_ms=61_000 + index % 5000,
            destination=f"0755{index:08d}",
            origin_area_code="GD_SZ",
        )
        event.start_time.FromDatetime(START)
    return request


@pytest.fixture(scope="module")
def noop_stub() -> Iterator[pb_grpc.PricingServiceStub]:
    with (
        server_process(["-m", "benchmarks.support.noop"]) as port,
        grpc.insecure_channel(
            f"127.0.0.1:{port}", options=[("grpc.max_receive_message_length", 64 << 20)]
        ) as channel,
    ):
        grpc.channel_ready_future(channel).result(timeout=30)
        yield pb_grpc.PricingServiceStub(channel)


def test_rate_noop(measure: Measure, size: int, noop_stub: pb_grpc.PricingServiceStub) -> None:
    request = rate_request(size)
    response = measure("rate_rpc", "noop", size=size)(noop_stub.Rate, request, timeout=60)
    assert len(response.results) == size
    assert response.results[-1].event_id == f"e{size - 1}"
