"""Text → `dsl.nodes.Module`, or a `DslError` that says in plain words what is wrong and where.

This is the only module that sees Lark's exceptions: everything a user can type ends as a
`Module` or as diagnostics, never a traceback. After a syntax error the parse restarts at the
next declaration that begins a line, so one run reports the problems of several declarations.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from collections import OrderedDict
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from threading import Lock

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from dsl.builder import ModuleBuilder, expression_depth_violation, span_of
from dsl.diagnostics import Diagnostic, DslError
from dsl.nodes import Module

MAX_BYTES = 1 << 20
MAX_LINE = 10_000
MAX_DEPTH = 64
MAX_ERRORS = 25

GRAMMAR = Path(__file__).with_name("grammar.lark")
_DECLARATION_START = re.compile(
    r"^(?:offer|plan|calendar|bands|zones|attribute|example)\b", re.MULTILINE
)
_SURROGATE = re.compile(r"[\ud800-\udfff]")


@functools.cache
def _lark() -> Lark:
    """Built once per process; Lark caches the LALR tables on disk (`cache=True`)."""
    return Lark(
        GRAMMAR.read_text(encoding="utf-8"),
        parser="lalr",
        lexer="contextual",
        propagate_positions=True,
        maybe_placeholders=True,
        cache=True,
    )


#: Parsed modules (or the diagnostics of a failed parse) by `source_key`: a publish checks
#: the rules and then installs them, a restart of the registry or an old version reloaded
#: reads the same texts again; each distinct text is parsed once per process. Bounded (the
#: oldest entry goes first); modules are immutable, so sharing them is safe.
PARSE_CACHE_SIZE = 32_768
_PARSED: OrderedDict[str, Module | tuple[Diagnostic, ...]] = OrderedDict()
_PARSED_LOCK = Lock()


#: The files whose content decides what a text parses to (the store keeps parses across
#: code versions, so the code is part of the key, not only the grammar).
_PARSING_FILES = ("grammar.lark", "parser.py", "builder.py", "nodes.py", "diagnostics.py")


@functools.cache
def _grammar_hash() -> str:
    digest = hashlib.sha256()
    for name in _PARSING_FILES:
        digest.update(GRAMMAR.with_name(name).read_bytes())
    return digest.hexdigest()


def grammar_digest() -> str:
    """What, besides a text and its path, decides what `parse` returns: the grammar, the
    parsing code and the limits. Part of every cache key, so a changed grammar or builder
    never reads an old entry."""
    return f"{_grammar_hash()}:{MAX_BYTES},{MAX_LINE},{MAX_DEPTH},{MAX_ERRORS}"


def source_key(text: str, path: str) -> str:
    """The content hash a parse is cached under: the grammar, the path (it is in every span's
    diagnostics and the module) and the text — never the parse tree."""
    digest = hashlib.sha256(grammar_digest().encode())
    digest.update(b"\0" + path.encode("utf-8", "surrogatepass") + b"\0")
    digest.update(text.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


#: The key each cached module was parsed under, by the module's identity (`key_of`).
_KEY_OF: dict[int, tuple[Module, str]] = {}


def clear_parse_cache() -> None:
    """Forget every cached parse (benchmarks time cold installs with it)."""
    with _PARSED_LOCK:
        _PARSED.clear()
        _KEY_OF.clear()


def key_of(module: Module) -> str | None:
    """The `source_key` a cached module was parsed under (None: not from the cache). Equal
    keys name equal modules, so a compiled unit can be cached under its module's key and
    its place in the module instead of under its whole tree's canonical text."""
    found = _KEY_OF.get(id(module))
    return found[1] if found is not None and found[0] is module else None


def parse(text: str, path: str) -> Module:
    """Parse one rule source; raise `DslError` with every problem found. Each distinct
    (text, path) is parsed once per process; later calls answer from the cache."""
    key = source_key(text, path)
    found = _PARSED.get(key)
    if found is None:
        try:
            found = parse_uncached(text, path)
        except DslError as error:
            found = tuple(error.diagnostics)
        remember_parse(key, found)
    if isinstance(found, Module):
        return found
    raise DslError(list(found))


