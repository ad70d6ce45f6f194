"""Every RPC, probed as a hostile client would: generated requests of each method (any field
unset, empty, at its integer edge, an unknown enum number, a Timestamp past its range, noise
or real catalog names; also valid demo requests with a generated part merged over them) sent
to a real `tariff serve --demo` process on 127.0.0.1.

Each call must end with a status that means what docs/operations.md says - never INTERNAL
or UNKNOWN (a bug), never DEADLINE_EXCEEDED (every request's work is bounded by its size),
never an answer a default gRPC client cannot read - and the server must be alive and
SERVING afterwards, its memory bounded. CI runs a small budget per method;
`pytest --fuzz-long` runs many more examples (tests/support/fuzz.py).
"""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import descriptor as d
from google.protobuf import message as pm
from google.protobuf import message_factory
from grpc_health.v1 import health_pb2, health_pb2_grpc
from hypothesis import given
from hypothesis import strategies as st

from catalog import bundle
from tariff import demo
from tariff.v1 import (
    catalog_pb2,
    catalog_service_pb2,
    catalog_service_pb2_grpc,
    common_pb2,
    pricing_service_pb2,
    qualification_service_pb2,
    rules_service_pb2,
)
from tests.support.demo_requests import sales_requests
from tests.support.fuzz import fuzz_settings
from tests.support.proto_strategies import Vocabulary, requests

STARTUP_SECONDS = 60
#: Any call taking longer is a request whose work is not bounded by its size.
CALL_SECONDS = 20.0
#: The server's resident memory after fuzzing, at most (the demo serves in ~200 MB).
MAX_RSS_BYTES = 2 << 30
#: Statuses a request may end with; anything else is a bug.
ALLOWED = {
    grpc.StatusCode.OK,
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.ALREADY_EXISTS,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.ABORTED,
    grpc.StatusCode.OUT_OF_RANGE,
    grpc.StatusCode.RESOURCE_EXHAUSTED,  # only the server's own "answer too large" (below)
}
SERVICES = {
    "tariff.v1.CatalogService": catalog_service_pb2,
    "tariff.v1.QualificationService": qualification_service_pb2,
    "tariff.v1.PricingService": pricing_service_pb2,
    "tariff.v1.RulesService": rules_service_pb2,
}
#: Methods that change the catalog get fewer examples: each may publish or import.
WRITES = re.compile(r"^(Create|Update|Attach|Transition|Put|Publish|Import)")


@dataclass(frozen=True)
class Method:
    service: str
    name: str
    input: d.Descriptor
    output: d.Descriptor
    client_streaming: bool
    server_streaming: bool

    @property
    def path(self) -> str:
        return f"/{self.service}/{self.name}"

    def __str__(self) -> str:
        return self.name


def _methods() -> list[Method]:
    found = []
    for service, module in SERVICES.items():
        desc = module.DESCRIPTOR.services_by_name[service.rsplit(".", 1)[1]]
        for m in desc.methods:
            found.append(
                Method(
                    service,
                    m.name,
                    m.input_type,
                    m.output_type,
                    m.client_streaming,
                    m.server_streaming,
                )
            )
    return found


METHODS = _methods()


def _tariff() -> list[str]:
    script = Path(sys.executable).with_name("tariff")
    return [str(script)] if script.exists() else [sys.executable, "-m", "tariff.cli"]


