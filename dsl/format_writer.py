"""The writer of `tariff fmt` (see `dsl.formatter`): walks Lark's parse tree, asking the
tables of `dsl.formatter` for the writer of each grammar rule, and lays statements out with
`dsl.format_layout`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from lark import Token, Tree

from dsl import format_text as text
from dsl.errors import LanguageError
from dsl.format_layout import INDENT, Chunks, LarkTree, Layout, cat
from dsl.parser import Comment

Child = LarkTree | Token | None
Block = Callable[["Writer", LarkTree], tuple[Chunks, list[LarkTree]]]
Statement = Callable[["Writer", LarkTree], Chunks]
Expression = Callable[["Writer", Sequence[Child]], Chunks]


@dataclass(frozen=True, slots=True)
class Tables:
    """Grammar rule → writer: blocks, statements, `given`/`expect` items, options, expressions."""

    blocks: dict[str, Block]
    leaves: dict[str, Statement]
    clause_items: dict[str, Statement]
    options: dict[str, Statement]
    exprs: dict[str, Expression]


class FormatError(LanguageError):
    """The formatter could not write a source without changing it (a formatter bug)."""


def _trees(items: Sequence[Child]) -> list[LarkTree]:
    return [c for c in items if isinstance(c, Tree)]


def _tok(item: Child) -> Token:
    assert isinstance(item, Token)
    return item


def _tree(item: Child) -> LarkTree:
    assert isinstance(item, Tree)
    return item


def _list(items: Sequence[Chunks], last: str = "") -> Chunks:
    """Items separated by `, ` with a break allowed after each comma."""
    out: Chunks = []
    for i, chunks in enumerate(items):
        piece = list(chunks)
        if i < len(items) - 1:
            piece[-1] += ","
        out.extend(piece)
    if out and last:
        out[-1] += last
    return out


def _enclose(opening: str, items: Sequence[Chunks], closing: str) -> Chunks:
    if not items:
        return [opening + closing]
    return cat([opening], "", _list(items, closing))


class Writer:
    """Writes one parsed source in the canonical layout."""

    def __init__(
        self, source: str, quoted: frozenset[str], quote_keywords: bool, tables: Tables
    ) -> None:
        self.tables = tables
        self.layout = Layout(source)
        self.quoted = quoted
        self.quote_keywords = quote_keywords

    # -- structure ---------------------------------------------------------------------------

    def module(self, tree: LarkTree, comments: Sequence[Comment]) -> str:
        items = _trees(tree.children)
        placement = self.layout.place(items, comments, 0)
        self.items(items, placement.leading, placement.inner, placement.trailing, 0, top=True)
        self.dangling(placement.dangling, 0, first=not items)
        return self.layout.text()

    def items(
        self,
        items: Sequence[LarkTree],
        leading: dict[int, list[Comment]],
        inner: dict[int, list[Comment]],
        trailing: dict[int, list[Comment]],
        indent: int,
        top: bool = False,
    ) -> None:
        layout = self.layout
        for i, item in enumerate(items):
            block = str(item.data) in self.tables.blocks
            before = leading.get(i, []) + ([] if block else inner.get(i, []))
            forced = top and i > 0 and not (item.data == items[i - 1].data == "attribute_decl")
            for j, comment in enumerate(before):
                if j == 0 and forced:
                    layout.blank()
                layout.comment_line(comment, indent, first=i == 0 and j == 0)
            if (forced and not before) or (
                (i > 0 or before) and layout.blank_before(item.meta.line)
            ):
                layout.blank()
            self.item(item, inner.get(i, []) if block else [], trailing.get(i, []), indent)

    def dangling(self, comments: Sequence[Comment], indent: int, first: bool) -> None:
        for j, comment in enumerate(comments):
            self.layout.comment_line(comment, indent, first=first and j == 0)

    def item(
        self, tree: LarkTree, inner: Sequence[Comment], trailing: Sequence[Comment], indent: int
    ) -> None:
        rule = str(tree.data)
        if rule not in self.tables.blocks:
            self.layout.statement(self.tables.leaves[rule](self, tree), indent, trailing)
            return
        header, items = self.tables.blocks[rule](self, tree)
        placement = self.layout.place(items, inner, tree.meta.line)
        if not items and not placement.dangling and not placement.header:
            self.layout.statement(cat(header, " ", ["{}"]), indent, trailing)
            return
        self.layout.statement(cat(header, " ", ["{"]), indent, placement.header)
        deeper = indent + len(INDENT)
        self.items(items, placement.leading, placement.inner, placement.trailing, deeper)
        self.dangling(placement.dangling, deeper, first=not items)
        self.layout.statement(["}"], indent, trailing)

    # -- names and literals --------------------------------------------------------------------

    def ident(self, item: Child) -> str:
        tok = _tok(_tree(item).children[0])
        word = tok.value[1:-1] if tok.type == "QUOTED_NAME" else str(tok.value)
        return text.name(word, self.quoted, self.quote_keywords)

    def idents(self, item: Child) -> list[Chunks]:
        return [[self.ident(c)] for c in _trees(_tree(item).children)]

    def dotted(self, item: Child) -> str:
        return ".".join(self.ident(c) for c in _trees(_tree(item).children))

    def measure(self, item: Child) -> str:
        """A `quantity` or `period` tree: NUMBER and a unit."""
        num, unit = _tree(item).children
        return text.measure(_tok(num).value, _tok(unit).value)

    def per(self, item: Child) -> str:
        """A `per_unit` tree, after `per`."""
        num, unit = _tree(item).children
        return text.per_unit(_tok(num).value if num is not None else None, _tok(unit).value)

    def amount(self, item: Child) -> Chunks:
        tree = _tree(item)
        return self.expr(tree.children[0] if tree.data == "amount" else tree)

    def reason(self, item: Child) -> Chunks:
        if item is None:
            return []
        code, message = _tree(item).children
        out = f"else {self.string(code)}"
        return [out if message is None else f"{out} {self.string(message)}"]

    def string(self, item: Child) -> str:
        return text.string(text.decode_string(_tok(item)))

    # -- expressions -----------------------------------------------------------------------------

    def expr(self, item: Child) -> Chunks:
        tree = _tree(item)
        return self.tables.exprs[str(tree.data)](self, tree.children)

    def binary(self, kids: Sequence[Child], word: str) -> Chunks:
        out = self.expr(kids[0])
        for kid in kids[1:]:
            out = [*out, *cat([word], " ", self.expr(kid))]
        return out

    def infix(self, left: Child, op: str, right: Child) -> Chunks:
        return cat(self.expr(left), f" {op} ", self.expr(right))

    def ternary(self, kids: Sequence[Child], first: str, second: str) -> Chunks:
        head = cat(self.expr(kids[0]), f" {first} ", self.expr(kids[1]))
        return cat(head, f" {second} ", self.expr(kids[2]))

    def atom(self, kids: Sequence[Child], render: Callable[..., str]) -> Chunks:
        return [render(*(_tok(k).value for k in kids))]

    # -- statements --------------------------------------------------------------------------------

    def options(self, opts: Sequence[Child]) -> Chunks:
        out: Chunks = []
        for opt in _trees(opts):
            out.extend(self.tables.options[str(opt.data)](self, opt))
        return out

    def target(self, item: Child) -> str:
        tree = _tree(item)
        kind = str(tree.data)
        if kind == "target_all":
            return "*"
        if kind == "target_price":
            return self.ident(tree.children[0])
        joined = ".".join(self.ident(c) for c in tree.children)
        return "each " + joined if kind == "target_each" else joined

    def named(self, word: str, name: Child) -> Chunks:
        return [word] if name is None else [f"{word} {self.ident(name)}:"]

    def alteration(self, t: LarkTree) -> Chunks:
        kind = str(t.data)
        kids = t.children
        if kind == "discount":
            name, amount, target, *opts = kids
            head = [
                f"discount {self.ident(name)}:",
                *self.amount(amount),
                f"on {self.target(target)}",
            ]
        elif kind == "waive":
            name, target, *opts = kids
            head = [*self.named("waive", name), self.target(target)]
        elif kind == "replaces":
            target, *opts = kids
            head = [f"replaces {self.target(target)}"]
        else:
            name, target, amount, *opts = kids
            word = "to" if kind == "override" else "at"
            amount_chunks = cat([word], " ", self.amount(amount))
            head = [*self.named(kind, name), self.target(target), *amount_chunks]
        return [*head, *self.options(opts)]

    def price(self, t: LarkTree) -> Chunks:
        name, body = t.children
        body = _tree(body)
        kind = str(body.data)
        head = cat([f"price {self.ident(name)}: {kind}"], " ", self.amount(body.children[0]))
        opts = list(body.children[1:])
        if kind == "recurring":
            head.append(f"per {self.per(opts.pop(0))}")
        return [*head, *self.options(opts)]

    def rate(self, t: LarkTree) -> Chunks:
        zone, band, price, per, *opts = t.children
        head = f"rate {self.pattern(zone)} {self.pattern(band)}:"
        return [head, *self.amount(price), f"per {self.per(per)}", *self.options(opts)]

    def pattern(self, item: Child) -> str:
        inner = _tree(item).children[0]
        return self.ident(inner) if isinstance(inner, Tree) else str(_tok(inner).value)

    def patterns(self, word: str, item: Child) -> Chunks:
        if item is None:
            return []
        return cat([word], " ", _list([[self.pattern(p)] for p in _tree(item).children]))

    def dates(self, word: str, t: LarkTree) -> Chunks:
        start, end, label = t.children
        head = f"{word} {_tok(start).value}"
        if end is not None:
            head += f" .. {_tok(end).value}"
        return [head] if label is None else [head, self.string(label)]

    def band(self, t: LarkTree) -> Chunks:
        kind = str(t.data)
        head = f"{self.ident(t.children[0])}:"
        if kind == "band_otherwise":
            return [head, "otherwise"]
        out = [head]
        if kind == "band_days":
            days = [[str(_tok(d).value)] for d in _tree(t.children[1]).children]
            out = cat(out, " ", _list(days))
        times = t.children[-1]
        if isinstance(times, Tree):
            low, high = (text.time_of_day(_tok(x).value) for x in times.children)
            out.append(f"{low} .. {high}")
        return out

    def tier(self, t: LarkTree) -> Chunks:
        low, high, price, per = t.children
        bounds = f"{self.measure(low)} .. {self.measure(high)}:" if high else ""
        bounds = bounds or f"{self.measure(low)} .. :"
        return [bounds, *self.amount(price), f"per {self.per(per)}"]

    def option_choice(self, t: LarkTree) -> Chunks:
        prices = [self.price(p) for p in _trees(t.children[1:])]
        out = [f"{self.ident(t.children[0])}:"]
        for i, chunks in enumerate(prices):
            piece = list(chunks)
            if i < len(prices) - 1:
                piece[-1] += ";"
            out.extend(piece)
        return out

    def clause(self, word: str, t: LarkTree) -> Chunks:
        return cat([word], " ", _list([self.clause_item(c) for c in _trees(t.children)]))

    def clause_item(self, t: LarkTree) -> Chunks:
        kind = str(t.data)
        if kind in self.tables.clause_items:
            return self.tables.clause_items[kind](self, t)
        raise FormatError(f"no writer for `{kind}`")

    def given_name(self, item: Child) -> str:
        return ".".join(
            str(c.value) if isinstance(c, Token) else self.ident(c)
            for c in _tree(item).children
            if c is not None
        )

    def cart_item(self, t: LarkTree) -> Chunks:
        if t.data == "cart_option":
            return [f"{self.ident(t.children[0])} = {self.ident(t.children[1])}"]
        qty, offer, *rest = t.children
        out = [self.ident(offer) if qty is None else f"{_tok(qty).value} {self.ident(offer)}"]
        *inside, with_option = rest
        members = [self.cart_item(m) for m in _trees(inside)]
        if members:
            out = cat(out, " ", _enclose("{ ", members, " }"))
        if isinstance(with_option, Tree):
            out.extend(cat(["with"], " ", self.cart_item(with_option)))
        return out

    def event(self, t: LarkTree) -> Chunks:
        _, business, quantity, *opts = t.children
        out = [f"event {self.ident(business)} {self.measure(quantity)}"]
        for opt in _trees(opts):
            value = opt.children[0]
            if opt.data == "event_to":
                out.append(f"to {self.string(value)}")
            elif opt.data == "event_at":
                out.append(f"at {_tok(value).value}")
            else:
                out.append(f"under {self.ident(value)}")
        return out
