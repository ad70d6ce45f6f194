"""Workload `quote_rpc`: PricingService.Quote end to end over gRPC on 127.0.0.1, the 5-item
cart with a bundle of benchmarks/test_quote.py for 32 customers, against a server process
serving the quote tests' catalog (benchmarks/support/tariff_server.py --quotes).

Baseline `noop`: the no-op server answering each request with the very response the real
server gives it (computed in process beforehand from the same catalog), so both move the
same bytes and the ratio is the engine and the servicer over the transport (issue 6's goal:
at most 1.3x the no-op's).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from benchmarks.conftest import Measure
from benchmarks.support.requests import sale_context
from benchmarks.support.servers import canned_noop, server_process, stub_on
from benchmarks.test_quote import CART, CHINA, customers
from catalog.model import CatalogVersionInfo
from rules.sale_catalog import SaleCatalog
from tariff.servicers.pricing import answer_quote
from tariff.v1 import order_pb2
from tariff.v1 import pricing_service_pb2 as pb
from tariff.v1 import pricing_service_pb2_grpc as pb_grpc
from tests.support.quote_catalog import quote_content

SIZES = {"gate": (5,), "full": (5,)}


def cart_message() -> list[order_pb2.CartItem]:
    def one(item: Any) -> order_pb2.CartItem:
        return order_pb2.CartItem(
            item_id=item.item_id,
            offer_code=item.offer_code,
            options=dict(item.options),
            members=[one(m) for m in item.members],
        )

    return [one(i) for i in CART]


@pytest.fixture(scope="module")
def requests() -> list[pb.QuoteRequest]:
    return [pb.QuoteRequest(context=sale_context(s), items=cart_message()) for s in customers()]


@pytest.fixture(scope="module")
def canned(requests: list[pb.QuoteRequest]) -> dict[bytes, bytes]:
    from datetime import UTC, datetime

    published = datetime(2026, 1, 1, tzinfo=UTC)
    info = CatalogVersionInfo(1, published, published, "bench", "", 0, 0, 0)
    catalog = SaleCatalog(info, quote_content())
    found = {}
    for request, sale in zip(requests, customers(), strict=True):
        answer = answer_quote(catalog, request, sale.time, CHINA)
        found[b"Q" + request.SerializeToString(deterministic=True)] = answer.SerializeToString()
    return found


@pytest.fixture(scope="module")
def tariff_stub() -> Iterator[pb_grpc.PricingServiceStub]:
    with server_process(
        ["-m", "benchmarks.support.tariff_server", "--quotes"], startup_seconds=300
    ) as port:
        yield from stub_on(port, pb_grpc.PricingServiceStub)


@pytest.fixture(scope="module")
def noop_stub(canned: dict[bytes, bytes]) -> Iterator[pb_grpc.PricingServiceStub]:
    with canned_noop(canned) as port:
        yield from stub_on(port, pb_grpc.PricingServiceStub)


@pytest.mark.parametrize("variant", ["tariff", "noop"])
def test_quote_rpc(
    measure: Measure,
    size: int,
    variant: str,
    requests: list[pb.QuoteRequest],
    canned: dict[bytes, bytes],
    request: pytest.FixtureRequest,
) -> None:
    stub = request.getfixturevalue(f"{variant}_stub")
    bench = measure("quote_rpc", variant, size=size, items=len(requests))
    responses = bench(lambda: [stub.Quote(r, timeout=30) for r in requests])
    for message, response in zip(requests, responses, strict=True):
        expected = canned[b"Q" + message.SerializeToString(deterministic=True)]
        assert response.SerializeToString() == expected  # same answer, same bytes