def remember_parse(key: str, result: Module | tuple[Diagnostic, ...]) -> None:
    """Keep a parse result under `key` (also used to seed the cache from the store)."""
    with _PARSED_LOCK:
        _PARSED[key] = result
        _PARSED.move_to_end(key)
        if isinstance(result, Module):
            _KEY_OF[id(result)] = (result, key)
        while len(_PARSED) > PARSE_CACHE_SIZE:
            _, dropped = _PARSED.popitem(last=False)
            if isinstance(dropped, Module) and dropped is _KEY_OF.get(id(dropped), (None,))[0]:
                del _KEY_OF[id(dropped)]


def cached_parse(key: str) -> Module | tuple[Diagnostic, ...] | None:
    return _PARSED.get(key)


def parse_uncached(text: str, path: str) -> Module:
    """`parse` without the cache."""
    problems = _check_limits(text, path)
    if problems:
        raise DslError(problems)
    if text.startswith("\ufeff"):
        text = " " + text[1:]  # a byte order mark: keep columns, drop the mark
    diagnostics: list[Diagnostic] = []
    tree: Tree[Token] | None = None
    start = 0
    while True:
        chunk = "\n" * text.count("\n", 0, start) + text[start:]
        failure = _parse_tree(chunk, path)
        if isinstance(failure, Tree):
            tree = failure
            break
        diagnostics.append(failure)
        if len(diagnostics) >= MAX_ERRORS:
            break
        restart = _next_declaration(text, start, failure.line, failure.column)
        if restart is None:
            break
        start = restart
    module = _build(tree, path, diagnostics) if tree is not None else None
    if diagnostics or module is None:
        raise DslError(diagnostics)
    return module


@dataclass(frozen=True, slots=True)
class Comment:
    """A `# …` comment (text from `#` to the end of the line) at its 1-based position."""

    text: str
    line: int
    column: int


_COMMENT_SINK: ContextVar[list[Token] | None] = ContextVar("_COMMENT_SINK", default=None)


def _collect_comment(token: Token) -> Token:
    sink = _COMMENT_SINK.get()
    if sink is not None:
        sink.append(token)
    return token


@functools.cache
def _commenting_lark() -> Lark:
    """The same parser, with a lexer callback that sees the (ignored) COMMENT tokens."""
    return Lark(
        GRAMMAR.read_text(encoding="utf-8"),
        parser="lalr",
        lexer="contextual",
        propagate_positions=True,
        maybe_placeholders=True,
        cache=True,
        lexer_callbacks={"COMMENT": _collect_comment},
    )


def parse_tree_with_comments(text: str, path: str) -> tuple[Module, Tree[Token], list[Comment]]:
    """`parse`, plus Lark's parse tree and the comments in source order (for `tariff fmt`).
    Raises `DslError` exactly as `parse` does."""
    module = parse(text, path)
    if text.startswith("\ufeff"):
        text = " " + text[1:]
    sink: list[Token] = []
    reset = _COMMENT_SINK.set(sink)
    try:
        tree = _commenting_lark().parse(text)
    finally:
        _COMMENT_SINK.reset(reset)
    comments = [Comment(str(t.value), t.line or 0, t.column or 0) for t in sink]
    return module, tree, comments


def parse_with_comments(text: str, path: str) -> tuple[Module, list[Comment]]:
    """`parse`, plus every comment with its position, in source order."""
    module, _, comments = parse_tree_with_comments(text, path)
    return module, comments


