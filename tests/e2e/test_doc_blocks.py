"""docs/api.md's code runs: every `sh`, `python` and `js` block is called against a real
`tariff serve --demo` on 127.0.0.1, in document order (later blocks see what earlier ones
wrote, as a reader following the document would).

- `sh`: run by bash, `.venv/bin/` as this interpreter's bin directory and `127.0.0.1:50051`
  as the test server's address. `grpcurl` lines run as themselves when grpcurl is installed,
  else as the equivalent `buf curl` (same JSON body, schema by reflection). A file a line
  reads (`-d @batch-1.json`, `< create-quote.json`) holds the section's first JSON request
  (above the block); a stored quote's id (`q-…`) is the id of the quote the document's CreateQuote
  line created. A `json output` block right after an `sh` block is what it prints (its
  lists may leave elements out).
- `python`: run by this interpreter in a directory holding `usage-2026-03.parquet` (the
  demo's usage file); comment lines ending a block are its expected output.
- `js`: checked against the protos (every RPC, request field, enum value and response field
  it names exists); a complete block is run by `node` when `@grpc/grpc-js` and
  `@grpc/proto-loader` resolve (from TARIFF_TEST_NODE_PATH, else node's own paths), else
  skipped saying so. A block tagged `js fragment (REASON)` uses names its REASON says are
  the caller's, and is only checked.
- `text diagram`: the lifecycle states it draws are the model's.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from google.protobuf.descriptor import Descriptor, FieldDescriptor

from catalog.model import LifecycleStatus
from tests.e2e.test_serve import STARTUP_SECONDS, tariff_command
from tests.unit.tariff.test_api_doc import METHODS, differences

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "api.md"
BIN = Path(sys.executable).parent
ADDRESS = "127.0.0.1:50051"
FENCE = re.compile(r"^```(.*)$")
RPC_HEADING = re.compile(r"^### `(\w+)\.(\w+)`$")
RUN_TAGS = ("sh", "python", "js")

#: Sections whose blocks edit what earlier examples of the document created: the requests
#: (the first JSON request of each section named) sent before their first block runs.
SETUP = {
    "CatalogService.UpdateProduct": (
        "CatalogService.CreateBusiness",
        "CatalogService.CreateProduct",
    )
}


@dataclass
class Block:
    tag: str
    line: int
    text: str
    section: str  # "Service.Method" or "" outside RPC sections
    request: str = ""  # the section's first JSON request above, if any
    output: str = ""  # the `json output` block right after it

    @property
    def id(self) -> str:
        return f"{self.tag.split()[0]}@{self.line}"


def read_blocks() -> list[Block]:
    lines = DOC.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    section, request, n = "", "", 0
    while n < len(lines):
        heading = RPC_HEADING.match(lines[n])
        if heading:
            section, request = f"{heading[1]}.{heading[2]}", ""
        elif re.match(r"^#{1,3} ", lines[n]):
            section, request = "", ""
        fence = FENCE.match(lines[n])
        if not fence:
            n += 1
            continue
        end = next(i for i in range(n + 1, len(lines)) if lines[i].startswith("```"))
        tag, text = fence[1].strip(), "\n".join(lines[n + 1 : end])
        if tag == "json request" and not request:
            request = text
        blocks.append(Block(tag, n + 1, text, section, request))
        n = end + 1
    return _outputs(blocks, lines)


def _outputs(blocks: list[Block], lines: list[str]) -> list[Block]:
    """Attach each `json output` block to the `sh` block just before it (only blank lines
    between them)."""
    for before, after in itertools.pairwise(blocks):
        if after.tag != "json output" or before.tag != "sh":
            continue
        closing = before.line + before.text.count("\n") + 1
        between = lines[closing + 1 : after.line - 2]
        if all(not t.strip() for t in between):
            before.output = after.text
    return blocks


BLOCKS = read_blocks()
RUN = [b for b in BLOCKS if b.tag.split()[0] in RUN_TAGS]


def test_every_block_is_run_or_checked() -> None:
    known = {"sh", "python", "js", "text diagram", "json output"} | {
        f"json {t}" for t in ("request", "response", "response-excerpt", "status")
    }
    unknown = [
        (b.line, b.tag)
        for b in BLOCKS
        if b.tag not in known and not re.fullmatch(r"js fragment \(.+\)", b.tag)
    ]
    assert unknown == [], f"tag these blocks as this module's docstring says: {unknown}"
    shown = [b.line for b in BLOCKS if b.tag == "json output"]
    outputs = [b for b in BLOCKS if b.output]
    assert len(shown) == len(outputs), "a `json output` block must follow an `sh` block"
    assert len(RUN) >= 15


def test_the_lifecycle_diagram_draws_the_model() -> None:
    [diagram] = [b for b in BLOCKS if b.tag == "text diagram"]
    drawn = set(re.findall(r"\b[A-Z][A-Z_]+\b", diagram.text))
    assert drawn == {s.name for s in LifecycleStatus}, drawn


# -- the server and the run -------------------------------------------------------------------


@dataclass
class Session:
    """The server, a working directory, and what the blocks run so far left behind."""

    port: int
    workdir: Path
    results: dict[int, str | None] = field(default_factory=dict)  # line -> failure or None
    quote_id: str = ""
    prepared: set[str] = field(default_factory=set)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def run_through(self, block: Block) -> str | None:
        """Runs every block up to and including `block`, in order, once."""
        for earlier in RUN:
            if earlier.line not in self.results:
                self.results[earlier.line] = self._run(earlier)
            if earlier is block:
                break
        return self.results[block.line]

    def _run(self, block: Block) -> str | None:
        for section in SETUP.get(block.section, ()):
            if section not in self.prepared:
                self.prepared.add(section)
                first = next(b for b in BLOCKS if b.section == section and b.tag == "json request")
                self._buf(section, first.text)
        kind = block.tag.split()[0]
        try:
            if kind == "sh":
                return self._sh(block)
            if kind == "python":
                return self._python(block)
            return self._js(block)
        except subprocess.TimeoutExpired as error:
            return f"timed out: {error}"
        except Exception as error:
            return f"{type(error).__name__}: {error}"

    def _buf(self, rpc: str, body: str) -> dict[str, Any]:
        service, method = rpc.split(".")
        result = subprocess.run(
            [
                str(BIN / "buf"),
                "curl",
                "--protocol",
                "grpc",
                "--http2-prior-knowledge",
                "-d",
                body,
                f"http://{self.address}/tariff.v1.{service}/{method}",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, f"setup {rpc}: {result.stderr}"
        return json.loads(result.stdout)  # type: ignore[no-any-return]

    def _substitute(self, text: str) -> str:
        text = text.replace(".venv/bin/", f"{BIN}/").replace(ADDRESS, self.address)
        if self.quote_id:
            text = re.sub(r"q-[0-9a-f]{32}", self.quote_id, text)
        return text

    def _sh(self, block: Block) -> str | None:
        script = self._substitute(block.text.replace("\\\n", " "))
        if shutil.which("grpcurl") is None:
            script = "\n".join(_as_buf_curl(line) for line in script.splitlines())
        for name in re.findall(r"(?:-d @|< )([\w.-]+\.json)", script):
            if not block.request:
                return f"reads {name}, but no JSON request precedes the block in its section"
            (self.workdir / name).write_text(block.request, encoding="utf-8")
        result = subprocess.run(
            ["bash", "-e", "-c", script],
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if result.returncode != 0:
            return f"exit {result.returncode}\n{script}\n{result.stdout}{result.stderr}"
        if "tariff.v1.PricingService/CreateQuote" in script:
            self.quote_id = json.loads(result.stdout)["quote"]["id"]
        if block.output:
            found = differences(json.loads(block.output), json.loads(result.stdout), loose=True)
            if found:
                return "the output after the block is not what it prints:\n" + "\n".join(found)
        return None

    def _python(self, block: Block) -> str | None:
        path = self.workdir / f"block_{block.line}.py"
        path.write_text(self._substitute(block.text), encoding="utf-8")
        result = subprocess.run(
            [sys.executable, str(path)],
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode != 0:
            return f"exit {result.returncode}\n{result.stdout}{result.stderr}"
        expected = _trailing_comments(block.text)
        if expected and result.stdout.splitlines() != expected:
            return f"printed {result.stdout!r}, the block says {expected!r}"
        return None

    def _js(self, block: Block) -> str | None:
        problems = check_js(block.text)
        if problems:
            return "\n".join(problems)
        if block.tag != "js":
            return None
        node = shutil.which("node")
        node_path = os.environ.get("TARIFF_TEST_NODE_PATH", "")
        env = {**os.environ, "NODE_PATH": node_path}
        probe = "require.resolve('@grpc/grpc-js'); require.resolve('@grpc/proto-loader')"
        if (
            node is None
            or subprocess.run([node, "-e", probe], env=env, capture_output=True).returncode
        ):
            return "skip: node with @grpc/grpc-js and @grpc/proto-loader is not available"
        if not (self.workdir / "proto").exists():
            (self.workdir / "proto").symlink_to(ROOT / "proto")
        path = self.workdir / f"block_{block.line}.js"
        path.write_text(self._substitute(block.text), encoding="utf-8")
        result = subprocess.run(
            [node, str(path)], cwd=self.workdir, env=env, capture_output=True, text=True, timeout=60
        )
        if result.returncode != 0 or "Error" in result.stdout:
            return f"exit {result.returncode}\n{result.stdout}{result.stderr}"
        return None


def _as_buf_curl(line: str) -> str:
    """A grpcurl line as the same call through buf curl."""
    match = re.match(r"^grpcurl -plaintext -d (@|'[^']*') (\S+) (\S+)(.*)$", line.strip())
    if not match:
        return line
    body = "@-" if match[1] == "@" else match[1]
    return (
        f"{BIN}/buf curl --protocol grpc --http2-prior-knowledge -d {body} "
        f"http://{match[2]}/{match[3]}{match[4]}"
    )


def _trailing_comments(text: str) -> list[str]:
    lines = text.rstrip().splitlines()
    out: list[str] = []
    while lines and lines[-1].strip().startswith("# "):
        out.insert(0, lines.pop().strip()[2:])
    return out


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    workdir = tmp_path_factory.mktemp("doc-blocks")
    _usage_parquet(workdir / "usage-2026-03.parquet")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TARIFF_")}
    proc = subprocess.Popen(
        [*tariff_command(), "serve", "--demo", "--port", "0", "--processes", "1"],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    port = 0
    deadline = time.monotonic() + STARTUP_SECONDS
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        found = re.search(r"serving on [\d.]+:(\d+)", line)
        if found:
            port = int(found.group(1))
            break
    if not port:
        proc.kill()
        pytest.fail(f"`tariff serve --demo` did not come up: {proc.stdout.read()}")
    try:
        yield Session(port, workdir)
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def _usage_parquet(path: Path) -> None:
    """The demo's usage file as the Parquet file the RateBatch example reads."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    source = ROOT / "tariff" / "demo" / "usage.csv"
    header = source.read_text(encoding="utf-8").splitlines()[0].split(",")
    options = pacsv.ConvertOptions(column_types=dict.fromkeys(header, "string"))
    pq.write_table(pacsv.read_csv(source, convert_options=options), path)


