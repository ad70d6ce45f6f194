"""Reading a catalog bundle's files into a `CatalogContent`: the format, strictly.

Only the format is checked here (cross-entity references are validated elsewhere), and no
problem stops the pass, so one ValidationError lists everything wrong with a bundle.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple, TypeVar

from catalog import codec
from catalog.bundle_layout import (
    CATALOG_FILE,
    ENTITY_DIRS,
    FORMAT,
    README_FILES,
    ZONE_HEADER,
    claim_source,
    name_problems,
    row_problems,
    zone_path,
)
from catalog.content import CatalogContent, EntityKey
from catalog.errors import ValidationError, Violation
from catalog.model import (
    Area,
    Channel,
    Definition,
    EntityKind,
    LifecycleStatus,
    RuleSource,
    Segment,
    VersionedEntity,
    ZoneTable,
)

_KIND_OF_DIR = {d: k for k, d in ENTITY_DIRS.items()}
_ENTITY_FILE = re.compile(r"(businesses|products|combos)/([^/]+)\.json")
_ENTITY_FIELDS = ("status", "version", "definition")
_CATALOG_FIELDS = ("format", "areas", "channels", "segments", "zone_tables", "rule_sources")
_STATUSES = tuple(s.value for s in LifecycleStatus)

_Reference = TypeVar("_Reference", Area, Channel, Segment)
_T = TypeVar("_T")


def parse_files(files: Mapping[str, bytes], problems: Iterable[Violation] = ()) -> CatalogContent:
    """Parse a bundle given as {relative POSIX path: bytes}.

    `problems` are those already found while collecting the files (unsafe entries, ...); they
    are raised together with the parse's own. Raises ValidationError.
    """
    parser = _Parser(files, list(problems))
    content = parser.parse()
    if parser.problems or content is None:
        raise ValidationError(parser.problems, "malformed catalog bundle")
    return content


class _CatalogParts(NamedTuple):
    areas: list[Area]
    channels: list[Channel]
    segments: list[Segment]
    zone_tables: list[ZoneTable]
    rule_sources: list[RuleSource]


class _Parser:
    """One pass over a bundle's files; every problem is recorded, none stops the pass."""

    def __init__(self, files: Mapping[str, bytes], problems: list[Violation]) -> None:
        self.files = files
        self.problems = problems
        self.used: set[str] = set()
        self.owners_unknown = False  # an unreadable entity file may use any rule source
        self.owners: dict[str, str] = {}

    def problem(self, where: str, description: str) -> None:
        self.problems.append(Violation(where, description))

    def parse(self) -> CatalogContent | None:
        catalog = self._catalog()
        if catalog is None:
            return None
        entities = self._entities()
        for path in sorted(set(self.files) - self.used - README_FILES):
            if path.endswith(".tariff"):
                if not self.owners_unknown:
                    self.problem(path, "rule source not referenced by catalog.json or any entity")
            else:
                self.problem(path, "unexpected file")
        return CatalogContent.build(
            areas={a.code: a for a in catalog.areas},
            channels={c.code: c for c in catalog.channels},
            segments={s.code: s for s in catalog.segments},
            zone_tables={t.name: t for t in catalog.zone_tables},
            rule_sources=tuple(catalog.rule_sources),
            entities=entities,
        )

    def _decode(self, where: str, decode: Callable[..., _T], *args: Any) -> _T | None:
        """Run a codec decode, recording its violations; bad input never escapes as a crash."""
        try:
            return decode(*args, where)
        except ValidationError as exc:
            self.problems.extend(exc.violations)
        except (ValueError, OverflowError) as exc:  # e.g. an instant at the edge of time
            self.problem(where, f"cannot be read: {exc}")
        return None

    # files

    def _text(self, path: str) -> str | None:
        data = self.files[path]
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:  # placed as the rules' diagnostics place it
            line = data.count(b"\n", 0, exc.start) + 1
            start = data.rfind(b"\n", 0, exc.start) + 1
            column = len(data[start : exc.start].decode("utf-8")) + 1  # code points
            self.problem(
                f"{path}: line {line} column {column}",
                f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})",
            )
            return None

    def _json(self, path: str) -> dict[str, Any] | None:
        """The parsed JSON object, or None (with a recorded problem)."""
        text = self._text(path)
        if text is None:
            return None
        duplicates: list[str] = []
        try:
            document = json.loads(
                text,
                object_pairs_hook=lambda pairs: _object(pairs, duplicates),
                parse_constant=_reject_constant,
            )
        except json.JSONDecodeError as exc:
            self.problem(f"{path}: line {exc.lineno} column {exc.colno}", exc.msg)
            return None
        except (ValueError, RecursionError) as exc:
            self.problem(path, f"invalid JSON: {exc}")
            return None
        for key in duplicates:
            self.problem(path, f"duplicate key {key!r} in a JSON object")
        if not isinstance(document, dict):
            self.problem(path, "expected a JSON object")
            return None
        return document if not duplicates else None

    # catalog.json

    def _catalog(self) -> _CatalogParts | None:
        """The catalog-level parts; None when catalog.json is unusable or not our format."""
        document = self._catalog_document()
        if document is None:
            self._entities()  # still report the entity files' own problems
            return None
        where = f"{CATALOG_FILE}: "
        fmt = document.get("format")
        if fmt is None:
            self.problem(where + "format", f"is required (expected {FORMAT!r})")
        elif fmt != FORMAT:
            self.problem(where + "format", f"unknown bundle format {fmt!r}; expected {FORMAT!r}")
            return None  # another layout: what else we would report is noise
        for key in sorted(set(document) - set(_CATALOG_FIELDS)):
            self.problem(where + key, "unknown field")
        tables: dict[str, ZoneTable] = {}
        for i, item in enumerate(self._list(document, "zone_tables")):
            table = self._zone_table(item, f"{where}zone_tables[{i}]")
            if table is not None and table.name in tables:
                self.problem(f"{where}zone_tables[{i}].name", f"duplicate name {table.name!r}")
            elif table is not None:
                tables[table.name] = table
        sources = [
            self._source(path, f"{where}rule_sources[{i}]")
            for i, path in enumerate(self._list(document, "rule_sources"))
        ]
        return _CatalogParts(
            self._reference(Area, document, "areas"),
            self._reference(Channel, document, "channels"),
            self._reference(Segment, document, "segments"),
            list(tables.values()),
            [s for s in sources if s is not None],
        )

    def _catalog_document(self) -> dict[str, Any] | None:
        if CATALOG_FILE in self.files:
            self.used.add(CATALOG_FILE)
            return self._json(CATALOG_FILE)
        nested = sorted(p for p in self.files if p.endswith("/" + CATALOG_FILE))
        hint = f" (found {nested[0]}: pack the bundle's contents, not its folder)" if nested else ""
        self.problem(CATALOG_FILE, "missing" + hint)
        return None

    def _list(self, document: dict[str, Any], key: str) -> list[Any]:
        value = document.get(key, [])
        if not isinstance(value, list):
            self.problem(f"{CATALOG_FILE}: {key}", "expected a list")
            return []
        return value

    def _reference(
        self, cls: type[_Reference], document: dict[str, Any], key: str
    ) -> list[_Reference]:
        items: list[_Reference] = []
        seen: set[str] = set()
        for i, data in enumerate(self._list(document, key)):
            where = f"{CATALOG_FILE}: {key}[{i}]"
            item = self._decode(where, codec.decode, cls, data)
            if item is None:
                continue
            if item.code in seen:
                self.problem(f"{where}.code", f"duplicate code {item.code!r}")
                continue
            seen.add(item.code)
            items.append(item)
        return items

    def _zone_table(self, data: Any, where: str) -> ZoneTable | None:
        if not isinstance(data, dict):
            self.problem(where, "expected an object")
            return None
        header = {k: v for k, v in data.items() if k not in ("file", "prefixes")}
        if "prefixes" in data:
            self.problem(f"{where}.prefixes", "unknown field (rows belong in the zone file)")
        file = data.get("file")
        table = self._decode(where, codec.decode, ZoneTable, {**header, "prefixes": []})
        if table is None:
            return None
        expected = zone_path(table.name)
        if file == expected and expected in self.files:
            self.used.add(expected)
        bad_name = name_problems(table.name, f"{where}.name")
        self.problems.extend(bad_name)
        if file is None:
            self.problem(f"{where}.file", f"is required (expected {expected!r})")
        elif file != expected:
            self.problem(f"{where}.file", f"must be {expected!r} for zone table {table.name!r}")
        elif expected not in self.files:
            self.problem(f"{where}.file", f"zone file {expected!r} is missing")
        elif not bad_name:
            rows = self._zone_rows(expected)
            if rows is not None:
                return ZoneTable(table.name, rows, table.description)
        return None

    def _zone_rows(self, path: str) -> tuple[tuple[str, str], ...] | None:
        text = self._text(path)
        if text is None:
            return None
        before = len(self.problems)
        reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), strict=True)
        rows: list[tuple[str, str]] = []
        seen: dict[str, int] = {}
        try:
            if next(reader, None) != list(ZONE_HEADER):
                self.problem(f"{path}: line 1", "the header must be 'prefix,zone'")
            for row in reader:
                where = f"{path}: line {reader.line_num}"
                if len(row) != 2:
                    self.problem(where, f"expected 2 columns (prefix,zone), found {len(row)}")
                    continue
                prefix, zone = row
                for description in row_problems(prefix, zone, seen):
                    if description.startswith("duplicate"):
                        description += f" (first on line {seen[prefix]})"
                    self.problem(where, description)
                seen.setdefault(prefix, reader.line_num)
                rows.append((prefix, zone))
        except csv.Error as exc:
            self.problem(f"{path}: line {reader.line_num}", f"malformed CSV: {exc}")
        return tuple(rows) if len(self.problems) == before else None

    def _source(self, path: Any, where: str) -> RuleSource | None:
        if not isinstance(path, str):
            self.problem(where, "expected a rule source path (a string)")
            return None
        if path in self.files:
            self.used.add(path)
        problems = claim_source(path, self.owners, where)
        if problems:
            self.problems.extend(problems)
            return None
        if path not in self.files:
            self.problem(where, f"rule source file {path!r} is missing")
            return None
        text = self._text(path)
        return None if text is None else RuleSource(path, text)

    # entity files

    def _entities(self) -> dict[EntityKey, VersionedEntity]:
        entities: dict[EntityKey, VersionedEntity] = {}
        offers: dict[str, str] = {}
        for path in sorted(self.files):
            match = _ENTITY_FILE.fullmatch(path)
            if match is None:
                continue
            self.used.add(path)
            kind, stem = _KIND_OF_DIR[match[1]], match[2]
            bad_name = name_problems(stem, path)
            self.problems.extend(bad_name)
            entity = None if bad_name else self._entity(path, kind, stem)
            if entity is None:
                continue
            if kind is not EntityKind.BUSINESS:
                if stem in offers:
                    self.problem(
                        f"{path}: definition.code",
                        f"code {stem!r} is also used by {offers[stem]}"
                        " (products and combos share one set of codes)",
                    )
                    continue
                offers[stem] = path
            entities[(kind, stem)] = entity
        return entities

    def _entity(self, path: str, kind: EntityKind, stem: str) -> VersionedEntity | None:
        document = self._json(path)
        if document is None:
            self.owners_unknown = True
            return None
        before = len(self.problems)
        for key in sorted(set(document) - set(_ENTITY_FIELDS)):
            self.problem(f"{path}: {key}", "unknown field")
        for key in _ENTITY_FIELDS:
            if key not in document:
                self.problem(f"{path}: {key}", "is required")
        status = document.get("status")
        if "status" in document and status not in _STATUSES:
            allowed = ", ".join(_STATUSES)
            self.problem(f"{path}: status", f"{status!r} is not one of: {allowed}")
        version = document.get("version")
        if "version" in document and (type(version) is not int or version < 0):
            self.problem(f"{path}: version", "expected a whole number >= 0")
        definition = self._definition(document.get("definition"), path, kind)
        if definition is not None and definition.code != stem:
            self.problem(
                f"{path}: definition.code",
                f"{definition.code!r} does not match the file name ({stem!r})",
            )
        if definition is None or len(self.problems) != before:
            return None
        assert isinstance(version, int)
        assert isinstance(status, str)
        return VersionedEntity(definition, LifecycleStatus(status), version)

    def _definition(self, data: Any, path: str, kind: EntityKind) -> Definition | None:
        where = f"{path}: definition"
        if not isinstance(data, dict):
            if data is not None:
                self.problem(where, "expected an object")
            self.owners_unknown = True
            return None
        paths = data.get("rule_sources", [])
        if not isinstance(paths, list):
            self.problem(f"{where}.rule_sources", "expected a list of rule source paths")
            self.owners_unknown = True
            return None
        sources = [self._source(p, f"{where}.rule_sources[{i}]") for i, p in enumerate(paths)]
        found = [codec.encode(s) for s in sources if s is not None]
        data = {**data, "rule_sources": found}
        definition = self._decode(where, codec.decode_definition, kind, data)
        return definition if len(found) == len(sources) else None


def _object(pairs: list[tuple[str, Any]], duplicates: list[str]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            duplicates.append(key)
        result[key] = value
    return result


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")