def _build(tree: Tree[Token], path: str, diagnostics: list[Diagnostic]) -> Module | None:
    deep = expression_depth_violation(tree, MAX_DEPTH)
    if deep is not None:
        span = span_of(deep)
        diagnostics.append(
            Diagnostic(
                "error",
                "limit",
                f"nested more than {MAX_DEPTH} levels deep",
                path,
                span.line,
                span.column,
                span.line,
                span.column + 1,
                "split it into simpler rules",
            )
        )
        return None
    builder = ModuleBuilder(path)
    module = builder.build(tree)
    diagnostics.extend(builder.diagnostics)
    return module


def _check_limits(text: str, path: str) -> list[Diagnostic]:
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_BYTES:
        return [
            Diagnostic(
                "error",
                "limit",
                f"file too large: {size} bytes (the limit is 1 MiB)",
                path,
                1,
                1,
                1,
                2,
                "split the rules into several files",
            )
        ]
    problems: list[Diagnostic] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if len(line) > MAX_LINE:
            problems.append(
                Diagnostic(
                    "error",
                    "limit",
                    f"line too long: {len(line)} characters (the limit is {MAX_LINE})",
                    path,
                    number,
                    MAX_LINE + 1,
                    number,
                    len(line) + 1,
                )
            )
        for match in _SURROGATE.finditer(line):
            code = ord(match.group())
            what = (
                f"invalid UTF-8 byte 0x{code - 0xDC00:02X}"
                if 0xDC80 <= code <= 0xDCFF
                else f"invalid character U+{code:04X} (a lone surrogate)"
            )
            column = match.start() + 1
            problems.append(
                Diagnostic(
                    "error",
                    "encoding",
                    what,
                    path,
                    number,
                    column,
                    number,
                    column + 1,
                    "save the file as UTF-8",
                )
            )
        if len(problems) >= MAX_ERRORS:
            break
    return problems


def _next_declaration(text: str, start: int, line: int, column: int) -> int | None:
    """Offset of the first declaration keyword that starts a line, at or after the error and
    after the current restart point."""
    offset = 0
    for _ in range(line - 1):
        offset = text.find("\n", offset) + 1
        if offset == 0:
            return None
    match = _DECLARATION_START.search(text, max(offset + column - 1, start + 1))
    return match.start() if match else None


def _parse_tree(text: str, path: str) -> Tree[Token] | Diagnostic:
    """The tree, or the diagnostic for the first syntax error (with the token before it).
    Valid text takes Lark's plain parse; only a failure is parsed again interactively, which
    is ~25% slower but knows the token before the error for the message."""
    try:
        tree: Tree[Token] = _lark().parse(text)
        return tree
    except UnexpectedInput:
        pass
    interactive = _lark().parse_interactive(text)
    previous: Token | None = None
    current: Token | None = None
    try:
        for token in interactive.iter_parse():
            previous, current = current, token
        result: Tree[Token] = interactive.feed_eof(current)  # type: ignore[no-untyped-call]
        return result
    except UnexpectedToken as error:
        before = previous if error.token is current else current
        return _token_diagnostic(error, before, path)
    except UnexpectedCharacters as error:
        return _character_diagnostic(error, text, path)
    except UnexpectedInput as error:  # pragma: no cover - other Lark errors are not raised
        line, column = error.line or 1, error.column or 1
        return Diagnostic("error", "syntax", "syntax error", path, line, column, line, column + 1)


# -- messages ------------------------------------------------------------------------------------

