"""`tariff fmt`: the canonical layout of every construct, idempotence, meaning and comments."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from dsl.diagnostics import DslError
from dsl.format_layout import WIDTH
from dsl.formatter import format_source
from dsl.parser import parse, parse_with_comments

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE_FILES = sorted(
    [
        *(ROOT / "dsl" / "examples").glob("*.tariff"),
        *(ROOT / "examples" / "starter").rglob("*.tariff"),
    ]
)

#: (input, canonical output): one or more per construct.
CASES: list[tuple[str, str]] = [
    # declarations and blank lines
    ("attribute  customer . vip :bool", "attribute customer.vip: bool\n"),
    (
        "attribute customer.a: bool\nattribute item.b: string\n\n\n\nattribute event.c: int",
        "attribute customer.a: bool\nattribute item.b: string\n\nattribute event.c: int\n",
    ),
    ("offer a {} offer b { }", "offer a {}\n\noffer b {}\n"),
    # eligibility
    (
        'offer youth {eligible all{age:customer.age between 15 and 26 else "age" "too old"\n'
        "ch : channel in {hall,web}}}",
        "offer youth {\n  eligible all {\n"
        '    age: customer.age between 15 and 26 else "age" "too old"\n'
        "    ch: channel in {hall, web}\n  }\n}\n",
    ),
    (
        "offer v { eligible first { when customer.vip_level>=5 : allow when x: deny\n"
        'when y:deny "c" otherwise:deny "a" "b" } }',
        "offer v {\n  eligible first {\n    when customer.vip_level >= 5: allow\n"
        '    when x: deny\n    when y: deny "c"\n    otherwise: deny "a" "b"\n  }\n}\n',
    ),
    # composition
    (
        "offer f { composition { exactly 1 a at least 0 b at most 2 of {c,d} as extras\n"
        '1 .. 3 e else "l" "m" requires a,b excludes c add-on d only with a , b } }',
        "offer f {\n  composition {\n    exactly 1 a\n    at least 0 b\n"
        "    at most 2 of {c, d} as extras\n"
        '    1..3 e else "l" "m"\n    requires a, b\n    excludes c\n'
        "    add-on d only with a, b\n  }\n}\n",
    ),
    # plans: settings, prices, options, alterations
    (
        'plan p "标题" { currency CNY tax 9 % included rounding half_up 2 per event\n'
        "commitment 1 months price a: one_time 58.00 for installation starting now\n"
        "price b: recurring 1_200.00 per months prorated when item.x == true\n"
        "price c: one_time 7 starting next month covering 12 month }",
        'plan p "标题" {\n  currency CNY\n  tax 9% included\n  rounding half_up 2 per event\n'
        "  commitment 1 month\n"
        "  price a: one_time 58.00 for installation starting now\n"
        "  price b: recurring 1_200.00 per month prorated daily when item.x == true\n"
        "  price c: one_time 7 starting next month covering 12 months\n}\n",
    ),
    (
        "plan p { option pay default m { m : price r: recurring 70.00 per month;\n"
        "y: price q: one_time 1 ; price s: one_time 2 } }",
        "plan p {\n  option pay default m {\n    m: price r: recurring 70.00 per month\n"
        "    y: price q: one_time 1; price s: one_time 2\n  }\n}\n",
    ),
    (
        "plan p { discount d:10 % on rent when customer.tenure>=24 months priority 10\n"
        "for 12 months\n"
        'waive x when "f" in cart priority 5 "label" waive w: each a.b override r to 60.00 credit\n'
        "override o: a.b to 1 cap * at 300.00 CNY floor f: r at 30 replaces each a.rent }",
        "plan p {\n"
        "  discount d: 10% on rent when customer.tenure >= 24 months priority 10 for 12 months\n"
        '  waive x when "f" in cart priority 5 "label"\n  waive w: each a.b\n'
        "  override r to 60.00 credit\n  override o: a.b to 1\n  cap * at 300.00 CNY\n"
        "  floor f: r at 30\n  replaces each a.rent\n}\n",
    ),
    # usage
    (
        'plan m { usage v { zones z bands b time zone "Asia/Shanghai" split at band edges\n'
        "rate local peak : 0.15 per 1 minutes increments 60 seconds then 6 s connection 0.05\n"
        "minimum 0.10 maximum 200 when not event.roaming\n"
        "rate intl_* * : 2.00 per 30 sec\n"
        "allowance v300 : 300 minutes per month on local , national in peak\n"
        "rounding up 2 per line cap 60.00 per month } }",
        "plan m {\n  usage v {\n    zones z\n    bands b\n"
        '    time zone "Asia/Shanghai"\n    split at band edges\n'
        "    rate local peak: 0.15 per minute increments 60s then 6s connection 0.05 minimum 0.10"
        " maximum 200\n        when not event.roaming\n"
        "    rate intl_* *: 2.00 per 30s\n"
        "    allowance v300: 300 min per month on local, national in peak\n"
        "    rounding up 2 per line\n    cap 60.00 per month\n  }\n}\n",
    ),
    (
        "plan m { usage d { tiers graduated per month { 0 GB..5 GB : 0.29 per MB\n"
        "5 GB..: 0.1 per 1 MB } rate * * : 1 per messages } }",
        "plan m {\n  usage d {\n    tiers graduated per month {\n"
        "      0 GB .. 5 GB: 0.29 per MB\n      5 GB .. : 0.1 per MB\n    }\n"
        "    rate * *: 1 per message\n  }\n}\n",
    ),
    # calendars, bands, zones
    (
        'calendar c { weekend sat,sun holiday 2026-10-01..2026-10-07 "国庆" workday 2026-10-10 }',
        "calendar c {\n  weekend sat, sun\n"
        '  holiday 2026-10-01 .. 2026-10-07 "国庆"\n  workday 2026-10-10\n}\n',
    ),
    (
        "bands b { calendar c peak : weekdays 8:00..22:00 night: mon,tue 22:00..24:00\n"
        "early: 0:00 .. 08:00:30 off:otherwise }",
        "bands b {\n  calendar c\n  peak: weekdays 08:00 .. 22:00\n"
        "  night: mon, tue 22:00 .. 24:00\n  early: 00:00 .. 08:00:30\n  off: otherwise\n}\n",
    ),
    ('zones z { "0971" : local "00":intl }', 'zones z {\n  "0971": local\n  "00": intl\n}\n'),
    # examples
    (
        "example e { given customer.age=20 , area=GD_SZ given cart=[a with p=q, r=s,\n"
        '2 b, c {d, 3 e} with x=y] given cart = [] given event sms 2 messages to "1"\n'
        "at 2026-03-02T10:00:00+08:00 under m\n"
        'expect eligible a, not eligible b because c, not eligible d because "e",\n'
        "not eligible f expect due now 720.00 CNY , monthly 70, price rent 70.00 CNY\n"
        "expect charge 0.29 CNY, zone local, band peak, allowance used 300 minutes,\n"
        "allowance used v 1 events }",
        "example e {\n  given customer.age = 20, area = GD_SZ\n"
        "  given cart = [a with p = q, r = s, 2 b, c { d, 3 e } with x = y]\n"
        "  given cart = []\n"
        '  given event sms 2 messages to "1" at 2026-03-02T10:00:00+08:00 under m\n'
        '  expect eligible a, not eligible b because c, not eligible d because "e",'
        " not eligible f\n"
        "  expect due now 720.00 CNY, monthly 70, price rent 70.00 CNY\n"
        "  expect charge 0.29 CNY, zone local, band peak, allowance used 300 min,"
        " allowance used v 1 event\n}\n",
    ),
    # expressions: spacing, literals, parentheses as written
    (
        "offer o { eligible all { r: -x*2-(3-1)>=0 and not(a or b)or c/2+1<=d.count(x,y) } }",
        "offer o {\n  eligible all {\n"
        "    r: -x * 2 - (3 - 1) >= 0 and not (a or b) or c / 2 + 1 <= d.count(x, y)\n  }\n}\n",
    ),
    (
        "offer o { eligible all { r: a not between 1 and 2 and b not in {} and c not within GD\n"
        "s: t in 2026-01-01..2026-02-01 and u not in 1..2 and v == true and w != false\n"
        "w: x == 1.50 CNY or y >= 20 % or z < 1 TB or q > 5 min or k >= 3 years } }",
        "",
    ),
    (
        r'offer o { eligible all { r: s == "a\"b\\c\nd\te\u4e2d\u0001" } }',
        "offer o {\n  eligible all {\n"
        r'    r: s == "a\"b\\c\nd\te中\u0001"' + "\n  }\n}\n",
    ),
    # names: backquoted only when needed or when the author backquoted a keyword
    (
        "offer `a` { eligible all { `price`: `x y` in {`z`} } }",
        "offer a {\n  eligible all {\n    `price`: `x y` in {z}\n  }\n}\n",
    ),
    # wrapping at WIDTH
    (
        "offer o { eligible all { r: customer.age >= 18 and customer.vip_level >= 3 "
        'and customer.tenure >= 24 months else "code" "a long message that does not fit" } }',
        "offer o {\n  eligible all {\n"
        "    r: customer.age >= 18 and customer.vip_level >= 3 and customer.tenure >= 24 months\n"
        '        else "code" "a long message that does not fit"\n  }\n}\n',
    ),
]

#: (input, canonical output) for comments in every kind of place.
COMMENT_CASES: list[tuple[str, str]] = [
    ("# only a comment", "# only a comment\n"),
    (
        "# head\n\n# lead\noffer a { # hdr\n  eligible all {\n    # before\n"
        "    r: x # trailing\n    # dangling\n  } # after close\n} # end\n# tail",
        "# head\n\n# lead\noffer a {  # hdr\n  eligible all {\n    # before\n"
        "    r: x  # trailing\n    # dangling\n  }  # after close\n}  # end\n# tail\n",
    ),
    (
        # a comment inside a statement that is rewritten moves before the statement
        'offer a { eligible all { r: x # inside\n else "c" # end\n } }',
        'offer a {\n  eligible all {\n    # inside\n    r: x else "c"  # end\n  }\n}\n',
    ),
    (
        "offer a\n# between name and brace\n{ }",
        "offer a {\n  # between name and brace\n}\n",
    ),
    (
        "example e { given a = 1, # one\n b = 2 # two\n}",
        "example e {\n  # one\n  given a = 1, b = 2  # two\n}\n",
    ),
    ("offer a { # hdr\n}", "offer a {  # hdr\n}\n"),
    ("attribute customer.a: bool   #  spaced  \t", "attribute customer.a: bool  #  spaced\n"),
]


def _check(source: str, expected: str) -> str:
    out = format_source(source, "t.tariff")
    if expected:
        assert out == expected
    assert format_source(out, "t.tariff") == out
    assert parse(out, "t.tariff") == parse(source, "t.tariff")
    return out


@pytest.mark.parametrize(("source", "expected"), CASES)
def test_canonical_layout(source: str, expected: str) -> None:
    _check(source, expected)


@pytest.mark.parametrize(("source", "expected"), COMMENT_CASES)
def test_comments_keep_their_place(source: str, expected: str) -> None:
    _check(source, expected)
    _, before = parse_with_comments(source, "t")
    _, after = parse_with_comments(expected, "t")
    assert [c.text.rstrip() for c in before] == [c.text for c in after]


def test_canonical_output_fits_the_width_where_the_grammar_allows() -> None:
    for source, _ in CASES:
        for line in format_source(source, "t").splitlines():
            assert len(line) <= WIDTH or " " not in line.strip()


def test_a_keyword_name_the_author_did_not_quote_is_quoted_when_needed() -> None:
    source = "plan p { option o default `monthly` { `monthly`: price a: one_time 1 } }"
    assert "`monthly`" in _check(source, "")


def test_syntax_errors_are_raised_not_formatted() -> None:
    with pytest.raises(DslError):
        format_source("offer a { eligible }", "t")


def test_parse_with_comments_leaves_parse_as_it_was() -> None:
    source = '# c\noffer a { eligible all { r: "#" in x } } # d'
    module, comments = parse_with_comments(source, "t")
    assert module == parse(source, "t")
    assert [(c.text, c.line, c.column) for c in comments] == [("# c", 1, 1), ("# d", 2, 42)]


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.name)
def test_example_files_are_canonical(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    assert format_source(source, path.as_posix()) == source


# -- properties ------------------------------------------------------------------------------

SNIPPETS = [expected or format_source(source, "t") for source, expected in CASES] + [
    p.read_text(encoding="utf-8") for p in EXAMPLE_FILES
]


@st.composite
def mutated_sources(draw: st.DrawFn) -> str:
    """Recombined snippets with their lines re-indented, joined and commented at random."""
    picked = draw(st.lists(st.sampled_from(SNIPPETS), min_size=1, max_size=3))
    lines = "\n".join(picked).split("\n")
    out: list[str] = []
    for number, line in enumerate(lines):
        if draw(st.integers(0, 9)) == 0:
            out.append(" " * draw(st.integers(0, 3)) + f"# own {number}")
        line = " " * draw(st.integers(0, 6)) + line.strip()
        if "#" not in line and draw(st.integers(0, 4)) == 0:
            line += f"  # trailing {number}"
        joined = out and "#" not in out[-1] and draw(st.integers(0, 3)) == 0
        if joined:
            out[-1] += " " + line
        else:
            out.append(line)
        if draw(st.integers(0, 7)) == 0:
            out.append("")
    return "\n".join(out)


@settings(max_examples=150, deadline=None)
@given(mutated_sources())
def test_fmt_is_idempotent_and_keeps_meaning_and_comments(source: str) -> None:
    try:
        module, comments = parse_with_comments(source, "t")
    except DslError:
        assume(False)
        raise
    out = format_source(source, "t")
    assert format_source(out, "t") == out
    again, kept = parse_with_comments(out, "t")
    assert again == module
    assert [c.text.rstrip() for c in comments] == [c.text for c in kept]
