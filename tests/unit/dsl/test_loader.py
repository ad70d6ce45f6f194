"""dsl.loader: the one place generated rule code is compiled and exec'd."""

from __future__ import annotations

import ast
import builtins
import traceback
from collections.abc import Iterator
from pathlib import Path

import pytest

from dsl import compile_prices, loader
from dsl import nodes as n
from dsl.compile_prices import compile_plan
from dsl.loader import build_program, clear_cache, load, load_namespace
from tests.unit.dsl.test_eval_prices import BROADBAND, plans_of

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def fresh() -> Iterator[None]:
    clear_cache()
    yield
    clear_cache()


def test_no_other_module_compiles_or_execs_code() -> None:
    found = []
    for package in ("dsl", "rules", "pricing", "catalog", "tariff"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path.parts[-2] == "v1" or path == ROOT / "dsl" / "loader.py":
                continue
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                    continue
                if node.func.id in ("exec", "eval", "compile"):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found == []


def test_loaded_code_reaches_no_builtin_even_when_the_namespace_had_them() -> None:
    program = build_program(
        "unit|loader-a", "<rule loader a>", lambda: ("def f():\n    return len\n", {})
    )
    namespace = load(program, {"__builtins__": builtins})
    assert namespace["__builtins__"] == {}
    with pytest.raises(NameError):
        namespace["f"]()


def test_a_generated_line_maps_back_to_its_rule_and_shows_in_tracebacks() -> None:
    span = n.Span(3, 5, 3, 9)
    source = "def f(x):\n    return 1 // x\n"
    program = build_program("unit|loader-b", "<rule loader b>", lambda: (source, {2: span}))
    assert program.span_for_line(2) == span
    assert program.span_for_line(1) is None
    with pytest.raises(ZeroDivisionError) as raised:
        load_namespace(program)["f"](0)
    shown = "".join(traceback.format_tb(raised.value.__traceback__))
    assert '<rule loader b>", line 2' in shown
    assert "return 1 // x" in shown


def test_clearing_the_cache_forgets_loaded_price_plans_too() -> None:
    plan = plans_of(BROADBAND)["bb"]
    first = compile_plan(plan, "products/bb.tariff")
    assert compile_prices._CODE
    clear_cache()
    assert not compile_prices._CODE
    built: list[str] = []
    real = loader.build_program

    def counting(key: str, filename: str, build: loader.Build) -> loader.Program:
        built.append(key)
        return real(key, filename, build)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(loader, "build_program", counting)
        again = compile_plan(plan, "products/bb.tariff")
    assert built  # compiled again: nothing of the first compile was kept
    assert again.unit.code is not first.unit.code
    assert again.source == first.source
