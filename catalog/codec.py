"""Canonical plain-data form of the domain model (dicts of str, int, list), for storage,
version documents, bundles and diffs.

Canonical means: keys in field order, fields equal to their default left out, enums as their
value, instants as RFC 3339 UTC strings, tuples as lists. Encoding the decoded form gives the
same bytes back, which is what makes bundle round trips exact and content hashes stable.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import types
import typing
from datetime import UTC, datetime
from functools import cache
from typing import Any, TypeVar

from catalog.content import CatalogContent
from catalog.errors import ValidationError, Violation
from catalog.model import (
    Area,
    Business,
    Channel,
    Combo,
    Definition,
    EntityKind,
    LifecycleStatus,
    Product,
    RuleSource,
    Segment,
    VersionedEntity,
    ZoneTable,
)

T = TypeVar("T")

DEFINITION_TYPES: dict[EntityKind, type[Business] | type[Product] | type[Combo]] = {
    EntityKind.BUSINESS: Business,
    EntityKind.PRODUCT: Product,
    EntityKind.COMBO: Combo,
}


def format_instant(value: datetime) -> str:
    """RFC 3339 in UTC with a Z; microseconds only when present."""
    if value.tzinfo is None:
        raise ValueError("instants must carry a time zone")
    utc = value.astimezone(UTC)
    text = f"{utc.year:04d}-" + utc.strftime("%m-%dT%H:%M:%S")
    if utc.microsecond:
        text += f".{utc.microsecond:06d}"
    return text + "Z"


def parse_instant(text: str) -> datetime:
    """Parse RFC 3339; a value without an offset is refused rather than guessed."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone offset")
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{text!r} is out of range") from None


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _default_of(f: dataclasses.Field[Any]) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return dataclasses.MISSING


def encode(value: Any) -> Any:
    """Domain value -> canonical plain data."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {}
        for f in dataclasses.fields(value):
            item = getattr(value, f.name)
            if item == _default_of(f):
                continue
            out[f.name] = encode(item)
        return out
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return format_instant(value)
    if isinstance(value, tuple | list):
        return [encode(v) for v in value]
    return value


def _decode(tp: Any, data: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(tp) if a is not type(None)]
        if data is None:
            return None
        return _decode(options[0], data, where)
    if origin is tuple:
        args = tuple(typing.get_args(tp))
        if not isinstance(data, list):
            raise ValidationError([Violation(where, "expected a list")])
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], v, f"{where}[{i}]") for i, v in enumerate(data))
        if len(data) != len(args):
            raise ValidationError([Violation(where, f"expected {len(args)} items")])
        return tuple(
            _decode(a, v, f"{where}[{i}]") for i, (a, v) in enumerate(zip(args, data, strict=True))
        )
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return decode(tp, data, where)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        try:
            return tp(data)
        except ValueError:
            allowed = ", ".join(m.value for m in tp)
            raise ValidationError(
                [Violation(where, f"{data!r} is not one of: {allowed}")]
            ) from None
    if tp is datetime:
        if not isinstance(data, str):
            raise ValidationError([Violation(where, "expected an RFC 3339 timestamp string")])
        try:
            return parse_instant(data)
        except ValueError as exc:
            raise ValidationError([Violation(where, str(exc))]) from None
    if tp is int:
        if not isinstance(data, int) or isinstance(data, bool):
            raise ValidationError([Violation(where, "expected a whole number")])
        return data
    if tp is str:
        if not isinstance(data, str):
            raise ValidationError([Violation(where, "expected a string")])
        return data
    raise TypeError(f"no codec for {tp!r}")


def decode(cls: type[T], data: Any, where: str = "") -> T:
    """Canonical plain data -> domain value; malformed data raises ValidationError."""
    where = where or cls.__name__.lower()
    if not isinstance(data, dict):
        raise ValidationError([Violation(where, "expected an object")])
    hints = _hints(typing.cast(type, cls))
    fields = {f.name: f for f in dataclasses.fields(typing.cast(Any, cls))}
    kwargs: dict[str, Any] = {}
    violations = [
        Violation(f"{where}.{k}", "unknown field") for k in sorted(set(data) - set(fields))
    ]
    for name, f in fields.items():
        if name in data:
            try:
                kwargs[name] = _decode(hints[name], data[name], f"{where}.{name}")
            except ValidationError as exc:
                violations.extend(exc.violations)
        elif _default_of(f) is dataclasses.MISSING:
            violations.append(Violation(f"{where}.{name}", "is required"))
    if violations:
        raise ValidationError(violations)
    return cls(**kwargs)


def encode_definition(definition: Definition) -> dict[str, Any]:
    data = encode(definition)
    assert isinstance(data, dict)
    return data


def decode_definition(kind: EntityKind, data: Any, where: str = "") -> Definition:
    return decode(DEFINITION_TYPES[kind], data, where or kind.value)


def dumps(data: Any) -> str:
    """Canonical JSON text: sorted keys, UTF-8 characters kept, two-space indent."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True, indent=2) + "\n"


