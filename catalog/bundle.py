"""Catalog bundles: one `CatalogContent` as a directory or zip archive of readable files.

Each entity is its own JSON file and each rule source and zone table its own text file, so a
bundle can be reviewed, edited and diffed with ordinary tools. Writing is deterministic (the
same content gives the same bytes) and refuses content it could not read back; reading is
strict (see `catalog.bundle_parse`) and guards against path traversal and zip bombs.

Layout::

    catalog.json            {"format": "tariff-bundle/1", "areas", "channels", "segments",
                             "zone_tables": [{"name", "description", "file"}],
                             "rule_sources": ["rules/common.tariff", ...]}
    businesses/<code>.json  {"status", "version", "definition"}, the definition's
    products/<code>.json    `rule_sources` being a list of paths
    combos/<code>.json
    <path>.tariff           each rule source's text (UTF-8) at its `RuleSource.path`
    zones/<name>.csv        "prefix,zone", then one row per prefix in the table's order
    README[.md|.txt]        ignored
"""

from __future__ import annotations

import io
import os
import stat
import zipfile
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from catalog import codec
from catalog.bundle_layout import (
    CATALOG_FILE,
    FORMAT,
    ZONE_HEADER,
    claim_source,
    entity_path,
    entry_problem,
    layout_problems,
    name_problems,
    row_problems,
    zone_path,
)
from catalog.bundle_parse import parse_files
from catalog.content import CatalogContent
from catalog.errors import ValidationError, Violation
from catalog.model import EntityKind, ZoneTable

__all__ = [
    "MAX_FILES",
    "MAX_TOTAL_BYTES",
    "bundle_files",
    "from_zip_bytes",
    "parse_files",
    "read_directory",
    "read_path",
    "to_zip_bytes",
    "write_directory",
]

MAX_TOTAL_BYTES = 512 * 1024 * 1024
MAX_FILES = 200_000

_ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)
_ZIP_FILE_ATTR = (stat.S_IFREG | 0o644) << 16
_ZIP_UNIX = 3
_ZIP_LEVEL = 9
_CHUNK = 1 << 16
_ARCHIVE = "archive"
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError, EOFError)
_ZIP_ERRORS_IO = (*_ZIP_ERRORS, OSError, ValueError)


# --- writing ---------------------------------------------------------------------------------


def bundle_files(content: CatalogContent) -> dict[str, bytes]:
    """The bundle as {path: bytes}, sorted by path.

    Raises ValidationError when the content cannot be written as a bundle that reads back
    identically (unsafe codes or paths, duplicate rule source paths, bad zone rows, ...).
    """
    violations = _unwritable(content)
    if violations:
        raise ValidationError(violations, "cannot write catalog bundle")
    files: dict[str, str] = {
        CATALOG_FILE: codec.dumps(
            {
                "format": FORMAT,
                "areas": [codec.encode(a) for _, a in sorted(content.areas.items())],
                "channels": [codec.encode(c) for _, c in sorted(content.channels.items())],
                "segments": [codec.encode(s) for _, s in sorted(content.segments.items())],
                "zone_tables": [_zone_entry(t) for _, t in sorted(content.zone_tables.items())],
                "rule_sources": sorted(s.path for s in content.rule_sources),
            }
        )
    }
    for table in content.zone_tables.values():
        files[zone_path(table.name)] = _zone_csv(table)
    for source in content.rule_sources:
        files[source.path] = source.text
    for (kind, code), entity in content.entities.items():
        definition = codec.encode_definition(entity.definition)
        if entity.definition.rule_sources:
            definition["rule_sources"] = [s.path for s in entity.definition.rule_sources]
        for source in entity.definition.rule_sources:
            files[source.path] = source.text
        document = {"status": entity.status.value, "version": entity.version}
        files[entity_path(kind, code)] = codec.dumps({**document, "definition": definition})
    violations.extend(layout_problems(files))
    encoded: dict[str, bytes] = {}
    for path in sorted(files):
        try:
            encoded[path] = files[path].encode("utf-8")
        except UnicodeEncodeError as exc:
            violations.append(Violation(path, f"text is not encodable as UTF-8: {exc.reason}"))
    if violations:
        raise ValidationError(violations, "cannot write catalog bundle")
    return encoded


