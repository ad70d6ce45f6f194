"""Where things live in a catalog bundle, and the checks both the writer and the reader apply.

Sharing the checks is what keeps the two sides symmetric: the writer refuses exactly what the
reader would reject, so every written bundle reads back.
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterable, Mapping

from catalog.errors import Violation
from catalog.model import EntityKind

FORMAT = "tariff-bundle/1"
CATALOG_FILE = "catalog.json"
README_FILES = frozenset({"README", "README.md", "README.txt"})
ZONE_HEADER = ("prefix", "zone")
ENTITY_DIRS: Mapping[EntityKind, str] = {
    EntityKind.BUSINESS: "businesses",
    EntityKind.PRODUCT: "products",
    EntityKind.COMBO: "combos",
}

_DIGITS = re.compile(r"[0-9]+")
_DRIVE = re.compile(r"[A-Za-z]:")


def entity_path(kind: EntityKind, code: str) -> str:
    return f"{ENTITY_DIRS[kind]}/{code}.json"


def zone_path(name: str) -> str:
    return f"zones/{name}.csv"


def name_problems(name: str, where: str) -> list[Violation]:
    """Entity codes and zone table names become file names: one safe path component."""
    if not name:
        return [Violation(where, "must not be empty (it names a file)")]
    if name in (".", "..") or any(c in name for c in "/\\") or not name.isprintable():
        return [Violation(where, f"{name!r} cannot be used as a file name")]
    return []


def source_path_problem(path: str) -> str | None:
    if not path.endswith(".tariff"):
        return f"rule source path {path!r} must end in .tariff"
    if "\\" in path or path.startswith("/") or _DRIVE.match(path):
        return f"rule source path {path!r} must be a relative POSIX path"
    if any(part in ("", ".", "..") for part in path.split("/")) or not path.isprintable():
        return f"rule source path {path!r} must not have empty, '.' or '..' parts"
    return None


def claim_source(path: str, owners: dict[str, str], where: str) -> list[Violation]:
    """Check a rule source path and record `where` as its user: paths are catalog-unique."""
    problem = source_path_problem(path)
    if problem is not None:
        return [Violation(where, problem)]
    if path in owners:
        return [Violation(where, f"rule source {path!r} is already used by {owners[path]}")]
    owners[path] = where
    return []


def row_problems(prefix: str, zone: str, seen: Container[str]) -> list[str]:
    """Problems of one zone row; `seen` holds the prefixes of the rows before it."""
    problems = []
    if not _DIGITS.fullmatch(prefix):
        problems.append(f"prefix {prefix!r} must be digits only")
    if not zone:
        problems.append("zone must not be empty")
    elif not zone.isprintable():
        problems.append(f"zone {zone!r} must be printable (no control characters or breaks)")
    if prefix in seen:
        problems.append(f"duplicate prefix {prefix!r}")
    return problems


def entry_problem(name: str) -> str | None:
    """Archive entries and directory files: relative and normalised, so none escapes."""
    if "\\" in name or name.startswith("/") or _DRIVE.match(name):
        return "unsafe path (absolute or with backslashes): refused to prevent path traversal"
    if any(part in ("", ".", "..") for part in name.split("/")):
        return "unsafe path (empty, '.' or '..' parts): refused to prevent path traversal"
    return None


def layout_problems(paths: Iterable[str]) -> list[Violation]:
    """A file may not also be the directory of another (fine in a zip, impossible on disk)."""
    files = set(paths)
    problems = []
    for path in sorted(files):
        parts = path.split("/")
        for i in range(1, len(parts)):
            parent = "/".join(parts[:i])
            if parent in files:
                problems.append(Violation(path, f"{parent!r} is a file, not a directory"))
    return problems
