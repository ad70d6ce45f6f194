"""`tariff lint PATH... [--catalog BUNDLE]`: check, run the examples, then report what is
declared and never used and what no example exercises, with a coverage figure per file
(rules.lint). Exit 1 on an error, a failed example, an unused declaration or an example that
tests nothing, or a total coverage under `--fail-under`; rules no example exercises are shown
and counted in the coverage, which `--fail-under` judges. Else 0."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from catalog import bundle
from catalog.content import CatalogContent
from dsl.diagnostics import Diagnostic, printable, render, to_json
from rules.checking import CheckResult, check_sources
from rules.examples import run_examples
from rules.lint import LintResult, lint
from rules.names import names_from_content, zone_lookups
from tariff import exits
from tariff.output import Listing, add_output_option, show
from tariff.rules_cli import _bundle_check, _catalog, _check_mode, _is_bundle, _loose_sources


def _runs(args: argparse.Namespace) -> list[tuple[CheckResult, CatalogContent, dict[str, str]]]:
    paths = [Path(p) for p in args.paths]
    for path in paths:
        if not path.exists():
            raise FileNotFoundError(f"{path}: no such file or directory")
    runs = []
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
    return runs


def _show(d: Diagnostic, texts: dict[str, str]) -> str:
    if d.path in texts:
        return render(d, texts[d.path])
    return f"{d.path}: {d.severity}[{d.code}]: {d.message}"


def run_lint(args: argparse.Namespace) -> int:
    failed = False
    results: list[tuple[LintResult, dict[str, str]]] = []
    for checked, catalog, texts in _runs(args):
        errors = [d for d in checked.diagnostics if d.severity == "error"]
        if errors:
            for d in errors:
                print(render(d, texts.get(d.path, "")), end="\n\n", file=sys.stderr)
            failed = True
            continue
        examples = run_examples(
            list(checked.modules), names_from_content(catalog), zone_tables=zone_lookups(catalog)
        )
        failed = failed or any(e.status == "failed" for e in examples)
        results.append((lint(list(checked.modules), catalog, examples), texts))
    findings = [d for result, _ in results for d in result.findings]
    files = [f for result, _ in results for f in result.coverage]
    rules = sum(f.rules for f in files)
    covered = sum(f.covered for f in files)
    percent = 100.0 if not rules else 100.0 * covered / rules
    mode = _check_mode(args)
    if mode == "json":
        payload = {
            "ok": not (failed or findings),
            "findings": [
                {**to_json([d])[0], "rendered": _show(d, texts)}
                for result, texts in results
                for d in result.findings
            ],
            "coverage": {
                "files": [
                    {
                        "path": f.path,
                        "rules": f.rules,
                        "covered": f.covered,
                        "percent": round(f.percent, 1),
                        "not_covered_lines": list(f.not_covered),
                    }
                    for f in files
                ],
                "rules": rules,
                "covered": covered,
                "percent": round(percent, 1),
            },
        }
        print(printable(json.dumps(payload, ensure_ascii=False, indent=2)))
    else:
        rows = [(f.path, str(f.rules), str(f.covered), f"{f.percent:.1f}%") for f in files] + [
            ("total", str(rules), str(covered), f"{percent:.1f}%")
        ]
        coverage = Listing(
            "coverage (rules an example evaluates)",
            ("file", "rules", "covered", "%"),
            rows,
            numeric=frozenset({"rules", "covered", "%"}),
        )
        if mode == "csv":
            columns = ("path", "line", "column", "code", "message")
            found = [(d.path, str(d.line), str(d.column), d.code, d.message) for d in findings]
            show([Listing("findings", columns, found), coverage], "csv")
        else:  # each finding at its line, with its caret, then the coverage table
            for result, texts in results:
                for d in result.findings:
                    print(printable(_show(d, texts)), end="\n\n")
            show([coverage], mode)
        print(f"tariff: {len(findings)} finding(s)", file=sys.stderr)
    under = args.fail_under is not None and percent < args.fail_under
    blocking = [d for d in findings if d.code != "unexercised-rule"]
    return exits.FINDINGS if failed or blocking or under else exits.OK


def add_lint_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    command = sub.add_parser(
        "lint",
        help="unused zones, bands and segments, examples that test nothing, rules no example "
        "exercises, coverage per file",
    )
    command.add_argument("paths", nargs="+", help=".tariff files, folders of them, or bundles")
    command.add_argument(
        "--catalog", help="bundle whose names loose files are checked against (default: the draft)"
    )
    command.add_argument(
        "--format", choices=("text", "json"), help="older spelling: text = plain, json"
    )
    add_output_option(command, json_flag=False)
    command.add_argument(
        "--fail-under", type=float, metavar="PERCENT", help="exit 1 below this total coverage"
    )
    command.add_argument("--database-url", help="store holding the draft (default: TARIFF_*)")
    command.set_defaults(run=run_lint)
