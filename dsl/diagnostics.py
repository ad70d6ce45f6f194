"""Problems found in rule sources, and how they are shown to the people who wrote them.

Positions are 1-based; a column counts code points (a tab or a CJK character is one column),
so a position means the same thing in every editor. Only `render` cares about how wide a
character looks: it reproduces tabs and pads wide characters so the caret lands under the spot.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Literal

from dsl.errors import LanguageError

Severity = Literal["error", "warning", "info"]


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem at one place; end_column is exclusive (like `dsl.nodes.Span`)."""

    severity: Severity
    code: str
    message: str
    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    hint: str = ""


class DslError(LanguageError):
    """Raised when a source cannot be used; carries every problem found, not just the first."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics: list[Diagnostic] = list(diagnostics)
        first = self.diagnostics[0] if self.diagnostics else None
        summary = f"{first.path}:{first.line}:{first.column}: {first.message}" if first else "error"
        more = len(self.diagnostics) - 1
        super().__init__(summary + (f" (and {more} more)" if more > 0 else ""))


_SURROGATE = re.compile("[\ud800-\udfff]")


def printable(text: str) -> str:
    """`text` with each lone surrogate (a byte that was not UTF-8, kept by
    `surrogateescape`) shown as U+FFFD: one code point for one, so columns stay right, and
    the text can be written to any UTF-8 stream."""
    return _SURROGATE.sub("\ufffd", text)


#: Characters a terminal may break a shown line at: shown as a space (one column each).
_IN_LINE_BREAKS = dict.fromkeys(map(ord, "\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"), " ")


def _width(char: str) -> int:
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def _pad(prefix: str) -> str:
    """Blank space as wide as `prefix` looks, keeping its tabs."""
    return "".join("\t" if c == "\t" else " " * _width(c) for c in prefix)


def render(diagnostic: Diagnostic, source_text: str) -> str:
    """`path:line:col: severity[code]: message`, the line, a caret and `~` under the span,
    then the hint (docs/dsl.md, "Diagnostics")."""
    d = diagnostic
    out = [f"{d.path}:{d.line}:{d.column}: {d.severity}[{d.code}]: {d.message}"]
    lines = source_text.split("\n")  # as the parser counts lines (not `splitlines`)
    if 1 <= d.line <= len(lines):
        text = lines[d.line - 1].removesuffix("\r").translate(_IN_LINE_BREAKS)
        start = min(max(d.column, 1), len(text) + 1) - 1
        end = d.end_column - 1 if d.end_line == d.line else len(text)
        end = min(max(end, start + 1), max(len(text), start + 1))
        spanned = text[start:end] or " "
        width = sum(_width(c) for c in spanned)
        out.append(text)
        out.append(_pad(text[:start]) + "^" + "~" * (width - 1))
    if d.hint:
        out.append(f"hint: {d.hint}")
    return printable("\n".join(out))


def render_all(diagnostics: Iterable[Diagnostic], source_text: str) -> str:
    """Every diagnostic of one source, in order, separated by blank lines."""
    return "\n\n".join(render(d, source_text) for d in diagnostics)


def to_json(diagnostics: Iterable[Diagnostic]) -> list[dict[str, object]]:
    """Plain dictionaries for `--format json` (field names as in `Diagnostic`)."""
    return [asdict(d) for d in diagnostics]


def suggest(word: str, candidates: Iterable[str]) -> str | None:
    """The closest candidate to a misspelt `word`, for "did you mean" hints, or None."""
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None
