"""The one program loader: every generated rule module (eligibility, expressions, composition,
price plans, usage tariffs) is compiled and exec'd here, and nowhere else (issue 16).

A unit's program is cached by the SHA-256 of its key (kind, path, names and the content key
of its tree), in this process and, when `use_program_cache` names a directory, on this
machine (`dsl.program_cache`), so a restart loads it instead of generating it again. Its
synthetic filename (`<rule PATH ...>`) is registered in `linecache`, so a traceback shows the
generated lines, and `Program.span_for_line` maps each back to the rule it came from. `load`
execs a program into a namespace with empty builtins: generated code sees only the runtime
exports it is given and its own hoisted constants.
"""

from __future__ import annotations

import hashlib
import linecache
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from types import CodeType
from typing import Any, TypeVar

from dsl import nodes as n
from dsl.program_cache import ProgramCache
from dsl.runtime import fresh_namespace

__all__ = ["Program", "build_program", "clear_cache", "derived_cache", "digest_of", "load",
           "load_namespace", "use_program_cache"]  # fmt: skip

Build = Callable[[], tuple[str, Mapping[int, n.Span]]]
V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class Program:
    """A compiled unit: its synthetic filename, generated source, code and line map."""

    filename: str
    source: str
    code: CodeType
    line_spans: Mapping[int, n.Span]

    def span_for_line(self, line: int) -> n.Span | None:
        """The rule span a line of the generated source came from."""
        return self.line_spans.get(line)


_CACHE: dict[str, Program] = {}

#: Caches of loaded units kept by the engines (e.g. a price plan's functions): emptied with
#: the programs, so `clear_cache` leaves nothing compiled in this process.
_DERIVED: list[MutableMapping[str, Any]] = []

#: Where compiled programs are kept between processes (`use_program_cache`); None: nowhere.
_DISK: ProgramCache | None = None


def use_program_cache(directory: Path | None) -> ProgramCache | None:
    """Keep compiled programs in `directory` (None: only in this process), so a restart or
    another process on this machine loads them instead of compiling again. Returns the
    cache, or None when the directory cannot be used safely (see `dsl.program_cache`)."""
    global _DISK
    _DISK = None if directory is None else ProgramCache.open(directory)
    return _DISK


def derived_cache(table: dict[str, V]) -> dict[str, V]:
    """Register an engine's table of loaded units, keyed like programs, so `clear_cache`
    empties it too; returns it."""
    _DERIVED.append(table)
    return table


def clear_cache() -> None:
    """Forget every compiled program of this process (not the disk cache's) and every unit
    loaded from one: benchmarks time cold compiles with it."""
    _CACHE.clear()
    for table in _DERIVED:
        table.clear()


def digest_of(key: str) -> str:
    """The in-process name of a unit's key."""
    return hashlib.sha256(key.encode()).hexdigest()


def build_program(key: str, filename: str, build: Build) -> Program:
    """The cached program for `key` (any text naming the unit and its content): `build()`
    gives its source and line spans the first time, unless the disk cache has the program
    already. Raises SyntaxError only for generated source Python refuses (a generator
    bug)."""
    digest = digest_of(key)
    program = _CACHE.get(digest)
    if program is not None:
        return program
    disk = _DISK
    stored_as = ProgramCache.key(key) if disk is not None else ""
    found = disk.get(stored_as) if disk is not None else None
    if found is not None and _registered_otherwise(found[0], found[1]):
        found = None  # its filename shows another program here: compile one of our own
    if found is not None:
        filename, source, spans, code = found
    else:
        source, spans = build()
        if _registered_otherwise(filename, source):
            filename = f"{filename[:-1]}#{digest[:8]}>"
        code = compile(source, filename, "exec")
        if disk is not None:
            disk.put(stored_as, (filename, source, spans, code))
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    program = _CACHE[digest] = Program(filename, source, code, spans)
    return program


def _registered_otherwise(filename: str, source: str) -> bool:
    registered = "".join(linecache.getlines(filename))
    return bool(registered) and registered != source


def load(program: Program, namespace: dict[str, Any]) -> dict[str, Any]:
    """`namespace` (the runtime exports a kind of unit may call) with the program's
    functions and constants exec'd into it; its builtins are emptied first, whatever it
    held, so no generated line reaches a builtin."""
    namespace["__builtins__"] = {}
    exec(program.code, namespace)  # generated from resolved symbols and escaped literals
    return namespace


def load_namespace(program: Program) -> dict[str, Any]:
    """The program's functions, exec'd in a namespace holding only `dsl.runtime`'s
    exports."""
    return load(program, fresh_namespace())
