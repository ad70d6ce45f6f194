"""Workload `serve_processes`: throughput of `tariff serve --demo --processes 2` against the
same server with one process (the baseline), same run, same load: `LOADERS` client
processes, each on its own connection, sending Quote (the demo's family bundle, two lines)
or Rate (1,000 demo usage events a call) back to back.

Issue 15's goal is >= 1.7x on 2 cores. On this machine the clients share the two cores with
the server (each load process costs CPU per call), so the ratio is what one machine gives
a server and its callers together; Rate's big messages leave more of it to the server.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.pool
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import grpc
import pytest

from benchmarks.conftest import Measure
from tariff.demo.carts import load_carts
from tariff.v1 import catalog_pb2, order_pb2
from tariff.v1 import pricing_service_pb2 as pb
from tests.support.demo_requests import usage_events

SIZES = {"gate": (2,), "full": (2,)}
LOADERS = 4
CALLS = {"quote": 150, "rate": 12}  # per loader and round
EVENTS = 1_000
_READY = re.compile(r"serving on [\d.]+:(\d+)")


@contextmanager
def tariff_serve(processes: int) -> Iterator[int]:
    """`tariff serve --demo --processes N` in a scratch directory; its port."""
    with tempfile.TemporaryDirectory() as scratch:
        log = Path(scratch) / "serve.log"
        with log.open("w") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "tariff.cli", "serve", "--demo", "--port", "0",
                 "--processes", str(processes), "--log-level", "warning"],
                cwd=scratch, stdout=out, stderr=subprocess.STDOUT, text=True,
            )  # fmt: skip
        try:
            port = _wait_for_port(proc, log)
            yield port
        finally:
            proc.terminate()
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_for_port(proc: subprocess.Popen[str], log: Path) -> int:
    import time

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # bounded by the deadline
        found = _READY.search(log.read_text(errors="replace"))
        if found:
            return int(found.group(1))
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    raise RuntimeError(f"tariff serve did not come up: {log.read_text(errors='replace')}")


def quote_request() -> pb.QuoteRequest:
    cart = load_carts()["family_two_lines"]
    context = order_pb2.SaleContext(area_code=cart.sale.area, channel_code=cart.sale.channel)
    context.time.FromDatetime(cart.sale.time)
    customer = cart.sale.customer
    context.customer.type = catalog_pb2.CUSTOMER_TYPE_PERSONAL
    context.customer.age = customer.age or 0
    context.customer.segment_codes.extend(sorted(customer.segments))
    for name, value in customer.attributes.items():
        context.customer.attributes[name].bool_value = bool(value)
    items = []
    for item in cart.items:
        members = [order_pb2.CartItem(offer_code=m.offer_code, quantity=m.quantity)
                   for m in item.members]  # fmt: skip
        items.append(order_pb2.CartItem(offer_code=item.offer_code, members=members))
    return pb.QuoteRequest(context=context, items=items)


def rate_request() -> pb.RateRequest:
    return pb.RateRequest(events=usage_events(EVENTS))


_calls: dict[str, Any] = {}
_requests: dict[str, bytes] = {}


def _connect(port: int) -> None:
    """A load process's own connection (never shared) and its requests, encoded once: the
    clients send and receive bytes, so as much of the machine as possible is the server's."""
    channel = grpc.insecure_channel(
        f"127.0.0.1:{port}", options=[("grpc.use_local_subchannel_pool", 1)]
    )
    grpc.channel_ready_future(channel).result(timeout=60)
    for method, name, message in (
        ("quote", "Quote", quote_request()),
        ("rate", "Rate", rate_request()),
    ):
        path = f"/tariff.v1.PricingService/{name}"
        _calls[method] = channel.unary_unary(path, None, None)  # bytes in, bytes out
        _requests[method] = message.SerializeToString()
    check = pb.RateResponse.FromString(_calls["rate"](_requests["rate"], timeout=60))
    assert check.rated_count + check.rejected_count == EVENTS
    assert pb.QuoteResponse.FromString(_calls["quote"](_requests["quote"], timeout=60)).items


def _load(task: tuple[str, int]) -> int:
    method, calls = task
    request, call = _requests[method], _calls[method]
    for _ in range(calls):  # bounded by the task
        call(request, timeout=60)
    return calls * (1 if method == "quote" else EVENTS)


@contextmanager
def loaders(port: int) -> Iterator[multiprocessing.pool.Pool]:
    context = multiprocessing.get_context("spawn")  # never fork a process that ran grpc
    with context.Pool(LOADERS, initializer=_connect, initargs=(port,)) as pool:
        pool.map(_load, [("quote", 1)] * LOADERS)  # every loader connected and warm
        yield pool


@pytest.fixture(scope="module")
def one() -> Iterator[multiprocessing.pool.Pool]:
    with tariff_serve(1) as port, loaders(port) as pool:
        yield pool


@pytest.fixture(scope="module")
def two() -> Iterator[multiprocessing.pool.Pool]:
    with tariff_serve(2) as port, loaders(port) as pool:
        yield pool


@pytest.mark.parametrize("method", ["quote", "rate"])
@pytest.mark.parametrize("variant", ["two", "one"])
def test_serve_processes(
    measure: Measure, size: int, variant: str, method: str, request: pytest.FixtureRequest
) -> None:
    pool: multiprocessing.pool.Pool = request.getfixturevalue(variant)
    calls = CALLS[method]
    items = LOADERS * calls * (1 if method == "quote" else EVENTS)
    bench = measure(f"serve_processes_{method}", variant, size=size, items=items)
    done = bench.pedantic(
        lambda: sum(pool.map(_load, [(method, calls)] * LOADERS)), rounds=3, iterations=1
    )
    assert done == items
