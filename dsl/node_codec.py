"""Parsed modules as plain data (JSON), so a parse can be kept in the store and reused by
other processes and after a restart (issue 16) without parsing the text again.

Data, never code: a module is written as nested JSON lists of node class names, spans and
field values; reading it back only constructs `dsl.nodes` dataclasses by name (from a table of
those classes, nothing else) from strings, numbers, booleans and tagged literals (Decimal,
date, datetime). Nothing read is evaluated, imported or unpickled. Anything unexpected —
another format version, an unknown class, a field count that does not match — raises
`CodecError`, and the reader parses the text instead.

Encoding: a node is `[class name, line, column, end_line, end_column, *fields]` (fields in
declaration order, the span left out of them); a tuple is `["T", *items]`; a Decimal
`["D", text]`, a date `["d", iso]`, a datetime `["t", iso]`; None, bools, ints and strings
are themselves. The document is `{"format": FORMAT, "module": node}`.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from dsl import nodes as n
from dsl.errors import LanguageError

#: Bump when the encoding or any node class changes shape: entries of another format are
#: ignored (and replaced), never read.
FORMAT = 1


class CodecError(LanguageError, ValueError):
    """The data is not a module this version of the code wrote."""


def _node_classes() -> dict[str, tuple[type[n.Node], tuple[str, ...]]]:
    found: dict[str, tuple[type[n.Node], tuple[str, ...]]] = {}
    for value in vars(n).values():
        if (
            isinstance(value, type)
            and issubclass(value, n.Node)
            and dataclasses.is_dataclass(value)
            and value.__module__ == n.__name__
        ):
            names = tuple(f.name for f in dataclasses.fields(value) if f.name != "span")
            found[value.__name__] = (value, names)
    return found


_CLASSES = _node_classes()
_FIELDS = dict(_CLASSES.values())


def _encode(value: object) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, n.Node):
        cls = type(value)
        names = _FIELDS.get(cls)
        if names is None:
            raise CodecError(f"not a node class of dsl.nodes: {cls.__name__}")
        span = value.span
        head: list[Any] = [cls.__name__, span.line, span.column, span.end_line, span.end_column]
        return head + [_encode(getattr(value, name)) for name in names]
    if isinstance(value, tuple):
        return ["T", *(_encode(item) for item in value)]
    if isinstance(value, Decimal):
        return ["D", str(value)]
    if isinstance(value, datetime):  # before date: a datetime is a date
        return ["t", value.isoformat()]
    if isinstance(value, date):
        return ["d", value.isoformat()]
    raise CodecError(f"cannot encode a {type(value).__name__}")


def encode_module(module: n.Module) -> str:
    """The module as compact JSON text. Raises CodecError for a value it cannot write."""
    document = {"format": FORMAT, "module": _encode(module)}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


_PRIMITIVES = frozenset((str, int, bool, type(None)))


def _literal(tag: str, value: list[Any]) -> Any:
    if len(value) != 2 or type(value[1]) is not str:
        raise CodecError("malformed literal")
    text = value[1]
    try:
        if tag == "D":
            return Decimal(text)
        return datetime.fromisoformat(text) if tag == "t" else date.fromisoformat(text)
    except ArithmeticError as error:
        raise CodecError(f"bad literal {text!r}") from error


#: Per class: (class, list length, a setter per field, in order). Decoding fills a new
#: instance's slots through their descriptors instead of calling the frozen dataclass's
#: `__init__` (one `object.__setattr__` call per field, a third of a decode): nodes have no
#: `__post_init__` and every field is written, so the instance is the one `__init__` makes.
_Setter = Callable[[Any, Any], None]
_DECODERS: dict[str, tuple[type[n.Node], int, tuple[_Setter, ...]]] = {
    name: (cls, 5 + len(names), tuple(getattr(cls, f).__set__ for f in ("span", *names)))
    for name, (cls, names) in _CLASSES.items()
}
_SPAN_SETTERS = tuple(getattr(n.Span, f.name).__set__ for f in dataclasses.fields(n.Span))
_new = object.__new__
_Span = n.Span


def _decode(value: Any) -> Any:
    if type(value) is not list:
        if type(value) in _PRIMITIVES:
            return value
        raise CodecError("malformed value")
    if not value or type(value[0]) is not str:
        raise CodecError("malformed value")
    tag = value[0]
    if tag == "T":
        return tuple([_decode(item) for item in value[1:]])
    known = _DECODERS.get(tag)
    if known is None:
        if tag in ("D", "d", "t"):
            return _literal(tag, value)
        raise CodecError(f"unknown node class {tag!r}")
    cls, size, setters = known
    if len(value) != size:
        raise CodecError(f"{tag}: expected {size - 5} fields, got {len(value) - 5}")
    line, column, end_line, end_column = value[1:5]
    if not (type(line) is type(column) is type(end_line) is type(end_column) is int):
        raise CodecError(f"{tag}: malformed span")
    span = _new(_Span)
    set_line, set_column, set_end_line, set_end_column = _SPAN_SETTERS
    set_line(span, line)
    set_column(span, column)
    set_end_line(span, end_line)
    set_end_column(span, end_column)
    node = _new(cls)
    setters[0](node, span)
    for index in range(1, size - 4):
        item = value[index + 4]
        setters[index](node, item if type(item) in _PRIMITIVES else _decode(item))
    return node


def decode_module(text: str | bytes) -> n.Module:
    """A module written by `encode_module` of this format. Raises CodecError otherwise."""
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise CodecError(f"not JSON: {error}") from error
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise CodecError("another format version")
    try:
        module = _decode(document.get("module"))
    except CodecError:
        raise
    except (TypeError, ValueError, RecursionError) as error:  # a field the class refuses
        raise CodecError(f"malformed module: {error}") from error
    if not isinstance(module, n.Module):
        raise CodecError("not a module")
    return module
