"""Workloads `list_rpc` and `check_rpc`: ListEligibleOffers and CheckEligibility end to end
over gRPC on 127.0.0.1, against a server process serving a generated catalog of 1,000 offers
(benchmarks/support/tariff_server.py: SQLite, published, `tariff serve`'s start-up path).

Baseline `noop`: the no-op server process answering each request with the very response the
real server gives it (computed in process beforehand from the same catalog and version), so
both sides move the same bytes and the ratio is the cost of the engine and the servicer over
the transport (issue 5's goal: at most 1.3x).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from benchmarks.conftest import Measure
from benchmarks.support.catalogs import bench_sale_catalog, sales
from benchmarks.support.requests import cart_items, sale_context
from benchmarks.support.servers import canned_noop, server_process, stub_on
from benchmarks.test_eligibility import carts
from rules.listing import list_offers
from rules.qualification import check_cart
from tariff.mappers import qualification as m
from tariff.v1 import qualification_service_pb2 as pb
from tariff.v1 import qualification_service_pb2_grpc as pb_grpc

SIZES = {"gate": (1_000,), "full": (1_000,)}
PAGE = 100

Requests = tuple[list[pb.ListEligibleOffersRequest], list[pb.CheckEligibilityRequest]]


@pytest.fixture(scope="module")
def requests(size: int) -> Requests:
    catalog = bench_sale_catalog(size)
    contexts = sales(catalog.content)
    lists = [
        pb.ListEligibleOffersRequest(context=sale_context(s), page_size=PAGE) for s in contexts
    ]
    checks = [
        pb.CheckEligibilityRequest(context=sale_context(s), items=cart_items(c))
        for s, c in zip(contexts, carts(catalog, contexts), strict=True)
    ]
    return lists, checks


@pytest.fixture(scope="module")
def canned(size: int, requests: Requests) -> dict[bytes, bytes]:
    """What the real server answers, computed in process from the same catalog."""
    catalog = bench_sale_catalog(size)
    contexts = sales(catalog.content)
    found: dict[bytes, bytes] = {}
    for sale, listing in zip(contexts, requests[0], strict=True):
        page = m.page_to_proto(list_offers(catalog, sale, page_size=PAGE), catalog.book.texts)
        found[b"L" + listing.SerializeToString(deterministic=True)] = page.SerializeToString()
    for sale, cart, checking in zip(contexts, carts(catalog, contexts), requests[1], strict=True):
        verdict = m.cart_to_proto(check_cart(catalog, sale, cart), catalog.book.texts)
        found[b"C" + checking.SerializeToString(deterministic=True)] = verdict.SerializeToString()
    return found


@pytest.fixture(scope="module")
def tariff_stub(size: int) -> Iterator[pb_grpc.QualificationServiceStub]:
    args = ["-m", "benchmarks.support.tariff_server", "--offers", str(size)]
    with server_process(args, startup_seconds=600) as port:
        yield from stub_on(port, pb_grpc.QualificationServiceStub)


@pytest.fixture(scope="module")
def noop_stub(canned: dict[bytes, bytes]) -> Iterator[pb_grpc.QualificationServiceStub]:
    with canned_noop(canned) as port:
        yield from stub_on(port, pb_grpc.QualificationServiceStub)


def call_all(method: Any, messages: list[Any]) -> list[Any]:
    return [method(message, timeout=30) for message in messages]


# (workload, method, which of `requests`, canned key prefix)
CALLS = [("list_rpc", "ListEligibleOffers", 0, b"L"), ("check_rpc", "CheckEligibility", 1, b"C")]


@pytest.mark.parametrize("variant", ["tariff", "noop"])
@pytest.mark.parametrize(("workload", "method", "which", "prefix"), CALLS, ids=["list", "check"])
def test_rpc(
    measure: Measure,
    size: int,
    variant: str,
    workload: str,
    method: str,
    which: int,
    prefix: bytes,
    requests: Requests,
    canned: dict[bytes, bytes],
    request: pytest.FixtureRequest,
) -> None:
    stub = request.getfixturevalue(f"{variant}_stub")
    messages: list[Any] = list(requests[which])
    bench = measure(workload, variant, size=size, items=len(messages))
    responses = bench(call_all, getattr(stub, method), messages)
    for message, response in zip(messages, responses, strict=True):
        expected = canned[prefix + message.SerializeToString(deterministic=True)]
        assert response.SerializeToString() == expected  # same answer, same bytes
