"""dsl.program_cache: compiled programs kept on disk for a restart or another process."""

from __future__ import annotations

import logging
import marshal
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dsl import nodes as n
from dsl import program_cache
from dsl.compiler import compile_eligibility
from dsl.context import CustomerFacts, SaleFacts
from dsl.loader import build_program, clear_cache, use_program_cache
from dsl.parser import parse
from dsl.program_cache import ProgramCache, compiler_sources, configured_directory

RULES = """offer o {
  eligible all {
    adult: customer.age >= 18 else "age" "too young"
  }
}
"""


@pytest.fixture
def folder(tmp_path: Path) -> Iterator[Path]:
    clear_cache()
    yield tmp_path / "programs"
    use_program_cache(None)
    clear_cache()


def _block() -> n.Eligibility:
    decl = parse(RULES, "products/o.tariff").declarations[0]
    assert isinstance(decl, n.OfferDecl)
    assert decl.eligibility is not None
    return decl.eligibility


def _facts(age: int) -> SaleFacts:
    return SaleFacts(CustomerFacts(age=age), "", (), "", datetime(2026, 3, 1, tzinfo=UTC))


def _unbuildable() -> tuple[str, dict[int, n.Span]]:
    raise AssertionError("compiled again: the disk cache was not read")


def test_a_restart_loads_the_program_instead_of_compiling(folder: Path) -> None:
    assert use_program_cache(folder) is not None
    first = compile_eligibility(_block(), "products/o.tariff", offer="o")
    clear_cache()  # a new process: nothing compiled in memory
    again = compile_eligibility(_block(), "products/o.tariff", offer="o")
    assert again.program is not first.program
    assert again.program.source == first.program.source
    assert again.program.line_spans == first.program.line_spans
    assert again.program.filename == first.program.filename
    assert again.check(_facts(17)) == (0,)
    assert again.check(_facts(30)) == ()
    assert again.outcome(_facts(17), trace=True).trace is not None


def test_the_disk_entry_is_used_without_generating(folder: Path) -> None:
    use_program_cache(folder)
    spans = {3: n.Span(1, 2, 1, 9)}
    made = build_program("unit|a", "<rule a>", lambda: ("x = 1\n", spans))
    clear_cache()
    loaded = build_program("unit|a", "<rule a>", _unbuildable)
    assert (loaded.source, dict(loaded.line_spans)) == (made.source, spans)
    namespace: dict[str, object] = {}
    exec(loaded.code, namespace)
    assert namespace["x"] == 1


def test_without_the_cache_every_process_compiles(folder: Path) -> None:
    use_program_cache(folder)
    build_program("unit|b", "<rule b>", lambda: ("x = 2\n", {}))
    use_program_cache(None)
    clear_cache()
    with pytest.raises(AssertionError, match="compiled again"):
        build_program("unit|b", "<rule b>", _unbuildable)


@pytest.mark.parametrize("body", [b"", b"not marshal", b"\xe3\x00\x00"])
def test_an_unreadable_entry_is_compiled_again(folder: Path, body: bytes) -> None:
    cache = use_program_cache(folder)
    assert cache is not None
    build_program("unit|c", "<rule c>", lambda: ("x = 3\n", {}))
    entries = [p for p in folder.rglob("*") if p.is_file()]
    assert len(entries) == 1
    entries[0].write_bytes(body)
    clear_cache()
    again = build_program("unit|c", "<rule c>", lambda: ("x = 3\n", {}))
    assert again.source == "x = 3\n"


def test_an_entry_of_another_shape_is_a_miss(folder: Path) -> None:
    cache = ProgramCache.open(folder)
    assert cache is not None
    digest = ProgramCache.key("unit|d")
    path = folder / digest[:2] / digest[2:]
    path.parent.mkdir(parents=True)
    path.write_bytes(marshal.dumps(("tariff-program-1", "<f>", "x = 1\n", ((1, 2),), None)))
    assert cache.get(digest) is None


def test_entries_are_private(folder: Path) -> None:
    use_program_cache(folder)
    build_program("unit|e", "<rule e>", lambda: ("x = 5\n", {}))
    entry = next(p for p in folder.rglob("*") if p.is_file())
    assert folder.stat().st_mode & 0o777 == 0o700
    assert entry.stat().st_mode & 0o077 == 0
    assert not list(folder.rglob(".tmp-*"))


def test_a_directory_others_may_write_is_not_used(
    folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder.mkdir()
    os.chmod(folder, 0o777)
    with caplog.at_level(logging.WARNING, logger="dsl.program_cache"):
        assert use_program_cache(folder) is None
    assert "writable by no one else" in caplog.text
    build_program("unit|f", "<rule f>", lambda: ("x = 6\n", {}))
    assert not list(folder.iterdir())


def test_a_file_in_the_way_is_not_used(folder: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder.write_text("")
    with caplog.at_level(logging.WARNING, logger="dsl.program_cache"):
        assert use_program_cache(folder) is None
    assert "not used" in caplog.text


def test_another_program_of_the_same_filename_keeps_its_own_lines(folder: Path) -> None:
    use_program_cache(folder)
    build_program("unit|g1", "<rule g>", lambda: ("x = 7\n", {}))
    clear_cache()
    use_program_cache(None)
    here = build_program("unit|g2", "<rule g>", lambda: ("x = 8\n", {}))  # registers <rule g>
    use_program_cache(folder)
    loaded = build_program("unit|g1", "<rule g>", lambda: ("x = 7\n", {}))
    assert loaded.filename != here.filename  # compiled under a name of its own, not clobbered
    assert loaded.source == "x = 7\n"


def test_clear_empties_the_directory(folder: Path) -> None:
    cache = use_program_cache(folder)
    assert cache is not None
    build_program("unit|h", "<rule h>", lambda: ("x = 9\n", {}))
    cache.clear()
    assert not [p for p in folder.rglob("*") if p.is_file()]


def test_the_configured_directory(tmp_path: Path) -> None:
    home = str(tmp_path)
    assert configured_directory({"XDG_CACHE_HOME": home}) == tmp_path / "tariff" / "programs"
    chosen = {"TARIFF_PROGRAM_CACHE": str(tmp_path / "p"), "XDG_CACHE_HOME": home}
    assert configured_directory(chosen) == tmp_path / "p"
    assert configured_directory({"TARIFF_PROGRAM_CACHE": "off"}) is None


def test_the_key_covers_the_code_programs_are_written_from() -> None:
    """The usage generator writes `pricing.steps`' emitted forms: a change there must miss."""
    root = Path(program_cache.__file__).parents[1]
    names = {path.relative_to(root).as_posix() for path in compiler_sources()}
    assert {"dsl/codegen_usage.py", "dsl/loader.py", "dsl/grammar.lark"} <= names
    assert {"pricing/steps/terms.py", "pricing/steps/tiers.py", "pricing/zones.py"} <= names
