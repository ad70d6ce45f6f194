"""docs/dsl.md stays true: every `tariff` code block parses, the blocks together check without
a single problem against a catalog declaring what they name and their examples all pass, a
`tariff-error CODE` block is refused with that code, the `text` blocks are what the code
prints and accepts, and the "Checks" table lists every diagnostic code the parser, the
builder and the checker can report.

The doc's tags: `tariff` (checked, examples run), `tariff-excerpt PATH` (a verbatim copy of a
demo file, tests/unit/dsl/test_docs_demo_excerpts.py), `tariff-error CODE` (a mistake the
text explains), `text synopsis` (command lines: every option is one the command has) and
`text diagnostics` (what `tariff check` prints for the line it shows)."""

from __future__ import annotations

import argparse
import ast
import dataclasses
import re
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType

import pytest

from dsl.checker import check
from dsl.diagnostics import Diagnostic, DslError, render
from dsl.nodes import Module
from dsl.parser import parse
from dsl.types import CODE_KINDS
from pricing.zones import ZoneTable
from rules.examples import run_examples
from tariff.cli import build_parser
from tests.unit.dsl.test_checker_helpers import CATALOG

ROOT = Path(__file__).parents[3]
DOC = ROOT / "docs" / "dsl.md"

_FENCE = re.compile(
    r"^(?P<indent>[ \t]*)```(?P<tag>[^\n`]*)\n(?P<body>.*?)^(?P=indent)```[ \t]*$",
    re.MULTILINE | re.DOTALL,
)


def code_blocks(text: str) -> list[tuple[str, int, str]]:
    """Every fenced block of `text` as (tag, line of its first source line, body)."""
    return [
        (
            match.group("tag").strip(),
            text.count("\n", 0, match.start("body")) + 1,
            match.group("body"),
        )
        for match in _FENCE.finditer(text)
    ]


def tariff_blocks() -> list[tuple[int, str]]:
    return tagged("tariff")


def tagged(wanted: str) -> list[tuple[int, str]]:
    """(line, body) of the blocks tagged exactly `wanted`."""
    return [
        (line, body) for tag, line, body in code_blocks(DOC.read_text("utf-8")) if tag == wanted
    ]


def block_path(line: int) -> str:
    return f"docs/dsl.md@{line}"


def parse_block(line: int, body: str) -> Module:
    """The block as a module; a syntax problem fails with its doc line."""
    try:
        return parse(body, block_path(line))
    except DslError as error:
        shown = "; ".join(f"line {line + d.line - 1}: {d.message}" for d in error.diagnostics)
        pytest.fail(f"the tariff block at docs/dsl.md:{line} does not parse: {shown}")


#: The catalog of docs/dsl.md: the checker tests' catalog, where the Qinghai campus card is
#: sold under plan `qh_campus` (the doc's inline-zones example).
_OFFERS = [
    dataclasses.replace(o, plan="qh_campus") if o.code == "qh_campus_card" else o
    for o in CATALOG.offers.values()
]
DOC_CATALOG = dataclasses.replace(
    CATALOG,
    offers=MappingProxyType({o.code: o for o in _OFFERS}),
    plans=CATALOG.plans | {"qh_campus"},
)


def show(diagnostics: list[Diagnostic]) -> str:
    lines = []
    for d in diagnostics:
        start = int(d.path.rpartition("@")[2]) if "@" in d.path else 1
        where = f"docs/dsl.md:{start + d.line - 1}"
        lines.append(f"{where}: {d.severity}[{d.code}]: {d.message}")
    return "\n".join(lines)


# -- the examples ------------------------------------------------------------------------------


KNOWN_TAGS = {"tariff", "text synopsis", "text diagnostics"}


def test_the_doc_has_tariff_blocks_and_only_blocks_a_test_runs() -> None:
    blocks = code_blocks(DOC.read_text("utf-8"))
    assert len(tariff_blocks()) >= 10
    untagged = [
        line
        for tag, line, _ in blocks
        if tag not in KNOWN_TAGS and not tag.startswith(("tariff-excerpt ", "tariff-error "))
    ]
    assert untagged == [], f"tag these blocks as the module docstring says: {untagged}"


@pytest.mark.parametrize(("line", "body"), tariff_blocks(), ids=lambda v: str(v)[:20])
def test_every_tariff_block_parses(line: int, body: str) -> None:
    module = parse_block(line, body)
    assert module.declarations


def test_the_tariff_blocks_check_together_without_a_problem() -> None:
    modules = [parse_block(line, body) for line, body in tariff_blocks()]
    found = check(modules, DOC_CATALOG)
    assert found == [], "\n" + show(found)


def test_the_tariff_blocks_check_in_any_order() -> None:
    modules = [parse_block(line, body) for line, body in reversed(tariff_blocks())]
    assert check(modules, DOC_CATALOG) == []


#: The zone table the doc's usage examples dial into (the checker catalog's `cn_zones`).
DOC_ZONES = {
    "cn_zones": ZoneTable(
        [("0755", "local"), ("010", "domestic_ld"), ("0081", "intl_asia"), ("0044", "intl_europe")]
    )
}


def test_the_examples_of_the_tariff_blocks_pass() -> None:
    modules = [parse_block(line, body) for line, body in tariff_blocks()]
    results = run_examples(modules, DOC_CATALOG, datetime(2026, 3, 2, tzinfo=UTC), DOC_ZONES)
    assert len(results) >= 7
    failed = [
        f"docs/dsl.md:{int(r.path.rpartition('@')[2]) + r.span.line - 1}: example {r.name} "
        f"{r.status}: expected {r.expected}, got {r.actual}"
        for r in results
        if r.status != "passed"
    ]
    assert failed == [], "\n".join(failed)


