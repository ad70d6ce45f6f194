"""Many rule texts parsed on every core (issue 16): a cold install of a large catalog is
parse-bound, and Lark runs in one thread.

`parse_all` parses the texts the process has not parsed yet in a pool of *spawned* worker
processes (never forked: the server process may have initialised gRPC, which a fork would
break) and puts each result in the parser's cache, where `dsl.parser.parse` finds it. Small
batches, one core, or a pool that cannot start are parsed here, one by one, exactly as
before: the pool changes where a text is parsed, never what it parses to.
"""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing
import os
import zlib
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from threading import Lock

from dsl import parser
from dsl.diagnostics import Diagnostic, DslError
from dsl.node_codec import CodecError, decode_module, encode_module
from dsl.nodes import Module

log = logging.getLogger(__name__)

#: Below this many texts to parse, starting workers (~1 s: an interpreter and Lark each)
#: costs more than it saves.
MIN_TEXTS = 600
CHUNK = 100

#: What a worker sends back for one text: ("m", node_codec JSON, zlib-compressed) for a
#: module, ("e", the diagnostics' fields) for a failed parse, ("x", "") when the module
#: cannot be encoded (the text is then parsed here when asked). Data only: no node object
#: crosses the pipe.
Sent = tuple[str, bytes | str | list[tuple[object, ...]]]

#: The compressed encodings the workers sent, by parse key, until `take_encoded` takes them
#: (`rules.stored_parses` saves exactly these bytes: the store's body format) — so a cold
#: install's save does not encode every module again. Bounded in bytes; the oldest go first.
ENCODED_BYTES = 64 << 20
_ENCODED: OrderedDict[str, bytes] = OrderedDict()
_ENCODED_SIZE = 0
_ENCODED_LOCK = Lock()


def compress(text: str) -> bytes:
    """A module's node_codec JSON as the store keeps it."""
    return zlib.compress(text.encode("utf-8"), 6)


def _parse_chunk(items: Sequence[tuple[str, str]]) -> list[Sent]:
    """In a worker: each (text, path) parsed."""
    results: list[Sent] = []
    for text, path in items:
        try:
            module = parser.parse_uncached(text, path)
        except DslError as error:
            results.append(("e", [dataclasses.astuple(d) for d in error.diagnostics]))
            continue
        try:
            results.append(("m", compress(encode_module(module))))
        except CodecError:
            results.append(("x", ""))
    return results


def _received(sent: Sent) -> Module | tuple[Diagnostic, ...] | None:
    kind, body = sent
    if kind == "m" and isinstance(body, bytes):
        try:
            return decode_module(zlib.decompress(body))
        except zlib.error as error:
            raise CodecError("unreadable") from error
    if kind == "e" and isinstance(body, list):
        return tuple(Diagnostic(*fields) for fields in body)  # type: ignore[arg-type]
    return None


def _keep_encoded(key: str, body: bytes) -> None:
    global _ENCODED_SIZE
    with _ENCODED_LOCK:
        old = _ENCODED.pop(key, None)
        _ENCODED_SIZE += len(body) - (len(old) if old is not None else 0)
        _ENCODED[key] = body
        while _ENCODED_SIZE > ENCODED_BYTES and _ENCODED:
            _, dropped = _ENCODED.popitem(last=False)
            _ENCODED_SIZE -= len(dropped)


def take_encoded(key: str) -> bytes | None:
    """The compressed encoding a worker sent for the module parsed under `key` (once: it is
    forgotten here), or None."""
    global _ENCODED_SIZE
    with _ENCODED_LOCK:
        body = _ENCODED.pop(key, None)
        if body is not None:
            _ENCODED_SIZE -= len(body)
        return body


def forget_encoded() -> None:
    global _ENCODED_SIZE
    with _ENCODED_LOCK:
        _ENCODED.clear()
        _ENCODED_SIZE = 0


def workers() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def parse_all(items: Sequence[tuple[str, str]], processes: int | None = None) -> int:
    """Parse every (text, path) not cached yet, on all cores when there are enough of them;
    how many were parsed in workers (0: none, they are parsed when asked)."""
    wanted = {parser.source_key(t, p): (t, p) for t, p in items}
    missing = [(k, tp) for k, tp in wanted.items() if parser.cached_parse(k) is None]
    count = processes or workers()
    if count < 2 or len(missing) < MIN_TEXTS:
        return 0
    chunks = [missing[i : i + CHUNK] for i in range(0, len(missing), CHUNK)]
    try:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=count, mp_context=context) as pool:
            done = pool.map(_parse_chunk, [[tp for _, tp in chunk] for chunk in chunks])
            for chunk, results in zip(chunks, done, strict=True):
                for (key, _), sent in zip(chunk, results, strict=True):
                    result = _received(sent)
                    if result is not None:
                        parser.remember_parse(key, result)
                    if isinstance(result, Module) and isinstance(sent[1], bytes):
                        _keep_encoded(key, sent[1])
    except (OSError, RuntimeError, CodecError) as error:  # BrokenProcessPool: RuntimeError
        log.warning("parsing in worker processes failed (%s): parsing here", error)
        return 0
    return len(missing)
