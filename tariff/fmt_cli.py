"""`tariff fmt`: rewrite rule files (.tariff) in the canonical layout (see `dsl.formatter`).

`--check` writes nothing and exits 1 listing the files that would change (a CI step);
`--diff` writes nothing and prints a unified diff. A file that does not parse is reported
with its diagnostics, left untouched, and makes the command exit 1.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path

from dsl.diagnostics import DslError, render_all
from dsl.formatter import WIDTH, FormatError, format_source
from tariff import exits
from tariff.output import Listing, add_output_option, mode_of, show


def _files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if not path.exists():
            raise FileNotFoundError(f"{path}: no such file or directory")
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*.tariff") if p.is_file()))
        else:
            files.append(path)
    return list(dict.fromkeys(files))


def _diff(path: str, before: str, after: str) -> str:
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=f"{path} (original)",
        tofile=f"{path} (formatted)",
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def run_fmt(args: argparse.Namespace) -> int:
    files = _files([Path(p) for p in args.paths])
    changed: list[str] = []
    broken: list[str] = []
    failed = 0
    mode = mode_of(args)
    say = mode in ("table", "plain")  # json and csv: one report at the end instead
    for file in files:
        name = file.as_posix()
        source = file.read_bytes().decode("utf-8", "surrogateescape")
        try:
            formatted = format_source(source, name)
        except DslError as error:
            print(render_all(error.diagnostics, source), end="\n\n", file=sys.stderr)
            failed += 1
            broken.append(name)
            continue
        except FormatError as error:
            print(f"tariff: error: {error}", file=sys.stderr)
            failed += 1
            broken.append(name)
            continue
        if formatted == source:
            continue
        changed.append(name)
        if args.diff and say:
            sys.stdout.write(_diff(name, source, formatted))
        if args.check:
            if say:
                print(f"tariff: would reformat {name}")
        elif not args.diff:
            file.write_bytes(formatted.encode("utf-8", "surrogateescape"))
            if say:
                print(f"tariff: reformatted {name}")
    verb = "would be reformatted" if args.check or args.diff else "reformatted"
    summary = (
        f"tariff: {len(changed)} file(s) {verb}, {len(files) - len(changed) - failed} unchanged"
    )
    if failed:
        summary += f", {failed} with errors (left untouched)"
    print(summary, file=sys.stderr)
    if not say:
        verb = "would reformat" if args.check or args.diff else "reformatted"
        unchanged = [f.as_posix() for f in files if f.as_posix() not in {*changed, *broken}]
        rows = [(n, verb) for n in changed] + [(n, "error") for n in broken]
        rows += [(n, "unchanged") for n in unchanged]
        document = {"changed": changed, "errors": broken, "unchanged": unchanged}
        show([Listing("", ("file", "result"), rows)], mode, document=document)
    return exits.FINDINGS if failed or (args.check and changed) else exits.OK


def add_fmt_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    fmt = sub.add_parser(
        "fmt",
        help=f"rewrite rule files (.tariff) in the canonical layout ({WIDTH} columns)",
        description="Rewrite .tariff files in place in the canonical layout; comments are kept.",
    )
    fmt.add_argument("paths", nargs="+", help=".tariff files or folders of them")
    fmt.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if a file would change"
    )
    fmt.add_argument("--diff", action="store_true", help="write nothing; print a unified diff")
    add_output_option(fmt)
    fmt.set_defaults(run=run_fmt)
