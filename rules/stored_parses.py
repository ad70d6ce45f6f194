"""Parsed and checked rules shared through the store, so a restart, another server process
or another replica installs a version without parsing or checking its texts again (issue 16).

Before a version's rules are checked, `warm` fills the parser's in-process cache
(`dsl.parser`) with the store's parses of those texts, and the check memo
(`rules.checking.checked_catalog`) with the store's diagnostics of that very content; after,
`save` writes what the store did not have. Entries are data, never code or pickles:
`dsl.node_codec` JSON for a parse, a JSON list of diagnostics for a check, zlib-compressed.
A parse is keyed by `dsl.parser.source_key` (parsing code + limits + path + text), a check by
`check_key` (the code of `dsl` and the checks + the content's hash). An entry that is
unreadable, of another format or missing is simply computed again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import zlib
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Protocol, TypeVar

from catalog.content import CatalogContent
from catalog.model import CatalogVersionInfo
from dsl import parse_pool, parser
from dsl.diagnostics import Diagnostic
from dsl.node_codec import FORMAT, CodecError, decode_module, encode_module
from dsl.nodes import Module
from dsl.symbols import CatalogNames
from rules import checking
from rules.collector import collector_paused
from rules.names import names_from_content

log = logging.getLogger(__name__)
S = TypeVar("S")


class ParseStore(Protocol):
    """`catalog.parse_store.ParsedRuleStore`, as this module uses it."""

    def get(self, keys: Iterable[str], format: int) -> dict[str, bytes]: ...

    def present(self, keys: Iterable[str], format: int) -> set[str]: ...

    def put(self, entries: Mapping[str, bytes], format: int) -> None: ...


_LAST_KEYS: tuple[CatalogContent, list[str]] | None = None


def _keys(content: CatalogContent) -> list[str]:
    """The parse keys of the content's sources, in order (once per content object)."""
    global _LAST_KEYS
    last = _LAST_KEYS
    if last is not None and last[0] is content:
        return last[1]
    keys = [parser.source_key(s.text, s.path) for _, s in content.all_rule_sources()]
    _LAST_KEYS = (content, keys)
    return keys


@cache
def _checking_code() -> str:
    """The code a check's result depends on: every module of `dsl` (and its grammar) and the
    catalog-side checks."""
    digest = hashlib.sha256()
    dsl_dir = Path(parser.__file__).parent
    here = Path(__file__).parent
    for path in [*sorted(dsl_dir.glob("*.py")), dsl_dir / "grammar.lark"]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    for name in ("checking.py", "names.py"):
        digest.update(name.encode() + b"\0" + (here / name).read_bytes())
    return digest.hexdigest()


def _names_text(names: CatalogNames) -> str:
    """The names a check reads, as canonical text (sets sorted: their order varies by
    process)."""
    offers = [
        [
            o.code,
            o.kind,
            o.plan,
            [[m.offer, m.low, m.high] for m in o.members],
            [[g.name, list(g.offers), g.low, g.high] for g in o.groups],
        ]
        for o in names.offers.values()
    ]
    return json.dumps(
        [
            sorted(names.areas.items()),
            sorted(names.channels),
            sorted(names.segments),
            offers,
            sorted((code, str(measure)) for code, measure in names.businesses.items()),
            sorted((name, sorted(zones)) for name, zones in names.zone_tables.items()),
            sorted(names.plans),
        ],
        ensure_ascii=False,
    )


_LAST_KEY: tuple[CatalogContent, str] | None = None


def check_key(content: CatalogContent) -> str:
    """What a catalog's check result is stored under: the checking code, the source keys in
    order (the first declaration of a name wins) and the catalog names the check reads —
    exactly what `check_catalog` depends on. Computed once per content object."""
    global _LAST_KEY
    last = _LAST_KEY
    if last is not None and last[0] is content:
        return last[1]
    digest = hashlib.sha256(b"check\0" + _checking_code().encode() + b"\0")
    for key in _keys(content):
        digest.update(key.encode())
    digest.update(_names_text(names_from_content(content)).encode("utf-8"))
    key = digest.hexdigest()
    _LAST_KEY = (content, key)
    return key


_DIAGNOSTIC_FIELDS = tuple(f.name for f in dataclasses.fields(Diagnostic))


