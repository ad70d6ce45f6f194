"""docs/api.md stays honest: every RPC of tariff.v1 has its section, every JSON example is a
valid message of its RPC, and the sales and catalog-read examples are what a real server
loaded with the demo catalog answers.

The document's conventions, read here: an RPC's section is headed "### `Service.Method`";
its examples are fenced blocks tagged `json request`, then `json response` (or
`json response-excerpt`, whose lists may leave elements out) or `json status` (the error, as
google.rpc.Status). A `json output` block is what the `sh` block above it prints (checked by
tests/e2e/test_doc_blocks.py). A documented response may leave fields out and may cut a
string with a final "…", but every value it shows must be the real one.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import pkgutil
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import grpc
import pytest
import pytest_asyncio
from google.protobuf import json_format, message_factory
from google.protobuf.descriptor import MethodDescriptor
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from tariff.bootstrap import bootstrap
from tariff.cli import load_demo
from tariff.server import start_server
from tariff.settings import Settings

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "api.md"
CARTS = ROOT / "tariff" / "demo" / "carts.json"
assert error_details_pb2.BadRequest  # registers the google.rpc detail types for Any in JSON


def generated_modules() -> list[ModuleType]:
    """Every generated message module of tariff.v1 (importing them registers their types)."""
    package = importlib.import_module("tariff.v1")
    return [
        importlib.import_module(f"tariff.v1.{module.name}")
        for module in pkgutil.iter_modules(package.__path__)
        if module.name.endswith("_pb2")
    ]


HEADING = re.compile(r"^(#{1,6}) ")
RPC_HEADING = re.compile(r"^### `(\w+)\.(\w+)`$")
JSON_FENCE = re.compile(r"^```json(?: (\S+))?$")
TAGS = ("request", "response", "response-excerpt", "status")

#: RPCs whose examples are sent to the demo server: they read and never write.
EXECUTED = (
    "QualificationService.CheckEligibility",
    "QualificationService.ListEligibleOffers",
    "PricingService.Quote",
    "PricingService.Rate",
    "PricingService.RateStream",
    "CatalogService.GetProduct",
    "CatalogService.ListProducts",
    "CatalogService.GetCombo",
    "CatalogService.ListCombos",
    "CatalogService.GetReferenceData",
    "CatalogService.GetZoneTable",
    "RulesService.CheckRules",
)


@dataclass
class Block:
    """One fenced JSON block: its tag, text and line."""

    tag: str
    text: str
    line: int


@dataclass
class Example:
    """Request blocks and what answered them, under one RPC heading."""

    rpc: str
    line: int
    requests: list[Block] = field(default_factory=list)
    answers: list[Block] = field(default_factory=list)

    @property
    def id(self) -> str:
        return f"{self.rpc}@{self.line}"


@dataclass
class Doc:
    """What the test reads from docs/api.md."""

    headings: list[str] = field(default_factory=list)
    examples: list[Example] = field(default_factory=list)
    stray: list[Block] = field(default_factory=list)  # tagged blocks outside RPC sections
    untagged: list[Block] = field(default_factory=list)  # plain json blocks in RPC sections


def _blocks(lines: list[str]) -> Iterator[tuple[str | None, Block | None, int]]:
    """(heading line, None, n) for headings and (None, json block, n) for JSON fences."""
    n = 0
    while n < len(lines):
        line = lines[n]
        if line.startswith("```"):
            end = next(i for i in range(n + 1, len(lines)) if lines[i].startswith("```"))
            match = JSON_FENCE.match(line)
            if match:
                text = "\n".join(lines[n + 1 : end])
                yield None, Block(match[1] or "", text, n + 1), n
            n = end + 1
            continue
        if HEADING.match(line):
            yield line, None, n
        n += 1


def read_doc() -> Doc:
    """The RPC headings and the examples under them, in document order."""
    doc = Doc()
    rpc: str | None = None
    for heading, block, n in _blocks(DOC.read_text(encoding="utf-8").splitlines()):
        if heading is not None:
            level = len(HEADING.match(heading)[1])  # type: ignore[index]
            if level <= 3:
                match = RPC_HEADING.match(heading)
                rpc = f"{match[1]}.{match[2]}" if match else None
                if rpc:
                    doc.headings.append(rpc)
            continue
        assert block is not None
        if block.tag == "output":  # what an `sh` block prints: tests/e2e/test_doc_blocks.py
            continue
        if rpc is None:
            if block.tag:
                doc.stray.append(block)
            continue
        if not block.tag:
            doc.untagged.append(block)
            continue
        last = doc.examples[-1] if doc.examples and doc.examples[-1].rpc == rpc else None
        if block.tag == "request" and (last is None or last.answers):
            last = Example(rpc, n + 1)
            doc.examples.append(last)
        assert last is not None, f"line {n + 1}: an answer before any request"
        (last.requests if block.tag == "request" else last.answers).append(block)
    return doc


DOCUMENT = read_doc()


def rpc_methods() -> dict[str, MethodDescriptor]:
    """Every RPC of every tariff.v1 service, by "Service.Method"."""
    return {
        f"{service.name}.{method.name}": method
        for module in generated_modules()
        for service in module.DESCRIPTOR.services_by_name.values()
        for method in service.methods
    }


METHODS = rpc_methods()


def message_of(descriptor: Any) -> type[Message]:
    """The generated class of a message descriptor."""
    return message_factory.GetMessageClass(descriptor)


def parse(block: Block, cls: type[Message]) -> Message:
    """The block as a `cls` message (no unknown fields); fails naming the doc's line."""
    try:
        return json_format.Parse(block.text, cls(), ignore_unknown_fields=False)
    except json_format.ParseError as error:
        raise AssertionError(f"docs/api.md line {block.line}: {error}") from None


