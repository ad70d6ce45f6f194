"""Whatever is typed, `parse` returns a Module or raises DslError with positioned, plain-words
diagnostics: never a Lark exception, a traceback, a RecursionError or a hang."""

from __future__ import annotations

import random
import re
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dsl.diagnostics import Diagnostic, DslError
from dsl.nodes import Module
from dsl.parser import MAX_DEPTH, _lark, parse
from tests.support.fuzz import fuzz_settings

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = sorted((ROOT / "dsl" / "examples").glob("*.tariff"))
TERMINALS = {t.name for t in _lark().terminals} | {"$END"}


def _without_quoted(message: str) -> str:
    return re.sub(r"`[^`]*`", "", message)


def check(diagnostic: Diagnostic, text: str) -> None:
    """A diagnostic is positioned inside the text and speaks plain words."""
    assert diagnostic.severity == "error"
    assert diagnostic.code in ("syntax", "limit", "encoding")
    lines = text.split("\n")
    assert 1 <= diagnostic.line <= max(len(lines), 1), diagnostic
    assert diagnostic.column >= 1, diagnostic
    assert (diagnostic.end_line, diagnostic.end_column) >= (diagnostic.line, diagnostic.column)
    assert "__ANON" not in diagnostic.message
    words = set(re.findall(r"[$A-Z_][A-Z_]+", _without_quoted(diagnostic.message)))
    assert not words & TERMINALS, diagnostic.message
    assert "Token(" not in diagnostic.message
    assert "Tree(" not in diagnostic.message


def errors(text: str) -> list[Diagnostic]:
    with pytest.raises(DslError) as caught:
        parse(text, "bad.tariff")
    assert caught.value.diagnostics, "a DslError always carries diagnostics"
    for d in caught.value.diagnostics:
        check(d, text)
        assert d.path == "bad.tariff"
    return caught.value.diagnostics


def outcome(text: str) -> Module | list[Diagnostic]:
    try:
        return parse(text, "fuzz.tariff")
    except DslError as error:
        for d in error.diagnostics:
            check(d, text)
        return error.diagnostics


# -- a corpus of mistakes ------------------------------------------------------------------------

CORPUS: list[tuple[str, str, int, int]] = [
    ("offer a { eligible first { when : allow } }", "expected a condition after `when`", 1, 33),
    ("offer a { eligible all { age } }", "a rule needs a name and a condition", 1, 30),
    ("offer a { eligible all { age: } }", "expected a condition after `:`", 1, 31),
    ('offer a { eligible all { r: x == "abc } }', "unterminated string", 1, 34),
    ('offer a { eligible all { r: x == "abc\n" } }', "unterminated string", 1, 34),
    ("example e {\n  given time.date = 2026-13-01\n}", "`2026-13-01` is not a date", 2, 21),
    ("example e { given d = 2026-02-30 }", "`2026-02-30` is not a date", 1, 23),
    ("example e { given t = 24:01 }", "`24:01` is not a time of day", 1, 23),
    ("example e { given t = 12:60 }", "`12:60` is not a time of day", 1, 23),
    ("example e { given t = 2026-03-02T10:00:00 }", "needs a UTC offset", 1, 23),
    ("example e { given t = 2026-03-02T25:00:00+08:00 }", "is not an instant", 1, 23),
    ('example e { given s = "\\q" }', "unknown escape", 1, 24),
    ('example e { given s = "\\u12" }', "is not a character", 1, 24),
    ('example e { given s = "\\ud800" }', "is not a character", 1, 24),
    ("example e { given n = 1__0 }", "`1__0` is not a number", 1, 23),
    ("example e { given n = 1_ }", "`1_` is not a number", 1, 23),
    ("example e { given n = " + "9" * 31 + " }", "more than 30 significant digits", 1, 23),
    ("example e { given n = 0." + "1" * 31 + " }", "more than 30 significant digits", 1, 23),
    ("offer a {", "found the end of the file", 1, 10),
    ("offer a { eligible all { r: x > 1 < 2 } }", "comparisons do not chain", 1, 35),
    ("plan p { price a: 70 }", "`one_time` or `recurring`", 1, 19),
    ("plan p { price a: recurring 70 }", "needs `per PERIOD`", 1, 32),
    ("plan p { price a: recurring 5 per minute }", "must be a calendar period", 1, 35),
    ("plan p { usage u { rate * *: 1 per month } }", "must be a usage unit", 1, 36),
    ("plan p { currency cny }", "upper-case ISO 4217 code", 1, 19),
    ("plan p { usage u { rate local: 0.1 per minute } }", "a zone and a band", 1, 30),
    ("plan p { price a: one_time 1 starting next year }", "`starting next year`", 1, 44),
    ("plan p { price a: one_time 1 for x for y }", "`for` is given twice", 1, 36),
    ("offer a { eligible { } }", "`eligible` needs `all` or `first`", 1, 20),
    ("offer a { eligible first { when x allow } }", "`: allow` or `: deny", 1, 35),
    ("offer a { eligible all { r: x } eligible all { s: y } }", "given twice", 1, 33),
    ("offer a { composition { exactly 1.5 x } }", "whole number", 1, 33),
    ("offer a { @ }", "unexpected character `@`", 1, 11),
    ("offer a { eligible all { r: x !~ y } }", "unexpected `!`", 1, 31),
    ("offer `a { }", "unterminated `quoted` name", 1, 7),
    ("zz", "expected a declaration", 1, 1),
    ("offer", "expected a name after `offer`", 1, 6),
    ("example e { given x == 1 }", "use `=`", 1, 21),
    ("example e { given x = [a] }", "only `cart` takes a list", 1, 19),
    ("example e { given cart = [a = b] }", "an option needs an offer", 1, 27),
    ("attribute customer.x: boolean", "`boolean` is not an attribute type", 1, 23),
    ("attribute person.x: bool", "attributes belong to", 1, 11),
    ("calendar c { weekend saturday }", "expected a day", 1, 22),
    ("bands b { peak: weekdays 08:00 - 09:00 }", "expected", 1, 32),
    ("offer a \x00", "NUL character", 1, 9),
    ("offer a { eligible all { r: x == 1 } }}", "found `}`", 1, 39),
]