_WORDS: dict[str, str] = {
    "NAME": "a name",
    "QUOTED_NAME": "a `quoted` name",
    "STRING": "a string",
    "NUMBER": "a number",
    "DATE": "a date like 2026-10-01",
    "INSTANT": "an instant like 2026-03-02T10:00:00+08:00",
    "TIME_OF_DAY": "a time of day like 08:00",
    "CURRENCY_CODE": "a currency code like `CNY`",
    "PREFIX_PATTERN": "a pattern like `intl_*`",
    "DURATION_UNIT": "a duration unit (`s`, `min`, `h`, `ms`)",
    "PERIOD_UNIT": "a period (`day`, `week`, `month`, `quarter`, `year`)",
    "DATA_UNIT": "a data unit (`B`, `KB`, `MB`, `GB`, `TB`)",
    "COUNT_UNIT": "`message` or `event`",
    "DAY_NAME": "a day (`mon`, `tue`, `wed`, `thu`, `fri`, `sat`, `sun`)",
    "DAY_KIND": "`weekdays`, `weekends` or `holidays`",
    "TAX_MODE": "`included` or `excluded`",
    "ROUNDING_MODE": "a rounding mode (`half_up`, `half_even`, `down`, `up`, `ceiling`, `floor`)",
    "ROUNDING_SCOPE": "`event`, `line` or `total`",
    "TIER_MODE": "`graduated` or `volume`",
    "COMPARE_OP": "a comparison (`==`, `!=`, `<`, `<=`, `>`, `>=`)",
    "EVENT_NAME": "`event`",
    "STAR": "`*`",
    "$END": "the end of the file",
}

#: Sets of terminals said in one phrase (checked in order; a group needs `least` members).
_GROUPS: list[tuple[str, frozenset[str], int]] = [
    (
        "a declaration (`offer`, `plan`, `calendar`, `bands`, `zones`, `attribute` or `example`)",
        frozenset(("_OFFER", "_PLAN", "_CALENDAR", "_BANDS", "_ZONES", "_ATTRIBUTE", "_EXAMPLE")),
        4,
    ),
    (
        "a plan item (`currency`, `tax`, `price`, `option`, `discount`, `waive`, `usage`, …)",
        frozenset(
            (
                "_CURRENCY",
                "_TAX",
                "_ROUNDING",
                "_PRICE",
                "_OPTION",
                "_COMMITMENT",
                "_DISCOUNT",
                "_WAIVE",
                "_OVERRIDE",
                "_CAP",
                "_FLOOR",
                "_REPLACES",
                "_USAGE",
                "_EXAMPLE",
            )
        ),
        4,
    ),
    (
        "a usage item (`rate`, `tiers`, `allowance`, `cap`, `zones`, `bands`, …)",
        frozenset(
            (
                "_ZONES",
                "_BANDS",
                "_TIME",
                "_SPLIT",
                "_RATE",
                "_TIERS",
                "_ALLOWANCE",
                "_CAP",
                "_ROUNDING",
            )
        ),
        4,
    ),
    (
        "an expectation (`eligible`, `not eligible`, `due now`, `monthly`, `price`, `charge`, "
        "`zone`, `band`, `allowance used`)",
        frozenset(("_ELIGIBLE", "_DUE", "_MONTHLY", "_CHARGE", "_ZONE", "_BAND", "_USED")),
        3,
    ),
    (
        "a composition rule (`exactly N`, `at least N`, `at most N`, `N..M`, `requires`, "
        "`excludes`, `add-on`)",
        frozenset(("_EXACTLY", "_AT", "NUMBER", "_REQUIRES", "_EXCLUDES", "_ADD_ON")),
        4,
    ),
    (
        "a rate option (`increments`, `connection`, `minimum`, `maximum`, `when`)",
        frozenset(("_INCREMENTS", "_CONNECTION", "_MINIMUM", "_MAXIMUM")),
        3,
    ),
    (
        "a unit (`CNY`, `%`, `s`, `min`, `month`, `MB`, `message`, …)",
        frozenset(
            ("DURATION_UNIT", "PERIOD_UNIT", "DATA_UNIT", "COUNT_UNIT", "CURRENCY_CODE", "_PERCENT")
        ),
        3,
    ),
]
_OPERATORS = frozenset(
    (
        "COMPARE_OP",
        "_PLUS",
        "_MINUS",
        "STAR",
        "_SLASH",
        "_AND",
        "_OR",
        "_IN",
        "_BETWEEN",
        "_WITHIN",
        "_NOT",
        "_DOT",
        "_LPAREN",
        "_DOTDOT",
    )
)
_VALUE_STARTS = frozenset(
    (
        "NAME",
        "QUOTED_NAME",
        "NUMBER",
        "STRING",
        "DATE",
        "INSTANT",
        "TIME_OF_DAY",
        "_LPAREN",
        "_LBRACE",
        "_MINUS",
        "_TRUE",
        "_FALSE",
        "_NOT",
    )
)