@pytest.mark.parametrize("block", RUN, ids=lambda b: b.id)
def test_the_block_runs(block: Block, session: Session) -> None:
    failure = session.run_through(block)
    if failure is not None and failure.startswith("skip: "):
        pytest.skip(failure.removeprefix("skip: "))
    assert failure is None, f"docs/api.md line {block.line} ({block.tag}): {failure}"


# -- Node blocks against the protos -------------------------------------------------------------


def _messages() -> dict[str, Descriptor]:
    return {m.input_type.full_name: m.input_type for m in METHODS.values()} | {
        m.output_type.full_name: m.output_type for m in METHODS.values()
    }


def _reachable(message: Descriptor) -> Iterator[Descriptor]:
    seen: set[str] = set()
    todo = [message]
    while todo:
        current = todo.pop()
        if current.full_name in seen:
            continue
        seen.add(current.full_name)
        yield current
        todo += [f.message_type for f in current.fields if f.message_type is not None]


def _enums() -> tuple[set[str], tuple[str, ...]]:
    """Every enum value the RPCs' messages use, and their prefixes (`CUSTOMER_TYPE_`)."""
    types = {
        f.enum_type.full_name: f.enum_type
        for method in METHODS.values()
        for message in (method.input_type, method.output_type)
        for m in _reachable(message)
        for f in m.fields
        if f.enum_type is not None
    }
    values = {v.name for e in types.values() for v in e.values}
    prefixes = tuple(re.sub(r"(?<!^)(?=[A-Z])", "_", e.name).upper() + "_" for e in types.values())
    return values, prefixes