@pytest.mark.parametrize(("text", "words", "line", "column"), CORPUS, ids=[c[1] for c in CORPUS])
def test_corpus_of_mistakes(text: str, words: str, line: int, column: int) -> None:
    found = errors(text)
    first = found[0]
    assert words in first.message or words in first.hint, found
    assert (first.line, first.column) == (line, column), found


def test_hints_for_open_braces() -> None:
    [d] = errors("plan p {\n  currency CNY\n")
    assert d.hint == "is a `{` left open?"
    assert (d.line, d.column) == (2, 15)
    keyword = errors("offer a { eligible all { r: x } } plan p { option g default m { m: price } }")
    assert keyword[0].message == "expected a name after `price`, found `}`"


def test_errors_in_later_declarations_are_reported_too() -> None:
    text = (
        "offer a { eligible all { r: x > } }\n"
        "offer ok { eligible all { r: x } }\n"
        "plan b { price x: 1 }\n"
        "offer c {\n"
        "  eligible { }\n"
        "}\n"
        "example d { given t = 2026-13-40 }\n"
    )
    found = errors(text)
    assert [d.line for d in found] == [1, 3, 5, 7]


def test_a_missing_brace_does_not_hide_the_next_declaration() -> None:
    found = errors("offer a { eligible all { r: x }\noffer b { eligible { } }\n")
    assert [d.line for d in found] == [2, 2]
    assert "`eligible` needs" in found[1].message


def test_the_number_of_reported_errors_is_bounded() -> None:
    text = "".join(f"offer a{k} {{ eligible }}\n" for k in range(200))
    assert 1 < len(errors(text)) <= 25


# -- limits ---------------------------------------------------------------------------------------


def test_deep_nesting_is_a_diagnostic_not_a_recursion_error() -> None:
    depth = MAX_DEPTH + 1
    nested = "offer a { eligible all { r: " + "(" * depth + "x" + ")" * depth + " } }"
    [d] = errors(nested)
    assert d.code == "limit"
    assert "nested more than 64 levels" in d.message
    for prefix in ("not ", "-", "(", "{"):
        text = "offer a { eligible all { r: " + prefix * 5000 + "x } }"
        assert errors(text)
    ok = "offer a { eligible all { r: " + "(" * 20 + "x" + ")" * 20 + " } }"
    assert isinstance(parse(ok, "ok.tariff"), Module)


def test_long_chains_are_bounded_too() -> None:
    chain = "offer a { eligible all { r: " + " +\n".join(["1"] * 5000) + " > 0 } }"
    assert errors(chain)[0].code == "limit"
    flat = "offer a { eligible all { r: " + " or\n".join(["x"] * 5000) + " } }"
    assert isinstance(parse(flat, "ok.tariff"), Module)


def test_huge_files_and_long_lines() -> None:
    big = "# " + "x" * 9_000 + "\n"
    [d] = errors(big * 120)
    assert d.code == "limit"
    assert "1 MiB" in d.message
    [d] = errors("offer a { }\n# " + "y" * 10_001 + "\n")
    assert (d.code, d.line) == ("limit", 2)
    assert "line too long" in d.message
    assert isinstance(parse("# " + "y" * 9_990 + "\n", "ok.tariff"), Module)


