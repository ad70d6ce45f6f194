"""Parsed rule sources shared through the store, so a restart, another server process or
another replica installs a version without parsing its texts again (issue 16).

Before a version's rules are checked, `warm` fills the parser's in-process cache
(`dsl.parser`) with the store's parses of those texts; after, `save` writes the parses the
store did not have. Entries are `dsl.node_codec` JSON (node data, never code or pickles),
zlib-compressed, keyed by `dsl.parser.source_key` (grammar + limits + path + text): a text
whose stored entry is unreadable, of another format or missing is simply parsed.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable, Iterable, Mapping
from typing import Protocol, TypeVar

from catalog.content import CatalogContent
from catalog.model import CatalogVersionInfo
from dsl import parser
from dsl.node_codec import FORMAT, CodecError, decode_module, encode_module
from dsl.nodes import Module

log = logging.getLogger(__name__)
S = TypeVar("S")


class ParseStore(Protocol):
    """`catalog.parse_store.ParsedRuleStore`, as this module uses it."""

    def get(self, keys: Iterable[str], format: int) -> dict[str, bytes]: ...

    def present(self, keys: Iterable[str], format: int) -> set[str]: ...

    def put(self, entries: Mapping[str, bytes], format: int) -> None: ...


def _keys(content: CatalogContent) -> list[str]:
    return list(
        dict.fromkeys(parser.source_key(s.text, s.path) for _, s in content.all_rule_sources())
    )


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
        """Load the store's parses of `content`'s texts the process lacks; how many."""
        missing = [k for k in _keys(content) if parser.cached_parse(k) is None]
        found = self._store.get(missing, FORMAT)
        self._known(found)
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
        """Write the parses of `content`'s texts that the store lacks; how many."""
        unknown = [k for k in _keys(content) if k not in self._stored]
        self._known(self._store.present(unknown, FORMAT))
        entries: dict[str, bytes] = {}
        for key in unknown:
            found = parser.cached_parse(key)
            if key in self._stored or not isinstance(found, Module):
                continue  # stored already; or not parsed here, or a syntax error
            try:
                entries[key] = zlib.compress(encode_module(found).encode("utf-8"), 6)
            except CodecError:
                continue
        self._store.put(entries, FORMAT)
        self._known(entries)
        return len(entries)

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
