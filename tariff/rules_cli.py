"""`tariff check` and `tariff test`: check rule files or whole catalog bundles, as a CI step
or an editor integration would (`--format json`), and run the examples written next to them.

A bundle is checked as `tariff bundle import` checks it (the same validator, run as a dry
run into an empty store) as well as its rules: what check accepts imports."""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from catalog import bundle
from catalog.bundle_layout import CATALOG_FILE, entity_path, zone_path
from catalog.content import CatalogContent
from catalog.model import EntityKind, RuleSource
from catalog.services import check_bundle
from dsl.diagnostics import Diagnostic, printable, render, to_json
from rules.checking import CheckResult, check_catalog, check_sources
from rules.examples import ExampleResult, run_examples
from rules.names import names_from_content, zone_lookups
from tariff import exits
from tariff.output import Listing, add_output_option, mode_of, show

_LABEL = re.compile(r"^(business|product|combo):([a-z0-9_]+)|^zone table '([^']+)'")


def _file_of(field: str) -> str:
    """The bundle file a violation's path points into (catalog.json for the rest)."""
    found = _LABEL.match(field)
    if found is None:
        return CATALOG_FILE
    if found[3] is not None:
        return zone_path(found[3])
    return entity_path(EntityKind(found[1]), found[2])


def catalog_diagnostics(content: CatalogContent) -> list[Diagnostic]:
    """What importing the bundle would refuse (catalog.services.check_bundle: the import's
    own validator), as errors at the files they are about."""
    return [
        Diagnostic("error", "catalog", f"{v.field}: {v.description}", _file_of(v.field), 1, 1, 1, 1)
        for v in check_bundle(content)
    ]


def _bundle_check(content: CatalogContent) -> CheckResult:
    """A bundle's rules checked, and its data as import checks it: one validation path."""
    rules = check_catalog(content)
    found = sorted([*rules.diagnostics, *catalog_diagnostics(content)], key=_order)
    return CheckResult(rules.modules, tuple(found))


def _order(d: Diagnostic) -> tuple[str, int, int, str]:
    return (d.path, d.line, d.column, d.code)


def _is_bundle(path: Path) -> bool:
    return path.suffix == ".zip" or (path / "catalog.json").is_file()


def _rule_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.rglob("*.tariff") if p.is_file())
    return [path]


def read_rule_file(file: Path) -> str:
    """A rule file's text. A byte that is not UTF-8 is kept as a lone surrogate
    (`surrogateescape`), which the parser reports as an `encoding` error at its line and
    column instead of the decode failing with no place at all."""
    return file.read_bytes().decode("utf-8", "surrogateescape")


def _loose_sources(paths: list[Path]) -> list[RuleSource]:
    sources: list[RuleSource] = []
    for path in paths:
        for file in _rule_files(path):
            sources.append(RuleSource(path=file.as_posix(), text=read_rule_file(file)))
    return sources


def _catalog(args: argparse.Namespace) -> CatalogContent:
    """The catalog loose files are checked against: --catalog, else the database draft."""
    if args.catalog:
        return bundle.read_path(Path(args.catalog))
    from catalog.versions import DRAFT
    from tariff.bootstrap import NoStore, bootstrap
    from tariff.cli import settings_from

    try:
        app = bootstrap(settings_from(args), existing=True)
    except NoStore as missing:  # loose files need names: a bundle's will do
        raise NoStore(f"{missing}; or check against a bundle's names with --catalog") from None
    try:
        return app.catalog.content(DRAFT)
    finally:
        app.close()


def run_check(args: argparse.Namespace) -> int:
    paths = [Path(p) for p in args.paths]
    for path in paths:
        if not path.exists():
            raise FileNotFoundError(f"{path}: no such file or directory")
    results: list[tuple[CheckResult, dict[str, str]]] = []
    bundles = [p for p in paths if _is_bundle(p)]
    loose = [p for p in paths if not _is_bundle(p)]
    for path in bundles:
        content = bundle.read_path(path)
        texts = {s.path: s.text for _, s in content.all_rule_sources()}
        results.append((_bundle_check(content), texts))
    if loose:
        sources = _loose_sources(loose)
        results.append((check_sources(sources, _catalog(args)), {s.path: s.text for s in sources}))
    diagnostics = [d for result, _ in results for d in result.diagnostics]
    errors = sum(d.severity == "error" for d in diagnostics)
    warnings = sum(d.severity == "warning" for d in diagnostics)
    files = sum(len(texts) for _, texts in results)
    mode = _check_mode(args)
    if mode == "json":
        payload = {
            "ok": errors == 0,
            "files": files,
            "diagnostics": [
                {**to_json([d])[0], "rendered": render(d, texts.get(d.path, ""))}
                for result, texts in results
                for d in result.diagnostics
            ],
        }
        print(printable(json.dumps(payload, ensure_ascii=False, indent=2)))
    elif mode == "csv":
        columns = ("path", "line", "column", "severity", "code", "message", "hint")
        rows = [
            (d.path, str(d.line), str(d.column), d.severity, d.code, d.message, d.hint)
            for d in diagnostics
        ]
        show([Listing("", columns, rows)], "csv")
    else:  # table and plain: each diagnostic rendered at its line, with its caret
        for result, texts in results:
            for d in result.diagnostics:
                print(printable(render(d, texts.get(d.path, ""))), end="\n\n")
    print(f"tariff: {errors} error(s), {warnings} warning(s) in {files} file(s)", file=sys.stderr)
    return exits.FINDINGS if errors else exits.OK


