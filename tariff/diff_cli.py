"""`tariff diff [BASE] [TARGET]`: what changed between two catalogs, per offer (prices,
eligibility, composition), then the other catalog changes, then the rule files line by line.

Each side is a published version number (`1`, `v1`), `live` (the version in force now; an
empty catalog before any), `draft`, or a bundle (a directory or `.zip`); the defaults compare
`live` with `draft`. The same diff as the DiffCatalogVersions RPC and the console's diff
page (rules.version_diff). Exit 0 when the two are the same, 1 when they differ, 2 for a
side that is none of these, 3 for a version that does not exist.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from catalog import bundle
from catalog.content import CatalogContent
from catalog.errors import NotFound
from catalog.versions import DRAFT, VersionNumber
from rules.version_diff import render_text, to_dict, version_diff
from tariff import exits
from tariff.output import Listing, add_output_option, mode_of, show

if TYPE_CHECKING:
    from catalog.services import CatalogService

SIDES = "a version number (1 or v1), live (in force now), draft, or a bundle directory or .zip"


class BadSide(ValueError):
    """A side that is not a version, `live`, `draft` or a bundle."""


def _side(text: str, store: CatalogService | None) -> CatalogContent:
    """The catalog a side names. Raises BadSide, NotFound, and a bundle's errors."""
    path = Path(text)
    if path.exists() and (path.is_dir() or path.suffix == ".zip"):
        return bundle.read_path(path)
    version = re.fullmatch(r"v?(\d+)", text)
    if store is None or not (version or text in ("live", "draft")):
        raise BadSide(f"{text!r} is not {SIDES}")
    if text == "draft":
        return store.content(DRAFT)
    if text == "live":
        return store.diff_sides(None, DRAFT)[0]
    assert version is not None
    return store.content(VersionNumber(int(version[1])))


def _needs_store(text: str) -> bool:
    path = Path(text)
    return not (path.exists() and (path.is_dir() or path.suffix == ".zip"))


def run_diff(args: argparse.Namespace) -> int:
    from tariff.cli import settings_from

    app = None
    try:
        if _needs_store(args.base) or _needs_store(args.target):
            from tariff.bootstrap import bootstrap

            app = bootstrap(settings_from(args), existing=True)  # read only: never create
        store = app.catalog if app is not None else None
        before, after = _side(args.base, store), _side(args.target, store)
    except BadSide as error:
        print(f"tariff: error: {error}", file=sys.stderr)
        return exits.USAGE
    except NotFound as error:
        print(f"tariff: error: {error}", file=sys.stderr)
        return exits.NOT_FOUND
    finally:
        if app is not None:
            app.close()
    found = version_diff(before, after)
    mode = args.output or ("json" if args.format == "json" else mode_of(args))
    if mode == "json":
        print(json.dumps(to_dict(found), ensure_ascii=False, indent=2))
    elif mode == "csv":  # one row per changed item of an offer (one for an offer without)
        columns = ("offer", "kind", "change", "aspect", "item", "item change", "before", "after")
        rows: list[tuple[str, ...]] = []
        for o in found.offers:
            head = (o.code, o.kind, o.change_type.value)
            rows += [
                (*head, i.aspect.value, i.item, i.change_type.value, i.before, i.after)
                for i in o.items
            ] or [(*head, "", "", "", "", "")]
        show([Listing("", columns, rows)], "csv")
    else:  # table and plain: the report, offers first, then the rule files line by line
        for line in render_text(found, args.base, args.target):
            print(line)
    return exits.OK if found.empty else exits.FINDINGS


def add_diff_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    diff = sub.add_parser(
        "diff",
        help="what changed between two catalogs: per offer, then the rule files line by line",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    diff.add_argument("base", nargs="?", default="live", help=f"the older side: {SIDES}")
    diff.add_argument("target", nargs="?", default="draft", help="the newer side (default draft)")
    diff.add_argument("--format", choices=["text", "json"], help="older spelling of --output")
    add_output_option(diff, json_flag=False)
    diff.add_argument(
        "--database-url", help="SQLAlchemy URL (default: TARIFF_DATABASE_URL or tariff.sqlite)"
    )
    diff.set_defaults(run=run_diff)