def test_invalid_utf8_given_as_surrogates() -> None:
    raw = b'offer a { eligible all { r: x == "\xff\xfe" } }'
    text = raw.decode("utf-8", "surrogateescape")
    found = errors(text)
    assert [d.message for d in found] == ["invalid UTF-8 byte 0xFF", "invalid UTF-8 byte 0xFE"]
    assert (found[0].line, found[0].column) == (1, 35)
    assert "lone surrogate" in errors("offer \ud800 { }")[0].message


def test_random_bytes_never_raise_anything_else() -> None:
    rng = random.Random(20260302)
    for _ in range(300):
        raw = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 80)))
        outcome(raw.decode("utf-8", "surrogateescape"))
        outcome(raw.decode("latin-1"))


def test_every_prefix_of_an_example_file() -> None:
    text = (ROOT / "dsl" / "examples" / "broadband.tariff").read_text(encoding="utf-8")
    started = time.monotonic()
    for end in range(len(text) + 1):
        outcome(text[:end])
    assert time.monotonic() - started < 60


# -- fuzzing ---------------------------------------------------------------------------------------

WORDS = [
    "offer", "plan", "calendar", "bands", "zones", "attribute", "example", "eligible", "all",
    "first", "when", "otherwise", "allow", "deny", "else", "composition", "exactly", "at",
    "least", "most", "of", "as", "requires", "excludes", "add-on", "only", "with", "currency",
    "tax", "included", "rounding", "half_up", "per", "event", "price", "one_time", "recurring",
    "for", "starting", "next", "month", "covering", "prorated", "daily", "option", "default",
    "commitment", "discount", "waive", "override", "cap", "floor", "replaces", "each", "on",
    "to", "priority", "credit", "usage", "time", "zone", "split", "band", "edges", "rate",
    "increments", "then", "connection", "minimum", "maximum", "tiers", "graduated", "volume",
    "allowance", "weekend", "holiday", "workday", "weekdays", "given", "expect", "under",
    "because", "due", "now", "monthly", "charge", "used", "and", "or", "not", "between", "in",
    "within", "true", "false", "cart", "customer.age", "x", "亲情1", "CNY", "GB", "s", "min",
    "15", "0.20", "1_000", "20%", "08:00", "24:00", "2026-10-01", "2026-03-02T10:00:00+08:00",
    '"亲情1+"', '"a\\"b"', "`price`", "{", "}", "(", ")", "[", "]", ":", ",", ";", "..", ".",
    "=", "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "%", "#", "\n", " ", '"', "`",
    "\t", "\x00",
]  # fmt: skip

FAST = fuzz_settings(150, database=None)


@FAST
@given(st.lists(st.sampled_from(WORDS), max_size=60).map(" ".join))
def test_fuzz_token_soup(text: str) -> None:
    outcome(text)


@FAST
@given(
    st.text(alphabet='offerplanwhen{}()[]:;,.=<>!+-*/%"`#\n\t 0123456789_亲情GBCNY', max_size=80)
)
def test_fuzz_character_soup(text: str) -> None:
    outcome(text)


@FAST
@given(
    st.sampled_from(EXAMPLES),
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=4000),
            st.integers(min_value=0, max_value=12),
            st.sampled_from([*WORDS, ""]),
        ),
        min_size=1,
        max_size=4,
    ),
)
def test_fuzz_mutated_examples(path: Path, edits: list[tuple[int, int, str]]) -> None:
    text = path.read_text(encoding="utf-8")
    for at, length, insert in edits:
        at %= len(text) + 1
        text = text[:at] + insert + text[at + length :]
    outcome(text)


def test_nested_cart_lines_are_bounded() -> None:
    deep = "example e { given cart = [" + "a { " * 3000 + "b" + " }" * 3000 + "] }"
    [d] = errors(deep)
    assert d.code == "limit"
    ok = "example e { given cart = [" + "a { " * 10 + "b" + " }" * 10 + "] }"
    assert isinstance(parse(ok, "ok.tariff"), Module)


def test_a_unit_word_read_as_a_unit_gets_a_hint() -> None:
    [d] = errors("offer a { eligible all {\n  r: x > 1\n  day: y\n} }")
    assert (d.line, d.column) == (3, 6)
    assert "`day` was read as the unit" in d.hint
    assert isinstance(parse("offer a { eligible all { r: x > 1 `day`: y } }", "ok.tariff"), Module)


def test_every_listed_mistake_is_recognised() -> None:
    from dsl.parser import _EXAMPLES, _example_table

    table = _example_table()
    assert set(table.values()) == set(_EXAMPLES)
    for message, snippets in _EXAMPLES.items():
        for snippet in snippets:
            assert message in errors(snippet)[0].message, snippet
