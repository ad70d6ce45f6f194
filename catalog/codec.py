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
from collections.abc import Callable
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


Decoder = Callable[[Any], Any]


def _bad(description: str) -> ValidationError:
    """An error about the value being decoded itself; callers prefix where it sits."""
    return ValidationError([Violation("", description)])


def _within(prefix: str, error: ValidationError) -> list[Violation]:
    return [Violation(prefix + v.field, v.description) for v in error.violations]


def _str(data: Any) -> str:
    if not isinstance(data, str):
        raise _bad("expected a string")
    return data


def _int(data: Any) -> int:
    if not isinstance(data, int) or isinstance(data, bool):
        raise _bad("expected a whole number")
    return data


def _instant(data: Any) -> datetime:
    if not isinstance(data, str):
        raise _bad("expected an RFC 3339 timestamp string")
    try:
        return parse_instant(data)
    except ValueError as exc:
        raise _bad(str(exc)) from None


@cache
def _decoder(tp: Any) -> Decoder:
    """One decoder per type, planned once: decoding a 100k-offer version document is the
    bulk of installing it, so nothing is looked up per value that could be looked up here.
    Decoders raise ValidationError with paths relative to the value they decode."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        inner = _decoder(next(a for a in typing.get_args(tp) if a is not type(None)))
        return lambda data: None if data is None else inner(data)
    if origin is tuple:
        return _tuple_decoder(tuple(typing.get_args(tp)))
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _dataclass_decoder(tp)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return _enum_decoder(tp)
    simple: dict[Any, Decoder] = {datetime: _instant, int: _int, str: _str}
    if tp in simple:
        return simple[tp]
    raise TypeError(f"no codec for {tp!r}")


def _tuple_decoder(args: tuple[Any, ...]) -> Decoder:
    if len(args) == 2 and args[1] is Ellipsis:
        item = _decoder(args[0])

        def many(data: Any) -> tuple[Any, ...]:
            if not isinstance(data, list):
                raise _bad("expected a list")
            if item is _str and all(type(v) is str for v in data):
                return tuple(data)
            values = []
            for i, value in enumerate(data):
                try:
                    values.append(item(value))
                except ValidationError as exc:
                    raise ValidationError(_within(f"[{i}]", exc)) from None
            return tuple(values)

        return many
    items = [_decoder(a) for a in args]

    def fixed(data: Any) -> tuple[Any, ...]:
        if not isinstance(data, list):
            raise _bad("expected a list")
        if len(data) != len(items):
            raise _bad(f"expected {len(items)} items")
        values = []
        for i, (decode_item, value) in enumerate(zip(items, data, strict=True)):
            try:
                values.append(decode_item(value))
            except ValidationError as exc:
                raise ValidationError(_within(f"[{i}]", exc)) from None
        return tuple(values)

    return fixed


def _enum_decoder(tp: type[enum.Enum]) -> Decoder:
    members = {m.value: m for m in tp}
    allowed = ", ".join(str(m.value) for m in tp)

    def member(data: Any) -> enum.Enum:
        try:
            return members[data]
        except (KeyError, TypeError):
            raise _bad(f"{data!r} is not one of: {allowed}") from None

    return member


def _dataclass_decoder(cls: type) -> Decoder:
    hints = typing.get_type_hints(cls)
    plan = [
        (f.name, _decoder(hints[f.name]), _default_of(f) is dataclasses.MISSING)
        for f in dataclasses.fields(cls)
    ]
    names = frozenset(name for name, _, _ in plan)

    def instance(data: Any) -> Any:
        if not isinstance(data, dict):
            raise _bad("expected an object")
        kwargs: dict[str, Any] = {}
        violations = [Violation(f".{k}", "unknown field") for k in sorted(data.keys() - names)]
        for name, decode_field, required in plan:
            if name in data:
                try:
                    kwargs[name] = decode_field(data[name])
                except ValidationError as exc:
                    violations.extend(_within(f".{name}", exc))
            elif required:
                violations.append(Violation(f".{name}", "is required"))
        if violations:
            raise ValidationError(violations)
        return cls(**kwargs)

    return instance


def _decode(tp: Any, data: Any, where: str) -> Any:
    try:
        return _decoder(tp)(data)
    except ValidationError as exc:
        raise ValidationError(_within(where, exc)) from None


def decode(cls: type[T], data: Any, where: str = "") -> T:
    """Canonical plain data -> domain value; malformed data raises ValidationError."""
    value: T = _decode(cls, data, where or cls.__name__.lower())
    return value


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
