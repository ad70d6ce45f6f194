"""Hypothesis strategies for any protobuf request message, read off its descriptor.

A hostile client sends what the schema allows, not what the docs describe: every field may be
unset, empty, at an integer's edge, an unknown enum number, a Timestamp outside its range,
a string with NULs, line separators or 300 characters. Strings are drawn as often from the
names a real catalog uses (`Vocabulary`) as from noise, so generated requests reach past the
first "unknown offer" into the engines. Sizes stay small: a request's work must be bounded by
its own size, and small requests that reach deep code find more than big random ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import descriptor as d
from google.protobuf import message as pm
from google.protobuf import message_factory
from hypothesis import strategies as st

_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)
_UINT32 = (0, 2**32 - 1)
_UINT64 = (0, 2**64 - 1)

_EDGES_SIGNED = (0, 1, -1, 2, 7, 60, 100, 1000, 60_000, 10**6, 10**9, 10**12, 10**15)
_NASTY_TEXT = (
    "",
    " ",
    "\x00",
    "a" * 300,
    "../../etc/passwd",
    "亲情1+",
    "line\nbreak",
    "cr\rreturn",
    "\u2028\u2029\x85",
    "'\"\\",
    "__import__('os')",
    "*",
    "%",
    "0",
    "-1",
    "9" * 40,
    "2026-13-45",
    "+8613800138000",
)
# google.protobuf.Timestamp seconds: inside, at and past the range's ends
_SECONDS = (
    0,
    -1,
    1_767_225_600,  # 2026-01-01
    1_773_100_800,  # 2026-03-10
    -62_135_596_800,  # 0001-01-01
    -62_135_596_801,
    253_402_300_799,  # 9999-12-31T23:59:59
    253_402_300_800,
    _INT64[0],
    _INT64[1],
)


@dataclass(frozen=True)
class Vocabulary:
    """The names a catalog uses (offer, business, area, channel, segment, zone, plan, ...):
    drawn for any string field, so requests reach past the first unknown code."""

    words: tuple[str, ...]
    numbers: tuple[str, ...] = ("13800138000", "075512345678", "01012345678", "0085212345678")
    extra: dict[str, st.SearchStrategy[Any]] = field(default_factory=dict)


def _text(vocabulary: Vocabulary) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(vocabulary.words or ("x",)),
        st.sampled_from(vocabulary.numbers),
        st.sampled_from(_NASTY_TEXT),
        st.text(max_size=12),
    )


def _integers(low: int, high: int) -> st.SearchStrategy[int]:
    edges = sorted(
        {v for e in _EDGES_SIGNED for v in (e, -e) if low <= v <= high} | {low, high, low + 1}
    )
    return st.one_of(st.sampled_from(edges), st.integers(low, high))


_RANGES = {
    d.FieldDescriptor.TYPE_INT32: _INT32,
    d.FieldDescriptor.TYPE_SINT32: _INT32,
    d.FieldDescriptor.TYPE_SFIXED32: _INT32,
    d.FieldDescriptor.TYPE_INT64: _INT64,
    d.FieldDescriptor.TYPE_SINT64: _INT64,
    d.FieldDescriptor.TYPE_SFIXED64: _INT64,
    d.FieldDescriptor.TYPE_UINT32: _UINT32,
    d.FieldDescriptor.TYPE_FIXED32: _UINT32,
    d.FieldDescriptor.TYPE_UINT64: _UINT64,
    d.FieldDescriptor.TYPE_FIXED64: _UINT64,
}


class Generator:
    """Builds and caches one strategy per (message type, depth)."""

    def __init__(self, vocabulary: Vocabulary, max_depth: int = 4, max_repeated: int = 4) -> None:
        self.vocabulary = vocabulary
        self.max_depth = max_depth
        self.max_repeated = max_repeated
        self._cache: dict[tuple[str, int], st.SearchStrategy[pm.Message]] = {}

    def message(self, desc: d.Descriptor, depth: int = 0) -> st.SearchStrategy[pm.Message]:
        key = (desc.full_name, depth)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = self._build(desc, depth)
        return found

    def _build(self, desc: d.Descriptor, depth: int) -> st.SearchStrategy[pm.Message]:
        cls = message_factory.GetMessageClass(desc)
        special = self._well_known(desc)
        if special is not None:
            return special
        if depth >= self.max_depth:
            return st.just(cls())
        fields: dict[str, st.SearchStrategy[Any]] = {}
        for f in desc.fields:
            value = self._field(f, depth)
            if value is not None:
                fields[f.name] = value
        oneofs = {o.name: [f.name for f in o.fields] for o in desc.oneofs if o.fields}

        @st.composite
        def build(draw: st.DrawFn) -> pm.Message:
            out = cls()
            chosen_oneofs = {
                name: draw(st.sampled_from([None, *names])) for name, names in oneofs.items()
            }
            for f in desc.fields:
                if f.name not in fields:
                    continue
                if f.containing_oneof is not None:
                    if chosen_oneofs.get(f.containing_oneof.name) != f.name:
                        continue
                elif not draw(st.booleans()):  # about half the fields stay unset
                    continue
                _assign(out, f, draw(fields[f.name]))
            return out

        return build()

    def _field(self, f: d.FieldDescriptor, depth: int) -> st.SearchStrategy[Any] | None:
        if f.message_type is not None and f.message_type.GetOptions().map_entry:
            key_f = f.message_type.fields_by_name["key"]
            value_f = f.message_type.fields_by_name["value"]
            keys = self._scalar(key_f, depth)
            values = self._single(value_f, depth + 1)
            if keys is None or values is None:
                return None
            return st.dictionaries(keys, values, max_size=3)
        single = self._single(f, depth + 1)
        if single is None:
            return None
        if f.is_repeated:
            return st.lists(single, max_size=self.max_repeated)
        return single

    def _single(self, f: d.FieldDescriptor, depth: int) -> st.SearchStrategy[Any] | None:
        if f.type == d.FieldDescriptor.TYPE_MESSAGE and f.message_type is not None:
            return self.message(f.message_type, depth)
        return self._scalar(f, depth)

    def _scalar(self, f: d.FieldDescriptor, depth: int) -> st.SearchStrategy[Any] | None:
        extra = self.vocabulary.extra.get(f.name)
        if extra is not None:
            return extra
        t = f.type
        if t == d.FieldDescriptor.TYPE_STRING:
            return _text(self.vocabulary)
        if t == d.FieldDescriptor.TYPE_BYTES:
            return st.binary(max_size=64)
        if t == d.FieldDescriptor.TYPE_BOOL:
            return st.booleans()
        if t == d.FieldDescriptor.TYPE_ENUM and f.enum_type is not None:
            numbers = [v.number for v in f.enum_type.values]
            return st.one_of(st.sampled_from(numbers), st.sampled_from([-1, 99, 2**31 - 1]))
        if t in (d.FieldDescriptor.TYPE_DOUBLE, d.FieldDescriptor.TYPE_FLOAT):
            return st.floats(allow_nan=True, allow_infinity=True, width=32)
        if t in _RANGES:
            return _integers(*_RANGES[t])
        return None

    def _well_known(self, desc: d.Descriptor) -> st.SearchStrategy[pm.Message] | None:
        cls: Any = message_factory.GetMessageClass(desc)  # fields by keyword: not typed
        if desc.full_name == "google.protobuf.Timestamp":
            return st.builds(
                lambda s, n: cls(seconds=s, nanos=n),
                st.one_of(st.sampled_from(_SECONDS), st.integers(-(10**11), 3 * 10**11)),
                st.one_of(st.sampled_from([0, 1, 999_999_999, 10**9, -1]), st.integers(0, 10**9)),
            )
        if desc.full_name == "google.type.Decimal":
            values = st.one_of(
                st.sampled_from(["", "0", "0.1", "-1", "1e999999", "NaN", "Infinity", "1.", "x"]),
                st.decimals(allow_nan=False, allow_infinity=False, places=4).map(str),
            )
            return st.builds(lambda v: cls(value=v), values)
        if desc.full_name == "google.protobuf.FieldMask":
            paths = st.lists(
                st.one_of(
                    st.sampled_from(list(self.vocabulary.words[:20]) or ["x"]), st.text(max_size=8)
                ),
                max_size=3,
            )
            return st.builds(lambda p: cls(paths=p), paths)
        return None


def _assign(out: pm.Message, f: d.FieldDescriptor, value: Any) -> None:
    target = getattr(out, f.name)
    if f.message_type is not None and f.message_type.GetOptions().map_entry:
        value_f = f.message_type.fields_by_name["value"]
        for k, v in value.items():
            if value_f.type == d.FieldDescriptor.TYPE_MESSAGE:
                target[k].CopyFrom(v)
            else:
                target[k] = v
        return
    if f.is_repeated:
        if f.type == d.FieldDescriptor.TYPE_MESSAGE:
            for v in value:
                target.add().CopyFrom(v)
        else:
            target.extend(value)
        return
    if f.type == d.FieldDescriptor.TYPE_MESSAGE:
        target.CopyFrom(value)
    else:
        setattr(out, f.name, value)


Path = tuple[tuple[str, int | None], ...]  # (field name, index in a repeated field or None)


def _slots(msg: pm.Message, prefix: Path = ()) -> list[tuple[Path, Any]]:
    """Every field a mutation may replace: each field of each message the seed sets (unset
    ones too, so a mutation can add what a valid request leaves out), and each element of
    its repeated messages."""
    found: list[tuple[Path, Any]] = []  # (path, FieldDescriptor: upb's or the Python one)
    for f in msg.DESCRIPTOR.fields:
        here = (*prefix, (f.name, None))
        found.append((here, f))
        if f.message_type is None or f.message_type.GetOptions().map_entry:
            continue
        if f.is_repeated:
            for index, sub in enumerate(getattr(msg, f.name)):
                found += _slots(sub, (*prefix, (f.name, index)))
        elif msg.HasField(f.name):
            found += _slots(getattr(msg, f.name), here)
    return found


def _replaced(seed: pm.Message, path: Path, f: d.FieldDescriptor, value: Any) -> pm.Message:
    out = type(seed)()
    out.CopyFrom(seed)
    parent: Any = out
    for name, index in path[:-1]:
        parent = getattr(parent, name)
        if index is not None:
            parent = parent[index]
    parent.ClearField(f.name)
    _assign(parent, f, value)
    return out


def requests(
    desc: d.Descriptor, vocabulary: Vocabulary, seeds: Sequence[pm.Message] = ()
) -> st.SearchStrategy[pm.Message]:
    """Any message of type `desc`; with `seeds` (valid requests), also a seed with one field
    anywhere in it replaced by a generated value, so the valid rest carries the request deep
    into the engine and the one generated field is what breaks."""
    generator = Generator(vocabulary)
    generated = generator.message(desc)
    if not seeds:
        return generated

    def mutated(seed: pm.Message) -> st.SearchStrategy[pm.Message]:
        def replace(slot: tuple[Path, d.FieldDescriptor]) -> st.SearchStrategy[pm.Message]:
            path, f = slot
            value = generator._field(f, len(path))
            if value is None:
                return st.just(seed)
            return value.map(lambda v: _replaced(seed, path, f, v))

        return st.sampled_from(_slots(seed)).flatmap(replace)

    once = st.sampled_from(list(seeds)).flatmap(mutated)
    return st.one_of(generated, once, once.flatmap(mutated))
