"""Compiled rule programs kept on this machine's disk, so a restart or another server process
on the same host loads them instead of generating and compiling them again (issue 16).

Generating a unit's Python and `compile()`-ing it is most of what installing a version costs
once the parses come from the store. The store (a database other hosts and tools write to)
holds data only, never code: a compiled program read from it would let whoever can write a
row run Python in every server. This cache is a private directory of the server's own user,
trusted as Python trusts `__pycache__`: created 0700, refused (left unused, with a warning)
when it belongs to another user or others may write to it; each entry is written 0600 to a
temporary file and renamed into place, so readers never see half an entry.

An entry is `marshal` data — (tag, filename, source, line spans, code object) — under the
SHA-256 of the code generated programs depend on (`dsl` and `pricing`, whose steps'
emitted forms the usage generator writes), the bytecode version and the unit's key
(its kind, path, names and canonical tree): any change to the code generators or to
Python is a miss, never a stale program. An entry that is unreadable or of another shape is
a miss and is written again. A cache must not stop a service: every failure to read or
write is a miss.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import marshal
import os
import stat
import tempfile
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from types import CodeType

from dsl import nodes as n

log = logging.getLogger(__name__)

_TAG = "tariff-program-1"

#: (filename, source, line spans, code) of one compiled unit.
Entry = tuple[str, str, Mapping[int, n.Span], CodeType]


def compiler_sources() -> list[Path]:
    """The files a generated program's text depends on: every module of `dsl` (the grammar,
    nodes, checker, generators and runtimes) and of `pricing`, whose steps' emitted-source
    forms the usage generator writes (`pricing.steps`), at any depth."""
    here = Path(__file__).parent
    pricing = here.parent / "pricing"
    return [*sorted(here.rglob("*.py")), here / "grammar.lark", *sorted(pricing.rglob("*.py"))]


@cache
def compiler_digest() -> str:
    """What a generated program depends on besides its unit: `compiler_sources` and the
    bytecode version."""
    digest = hashlib.sha256(_TAG.encode() + importlib.util.MAGIC_NUMBER)
    root = Path(__file__).parent.parent
    for path in compiler_sources():
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def configured_directory(environ: Mapping[str, str] = os.environ) -> Path | None:
    """Where a server keeps its programs: `TARIFF_PROGRAM_CACHE` (a directory, or `off`),
    by default `$XDG_CACHE_HOME/tariff/programs`, else `~/.cache/tariff/programs`."""
    chosen = environ.get("TARIFF_PROGRAM_CACHE", "").strip()
    if chosen.lower() == "off":
        return None
    if chosen:
        return Path(chosen).expanduser()
    base = environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tariff" / "programs"


class ProgramCache:
    """Entries by the digest `dsl.loader.build_program` names a unit with."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @classmethod
    def open(cls, directory: Path) -> ProgramCache | None:
        """The cache in `directory` (created 0700), or None with a warning when it cannot
        be used safely: not a directory, another user's, or writable by others."""
        try:
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            info = directory.lstat()
        except OSError as error:
            log.warning("program cache %s not used: %s", directory, error.strerror or error)
            return None
        if not stat.S_ISDIR(info.st_mode):
            log.warning("program cache %s not used: not a directory", directory)
            return None
        if info.st_uid != os.getuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            log.warning(
                "program cache %s not used: it must be this user's and writable by no one else",
                directory,
            )
            return None
        return cls(directory)

    def _path(self, digest: str) -> Path:
        return self.directory / digest[:2] / digest[2:]

    @staticmethod
    def key(unit_key: str) -> str:
        return hashlib.sha256(f"{compiler_digest()}\0{unit_key}".encode()).hexdigest()

    def get(self, digest: str) -> Entry | None:
        try:
            data = self._path(digest).read_bytes()
        except OSError:
            return None
        try:
            value = marshal.loads(data)
        except (EOFError, ValueError, TypeError):
            return None
        return _entry(value)

    def put(self, digest: str, entry: Entry) -> None:
        filename, source, spans, code = entry
        rows = tuple((k, s.line, s.column, s.end_line, s.end_column) for k, s in spans.items())
        data = marshal.dumps((_TAG, filename, source, rows, code))
        path = self._path(digest)
        try:
            path.parent.mkdir(mode=0o700, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            try:
                with os.fdopen(handle, "wb") as out:
                    out.write(data)
                os.replace(temporary, path)
            except BaseException:
                os.unlink(temporary)
                raise
        except OSError as error:
            log.warning("program cache entry not written: %s", error.strerror or error)

    def clear(self) -> None:
        """Remove every entry (benchmarks time cold installs with an empty cache)."""
        for shard in self.directory.iterdir():
            if shard.is_dir() and len(shard.name) == 2:
                for entry in shard.iterdir():
                    entry.unlink(missing_ok=True)


class SpanRows(Mapping[int, n.Span]):
    """A loaded entry's line spans, made into `Span`s when first read: a program's spans
    only serve error messages, and building them for every program of a version was a
    tenth of a cached install. A row of the wrong shape is left out."""

    __slots__ = ("_rows", "_spans")

    def __init__(self, rows: tuple[object, ...]) -> None:
        self._rows = rows
        self._spans: dict[int, n.Span] | None = None

    def _built(self) -> dict[int, n.Span]:
        spans = self._spans
        if spans is None:
            spans = {}
            for row in self._rows:
                if isinstance(row, tuple) and len(row) == 5 and all(type(v) is int for v in row):
                    spans[row[0]] = n.Span(row[1], row[2], row[3], row[4])
            self._spans = spans
        return spans

    def __getitem__(self, line: int) -> n.Span:
        return self._built()[line]

    def __iter__(self) -> Iterator[int]:
        return iter(self._built())

    def __len__(self) -> int:
        return len(self._built())


def _entry(value: object) -> Entry | None:
    """The entry in a marshal'd value of the expected shape, else None."""
    if not (isinstance(value, tuple) and len(value) == 5 and value[0] == _TAG):
        return None
    _, filename, source, rows, code = value
    if not (isinstance(filename, str) and isinstance(source, str)):
        return None
    if not (isinstance(code, CodeType) and isinstance(rows, tuple)):
        return None
    return filename, source, SpanRows(rows), code
