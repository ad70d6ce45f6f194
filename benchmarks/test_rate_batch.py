"""Workload `rate_batch`: PricingService.RateBatch over gRPC on 127.0.0.1, one Arrow table of
`size` events a call, against the columnar engine in process (issue 20).

The events are the suite's mixed usage (`benchmarks.test_rating.mixed_rows`: voice, data and
SMS of the 1,000-offer bench catalog), every column text as a usage file holds it, tiled with
fresh subscribers up to `size` rows.

Variants:
- `tariff`: the real server (benchmarks/support/tariff_server.py) answering RateBatch; the
  client writes the request's IPC stream and reads the answer's (both timed);
- `noop`: the no-op server (benchmarks/support/noop.py) answering each request with the
  real server's answer, prepared beforehand: same bytes on the wire, none of the work;
- baseline `in_process`: `rules.columnar.rate_columns` on the same events as UsageColumns
  prepared beforehand, with the period counters: the engine alone, no reading, no wire.
Issue 20's goal: RateBatch at least 0.5 of the in-process engine's events/s at 100,000
events a call. Every variant's answer is checked: the server's rated rows are the engine's.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import grpc
import pytest

from benchmarks.conftest import Measure
from benchmarks.support.catalogs import bench_sale_catalog
from benchmarks.support.servers import canned_noop, server_process
from benchmarks.test_rating import CHINA, mixed_rows
from tariff.gen.usage import USAGE_HEADER
from tariff.v1 import pricing_service_pb2 as pb
from tariff.v1 import pricing_service_pb2_grpc as pb_grpc

pa = pytest.importorskip("pyarrow")

from rules.columnar import UsageColumns, Versions, rate_columns  # noqa: E402
from tariff.arrow_wire import write_stream  # noqa: E402
from tariff.rate_columns import read_chunk  # noqa: E402
from tariff.rate_files import Chunk  # noqa: E402
from tariff.usage_arrow import usage_batch  # noqa: E402

SIZES = {"gate": (100_000,), "full": (10_000, 100_000)}
OFFERS = 1_000
BASE = 20_000  # distinct generated events, tiled with fresh subscribers up to `size`
OPTIONS = [("grpc.max_receive_message_length", 64 << 20)]


@functools.cache
def _table(size: int) -> Any:
    rows = mixed_rows(OFFERS, BASE)
    copies = -(-size // len(rows))
    columns = {
        name: [row[name] for _ in range(copies) for row in rows][:size] for name in USAGE_HEADER
    }
    columns["subscriber_id"] = [
        f"{row['subscriber_id']}~{k}" for k in range(copies) for row in rows
    ][:size]
    columns["event_id"] = [f"E{i}" for i in range(size)]
    return pa.table({name: pa.array(values, pa.string()) for name, values in columns.items()})


@pytest.fixture(scope="module")
def request_message(size: int) -> pb.RateBatchRequest:
    return pb.RateBatchRequest(events=write_stream(_table(size), compression=None))


def _stub(port: int) -> Iterator[pb_grpc.PricingServiceStub]:
    with grpc.insecure_channel(f"127.0.0.1:{port}", options=OPTIONS) as channel:
        grpc.channel_ready_future(channel).result(timeout=60)
        yield pb_grpc.PricingServiceStub(channel)


@pytest.fixture(scope="module")
def tariff_stub() -> Iterator[pb_grpc.PricingServiceStub]:
    args = ["-m", "benchmarks.support.tariff_server", "--offers", str(OFFERS)]
    with server_process(args, startup_seconds=600) as port:
        yield from _stub(port)


@pytest.fixture(scope="module")
def canned(
    tariff_stub: pb_grpc.PricingServiceStub, request_message: pb.RateBatchRequest
) -> dict[bytes, bytes]:
    answer = tariff_stub.RateBatch(request_message, timeout=600)  # also compiles the raters
    key = b"B" + request_message.SerializeToString(deterministic=True)
    return {key: answer.SerializeToString()}


@pytest.fixture(scope="module")
def noop_stub(canned: dict[bytes, bytes]) -> Iterator[pb_grpc.PricingServiceStub]:
    with canned_noop(canned) as port:
        yield from _stub(port)


def _call(stub: pb_grpc.PricingServiceStub, table: Any) -> Any:
    """One RateBatch as a client makes it: the table written, the answer read."""
    request = pb.RateBatchRequest(events=write_stream(table, compression=None))
    answer = stub.RateBatch(request, timeout=600)
    return pa.ipc.open_stream(answer.results).read_all()


@functools.cache
def _columns(size: int) -> UsageColumns:
    events, problems = usage_batch(_table(size))
    assert not problems
    catalog = bench_sale_catalog(OFFERS)
    read = read_chunk(Chunk(events, {}, None), dict(catalog.businesses))
    assert not read.problems  # every generated row is well formed
    return read.columns


def _in_process(columns: UsageColumns) -> Any:
    catalog = bench_sale_catalog(OFFERS)
    found = rate_columns(columns, Versions(lambda _start: catalog), CHINA)
    found.counters  # noqa: B018 - the periods' counters are part of the answer
    return found


def _charges(results: Any) -> list[str]:
    return [c for c, s in zip(results["charge"].to_pylist(), results["status"].to_pylist(),
                               strict=True) if s == "rated"]  # fmt: skip


@pytest.mark.parametrize("variant", ["tariff", "noop"])
def test_rate_batch_rpc(
    measure: Measure, size: int, variant: str, canned: dict[bytes, bytes], request: Any
) -> None:
    stub = request.getfixturevalue(f"{variant}_stub")
    table = _table(size)
    bench = measure("rate_batch", variant, size=size)
    results = bench.pedantic(_call, (stub, table), rounds=5, iterations=1)
    assert results.num_rows == size
    expected = pb.RateBatchResponse.FromString(next(iter(canned.values())))
    assert results.equals(pa.ipc.open_stream(expected.results).read_all())
    assert expected.rated_count > 0.9 * size


def test_rate_batch_in_process(measure: Measure, size: int, canned: dict[bytes, bytes]) -> None:
    columns = _columns(size)
    _in_process(columns)  # compiles the plans it meets, lays out the zone table
    bench = measure("rate_batch", "in_process", size=size)
    found = bench.pedantic(_in_process, (columns,), rounds=5, iterations=1)
    answer = pb.RateBatchResponse.FromString(next(iter(canned.values())))
    served = pa.ipc.open_stream(answer.results).read_all()
    assert int(found.rated.sum()) == answer.rated_count  # the server's answer is the engine's
    assert len(_charges(served)) == answer.rated_count