_UNIT_TERMINALS = frozenset(
    ("DURATION_UNIT", "PERIOD_UNIT", "DATA_UNIT", "COUNT_UNIT", "CURRENCY_CODE")
)


def _terminal_words(name: str) -> str:
    if name in _WORDS:
        return _WORDS[name]
    try:
        pattern = _lark().get_terminal(name).pattern
    except KeyError:
        return "something else"
    text = pattern.value.removesuffix(r"\b") if pattern.type == "re" else pattern.value
    return f"`{text}`"


def describe_expected(expected: Iterable[str]) -> str:
    """Plain words for a set of terminal names: `a condition`, `` `:` `` or `a plan item`."""
    names = set(expected) - {"WHITESPACE", "COMMENT"}
    if "NAME" in names:
        names.discard("QUOTED_NAME")  # a backquoted name is a name: no need to say it twice
    phrases: list[str] = []
    if names & {"COMPARE_OP", "_PLUS", "_AND", "_OR"}:
        names -= _OPERATORS
        phrases.append("an operator")
    if {"NUMBER", "STRING", "NAME"} <= names:
        phrases.append("a condition" if "_NOT" in names else "a value")
        names -= _VALUE_STARTS
    for phrase, members, least in _GROUPS:
        if len(names & members) >= least:
            phrases.append(phrase)
            names -= members
    rest = sorted(names, key=lambda n: (n.startswith("_") and len(n) < 10, n))
    phrases.extend(_terminal_words(n) for n in rest)
    phrases = list(dict.fromkeys(phrases))
    if len(phrases) > 6:
        phrases = [*phrases[:5], "…"]
    if len(phrases) == 1:
        return phrases[0]
    return ", ".join(phrases[:-1]) + " or " + phrases[-1]


def _show(token: Token | None) -> str:
    if token is None or token.type == "$END":
        return "the end of the file"
    text = str(token.value)
    if len(text) > 30:
        text = text[:27] + "..."
    return f"`{text}`"


#: Common mistakes: the parser state and token of each example's first error → its message.
_EXAMPLES: dict[str, list[str]] = {
    "a rule needs a name and a condition, as in `age: customer.age >= 18`": [
        "offer a { eligible all { age } }",
        "offer a { eligible all { age customer.age > 1 } }",
        "offer a { eligible all { : x } }",
    ],
    "`eligible` needs `all` or `first`, as in `eligible all { … }`": [
        "offer a { eligible { } }",
        "offer a { eligible any { } }",
    ],
    'a branch ends with `: allow` or `: deny "code" "message"`': [
        "offer a { eligible first { when x allow } }",
        "offer a { eligible first { otherwise allow } }",
    ],
    "a branch needs `allow` or `deny` after `:`": [
        "offer a { eligible first { when x: } }",
        "offer a { eligible first { when x: yes } }",
        "offer a { eligible first { otherwise: } }",
    ],
    "eligible first holds `when COND: …` branches and an `otherwise: …`": [
        "offer a { eligible first { x: allow } }",
    ],
    "a price needs `one_time` or `recurring` before its amount": [
        "plan p { price a: 70 }",
        "plan p { price a: monthly 70 }",
    ],
    "a price needs a name and a colon: `price NAME: one_time AMOUNT`": [
        "plan p { price one_time 70 }",
        "plan p { price a one_time 70 }",
    ],
    "a recurring price needs `per PERIOD`, as in `recurring 70.00 per month`": [
        "plan p { price a: recurring 70 }",
        "plan p { price a: recurring 70 for x }",
    ],
    "a currency is an upper-case ISO 4217 code, as in `currency CNY`": [
        "plan p { currency cny }",
        "plan p { currency 5 }",
    ],
    "a rate needs a zone and a band before `:` (`*` matches any), as in `rate local peak:`": [
        "plan p { usage u { rate local: 0.1 per minute } }",
        "plan p { usage u { rate : 0.1 per minute } }",
    ],
    "comparisons do not chain: use `between … and …` or `and`": [
        "offer a { eligible all { r: 1 < x < 3 } }",
        "offer a { eligible all { r: 1 == x == 3 } }",
    ],
    "use `=` to set a value in `given`": [
        "example e { given x == 1 }",
    ],
    "`given` sets context names, as in `given customer.age = 20, area = GD_SZ`": [
        "example e { given 20 }",
    ],
}