def _balanced(text: str, start: int) -> str:
    """The `{…}` starting at `start`."""
    depth = 0
    for i in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return text[start : i + 1]
    return text[start:]


def _field(message: Descriptor, name: str) -> FieldDescriptor | None:
    return next((f for f in message.fields if name in (f.json_name, f.name)), None)


def check_js(text: str) -> list[str]:
    """What a Node block names that the protos do not have."""
    problems: list[str] = []
    code = re.sub(r"//.*", "", text)
    for service in re.findall(r"tariff\.v1\.(\w+)\(", code):
        if not any(rpc.startswith(service + ".") for rpc in METHODS):
            problems.append(f"no service {service}")
    strings = re.findall(r'"([^"\n]*)"|\'([^\'\n]*)\'', code)
    strings = [double or single for double, single in strings]
    bare = re.sub(r'"[^"\n]*"|\'[^\'\n]*\'', '""', code)
    values, prefixes = _enums()
    for value in strings:
        if value.startswith(prefixes) and value not in values:
            problems.append(f"no enum value {value}")
    for call in re.finditer(r"\b(?!v1\b)\w+\.([A-Z]\w*)\(", bare):
        methods = [m for rpc, m in METHODS.items() if rpc.endswith("." + call[1])]
        if not methods:
            problems.append(f"no RPC {call[1]}")
            continue
        method = methods[0]
        after = bare[call.end() :].lstrip()
        if after.startswith("{"):
            literal = _balanced(after, 0)
            names = set(re.findall(r"(\w+)\s*:", literal))
            names |= set(re.findall(r"[{,]\s*(\w+)\s*(?=[,}])", literal))
            known = {
                n
                for m in _reachable(method.input_type)
                for f in m.fields
                for n in (f.json_name, f.name)
            }
            problems += [f"{call[1]}: no request field {n}" for n in sorted(names - known)]
        reply = re.search(r"\(\s*err\s*,\s*(\w+)\s*\)\s*=>", after)
        if reply:
            for chain in re.findall(rf"\b{reply[1]}((?:\.\w+)+)", after):
                problems += _walk(method.output_type, chain.split(".")[1:], call[1])
    return problems


def _walk(message: Descriptor, names: list[str], rpc: str) -> list[str]:
    current: Descriptor | None = message
    for name in names:
        if current is None:
            return []  # past a scalar or a list: JavaScript's own properties
        found = _field(current, name)
        if found is None:
            return [f"{rpc}: {current.name} has no field {name}"]
        current = None if found.is_repeated else found.message_type
    return []


def test_the_node_check_sees_wrong_names() -> None:
    assert (
        check_js('stub.CheckEligibility({ context: { areaCode: "GD" } }, (err, r) => r.items)')
        == []
    )
    assert check_js("pricing.Quoet({})") == ["no RPC Quoet"]
    assert check_js("pricing.GetQuote({ ids }, (e, a) => 0)") == ["GetQuote: no request field ids"]
    [problem] = check_js("pricing.GetQuote({ id }, (err, a) => a.quote.stat)")
    assert problem.startswith("GetQuote: ")
    assert problem.endswith(" has no field stat")
    assert check_js('x({ type: "CUSTOMER_TYPE_PERSONL" })') == [
        "no enum value CUSTOMER_TYPE_PERSONL"
    ]
