"""`tariff check` and `tariff test`: check rule files or whole catalog bundles, as a CI step
or an editor integration would (`--format json`), and run the examples written next to them."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from catalog import bundle
from catalog.content import CatalogContent
from catalog.model import RuleSource
from dsl.diagnostics import printable, render, to_json
from rules.checking import CheckResult, check_catalog, check_sources
from rules.examples import run_examples
from rules.names import names_from_content, zone_lookups


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
    from tariff.bootstrap import bootstrap
    from tariff.cli import settings_from

    app = bootstrap(settings_from(args))
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
        results.append((check_catalog(content), texts))
    if loose:
        sources = _loose_sources(loose)
        results.append((check_sources(sources, _catalog(args)), {s.path: s.text for s in sources}))
    diagnostics = [d for result, _ in results for d in result.diagnostics]
    errors = sum(d.severity == "error" for d in diagnostics)
    warnings = sum(d.severity == "warning" for d in diagnostics)
    files = sum(len(texts) for _, texts in results)
    if args.format == "json":
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
    else:
        for result, texts in results:
            for d in result.diagnostics:
                print(render(d, texts.get(d.path, "")), end="\n\n")
        print(
            f"tariff: {errors} error(s), {warnings} warning(s) in {files} file(s)", file=sys.stderr
        )
    return 1 if errors else 0


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
            runs.append((check_catalog(content), content, texts))
    loose = [p for p in paths if not _is_bundle(p)]
    if loose:
        sources = _loose_sources(loose)
        catalog = _catalog(args)
        runs.append((check_sources(sources, catalog), catalog, {s.path: s.text for s in sources}))
    counts = {"passed": 0, "failed": 0, "not_run": 0}
    broken = False
    for result, catalog, texts in runs:
        errors = [d for d in result.diagnostics if d.severity == "error"]
        for d in errors:
            print(render(d, texts.get(d.path, "")), end="\n\n")
        if errors:
            broken = True
            continue
        examples = run_examples(
            list(result.modules),
            names_from_content(catalog),
            zone_tables=zone_lookups(catalog),
        )
        for example in examples:
            counts[example.status] += 1
            where = f"{example.path}:{example.span.line}"
            if example.status == "passed":
                print(f"PASS {example.name} ({where})")
            elif example.status == "not_run":
                print(f"NOT RUN {example.name} ({where}): {example.expected} {example.actual}")
            else:
                print(f"FAIL {example.name} ({where})")
                print(f"  expected: {example.expected}")
                print(f"  actual:   {example.actual}")
                for line in example.trace:
                    print(f"    {line}")
    print(f"{counts['passed']} passed, {counts['failed']} failed, {counts['not_run']} not run")
    return 1 if broken or counts["failed"] else 0


def add_check_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    check = sub.add_parser(
        "check", help="parse and check rule files (.tariff) or catalog bundles; exit 1 on errors"
    )
    check.add_argument("paths", nargs="+", help=".tariff files, folders of them, or bundles")
    check.add_argument(
        "--catalog", help="bundle whose names loose files are checked against (default: the draft)"
    )
    check.add_argument("--format", choices=("text", "json"), default="text")
    check.add_argument("--database-url", help="store holding the draft (default: TARIFF_*)")
    check.set_defaults(run=run_check)

    test = sub.add_parser("test", help="run the examples written next to the rules")
    test.add_argument("paths", nargs="+", help=".tariff files, folders of them, or bundles")
    test.add_argument(
        "--catalog", help="bundle whose names loose files are checked against (default: the draft)"
    )
    test.add_argument("--database-url", help="store holding the draft (default: TARIFF_*)")
    test.set_defaults(run=run_test)
