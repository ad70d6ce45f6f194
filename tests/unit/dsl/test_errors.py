"""dsl.errors: one root for every exception the language raises (issue 16)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import dsl
from dsl import nodes as n
from dsl.codegen import CompileError
from dsl.diagnostics import DslError
from dsl.errors import LanguageError
from dsl.eval_prices_model import PriceError
from dsl.eval_usage_setup import RatingError
from dsl.format_writer import FormatError
from dsl.node_codec import CodecError
from dsl.runtime import EvalError
from dsl.runtime_usage import Deferred, Rejected


def _exceptions_defined_in_dsl() -> list[type[BaseException]]:
    found = []
    for info in pkgutil.walk_packages(dsl.__path__, "dsl."):
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseException)
                and value.__module__ == module.__name__
            ):
                found.append(value)
    return found


def test_every_exception_of_dsl_has_the_one_root() -> None:
    classes = _exceptions_defined_in_dsl()
    assert len(classes) >= 10
    assert [c.__qualname__ for c in classes if not issubclass(c, LanguageError)] == []


@pytest.mark.parametrize(
    ("raised", "also"),
    [
        (DslError([]), Exception),
        (CompileError("bad", n.Span(1, 1, 1, 2)), Exception),
        (EvalError("bad"), Exception),
        (PriceError("bad"), EvalError),
        (RatingError("malformed", "bad"), Exception),
        (Rejected("malformed", "bad"), Exception),
        (Deferred(), Exception),
        (FormatError("bad"), Exception),
        (CodecError("bad"), ValueError),  # callers catching ValueError keep working
    ],
)
def test_one_clause_catches_each_and_the_old_ones_still_do(
    raised: Exception, also: type[Exception]
) -> None:
    with pytest.raises(LanguageError):
        raise raised
    with pytest.raises(also):
        raise raised
    with pytest.raises(type(raised)):
        raise raised