@dataclass
class Server:
    proc: subprocess.Popen[str]
    port: int
    channel: grpc.Channel
    log: Path

    def alive(self) -> None:
        if self.proc.poll() is not None:
            pytest.fail(f"the server died (exit {self.proc.returncode}): {self.tail()}")
        health = health_pb2_grpc.HealthStub(self.channel)
        reply = health.Check(health_pb2.HealthCheckRequest(), timeout=CALL_SECONDS)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING

    def rss(self) -> int:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        found = re.search(r"VmRSS:\s+(\d+) kB", status)
        return int(found.group(1)) * 1024 if found else 0

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`tariff serve --demo` on its own SQLite file, with a client at gRPC's default limits
    (a 4 MiB answer is the most any default client reads)."""
    where = tmp_path_factory.mktemp("fuzz")
    log = where / "server.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TARIFF_")}
    env["TARIFF_REFRESH_SECONDS"] = "0"
    env["TARIFF_PROCESSES"] = "1"  # the process whose memory and life are checked
    with log.open("w") as out:
        proc = subprocess.Popen(
            [*_tariff(), "serve", "--demo", "--port", "0"],
            cwd=where,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    port = 0
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline and proc.poll() is None:
        found = re.search(r"serving on [\d.]+:(\d+)", log.read_text(errors="replace"))
        if found:
            port = int(found.group(1))
            break
        time.sleep(0.1)
    if not port:
        proc.kill()
        pytest.fail(f"`tariff serve --demo` did not come up: {log.read_text()}")
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    running = Server(proc, port, channel, log)
    try:
        running.alive()
        yield running
    finally:
        channel.close()
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def _vocabulary() -> Vocabulary:
    """Every code and name of the demo catalog, so requests reach past the first lookup."""
    content = bundle.read_directory(demo.DEMO)
    words = {code for _kind, code in content.entities}
    words |= set(content.areas) | set(content.channels) | set(content.segments)
    words |= set(content.zone_tables) | {s.path for s in content.rule_sources}
    with demo.USAGE.open(encoding="utf-8") as rows:
        for row in list(csv.DictReader(rows))[:50]:
            words |= {row["business_code"], row["subscriber_id"]}
    return Vocabulary(words=tuple(sorted(words)))


def _write_seeds(server: Server) -> dict[str, list[pm.Message]]:
    """Valid catalog writes, from what the running server holds: each demo entity read back
    and written again (or under a new code), so mutations reach the validators and the
    store rather than stop at a missing field."""
    c = catalog_service_pb2
    stub = catalog_service_pb2_grpc.CatalogServiceStub(server.channel)
    content = bundle.read_directory(demo.DEMO)
    codes = {kind.value: code for kind, code in content.entities}
    product = stub.GetProduct(c.GetProductRequest(code=codes["product"]), timeout=CALL_SECONDS)
    combo = stub.GetCombo(c.GetComboRequest(code=codes["combo"]), timeout=CALL_SECONDS)
    business = stub.GetBusiness(c.GetBusinessRequest(code=codes["business"]), timeout=CALL_SECONDS)
    reference = stub.GetReferenceData(c.GetReferenceDataRequest(), timeout=CALL_SECONDS)
    table = stub.GetZoneTable(
        c.GetZoneTableRequest(name=next(iter(content.zone_tables))), timeout=CALL_SECONDS
    )
    fresh_product = type(product.product)()
    fresh_product.CopyFrom(product.product)
    fresh_product.code = "fuzz_product"
    fresh_combo = type(combo.combo)()
    fresh_combo.CopyFrom(combo.combo)
    fresh_combo.code = "fuzz_combo"
    fresh_business = type(business.business)()
    fresh_business.CopyFrom(business.business)
    fresh_business.code = "fuzz_business"
    target = catalog_pb2.EntityRef(kind=catalog_pb2.ENTITY_KIND_PRODUCT, code=codes["product"])
    revision = product.product.meta.revision
    return {
        "CreateProduct": [c.CreateProductRequest(product=fresh_product)],
        "UpdateProduct": [
            c.UpdateProductRequest(product=product.product, expected_revision=revision)
        ],
        "CreateCombo": [c.CreateComboRequest(combo=fresh_combo)],
        "UpdateCombo": [
            c.UpdateComboRequest(combo=combo.combo, expected_revision=combo.combo.meta.revision)
        ],
        "CreateBusiness": [c.CreateBusinessRequest(business=fresh_business)],
        "UpdateBusiness": [
            c.UpdateBusinessRequest(
                business=business.business, expected_revision=business.business.meta.revision
            )
        ],
        "AttachRuleSources": [
            c.AttachRuleSourcesRequest(
                target=target, sources=product.product.rule_sources, expected_revision=revision
            )
        ],
        "TransitionLifecycle": [
            c.TransitionLifecycleRequest(
                target=target, to_status=product.product.status, expected_revision=revision
            )
        ],
        "PutZoneTable": [c.PutZoneTableRequest(table=table.table)],
        "PutReferenceData": [
            c.PutReferenceDataRequest(
                areas=reference.areas, channels=reference.channels, segments=reference.segments
            )
        ],
        "ImportCatalogBundle": [
            c.ImportCatalogBundleRequest(archive=bundle.to_zip_bytes(content), dry_run=True)
        ],
    }


VOCABULARY = _vocabulary()
SEEDS = sales_requests()


def _caller(server: Server, method: Method) -> Callable[[Any], tuple[grpc.StatusCode, str, int]]:
    """Calls `method` with a generated request: (status, details, answer bytes)."""
    out_cls = message_factory.GetMessageClass(method.output)
    serialize = lambda m: m.SerializeToString()  # noqa: E731
    if not method.client_streaming and not method.server_streaming:
        unary = server.channel.unary_unary(
            method.path, request_serializer=serialize, response_deserializer=out_cls.FromString
        )

        def call(request: pm.Message) -> tuple[grpc.StatusCode, str, int]:
            try:
                answer = unary(request, timeout=CALL_SECONDS)
            except grpc.RpcError as error:
                return error.code(), error.details() or "", 0
            return grpc.StatusCode.OK, "", answer.ByteSize()

        return call
    streams = server.channel.stream_stream(
        method.path, request_serializer=serialize, response_deserializer=out_cls.FromString
    )

    def call_stream(request: pm.Message) -> tuple[grpc.StatusCode, str, int]:
        size = 0
        try:
            for answer in streams(iter([request, request]), timeout=CALL_SECONDS):
                size += answer.ByteSize()
        except grpc.RpcError as error:
            return error.code(), error.details() or "", size
        return grpc.StatusCode.OK, "", size

    return call_stream


@pytest.mark.parametrize("method", METHODS, ids=str)
def test_no_request_is_a_bug_or_unbounded(server: Server, method: Method) -> None:
    assert not (method.client_streaming ^ method.server_streaming), "one-sided streams: add them"
    call = _caller(server, method)
    budget = 20 if WRITES.match(method.name) else 40
    seeds = SEEDS.get(method.name) or _write_seeds(server).get(method.name, [])
    strategy = requests(method.input, VOCABULARY, seeds)
    seen: dict[grpc.StatusCode, int] = {}

    @fuzz_settings(budget)
    @given(request=strategy)
    def probe(request: pm.Message) -> None:
        started = time.monotonic()
        code, details, _size = call(request)
        took = time.monotonic() - started
        seen[code] = seen.get(code, 0) + 1
        where = f"{method.name}({request})"
        assert code in ALLOWED, f"{code.name}: {details} for {where}"
        if code is grpc.StatusCode.RESOURCE_EXHAUSTED:  # the server's own refusal, not gRPC's
            assert "accepts by default" in details, f"{details} for {where}"
        assert took < CALL_SECONDS, f"{took:.1f} s for {where}"
        assert server.proc.poll() is None, f"the server died on {where}: {server.tail()}"

    probe()
    server.alive()
    assert server.rss() < MAX_RSS_BYTES
    print(method.name, {c.name: k for c, k in seen.items()})  # what it reached (pytest -s)
    assert sum(seen.values()) >= 1


def test_every_method_is_fuzzed() -> None:
    """A method added to the API is fuzzed without anyone remembering to add it."""
    names = {m.path for m in METHODS}
    for service, module in SERVICES.items():
        desc = module.DESCRIPTOR.services_by_name[service.rsplit(".", 1)[1]]
        assert {f"/{service}/{m.name}" for m in desc.methods} <= names
    assert len(METHODS) == sum(
        len(m.DESCRIPTOR.services_by_name[s.rsplit(".", 1)[1]].methods) for s, m in SERVICES.items()
    )
    assert common_pb2.VersionSelector.DESCRIPTOR.oneofs  # selectors are generated as oneofs


def _string_field_with_bad_utf8(desc: d.Descriptor) -> bytes | None:
    """A message's wire bytes with its first string field holding invalid UTF-8 (0xFF):
    what no protobuf library sends, but any client of raw bytes can."""
    for f in desc.fields:
        if f.type == d.FieldDescriptor.TYPE_STRING:
            tag = (f.number << 3) | 2
            return bytes([tag]) + b"\x03\xff\xfe\xfd" if tag < 128 else None
    return None


@pytest.mark.parametrize("method", METHODS, ids=str)
def test_undecodable_requests_are_invalid_argument(server: Server, method: Method) -> None:
    """Bytes that are not the method's message - noise, a truncated field, invalid UTF-8 in
    a string - are INVALID_ARGUMENT, never UNKNOWN (what a raising deserializer gives)."""
    if method.client_streaming:
        streams = server.channel.stream_stream(method.path, None, None)

        def send(data: bytes) -> grpc.StatusCode:
            try:
                for _ in streams(iter([data]), timeout=CALL_SECONDS):
                    pass
            except grpc.RpcError as error:
                return error.code()
            return grpc.StatusCode.OK
    else:
        unary = server.channel.unary_unary(method.path, None, None)

        def send(data: bytes) -> grpc.StatusCode:
            try:
                unary(data, timeout=CALL_SECONDS)
            except grpc.RpcError as error:
                return error.code()
            return grpc.StatusCode.OK

    broken = [b"\x0a\x05ab", b"\xff\xff\xff\xff", b"\x08"]  # short field, bad tag, no varint
    bad_text = _string_field_with_bad_utf8(method.input)
    if bad_text is not None:
        broken.append(bad_text)
    for data in broken:
        assert send(data) is grpc.StatusCode.INVALID_ARGUMENT, (method.name, data)

    @fuzz_settings(15)
    @given(data=st.binary(max_size=64))
    def noise(data: bytes) -> None:
        assert send(data) in ALLOWED, (method.name, data)

    noise()
    server.alive()