def _check_mode(args: argparse.Namespace) -> str:
    """--output, else the older --format (text is plain), else by the terminal."""
    if args.output is None and args.format is not None:
        return "json" if args.format == "json" else "plain"
    return mode_of(args)


def run_test(args: argparse.Namespace) -> int:
    """Check, then run every example; exit 1 on an error or a failed example."""
    paths = [Path(p) for p in args.paths]
    for path in paths:
        if not path.exists():
            raise FileNotFoundError(f"{path}: no such file or directory")
    runs: list[tuple[CheckResult, CatalogContent, dict[str, str]]] = []
    for path in paths:
        if _is_bundle(path):
            content = bundle.read_path(path)
            texts = {s.path: s.text for _, s in content.all_rule_sources()}
            runs.append((_bundle_check(content), content, texts))
    loose = [p for p in paths if not _is_bundle(p)]
    if loose:
        sources = _loose_sources(loose)
        catalog = _catalog(args)
        runs.append((check_sources(sources, catalog), catalog, {s.path: s.text for s in sources}))
    counts = {"passed": 0, "failed": 0, "not_run": 0}
    broken = False
    found: list[ExampleResult] = []
    for result, catalog, texts in runs:
        errors = [d for d in result.diagnostics if d.severity == "error"]
        for d in errors:
            print(printable(render(d, texts.get(d.path, ""))), end="\n\n")
        if errors:
            broken = True
            continue
        found += run_examples(
            list(result.modules),
            names_from_content(catalog),
            zone_tables=zone_lookups(catalog),
        )
    for example in found:
        counts[example.status] += 1
    summary = f"{counts['passed']} passed, {counts['failed']} failed, {counts['not_run']} not run"
    _show_examples(found, mode_of(args), summary)
    return exits.FINDINGS if broken or counts["failed"] else exits.OK


_STATUS = {"passed": "PASS", "failed": "FAIL", "not_run": "NOT RUN"}


def _show_examples(found: list[ExampleResult], mode: str, summary: str) -> None:
    """Every example's outcome: lines (plain: PASS/FAIL/NOT RUN, a failure's expected,
    actual and trace under it), a table, JSON or CSV."""
    if mode == "plain":
        for example in found:
            where = f"{example.path}:{example.span.line}"
            status = _STATUS[example.status]
            if example.status == "passed":
                print(f"{status} {example.name} ({where})")
            elif example.status == "not_run":
                print(f"{status} {example.name} ({where}): {example.expected} {example.actual}")
            else:
                print(f"{status} {example.name} ({where})")
                print(f"  expected: {example.expected}")
                print(f"  actual:   {example.actual}")
                for line in example.trace:
                    print(f"    {line}")
        print(summary)
        return
    rows = [
        (
            _STATUS[e.status],
            e.name,
            f"{e.path}:{e.span.line}",
            "" if e.status == "passed" else e.expected,
            "" if e.status == "passed" else e.actual,
        )
        for e in found
    ]
    listing = Listing("Examples", ("result", "example", "where", "expected", "actual"), rows)
    document = {
        "ok": not any(e.status == "failed" for e in found),
        "examples": [
            {
                "name": e.name,
                "path": e.path,
                "line": e.span.line,
                "status": e.status,
                "expected": e.expected,
                "actual": e.actual,
                "trace": list(e.trace),
            }
            for e in found
        ],
    }
    failures = [f"  {e.name}: {line}" for e in found if e.status == "failed" for line in e.trace]
    show([listing], mode, document=document, notes=[*failures, summary])


def add_check_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    check = sub.add_parser(
        "check", help="parse and check rule files (.tariff) or catalog bundles; exit 1 on errors"
    )
    check.add_argument("paths", nargs="+", help=".tariff files, folders of them, or bundles")
    check.add_argument(
        "--catalog", help="bundle whose names loose files are checked against (default: the draft)"
    )
    check.add_argument(
        "--format", choices=("text", "json"), help="older spelling: text = plain, json"
    )
    add_output_option(check, json_flag=False)
    check.add_argument("--database-url", help="store holding the draft (default: TARIFF_*)")
    check.set_defaults(run=run_check)

    test = sub.add_parser("test", help="run the examples written next to the rules")
    test.add_argument("paths", nargs="+", help=".tariff files, folders of them, or bundles")
    test.add_argument(
        "--catalog", help="bundle whose names loose files are checked against (default: the draft)"
    )
    test.add_argument("--database-url", help="store holding the draft (default: TARIFF_*)")
    add_output_option(test)
    test.set_defaults(run=run_test)
