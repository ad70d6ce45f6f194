"""Diagnostics render exactly as docs/dsl.md shows them, and serialise for `--format json`.

Columns count code points (a tab or a CJK character is one column); only the caret line pads
for looks: it repeats tabs and puts two spaces under a wide character.
"""

from __future__ import annotations

import json

import pytest

from dsl.diagnostics import Diagnostic, DslError, render, render_all, suggest, to_json
from dsl.parser import parse

DOC_SOURCE = """offer youth_plan {
  eligible all {
    customer.agee between 15 and 26
  }
}
"""


def diag(line: int, column: int, end_line: int, end_column: int, hint: str = "") -> Diagnostic:
    return Diagnostic(
        "error",
        "unknown-name",
        "unknown attribute `customer.agee`",
        "products/youth.tariff",
        line,
        column,
        end_line,
        end_column,
        hint,
    )


def test_render_matches_the_documented_format() -> None:
    text = "    customer.agee between 15 and 26\n"
    d = diag(1, 5, 1, 18, hint="did you mean `customer.age`?")
    assert render(d, text) == (
        "products/youth.tariff:1:5: error[unknown-name]: unknown attribute `customer.agee`\n"
        "    customer.agee between 15 and 26\n"
        "    ^~~~~~~~~~~~~\n"
        "hint: did you mean `customer.age`?"
    )


def test_render_without_hint_and_with_a_one_character_span() -> None:
    d = Diagnostic("warning", "shadowed", "never used", "a.tariff", 3, 5, 3, 6)
    assert render(d, DOC_SOURCE) == (
        "a.tariff:3:5: warning[shadowed]: never used\n    customer.agee between 15 and 26\n    ^"
    )


def test_empty_and_inverted_spans_still_get_a_caret() -> None:
    d = Diagnostic("error", "syntax", "m", "a.tariff", 3, 5, 3, 5)
    assert render(d, DOC_SOURCE).endswith("\n    ^")
    d = Diagnostic("error", "syntax", "m", "a.tariff", 3, 40, 3, 40)  # past the end: clamped
    assert render(d, DOC_SOURCE).splitlines()[-1] == " " * 35 + "^"


def test_a_span_over_several_lines_underlines_to_the_end_of_its_first_line() -> None:
    d = Diagnostic("error", "syntax", "m", "a.tariff", 1, 7, 5, 2)
    assert render(d, DOC_SOURCE).splitlines()[-1] == "      ^~~~~~~~~~~~"


def test_tabs_are_kept_so_the_caret_lines_up() -> None:
    text = "\tprice\t rent: x\n"
    d = Diagnostic("error", "syntax", "m", "a.tariff", 1, 9, 1, 13)
    assert render(d, text).splitlines()[1:] == ["\tprice\t rent: x", "\t     \t ^~~~"]


def test_wide_characters_count_one_column_and_two_cells() -> None:
    text = 'given 名字 = "亲情1+"\n'
    d = Diagnostic("error", "syntax", "m", "a.tariff", 1, 7, 1, 9)
    caret = render(d, text).splitlines()[2]
    assert caret == "      ^~~~"
    d = Diagnostic("error", "syntax", "m", "a.tariff", 1, 12, 1, 18)  # "亲情1+": 6 columns
    assert render(d, text).splitlines()[2] == " " * (6 + 4 + 3) + "^" + "~" * 7  # 8 cells


def test_lines_are_counted_at_newlines_only_as_the_parser_counts_them() -> None:
    text = "# a\u2028b\x0cc\x85d\r\n# e\x0bf\x1cg\x1dh\x1ei\u2029j\r\nlast x\r\n"
    d = Diagnostic("error", "syntax", "m", "a.tariff", 3, 6, 3, 7)
    assert render(d, text).splitlines()[1:] == ["last x", "     ^"]
    d = Diagnostic("error", "syntax", "m", "a.tariff", 2, 3, 2, 4)
    assert render(d, text).split("\n")[1:] == ["# e f g h i j", "  ^"]


def test_positions_outside_the_text_render_the_header_only() -> None:
    d = Diagnostic("error", "syntax", "m", "a.tariff", 99, 1, 99, 2, "h")
    assert render(d, "x\n") == "a.tariff:99:1: error[syntax]: m\nhint: h"
    d = Diagnostic("error", "syntax", "m", "a.tariff", 1, 9, 1, 12)
    assert render(d, "x").splitlines()[1:] == ["x", " ^"]


def test_render_all_separates_problems_with_blank_lines() -> None:
    first = Diagnostic("error", "syntax", "one", "a.tariff", 1, 1, 1, 2)
    second = Diagnostic("error", "syntax", "two", "a.tariff", 2, 1, 2, 2)
    assert render_all([first, second], "a\nb\n") == (
        "a.tariff:1:1: error[syntax]: one\na\n^\n\na.tariff:2:1: error[syntax]: two\nb\n^"
    )
    assert render_all([], "") == ""


def test_parser_diagnostics_render() -> None:
    text = "offer a {\n  eligible first {\n    when : allow\n  }\n}\n"
    with pytest.raises(DslError) as caught:
        parse(text, "rules/a.tariff")
    assert render_all(caught.value.diagnostics, text) == (
        "rules/a.tariff:3:10: error[syntax]: expected a condition after `when`, found `:`\n"
        "    when : allow\n"
        "         ^"
    )
    assert str(caught.value).startswith("rules/a.tariff:3:10: expected a condition")


def test_json_form() -> None:
    d = diag(3, 5, 3, 18, hint="did you mean `customer.age`?")
    data = to_json([d])
    assert data == [
        {
            "severity": "error",
            "code": "unknown-name",
            "message": "unknown attribute `customer.agee`",
            "path": "products/youth.tariff",
            "line": 3,
            "column": 5,
            "end_line": 3,
            "end_column": 18,
            "hint": "did you mean `customer.age`?",
        }
    ]
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data


def test_dsl_error_summarises_its_diagnostics() -> None:
    one = Diagnostic("error", "syntax", "bad", "a.tariff", 1, 2, 1, 3)
    assert str(DslError([one])) == "a.tariff:1:2: bad"
    assert str(DslError([one, one, one])) == "a.tariff:1:2: bad (and 2 more)"
    assert DslError([one]).diagnostics == [one]
    assert str(DslError([])) == "error"


def test_suggest() -> None:
    assert suggest("agee", ["age", "vip_level", "tenure"]) == "age"
    assert suggest("customer.agee", ["customer.age", "customer.type"]) == "customer.age"
    assert suggest("zzz", ["age", "tenure"]) is None
    assert suggest("x", []) is None