@pytest.mark.parametrize(
    ("tag", "line", "body"),
    [
        (tag, line, body)
        for tag, line, body in code_blocks(DOC.read_text("utf-8"))
        if tag.startswith("tariff-error ")
    ],
)
def test_a_tariff_error_block_is_refused_with_its_code(tag: str, line: int, body: str) -> None:
    code = tag.partition(" ")[2]
    try:
        found = check([parse(body, block_path(line))], DOC_CATALOG)
    except DslError as error:
        found = list(error.diagnostics)
    assert found, f"docs/dsl.md:{line}: the block is accepted"
    first = found[0]
    assert first.code == code, found
    assert first.hint, "the text says the hint explains the mistake"


def _options(parser: argparse.ArgumentParser, command: str) -> set[str]:
    """The option strings of `tariff COMMAND`."""
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {o for action in sub.choices[command]._actions for o in action.option_strings}


def test_the_synopsis_names_real_commands_and_options() -> None:
    parser = build_parser()
    blocks = tagged("text synopsis")
    assert blocks
    for line, body in blocks:
        for n_line, text in enumerate(body.splitlines(), start=line):
            words = text.partition("#")[0].split()
            if not words:
                continue
            assert words[0] == "tariff", f"docs/dsl.md:{n_line}: {text}"
            unknown = {w for w in words if w.startswith("--")} - _options(parser, words[1])
            assert not unknown, f"docs/dsl.md:{n_line}: `tariff {words[1]}` has no {unknown}"


def test_the_shown_diagnostic_is_what_check_prints() -> None:
    [(line, body)] = tagged("text diagnostics")
    where, _, _ = body.partition(": ")
    path, row, _ = where.split(":")
    shown = body.splitlines()[1]
    lines = ["offer youth_plan {", "  eligible all {", shown, "  }", "}", ""]
    assert int(row) == 3, "the source around the shown line is built as line 3"
    source = "\n".join(lines)
    found = check([parse(source, path)], DOC_CATALOG)
    assert [render(d, source) for d in found] == [body.rstrip("\n")], f"docs/dsl.md:{line}"


# -- the "Checks" table ------------------------------------------------------------------------

SOURCES = [
    *sorted((ROOT / "dsl").glob("check_*.py")),
    *(ROOT / "dsl" / name for name in ("checker.py", "parser.py", "builder.py", "types.py")),
]
_CODE_SHAPE = re.compile(r"[a-z]+(?:-[a-z]+)+")
_REPORTERS = {"error", "warning"}


def _literal(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _reported_code(call: ast.Call) -> ast.expr | None:
    """The code argument of `….report.error(CODE, …)`, `Reporter(…).error(CODE, …)` and
    `Diagnostic(SEVERITY, CODE, …)` / `Diagnostic(code=CODE, …)`."""
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr in _REPORTERS and call.args:
        receiver = func.value
        named = isinstance(receiver, ast.Attribute) and receiver.attr == "report"
        built = (
            isinstance(receiver, ast.Call)
            and isinstance(receiver.func, ast.Name)
            and receiver.func.id == "Reporter"
        )
        if named or built:
            return call.args[0]
    if isinstance(func, ast.Name) and func.id == "Diagnostic":
        for keyword in call.keywords:
            if keyword.arg == "code":
                return keyword.value
        if len(call.args) >= 2:
            return call.args[1]
    return None


def _expand(node: ast.JoinedStr) -> set[str]:
    """`f"unknown-{kind}"`: the code for every code kind (`customer_type` as
    `customer-type`)."""
    head = "".join(_literal(v) or "" for v in node.values if isinstance(v, ast.Constant))
    if not re.fullmatch(r"[a-z]+-", head) or len(node.values) != 2:
        return set()
    return {head + kind.replace("_", "-") for kind in CODE_KINDS}


def source_codes() -> set[str]:
    """Every diagnostic code the sources can report: the literal passed where a code goes,
    every hyphenated lower-case literal (codes returned by helpers such as `_tier_code`), and
    `f"unknown-{kind}"` expanded over the code kinds."""
    found: set[str] = set()
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Call):
                argument = _reported_code(node)
                if argument is not None and _literal(argument) is not None:
                    found.add(str(_literal(argument)))
            text = _literal(node) if isinstance(node, ast.expr) else None
            if text is not None and _CODE_SHAPE.fullmatch(text):
                found.add(text)
            if isinstance(node, ast.JoinedStr):
                found |= _expand(node)
    return found


def table_codes() -> set[str]:
    text = DOC.read_text("utf-8")
    section = text.partition("\n## Checks\n")[2].partition("\n## ")[0]
    return set(re.findall(r"^\| `([a-z-]+)` \|", section, re.MULTILINE))


def test_the_code_scan_finds_codes_however_they_are_passed() -> None:
    codes = source_codes()
    # a positional Diagnostic code, a Reporter literal, a helper's return, an f-string
    assert {"syntax", "limit", "encoding", "duplicate", "tier-gap", "unknown-area"} <= codes


def test_every_diagnostic_code_is_in_the_checks_table() -> None:
    missing = sorted(source_codes() - table_codes())
    assert missing == [], f"add these codes to the Checks table of docs/dsl.md: {missing}"


def test_the_checks_table_lists_no_code_the_sources_do_not_have() -> None:
    stale = sorted(table_codes() - source_codes())
    assert stale == [], f"no source reports these codes of the Checks table: {stale}"
