"""What differs between two catalogs, item by item and field by field, for review before a
publish and for the DiffCatalogVersions call.

Values are compared in their canonical encoded form (`catalog.codec`), so two contents give
an empty diff exactly when their canonical documents are equal. The inputs are expected to be
canonical themselves (built with `CatalogContent.build`, rule source paths unique).
"""

from __future__ import annotations

import dataclasses
import enum
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from catalog import codec
from catalog.content import CatalogContent
from catalog.model import EntityKind, RuleSource, VersionedEntity, ZoneTable

MAX_PREFIX_CHANGES = 100

_Item = TypeVar("_Item")


class ChangeType(enum.Enum):
    ADDED = "added"
    REMOVED = "removed"
    MODIFIED = "modified"


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One differing field: `before`/`after` are compact canonical JSON, "" when absent."""

    path: str
    before: str
    after: str


@dataclass(frozen=True, slots=True)
class Change:
    """One item that differs; only MODIFIED carries field changes."""

    kind: str
    code: str
    change_type: ChangeType
    fields: tuple[FieldChange, ...] = ()


def diff(before: CatalogContent, after: CatalogContent) -> list[Change]:
    """Changes from `before` to `after`, ordered by kind then code."""
    changes: list[Change] = []
    for kind, entity_kind in (
        ("business", EntityKind.BUSINESS),
        ("product", EntityKind.PRODUCT),
        ("combo", EntityKind.COMBO),
    ):
        changes += _changes(
            kind,
            _entities(before, entity_kind),
            _entities(after, entity_kind),
            _entity_fields,
        )
    changes += _changes("area", before.areas, after.areas, _object_fields)
    changes += _changes("channel", before.channels, after.channels, _object_fields)
    changes += _changes("segment", before.segments, after.segments, _object_fields)
    changes += _changes("zone_table", before.zone_tables, after.zone_tables, _object_fields)
    changes += _changes(
        "catalog_rule_source",
        {s.path: s for s in before.rule_sources},
        {s.path: s for s in after.rule_sources},
        _object_fields,
    )
    return changes


def to_json(value: Any) -> str:
    """Compact canonical JSON of an already encoded value."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _entities(content: CatalogContent, kind: EntityKind) -> dict[str, VersionedEntity]:
    return {code: e for (k, code), e in content.entities.items() if k is kind}


def _changes(
    kind: str,
    before: Mapping[str, _Item],
    after: Mapping[str, _Item],
    fields: Callable[[_Item, _Item], Iterator[FieldChange]],
) -> list[Change]:
    changes = []
    for code in sorted(before.keys() | after.keys()):
        if code not in after:
            changes.append(Change(kind, code, ChangeType.REMOVED))
        elif code not in before:
            changes.append(Change(kind, code, ChangeType.ADDED))
        else:
            found = tuple(fields(before[code], after[code]))
            if found:
                changes.append(Change(kind, code, ChangeType.MODIFIED, found))
    return changes


def _entity_fields(before: VersionedEntity, after: VersionedEntity) -> Iterator[FieldChange]:
    if before.status != after.status:
        yield FieldChange("status", to_json(before.status.value), to_json(after.status.value))
    if before.version != after.version:
        yield FieldChange("version", to_json(before.version), to_json(after.version))
    yield from _object_fields(before.definition, after.definition)


def _object_fields(before: Any, after: Any, prefix: str = "") -> Iterator[FieldChange]:
    """Field by field in declaration order, nested objects by dotted path, lists whole."""
    for field in dataclasses.fields(before):
        old, new = getattr(before, field.name), getattr(after, field.name)
        path = prefix + field.name
        if field.name == "rule_sources":
            yield from _source_fields(old, new)
        elif field.name == "prefixes" and isinstance(before, ZoneTable):
            yield from _prefix_fields(old, new)
        elif dataclasses.is_dataclass(old) and dataclasses.is_dataclass(new):
            yield from _object_fields(old, new, path + ".")
        else:
            old_json, new_json = _field_json(field, old), _field_json(field, new)
            if old_json != new_json:
                yield FieldChange(path, old_json, new_json)


def _field_json(field: dataclasses.Field[Any], value: Any) -> str:
    """Empty for a field at its default, as the encoded form leaves such fields out."""
    if field.default is not dataclasses.MISSING and value == field.default:
        return ""
    if field.default_factory is not dataclasses.MISSING and value == field.default_factory():
        return ""
    return _render(value)


def _render(value: Any) -> str:
    return to_json(codec.encode(value))


def _source_fields(
    before: tuple[RuleSource, ...], after: tuple[RuleSource, ...]
) -> Iterator[FieldChange]:
    """Keyed by path; an order change (or duplicate paths) is reported on the whole list."""
    old = {s.path: s.text for s in before}
    new = {s.path: s.text for s in after}
    changed = False
    for path in sorted(old.keys() | new.keys()):
        old_text, new_text = old.get(path), new.get(path)
        if old_text != new_text:
            changed = True
            yield FieldChange(
                f"rule_sources[{path}]",
                "" if old_text is None else to_json(old_text),
                "" if new_text is None else to_json(new_text),
            )
    if not changed and before != after:
        old_paths, new_paths = [s.path for s in before], [s.path for s in after]
        if old_paths != new_paths:
            yield FieldChange("rule_sources", to_json(old_paths), to_json(new_paths))
        else:
            yield FieldChange("rule_sources", _render(before), _render(after))


def _prefix_fields(
    before: tuple[tuple[str, str], ...], after: tuple[tuple[str, str], ...]
) -> Iterator[FieldChange]:
    """Per prefix, at most MAX_PREFIX_CHANGES of them, then one summary with the counts.

    A summary without counted changes means only the row order (or duplicate rows) differ.
    """
    old, new = dict(before), dict(after)
    differing = sorted(p for p in old.keys() | new.keys() if old.get(p) != new.get(p))
    for prefix in differing[:MAX_PREFIX_CHANGES]:
        old_zone, new_zone = old.get(prefix), new.get(prefix)
        yield FieldChange(
            f"prefixes[{prefix}]",
            "" if old_zone is None else to_json(old_zone),
            "" if new_zone is None else to_json(new_zone),
        )
    if len(differing) > MAX_PREFIX_CHANGES or (not differing and before != after):
        summary = {
            "rows": len(after),
            "added": sum(1 for p in differing if p not in old),
            "removed": sum(1 for p in differing if p not in new),
            "changed": sum(1 for p in differing if p in old and p in new),
            "not_listed": max(0, len(differing) - MAX_PREFIX_CHANGES),
        }
        yield FieldChange("prefixes", to_json({"rows": len(before)}), to_json(summary))
