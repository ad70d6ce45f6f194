"""Canonical spelling of the words and literals of the language, for `tariff fmt`.

Numbers keep the digits (and decimals) the author wrote; units get one spelling (`60s`,
`1 min`, `2 h`, `500 ms`, `1 GB`, `1 month`/`3 months`, `1 message`/`10 messages`; after
`per` a count of 1 is left out: `per minute`, `per month`); times of day have two-digit
hours; strings are re-escaped (`\\"`, `\\\\`, `\\n`, `\\t`, `\\uXXXX` for other invisible
characters); names are backquoted only when they must be, or when the author backquoted a
word that is a keyword somewhere in the language.
"""

from __future__ import annotations

import functools
import re

from lark import Token

from dsl.builder import unescape
from dsl.parser import _lark

_DURATION = {
    "ms": "ms",
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), "s"),
    **dict.fromkeys(("min", "mins", "minute", "minutes"), "min"),
    **dict.fromkeys(("h", "hour", "hours"), "h"),
}
#: After `per` without a count: the unit's word.
_PER_WORD = {"ms": "ms", "s": "second", "min": "minute", "h": "hour"}
_COUNTED = ("day", "week", "month", "quarter", "year", "message", "event")
_NAME = re.compile(r"[^\W\d]\w*")
_NOT_NAMES = frozenset(("NAME", "QUOTED_NAME", "STRING", "COMMENT", "WHITESPACE"))


def number(token: Token) -> str:
    return str(token.value)


def _is_one(text: str) -> bool:
    return text == "1"


def unit_word(unit: str, count: str) -> str:
    """`minutes` → `min`; `months` → `month` or `months` by the count."""
    if unit in _DURATION:
        return _DURATION[unit]
    base = unit[:-1] if unit.endswith("s") and unit[:-1] in _COUNTED else unit
    if base in _COUNTED:
        return base if _is_one(count) else base + "s"
    return unit


def measure(num: str, unit: str) -> str:
    """A number with its unit: `60s`, `1 min`, `1.5 GB`, `3 months`."""
    word = unit_word(unit, num)
    return f"{num}{word}" if word == "s" else f"{num} {word}"


def per_unit(num: str | None, unit: str) -> str:
    """What follows `per`: `minute`, `month`, `MB`, `30s`, `2 months`."""
    if num is None or _is_one(num):
        word = unit_word(unit, "1")
        return _PER_WORD.get(word, word)
    return measure(num, unit)


def time_of_day(text: str) -> str:
    hours, _, rest = text.partition(":")
    return f"{int(hours):02d}:{rest}"


def decode_string(token: Token) -> str:
    """The value of a STRING token (the parser has already checked its escapes)."""
    return unescape(token)


def string(value: str) -> str:
    """`value` as a canonical string literal."""
    out: list[str] = []
    for c in value:
        if c == '"':
            out.append('\\"')
        elif c == "\\":
            out.append("\\\\")
        elif c == "\n":
            out.append("\\n")
        elif c == "\t":
            out.append("\\t")
        elif c.isprintable():
            out.append(c)
        elif ord(c) <= 0xFFFF:
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


@functools.cache
def _word_patterns() -> list[re.Pattern[str]]:
    patterns: list[re.Pattern[str]] = []
    for terminal in _lark().terminals:
        if terminal.name in _NOT_NAMES:
            continue
        pattern = terminal.pattern
        text = pattern.value if pattern.type == "re" else re.escape(pattern.value)
        patterns.append(re.compile(text))
    return patterns


@functools.cache
def is_keyword_like(word: str) -> bool:
    """Whether some terminal other than NAME reads `word` (a keyword, a unit, a day, …)."""
    return any(p.fullmatch(word) for p in _word_patterns())


def name(word: str, quoted: frozenset[str], quote_keywords: bool) -> str:
    """A name, backquoted when it is not a plain name, or is a keyword-like word that the
    author backquoted (or every keyword-like word, when `quote_keywords`)."""
    if not _NAME.fullmatch(word):
        return f"`{word}`"
    if is_keyword_like(word) and (quote_keywords or word in quoted):
        return f"`{word}`"
    return word
