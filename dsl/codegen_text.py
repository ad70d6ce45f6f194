"""The one way text from rules reaches generated Python source: as a string literal.

Names, codes and strings come from rule authors, and in trees built by tools from anywhere.
Written raw, a quote ends a string literal and a line break ends a comment: Python breaks
lines at CR and LF, and `str.splitlines` (which `linecache` and the line tables of compiled
rules follow) also at VT, FF, FS, GS, RS, NEL, U+2028 and U+2029. So every emitter
(`dsl.compiler`, `dsl.codegen`, `dsl.codegen_prices`, `dsl.codegen_usage`,
`dsl.codegen_composition`) writes such text through `text_literal`, in code and in comments
alike; a comment shows the name as the literal (`# 'youth_plan' at 3:5`).
"""

from __future__ import annotations

__all__ = ["text_literal"]


def text_literal(text: str) -> str:
    """A Python string literal of exactly `text`, on one line, safe in code and in comments.

    `str.__repr__` escapes the quote, the backslash and every character that is not
    printable, and each line break above is not printable; it is called on the str itself,
    so a subclass's own `__repr__` never writes source. Raises TypeError for anything but
    text."""
    if not isinstance(text, str):
        raise TypeError(f"expected text, got {type(text).__name__}")
    return str.__repr__(text)