def write_directory(content: CatalogContent, path: str | os.PathLike[str]) -> None:
    """Write the bundle into `path`, which must be missing or an empty directory.

    Raises ValidationError (see `bundle_files`) before touching the file system, and
    FileExistsError when `path` is not empty or two bundle paths name the same file there
    (a case-insensitive file system).
    """
    files = bundle_files(content)
    root = Path(path)
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise FileExistsError(f"{root} exists and is not an empty directory")
    root.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        target = root.joinpath(*name.split("/"))
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            with target.open("xb") as out:
                out.write(data)
        except FileExistsError:
            raise FileExistsError(
                f"{target}: two bundle paths name the same file on this file system"
            ) from None


def to_zip_bytes(content: CatalogContent) -> bytes:
    """The bundle as a zip archive; the same content always gives the same bytes.

    Raises ValidationError as `bundle_files` does.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in bundle_files(content).items():
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIMESTAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = _ZIP_UNIX
            info.external_attr = _ZIP_FILE_ATTR
            archive.writestr(info, data, compresslevel=_ZIP_LEVEL)
    return buffer.getvalue()


def _zone_entry(table: ZoneTable) -> dict[str, str]:
    return {"name": table.name, "description": table.description, "file": zone_path(table.name)}


def _zone_csv(table: ZoneTable) -> str:
    """Zones are printable (see `row_problems`), so quoting commas and quotes is enough."""
    lines = [",".join(ZONE_HEADER)]
    lines.extend(f"{prefix},{_csv_field(zone)}" for prefix, zone in table.prefixes)
    return "\n".join(lines) + "\n"


def _csv_field(value: str) -> str:
    return '"' + value.replace('"', '""') + '"' if "," in value or '"' in value else value


def _unwritable(content: CatalogContent) -> list[Violation]:
    """Everything that would make the written bundle unreadable or read back differently."""
    problems: list[Violation] = []
    for label, items in (
        ("areas", content.areas),
        ("channels", content.channels),
        ("segments", content.segments),
    ):
        for key, item in items.items():
            if key != item.code:
                problems.append(Violation(f"{label}[{key}]", f"keyed by {key!r}, not its code"))
    for name, table in content.zone_tables.items():
        where = f"{CATALOG_FILE}: zone_tables[{name}]"
        if name != table.name:
            problems.append(Violation(where, f"keyed by {name!r}, not its name"))
        problems.extend(name_problems(table.name, f"{where}.name"))
        problems.extend(_zone_row_problems(table, zone_path(table.name)))
    offers: dict[str, str] = {}
    for (kind, code), entity in content.entities.items():
        definition = entity.definition
        where = entity_path(kind, code)
        if (definition.entity_kind, definition.code) != (kind, code):
            problems.append(Violation(where, "keyed differently from its definition"))
        problems.extend(name_problems(code, f"{where}: definition.code"))
        if kind is not EntityKind.BUSINESS:
            if code in offers:
                problems.append(Violation(where, f"code is also used by {offers[code]}"))
            offers.setdefault(code, where)
    owners: dict[str, str] = {}
    for owner, source in content.all_rule_sources():
        where = (
            f"{CATALOG_FILE}: rule_sources"
            if owner is None
            else f"{entity_path(*owner)}: definition.rule_sources"
        )
        problems.extend(claim_source(source.path, owners, f"{where}[{source.path}]"))
    return problems


def _zone_row_problems(table: ZoneTable, path: str) -> list[Violation]:
    seen: set[str] = set()
    problems: list[Violation] = []
    for i, (prefix, zone) in enumerate(table.prefixes):
        where = f"{path}: line {i + 2}"
        problems.extend(Violation(where, d) for d in row_problems(prefix, zone, seen))
        seen.add(prefix)
    return problems


# --- reading: collecting files ---------------------------------------------------------------


def read_directory(
    path: str | os.PathLike[str],
    *,
    max_total_bytes: int = MAX_TOTAL_BYTES,
    max_files: int = MAX_FILES,
) -> CatalogContent:
    """Read a directory bundle; raises ValidationError listing every problem found.

    Symbolic links are refused rather than followed, so a bundle cannot read outside itself.
    """
    root = Path(path)
    if not root.is_dir():
        raise NotADirectoryError(f"{root} is not a directory")
    found: list[tuple[str, Path, int]] = []
    problems: list[Violation] = []
    for dirpath, dirnames, filenames in os.walk(root, onerror=_raise):
        here = Path(dirpath)
        for name in sorted([*dirnames, *filenames]):
            full = here / name
            rel = full.relative_to(root).as_posix()
            shown = rel.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            info = full.lstat()
            if stat.S_ISDIR(info.st_mode):
                continue
            problem = entry_problem(rel)
            if stat.S_ISLNK(info.st_mode):
                problem = "symbolic links are not allowed in a bundle"
            elif not stat.S_ISREG(info.st_mode):
                problem = "not a regular file"
            elif shown != rel:
                problem = "file name is not valid UTF-8"
            if problem is not None:
                problems.append(Violation(shown, problem))
                continue
            found.append((rel, full, info.st_size))
            if len(found) > max_files:  # stop walking a huge tree early
                _check_limits(len(found), 0, max_files, max_total_bytes)
    _check_limits(len(found), sum(size for _, _, size in found), max_files, max_total_bytes)
    files: dict[str, bytes] = {}
    budget = _Budget(max_total_bytes)
    for rel, full, _ in sorted(found):
        with full.open("rb") as stream:
            files[rel] = budget.read(stream)
    return parse_files(files, problems)


def from_zip_bytes(
    data: bytes,
    *,
    max_total_bytes: int = MAX_TOTAL_BYTES,
    max_files: int = MAX_FILES,
) -> CatalogContent:
    """Read a zip bundle; raises ValidationError listing every problem found.

    The declared sizes are checked against the limits before anything is decompressed, and
    the actual bytes while decompressing, so a zip bomb costs at most `max_total_bytes`.
    """
    return _read_zip(io.BytesIO(data), max_total_bytes, max_files)


def read_path(
    path: str | os.PathLike[str],
    *,
    max_total_bytes: int = MAX_TOTAL_BYTES,
    max_files: int = MAX_FILES,
) -> CatalogContent:
    """Read a directory bundle or a zip file bundle (see `read_directory`, `from_zip_bytes`).

    Raises FileNotFoundError when nothing is at `path`.
    """
    target = Path(path)
    if target.is_dir():
        return read_directory(target, max_total_bytes=max_total_bytes, max_files=max_files)
    with target.open("rb") as stream:
        return _read_zip(stream, max_total_bytes, max_files)


def _raise(error: OSError) -> None:
    raise error


class _Budget:
    """Counts bytes actually read, so a lying size header cannot exceed the limit."""

    def __init__(self, limit: int) -> None:
        self.left = limit

    def read(self, stream: IO[bytes]) -> bytes:
        chunks = []
        while chunk := stream.read(min(_CHUNK, self.left + 1)):
            self.left -= len(chunk)
            if self.left < 0:
                raise _too_large(None)
            chunks.append(chunk)
        return b"".join(chunks)


def _too_large(total: int | None) -> ValidationError:
    found = "" if total is None else f" ({total} bytes uncompressed)"
    return ValidationError([Violation(_ARCHIVE, f"bundle is too large{found}")])


def _check_limits(count: int, total: int, max_files: int, max_total_bytes: int) -> None:
    if count > max_files:
        raise ValidationError([Violation(_ARCHIVE, f"bundle has more than {max_files} files")])
    if total > max_total_bytes:
        raise _too_large(total)


def _declared_size(infos: Iterable[zipfile.ZipInfo]) -> int:
    return sum(info.file_size for info in infos)


def _read_zip(source: IO[bytes], max_total_bytes: int, max_files: int) -> CatalogContent:
    try:
        archive = zipfile.ZipFile(source)
    except (*_ZIP_ERRORS, ValueError) as exc:
        raise ValidationError([Violation(_ARCHIVE, f"not a zip archive ({exc})")]) from None
    with archive:
        infos = [i for i in archive.infolist() if not i.is_dir()]
        _check_limits(len(infos), _declared_size(infos), max_files, max_total_bytes)
        files: dict[str, bytes] = {}
        problems: list[Violation] = []
        budget = _Budget(max_total_bytes)
        for info in archive.infolist():
            name = info.filename
            problem = entry_problem(name.removesuffix("/") if info.is_dir() else name)
            if problem is None and stat.S_ISLNK(info.external_attr >> 16):
                problem = "symbolic links are not allowed in a bundle"
            elif problem is None and info.flag_bits & 0x1:
                problem = "encrypted entries are not supported"
            elif problem is None and name in files:
                problem = "duplicate entry in the archive"
            if problem is not None:
                problems.append(Violation(name, problem))
                continue
            if info.is_dir():
                continue
            try:
                with archive.open(info) as stream:
                    files[name] = budget.read(stream)
            except _ZIP_ERRORS_IO as exc:
                problems.append(Violation(name, f"cannot be read from the archive ({exc})"))
        problems.extend(layout_problems(files))
    return parse_files(files, problems)
