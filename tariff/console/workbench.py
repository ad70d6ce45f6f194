"""The editor's use cases over the draft: check a file as typed, lay it out as `tariff fmt`
does, run its examples, load a file from disk and save it with the store's revision check.

Each calls what the command line and the gRPC servicers call (rules.checking,
dsl.formatter, rules.examples, CatalogService.attach_rule_sources); a refusal is a
ConsoleRefusal with one line for the page, and nothing is written.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from catalog.content import CatalogContent, EntityKey
from catalog.model import RuleSource
from catalog.services import CatalogService
from catalog.versions import DRAFT
from dsl.diagnostics import Diagnostic, DslError, render
from dsl.formatter import FormatError, format_source
from dsl.parser import MAX_BYTES
from rules.checking import check_catalog
from rules.examples import ExampleResult, run_examples
from rules.names import names_from_content, zone_lookups

#: The largest rule file the console accepts (the parser's own limit).
MAX_FILE_BYTES = MAX_BYTES


class ConsoleRefusal(Exception):
    """A request the console refuses; its message is shown on the page as it is, and
    `status` is the HTTP answer (400 bad input, 404, 409 stale, 413 too large)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class RuleFile:
    """A rule source of the draft, who owns it (None: the catalog) and the revision a save
    must name: the owner's revision, or for a catalog file the digest of its text."""

    owner: EntityKey | None
    source: RuleSource
    revision: str


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def rule_files(content: CatalogContent, revisions: dict[EntityKey, int]) -> list[RuleFile]:
    return [
        RuleFile(owner, source, str(revisions[owner]) if owner else digest(source.text))
        for owner, source in content.all_rule_sources()
    ]


def find_file(service: CatalogService, path: str) -> RuleFile:
    """The draft's rule file at `path`. Raises ConsoleRefusal."""
    content = service.content(DRAFT)
    for owner, source in content.all_rule_sources():
        if source.path == path:
            if owner is None:
                return RuleFile(None, source, digest(source.text))
            revision = service.get(owner[0], owner[1]).revision
            return RuleFile(owner, source, str(revision))
    raise ConsoleRefusal(f"the draft has no rule file {path!r}", 404)


def checked_text(text: object) -> str:
    """The editor's text, refused when it is not text or is larger than a rule file may be."""
    if not isinstance(text, str):
        raise ConsoleRefusal("the request must carry the file's text")
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_FILE_BYTES:
        raise ConsoleRefusal(
            f"the file is {size:,} bytes; a rule file may have at most {MAX_FILE_BYTES:,}",
            413,
        )
    return text


def decode_upload(data: bytes, name: str) -> str:
    """A file loaded from disk into the editor (not saved). Raises ConsoleRefusal for a file
    too large or not UTF-8, naming the line and column of the first bad byte."""
    if len(data) > MAX_FILE_BYTES:
        raise ConsoleRefusal(
            f"{name}: {len(data):,} bytes is too large; a rule file may have at most "
            f"{MAX_FILE_BYTES:,} (nothing was loaded)",
            413,
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        before = data[: error.start]
        line = before.count(b"\n") + 1
        column = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", "replace")) + 1
        raise ConsoleRefusal(
            f"{name}:{line}:{column}: byte 0x{data[error.start]:02x} is not UTF-8; save the "
            "file as UTF-8 (nothing was loaded)"
        ) from None


def diagnostic_json(d: Diagnostic, text: str) -> dict[str, Any]:
    return {
        "severity": d.severity,
        "code": d.code,
        "message": d.message,
        "path": d.path,
        "line": d.line,
        "column": d.column,
        "end_line": d.end_line,
        "end_column": d.end_column,
        "hint": d.hint,
        "rendered": render(d, text),
    }


def check_file(content: CatalogContent, path: str, text: str) -> list[dict[str, Any]]:
    """Every diagnostic of `path` with `text` in place of its stored text, checked with the
    rest of the draft (names defined elsewhere resolve)."""
    result = check_catalog(content, [RuleSource(path, text)])
    return [diagnostic_json(d, text) for d in result.diagnostics if d.path == path]


def format_file(path: str, text: str) -> str:
    """`tariff fmt`'s layout of `text`. Raises DslError (it does not parse) or ConsoleRefusal."""
    try:
        return format_source(text, path)
    except FormatError as error:
        raise ConsoleRefusal(f"{path}: cannot be laid out: {error}") from None


def format_or_diagnose(path: str, text: str) -> dict[str, Any]:
    try:
        return {"text": format_file(path, text), "diagnostics": []}
    except DslError as error:
        return {"text": None, "diagnostics": [diagnostic_json(d, text) for d in error.diagnostics]}


def example_json(r: ExampleResult) -> dict[str, Any]:
    return {
        "name": r.name,
        "path": r.path,
        "line": r.span.line,
        "status": r.status,
        "expected": r.expected,
        "actual": r.actual,
        "trace": list(r.trace),
    }


def run_file_examples(
    content: CatalogContent, path: str | None, text: str | None
) -> dict[str, Any]:
    """The examples of `path` (with the editor's `text`), or of the whole draft when `path`
    is None: pass/fail with expected and actual; the diagnostics instead when it does not
    compile."""
    extra = [RuleSource(path, text)] if path is not None and text is not None else []
    result = check_catalog(content, extra)
    errors = [d for d in result.diagnostics if d.severity == "error"]
    texts = {s.path: s.text for _, s in content.all_rule_sources()}
    texts.update({s.path: s.text for s in extra})
    if errors:
        return {
            "examples": [],
            "diagnostics": [diagnostic_json(d, texts.get(d.path, "")) for d in errors],
        }
    results = run_examples(
        list(result.modules), names_from_content(content), None, zone_lookups(content)
    )
    chosen = [r for r in results if path is None or r.path == path]
    return {"examples": [example_json(r) for r in chosen], "diagnostics": []}


def save_file(service: CatalogService, path: str, text: str, revision: str) -> RuleFile:
    """Store `text` as the draft's `path` if nobody saved it since `revision`. Raises
    StaleRevision (the owner changed), ConsoleRefusal, ValidationError."""
    current = find_file(service, path)
    if current.owner is None:
        if current.revision != revision:  # catalog files carry no revision: their text does
            raise ConsoleRefusal(
                f"{path} was changed by someone else since you opened it: reload it and "
                "apply your edit again (nothing was saved)",
                409,
            )
        service.attach_rule_sources(None, [RuleSource(path, text)], [], 0)
        return RuleFile(None, RuleSource(path, text), digest(text))
    if not revision.isdigit():
        raise ConsoleRefusal(f"revision {revision!r} is not a number")
    _, new_revision = service.attach_rule_sources(
        current.owner, [RuleSource(path, text)], [], int(revision)
    )
    return RuleFile(current.owner, RuleSource(path, text), str(new_revision))
