"""Layout for `tariff fmt`: lines, indentation, wrapping, blank lines and comments.

A statement is written as a list of *chunks*: text that stays on one line, joined by single
spaces. When a statement does not fit in `WIDTH` characters, it is filled greedily and the
rest continues on lines indented `CONTINUATION` spaces deeper (whitespace, newlines included,
may separate any two tokens of the language, so every chunk boundary is a legal break).

Comments are placed by position: an own-line comment goes before the statement that follows
it (at that statement's indentation), a comment at the end of a line that ends a statement
stays at the end of that statement's last line, a comment at the end of a block header stays
after its `{`, and any other comment (inside a statement that is rewritten) moves to its own
line before that statement. Comments after a block's last statement stay before its `}`.
No comment is ever dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from lark import Token, Tree

from dsl.parser import Comment

WIDTH = 100
INDENT = "  "
CONTINUATION = 4

Chunks = list[str]
LarkTree = Tree[Token]
Position = tuple[int, int]


def cat(left: Sequence[str], sep: str, right: Sequence[str]) -> Chunks:
    """`left` and `right` glued by `sep` where they meet (no break allowed there)."""
    if not left:
        return list(right)
    if not right:
        return list(left)
    return [*left[:-1], left[-1] + sep + right[0], *right[1:]]


def wrap(chunks: Sequence[str], indent: int) -> list[str]:
    """Greedy fill of `chunks` into lines no wider than WIDTH where possible."""
    pad = " " * indent
    lines: list[str] = []
    line = pad + chunks[0] if chunks else pad
    for chunk in chunks[1:]:
        if len(line) + 1 + len(chunk) <= WIDTH:
            line += " " + chunk
        else:
            lines.append(line)
            line = " " * (indent + CONTINUATION) + chunk
    lines.append(line)
    return lines


def start_of(tree: LarkTree) -> Position:
    return (tree.meta.line, tree.meta.column)


def end_of(tree: LarkTree) -> Position:
    return (tree.meta.end_line, tree.meta.end_column)


@dataclass
class Placement:
    """Where the comments inside one block go, by index of the block's items."""

    header: list[Comment] = field(default_factory=list)
    leading: dict[int, list[Comment]] = field(default_factory=dict)
    inner: dict[int, list[Comment]] = field(default_factory=dict)
    trailing: dict[int, list[Comment]] = field(default_factory=dict)
    dangling: list[Comment] = field(default_factory=list)


class Layout:
    """The output lines, with the source text for own-line tests and blank lines."""

    def __init__(self, source: str) -> None:
        self.source_lines = source.split("\n")
        self.lines: list[str] = []

    def own_line(self, comment: Comment) -> bool:
        line = self.source_lines[comment.line - 1] if comment.line <= len(self.source_lines) else ""
        return not line[: comment.column - 1].strip()

    def blank_before(self, line: int) -> bool:
        """Whether the source line before `line` is blank."""
        return line >= 2 and not self.source_lines[line - 2].strip()

    def place(
        self, items: Sequence[LarkTree], comments: Sequence[Comment], header_line: int
    ) -> Placement:
        placement = Placement()
        starts = [start_of(item) for item in items]
        for comment in comments:
            pos = (comment.line, comment.column)
            index = -1
            for i, start in enumerate(starts):
                if start <= pos:
                    index = i
            if index < 0:
                if comment.line == header_line and not self.own_line(comment):
                    placement.header.append(comment)
                elif items:
                    placement.leading.setdefault(0, []).append(comment)
                else:
                    placement.dangling.append(comment)
                continue
            item = items[index]
            if pos < end_of(item):
                placement.inner.setdefault(index, []).append(comment)
            elif comment.line == item.meta.end_line and not self.own_line(comment):
                placement.trailing.setdefault(index, []).append(comment)
            elif index + 1 < len(items):
                placement.leading.setdefault(index + 1, []).append(comment)
            else:
                placement.dangling.append(comment)
        return placement

    def blank(self) -> None:
        if self.lines and self.lines[-1] != "":
            self.lines.append("")

    def comment_line(self, comment: Comment, indent: int, first: bool) -> None:
        if not first and self.blank_before(comment.line):
            self.blank()
        self.lines.append(" " * indent + comment.text.rstrip())

    def statement(
        self, chunks: Sequence[str], indent: int, trailing: Sequence[Comment] = ()
    ) -> None:
        lines = wrap(chunks, indent)
        if trailing:
            lines[-1] += "  " + "  ".join(c.text.rstrip() for c in trailing)
        self.lines.extend(lines)

    def text(self) -> str:
        while self.lines and self.lines[-1] == "":
            self.lines.pop()
        return "\n".join(self.lines) + "\n" if self.lines else ""