# -- agreement of a documented JSON value with the real one ----------------------------------


def differences(doc: Any, real: Any, loose: bool, path: str = "$") -> list[str]:
    """Where `doc` says something `real` does not: a field it shows with another value, a
    list of another length (with `loose`, a list whose elements are not found in order), a
    string other than the real one (one ending in "…" stands for any continuation)."""
    if isinstance(doc, dict):
        if not isinstance(real, dict):
            return [f"{path}: documented an object, got {real!r}"]
        found: list[str] = []
        for key, value in doc.items():
            if key not in real:
                found.append(f"{path}.{key}: documented {value!r}, absent from the answer")
            else:
                found += differences(value, real[key], loose, f"{path}.{key}")
        return found
    if isinstance(doc, list):
        if not isinstance(real, list):
            return [f"{path}: documented a list, got {real!r}"]
        if not loose:
            if len(doc) != len(real):
                return [f"{path}: documented {len(doc)} elements, the answer has {len(real)}"]
            pairs = zip(doc, real, strict=True)
            return [
                d
                for i, (v, r) in enumerate(pairs)
                for d in differences(v, r, loose, f"{path}[{i}]")
            ]
        rest = iter(enumerate(real))
        for i, value in enumerate(doc):
            if not any(not differences(value, r, loose) for _, r in rest):
                return [f"{path}[{i}]: documented {value!r}, not in the answer (in order)"]
        return []
    cut = isinstance(doc, str) and doc.endswith("…")
    if cut and isinstance(real, str) and real.startswith(doc[:-1]):
        return []
    if doc != real:
        return [f"{path}: documented {doc!r}, the answer says {real!r}"]
    return []


def test_differences_sees_changed_missing_and_cut_values() -> None:
    assert differences({"a": [1, 2]}, {"a": [1, 2], "b": 3}, loose=False) == []
    assert differences({"a": [2]}, {"a": [1, 2, 3]}, loose=True) == []
    assert differences({"a": [3, 1]}, {"a": [1, 2, 3]}, loose=True)
    assert differences({"a": [2]}, {"a": [1, 2]}, loose=False)
    assert differences({"t": "plan x…"}, {"t": "plan x {\n}"}, loose=False) == []
    assert differences({"t": "plan y…"}, {"t": "plan x {\n}"}, loose=False)
    assert differences({"units": "129"}, {"units": "158"}, loose=False)
    assert differences({"nanos": 1}, {}, loose=False)


# -- 1. every RPC has its section -------------------------------------------------------------