@functools.cache
def _example_table() -> dict[tuple[int, str], str]:
    table: dict[tuple[int, str], str] = {}
    for message, snippets in _EXAMPLES.items():
        for snippet in snippets:
            try:
                _lark().parse(snippet)
            except UnexpectedToken as error:
                key = (_state_of(error), str(error.token.type))
                table.setdefault(key, message)
            except UnexpectedInput:
                continue
    return table


def _state_of(error: UnexpectedToken) -> int:
    state = error.state
    position = getattr(state, "position", state)
    return position if isinstance(position, int) else -1


def _token_diagnostic(error: UnexpectedToken, before: Token | None, path: str) -> Diagnostic:
    token = error.token
    if token.type == "$END":
        anchor = before
        line = (anchor.end_line or 1) if anchor else 1
        column = (anchor.end_column or 1) if anchor else 1
        end_line, end_column = line, column + 1
    else:
        line, column = token.line or 1, token.column or 1
        end_line, end_column = token.end_line or line, token.end_column or column + 1
    found = _show(token)
    expected = {str(e) for e in error.expected}
    known = _example_table().get((_state_of(error), str(token.type)))
    hint = ""
    if known is not None:
        message = f"unexpected {found}: {known}"
    else:
        what = describe_expected(expected)
        after = f" after {_show(before)}" if before is not None else ""
        message = f"expected {what}{after}, found {found}"
    if token.type == "$END" and "_RBRACE" in expected:
        hint = "is a `{` left open?"
    elif token.type == "_COLON" and before is not None and before.type in _UNIT_TERMINALS:
        hint = (
            f"`{before.value}` was read as the unit of the number before it; "
            f"write `` `{before.value}` `` to use it as a name"
        )
    elif token.type != "$END" and _lark_keyword(str(token.value)) and "NAME" in expected:
        hint = f"`{token.value}` is a keyword here; write `` `{token.value}` `` to use it as a name"
    return Diagnostic("error", "syntax", message, path, line, column, end_line, end_column, hint)


def _lark_keyword(word: str) -> bool:
    return any(
        t.name.startswith("_") and t.pattern.type == "re" and t.pattern.value == word + r"\b"
        for t in _lark().terminals
    )


def _character_diagnostic(error: UnexpectedCharacters, text: str, path: str) -> Diagnostic:
    line, column = error.line or 1, error.column or 1
    char = error.char
    hint = ""
    if char == '"':
        message = "unterminated string"
        hint = 'close it with `"` on the same line (write `\\n` for a line break)'
    elif char == "`":
        message = "unterminated `quoted` name"
        hint = "close it with a backquote on the same line"
    elif char == "\x00":
        message = "NUL character (U+0000) is not allowed in a rule source"
    elif char == "!":
        message = "unexpected `!`"
        hint = "write `not` for negation and `!=` for “not equal”"
    elif not char.isprintable() or unicodedata.category(char).startswith("Z"):
        message = f"unexpected character U+{ord(char):04X}"
    else:
        message = f"unexpected character `{char}`"
    return Diagnostic("error", "syntax", message, path, line, column, line, column + 1, hint)
