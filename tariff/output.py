"""`--output table|plain|json|csv`: how every command that prints results prints them.

`table` (the default on a terminal) draws rich tables that fit the terminal (80 columns
on an 80-column one): a header is never broken, cells wrap at spaces and a word too long
for its column is cut with `…`. `plain` (the default when piped) is one line per row,
cells separated by tabs, after a header line: for grep, cut and awk. `json` is the whole
answer as one document (for an RPC, its proto3 JSON). `csv` is each table as CSV with its
header, tables separated by an empty line.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

MODES = ("table", "plain", "json", "csv")
WIDTH = 80  # what a table must fit on a standard terminal


@dataclass(frozen=True, slots=True)
class Listing:
    """One table of results: columns, rows of text, which columns are numbers (right
    aligned), and a note under it (rows left out, say)."""

    title: str
    columns: tuple[str, ...]
    rows: Sequence[Sequence[str]]
    numeric: frozenset[str] = field(default_factory=frozenset)
    caption: str = ""


def add_output_option(parser: argparse.ArgumentParser, *, json_flag: bool = True) -> None:
    """`--output`, and `--json` kept as its old spelling of `--output json`."""
    parser.add_argument(
        "--output",
        "-o",
        choices=MODES,
        help="table (default on a terminal), plain (default when piped), json or csv",
    )
    if json_flag:
        parser.add_argument(
            "--json", action="store_const", const="json", dest="output", help="--output json"
        )


def mode_of(args: argparse.Namespace) -> str:
    chosen: str | None = getattr(args, "output", None)
    if chosen:
        return chosen
    return "table" if sys.stdout.isatty() else "plain"


def console() -> Console:
    """stdout's console: as wide as the terminal (COLUMNS when set; 80 when piped)."""
    return Console(highlight=False)


def table_of(listing: Listing) -> Table:
    table = Table(
        title=listing.title or None,
        title_justify="left",
        box=box.SIMPLE_HEAD,
        caption=listing.caption or None,
        caption_justify="left",
        pad_edge=False,
        collapse_padding=True,
    )
    for column in listing.columns:
        table.add_column(
            column,
            justify="right" if column in listing.numeric else "left",
            min_width=len(column),  # the header is never broken
            overflow="ellipsis",
        )
    for row in listing.rows:
        table.add_row(*(Text(cell) for cell in row))  # text, not markup: codes may hold [ ]
    return table


def _plain_cell(cell: str) -> str:
    return " ".join(cell.replace("\t", " ").split("\n"))


def show(
    listings: Sequence[Listing],
    mode: str,
    *,
    document: Any = None,
    heading: str = "",
    notes: Sequence[str] = (),
    out: Console | None = None,
) -> None:
    """Print results in `mode`. `document` is what json prints (default: the listings as
    objects); `heading` and `notes` are lines around the tables in table and plain modes."""
    if mode == "json":
        if document is None:
            document = {
                (listing.title or "rows"): [
                    dict(zip(listing.columns, row, strict=True)) for row in listing.rows
                ]
                for listing in listings
            }
        text = document if isinstance(document, str) else json.dumps(document, indent=2)
        if text:
            print(text, flush=True)
        return
    if mode == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        for index, listing in enumerate(listings):
            if index:
                sys.stdout.write("\n")
            writer.writerow(listing.columns)
            writer.writerows(listing.rows)
        sys.stdout.flush()
        return
    if mode == "plain":
        lines = [heading] if heading else []
        for listing in listings:
            if listing.title:
                lines.append(f"# {listing.title}")
            lines.append("\t".join(listing.columns))
            lines += ["\t".join(_plain_cell(c) for c in row) for row in listing.rows]
            if listing.caption:
                lines.append(f"# {listing.caption}")
        lines += list(notes)
        if lines:
            sys.stdout.write("\n".join(lines) + "\n")
        sys.stdout.flush()
        return
    screen = out or console()
    if heading:
        screen.print(Text(heading))
    for listing in listings:
        screen.print(table_of(listing))
    for note in notes:
        screen.print(Text(note), soft_wrap=True)  # a trace line is copied whole, not wrapped


def show_record(record: dict[str, Any], line: str, mode: str) -> None:
    """A command's one-line result (an import's counts, a publish, a health status): the
    line for people (table, plain), the record as JSON, or a header and a row of CSV."""
    if mode == "json":
        print(json.dumps(record, ensure_ascii=False, indent=2), flush=True)
    elif mode == "csv":
        cells = [
            ";".join(map(str, v)) if isinstance(v, (list, tuple)) else str(v)
            for v in record.values()
        ]
        show([Listing("", tuple(record), [cells])], "csv")
    else:
        print(line, flush=True)