def test_every_rpc_has_a_section() -> None:
    missing = sorted(set(METHODS) - set(DOCUMENT.headings))
    assert not missing, f"docs/api.md has no '### `Service.Method`' section for {missing}"


def test_every_section_is_a_real_rpc_documented_once() -> None:
    unknown = sorted(set(DOCUMENT.headings) - set(METHODS))
    assert not unknown, f"docs/api.md documents RPCs tariff.v1 does not have: {unknown}"
    twice = sorted({h for h in DOCUMENT.headings if DOCUMENT.headings.count(h) > 1})
    assert not twice, f"documented more than once: {twice}"


def test_every_rpc_has_a_request_and_a_response_example() -> None:
    answered = {
        e.rpc for e in DOCUMENT.examples if any(a.tag.startswith("response") for a in e.answers)
    }
    assert not sorted(set(METHODS) - answered), "RPCs without a request and its response"
    assert not [b.line for b in DOCUMENT.stray if b.tag != "status"], "examples outside RPCs"
    assert not [b.line for b in DOCUMENT.untagged], "untagged JSON escapes the checks"


def test_excerpts_are_few() -> None:
    excerpts = [a for e in DOCUMENT.examples for a in e.answers if a.tag == "response-excerpt"]
    assert len(excerpts) <= 4, [b.line for b in excerpts]


# -- 2. every example is a message of its RPC -------------------------------------------------


@pytest.mark.parametrize("example", DOCUMENT.examples, ids=lambda e: e.id)
def test_example_parses_into_its_messages(example: Example) -> None:
    method = METHODS[example.rpc]
    assert example.answers, f"line {example.line}: a request without its answer"
    tags = {a.tag for a in example.answers}
    assert tags <= set(TAGS) - {"request"}, tags
    assert "status" not in tags or len(example.answers) == 1, "a status ends the call"
    if not method.client_streaming:
        assert len(example.requests) == 1, f"line {example.line}: one request per unary call"
    if not method.server_streaming:
        assert len(example.answers) == 1, f"line {example.line}: one answer per unary call"
    for block in example.requests:
        parse(block, message_of(method.input_type))
    for block in example.answers:
        cls = status_pb2.Status if block.tag == "status" else message_of(method.output_type)
        parse(block, cls)


def test_status_examples_outside_rpc_sections_parse() -> None:
    for block in DOCUMENT.stray:
        status = parse(block, status_pb2.Status)
        assert isinstance(status, status_pb2.Status)
        assert status.code != 0
        assert status.details


# -- the documented answers are the demo's documented answers --------------------------------


def _answer(rpc: str, index: int) -> Any:
    """The documented answer of the index-th example of an RPC, as JSON."""
    examples = [e for e in DOCUMENT.examples if e.rpc == rpc]
    return json.loads(examples[index].answers[0].text)


def _money(amount: dict[str, Any]) -> str:
    """A google.type.Money in JSON as "158.00", exactly."""
    value = Decimal(amount.get("units", "0")) + Decimal(amount.get("nanos", 0)).scaleb(-9)
    return str(value.quantize(Decimal("0.01")))


def test_documented_answers_match_the_demo_carts() -> None:
    carts = {c["name"]: c["expect"] for c in json.loads(CARTS.read_text(encoding="utf-8"))["carts"]}
    four = _answer("QualificationService.CheckEligibility", 0)["items"][0]
    assert four["result"] == "QUALIFICATION_RESULT_UNQUALIFIED"
    assert [r["code"] for r in four["reasons"]] == carts["family_four_lines"]["reasons"]
    assert [f"remove {p['offerCode']}" for p in four["proposals"]] == (
        carts["family_four_lines"]["proposals"]
    )
    youth = _answer("QualificationService.CheckEligibility", 1)["items"][0]
    assert youth["result"] == "QUALIFICATION_RESULT_ALTERNATE"
    assert [r["code"] for r in youth["reasons"]] == carts["youth_plan_at_30"]["reasons"]
    assert [f"instead {p['offerCode']}" for p in youth["proposals"]] == (
        carts["youth_plan_at_30"]["proposals"]
    )
    totals = _answer("PricingService.Quote", 0)["totals"]
    expect = carts["family_two_lines"]
    assert _money(totals["dueNow"]["taxIncludedAmount"]) == expect["due_now"]
    assert _money(totals["monthlyRecurring"]["taxIncludedAmount"]) == expect["monthly"]
    enterprise = _answer("PricingService.Quote", 1)["totals"]
    expect = carts["enterprise_broadband_static_ip"]
    assert _money(enterprise["dueNow"]["taxIncludedAmount"]) == expect["due_now"]
    assert _money(enterprise["monthlyRecurring"]["taxIncludedAmount"]) == expect["monthly"]