def encode_content(content: CatalogContent) -> dict[str, Any]:
    """A whole catalog as one document (used for version documents and hashing)."""
    return {
        "areas": [encode(a) for a in content.areas.values()],
        "channels": [encode(c) for c in content.channels.values()],
        "segments": [encode(s) for s in content.segments.values()],
        "zone_tables": [encode(z) for z in content.zone_tables.values()],
        "rule_sources": [encode(s) for s in content.rule_sources],
        "entities": [
            {
                "kind": kind.value,
                "status": entity.status.value,
                "version": entity.version,
                "definition": encode_definition(entity.definition),
            }
            for (kind, _), entity in content.entities.items()
        ],
    }


def _list(data: dict[str, Any], key: str) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise ValidationError([Violation(key, "expected a list")])
    return value


def decode_content(data: Any) -> CatalogContent:
    if not isinstance(data, dict):
        raise ValidationError([Violation("catalog", "expected an object")])
    areas = [decode(Area, a, f"areas[{i}]") for i, a in enumerate(_list(data, "areas"))]
    channels = [decode(Channel, c, f"channels[{i}]") for i, c in enumerate(_list(data, "channels"))]
    segments = [decode(Segment, s, f"segments[{i}]") for i, s in enumerate(_list(data, "segments"))]
    tables = [
        decode(ZoneTable, z, f"zone_tables[{i}]") for i, z in enumerate(_list(data, "zone_tables"))
    ]
    sources = tuple(
        decode(RuleSource, s, f"rule_sources[{i}]")
        for i, s in enumerate(_list(data, "rule_sources"))
    )
    entities: dict[tuple[EntityKind, str], VersionedEntity] = {}
    for i, item in enumerate(_list(data, "entities")):
        where = f"entities[{i}]"
        if not isinstance(item, dict):
            raise ValidationError([Violation(where, "expected an object")])
        kind = _decode(EntityKind, item.get("kind"), f"{where}.kind")
        status = _decode(LifecycleStatus, item.get("status"), f"{where}.status")
        version = _decode(int, item.get("version", 0), f"{where}.version")
        definition = decode_definition(kind, item.get("definition"), f"{where}.definition")
        entities[(kind, definition.code)] = VersionedEntity(definition, status, version)
    return CatalogContent.build(
        areas={a.code: a for a in areas},
        channels={c.code: c for c in channels},
        segments={s.code: s for s in segments},
        zone_tables={z.name: z for z in tables},
        rule_sources=sources,
        entities=entities,
    )


def content_hash(content: CatalogContent) -> str:
    """SHA-256 of the canonical document: equal content, equal hash."""
    return hashlib.sha256(dumps(encode_content(content)).encode("utf-8")).hexdigest()