def encode_diagnostics(diagnostics: Iterable[Diagnostic]) -> bytes:
    rows = [[getattr(d, name) for name in _DIAGNOSTIC_FIELDS] for d in diagnostics]
    text = json.dumps({"format": FORMAT, "diagnostics": rows}, ensure_ascii=False)
    return zlib.compress(text.encode("utf-8"), 6)


def decode_diagnostics(body: bytes) -> list[Diagnostic]:
    """Diagnostics written by `encode_diagnostics`. Raises CodecError otherwise."""
    try:
        document = json.loads(zlib.decompress(body))
    except (ValueError, zlib.error) as error:
        raise CodecError("unreadable diagnostics") from error
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise CodecError("another format version")
    rows = document.get("diagnostics")
    if not isinstance(rows, list):
        raise CodecError("malformed diagnostics")
    found = []
    for row in rows:
        if not isinstance(row, list) or len(row) != len(_DIAGNOSTIC_FIELDS):
            raise CodecError("malformed diagnostic")
        fields = dict(zip(_DIAGNOSTIC_FIELDS, row, strict=True))
        texts = ("severity", "code", "message", "path", "hint")
        numbers = ("line", "column", "end_line", "end_column")
        if not all(isinstance(fields[k], str) for k in texts) or not all(
            type(fields[k]) is int for k in numbers
        ):
            raise CodecError("malformed diagnostic")
        found.append(Diagnostic(**fields))
    return found


class StoredParses:
    """The store's parses, moved into and out of the parser's cache around an install.
    Remembers which keys the store holds (bounded), so saving after a warm reads no bodies."""

    def __init__(self, store: ParseStore) -> None:
        self._store = store
        self._stored: set[str] = set()

    def _known(self, keys: Iterable[str]) -> None:
        if len(self._stored) > 2 * parser.PARSE_CACHE_SIZE:
            self._stored.clear()
        self._stored.update(keys)

    def warm(self, content: CatalogContent) -> int:
        """Load the store's parses of `content`'s texts the process lacks, and its check of
        `content` when it has one; how many parses."""
        missing = [k for k in _keys(content) if parser.cached_parse(k) is None]
        checked = checking.last_checked(content) is not None
        check = "" if checked else check_key(content)
        found = self._store.get([*missing, check] if check else missing, FORMAT)
        result = found.pop(check, None)
        self._known(found)
        with collector_paused():
            loaded = self._load(found)
        if result is not None:
            try:
                checking.remember_checked(content, decode_diagnostics(result))
            except CodecError:
                log.warning("check cache entry %s unreadable: checking again", check[:12])
        return loaded

    @staticmethod
    def _load(found: Mapping[str, bytes]) -> int:
        loaded = 0
        for key, body in found.items():
            try:
                module = decode_module(zlib.decompress(body))
            except (CodecError, zlib.error):
                log.warning("parsed-rule cache entry %s unreadable: parsing its text", key[:12])
                continue
            parser.remember_parse(key, module)
            loaded += 1
        return loaded

    def save(self, content: CatalogContent) -> int:
        """Write the parses of `content`'s texts, and its check, that the store lacks; how
        many parses."""
        unknown = [k for k in _keys(content) if k not in self._stored]
        result = checking.last_checked(content)
        check = check_key(content) if result is not None else ""
        if check and check not in self._stored:
            unknown.append(check)
        self._known(self._store.present(unknown, FORMAT))
        entries: dict[str, bytes] = {}
        if result is not None and check not in self._stored:
            entries[check] = encode_diagnostics(result.diagnostics)
            unknown.remove(check)
        for key in unknown:
            found = parser.cached_parse(key)
            pooled = parse_pool.take_encoded(key)  # a worker's encoding: the same bytes
            if key in self._stored or not isinstance(found, Module):
                continue  # stored already; or not parsed here, or a syntax error
            if pooled is not None:
                entries[key] = pooled
                continue
            try:
                entries[key] = parse_pool.compress(encode_module(found))
            except CodecError:
                continue
        self._store.put(entries, FORMAT)
        self._known(entries)
        return len(entries) - (1 if check in entries else 0)

    def around(
        self, build: Callable[[CatalogVersionInfo, CatalogContent], S]
    ) -> Callable[[CatalogVersionInfo, CatalogContent], S]:
        """`build` with the store's parses loaded before and the new ones saved after."""

        def built(info: CatalogVersionInfo, content: CatalogContent) -> S:
            self.warm(content)
            snapshot = build(info, content)
            self.save(content)
            return snapshot

        return built