# -- 3. the examples of read-only RPCs are the real answers -----------------------------------


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def channel(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[grpc.aio.Channel]:
    """A real server on 127.0.0.1 with the demo catalog published, as `serve --demo` has it."""
    database = tmp_path_factory.mktemp("api") / "api.sqlite"
    settings = Settings(
        host="127.0.0.1",
        port=0,
        database_url=f"sqlite:///{database}",
        refresh_seconds=0,
        time_zone="Asia/Shanghai",
    )
    app = await asyncio.to_thread(bootstrap, settings)
    try:
        await asyncio.to_thread(load_demo, app)
        running = await start_server(app)
        await running.mark_serving()
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as chan:
                yield chan
        finally:
            await running.stop(0)
    finally:
        app.close()


async def send(
    chan: grpc.aio.Channel, method: MethodDescriptor, requests: list[Message]
) -> list[Message]:
    """Call `method` with the requests (a stream of them for a client-streaming RPC)."""
    path = f"/{method.containing_service.full_name}/{method.name}"
    response = message_of(method.output_type)
    serialize, deserialize = (lambda m: m.SerializeToString()), response.FromString
    if method.client_streaming:
        stream = chan.stream_stream(path, serialize, deserialize)
        return [r async for r in stream(iter(requests), timeout=30)]
    unary = chan.unary_unary(path, serialize, deserialize)
    return [await unary(requests[0], timeout=30)]


def as_json(message: Message) -> Any:
    """The message in proto3 JSON (lowerCamelCase names, Any details resolved)."""
    return json_format.MessageToDict(message)


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(
    "example", [e for e in DOCUMENT.examples if e.rpc in EXECUTED], ids=lambda e: e.id
)
async def test_example_is_the_real_answer(example: Example, channel: grpc.aio.Channel) -> None:
    method = METHODS[example.rpc]
    requests = [parse(b, message_of(method.input_type)) for b in example.requests]
    expected = example.answers
    if expected[0].tag == "status":
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await send(channel, method, requests)
        status = rpc_status.from_call(caught.value)  # type: ignore[arg-type]
        assert status is not None, f"{caught.value.code()} without rich details"
        real: list[Any] = [as_json(status)]
    else:
        real = [as_json(r) for r in await send(channel, method, requests)]
    assert len(real) == len(expected), f"line {example.line}: {len(real)} answers"
    for block, answer in zip(expected, real, strict=True):
        found = differences(json.loads(block.text), answer, block.tag == "response-excerpt")
        assert not found, f"docs/api.md line {block.line} is not the real answer:\n" + "\n".join(
            found[:10]
        )


def test_the_executed_rpcs_have_examples() -> None:
    executed = {e.rpc for e in DOCUMENT.examples if e.rpc in EXECUTED}
    assert executed == set(EXECUTED)


def test_the_tax_rate_is_described_as_the_server_sends_it() -> None:
    """docs/api.md once called taxRate a percent ("9"); the server sends a fraction."""
    text = DOC.read_text(encoding="utf-8")
    [sentence] = [line for line in text.splitlines() if line.startswith("`taxRate` is")]
    described = re.findall(r'\{"value": "([\d.]+)"\}', sentence)
    sent = {
        price["listPrice"]["taxRate"]["value"]
        for example in DOCUMENT.examples
        if example.rpc == "PricingService.Quote" and example.answers[0].tag == "response"
        for item in json.loads(example.answers[0].text).get("items", [])
        for price in item.get("prices", [])
        if "taxRate" in price.get("listPrice", {})
    }
    assert described, sentence
    assert set(described) <= sent, (described, sent)
