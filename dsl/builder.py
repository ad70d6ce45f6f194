"""Lark parse tree → `dsl.nodes`: the typed tree the checker, compiler and tools work on.

A hand-written walk rather than a Lark Transformer so literal problems (a date that does not
exist, a number too long to be exact) become diagnostics at their own position and the build
carries on to find the next one. Expression depth is bounded by the parser before this runs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Literal, TypeVar, cast, get_args

from lark import Token, Tree

from dsl import nodes as n
from dsl.diagnostics import Diagnostic, suggest

LarkTree = Tree[Token]
Child = LarkTree | Token | None
T = TypeVar("T")

#: More significant digits than this in one literal is a mistake, not a price.
MAX_DIGITS = 30

_NUMBER = re.compile(r"[0-9]+(?:_[0-9]+)*(?:\.[0-9]+(?:_[0-9]+)*)?")
_OFFSET = re.compile(r"(?:Z|[+-][0-9]{2}:?[0-9]{2})$")
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t"}


def unescape(tok: Token, error: Callable[[str, n.Span, str], None] | None = None) -> str:
    """The value of a STRING token; bad escapes go to `error` (message, span, hint) and are
    dropped. Shared by the builder (which reports) and the formatter (which re-reads text
    the parser has already accepted)."""
    raw = str(tok.value)[1:-1]
    out: list[str] = []
    i = 0
    while i < len(raw):  # bounded: every step consumes at least one character
        c = raw[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        esc = raw[i + 1] if i + 1 < len(raw) else ""
        col = (tok.column or 0) + 1 + i
        where = n.Span(tok.line or 0, col, tok.line or 0, col + 2)
        if esc in _ESCAPES:
            out.append(_ESCAPES[esc])
            i += 2
        elif esc == "u":
            digits = raw[i + 2 : i + 6]
            code = int(digits, 16) if re.fullmatch(r"[0-9a-fA-F]{4}", digits) else -1
            if code < 0 or 0xD800 <= code <= 0xDFFF:
                if error is not None:
                    error(
                        f"`\\u{digits}` is not a character",
                        n.Span(where.line, col, where.line, col + 2 + len(digits)),
                        "write `\\u` and four hex digits, e.g. `\\u4e2d`",
                    )
            else:
                out.append(chr(code))
            i += 6
        else:
            if error is not None:
                error(
                    f"unknown escape `\\{esc}` in a string",
                    where,
                    'use `\\"`, `\\\\`, `\\n`, `\\t` or `\\uXXXX`',
                )
            i += 2
    return "".join(out)


_DURATION_UNITS: dict[str, n.DurationUnit] = {
    "ms": "ms",
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), "s"),
    **dict.fromkeys(("min", "mins", "minute", "minutes"), "min"),
    **dict.fromkeys(("h", "hour", "hours"), "h"),
}
_PERIOD_UNITS: dict[str, n.PeriodUnit] = {}
for _unit in get_args(n.PeriodUnit):
    _PERIOD_UNITS[_unit] = _PERIOD_UNITS[_unit + "s"] = _unit
_DATA_UNITS: dict[str, n.DataUnit] = {u: u for u in get_args(n.DataUnit)}
_COUNT_UNITS: dict[str, n.CountUnit] = {
    "message": "message",
    "messages": "message",
    "event": "event",
    "events": "event",
}
_OWNERS = ("customer", "item", "event")
_ATTRIBUTE_TYPES: tuple[str, ...] = get_args(n.AttributeType)
_EXPR_RULES = frozenset(
    (
        "or_",
        "and_",
        "not_",
        "compare",
        "between",
        "not_between",
        "in_",
        "not_in",
        "in_range",
        "not_in_range",
        "within",
        "not_within",
        "add",
        "sub",
        "mul",
        "div",
        "neg",
        "call",
        "set",
        "group",
        "cart_line",
    )
)


def span_of(item: LarkTree | Token) -> n.Span:
    """The node's source span (1-based, end exclusive), from a token or a tree's meta."""
    if isinstance(item, Token):
        return n.Span(item.line or 0, item.column or 0, item.end_line or 0, item.end_column or 0)
    meta = item.meta
    if getattr(meta, "empty", True):
        return n.NOWHERE
    return n.Span(meta.line, meta.column, meta.end_line, meta.end_column)


class Builder:
    """Builds one module; problems accumulate in `diagnostics` instead of stopping the walk."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.diagnostics: list[Diagnostic] = []

    # -- reporting ---------------------------------------------------------------------------

    def error(self, message: str, where: LarkTree | Token | n.Span, hint: str = "") -> None:
        span = where if isinstance(where, n.Span) else span_of(where)
        self.diagnostics.append(
            Diagnostic(
                "error",
                "syntax",
                message,
                self.path,
                span.line,
                span.column,
                span.end_line,
                span.end_column,
                hint,
            )
        )

    # -- small helpers -----------------------------------------------------------------------

    @staticmethod
    def trees(items: Sequence[Child]) -> list[LarkTree]:
        return [c for c in items if isinstance(c, Tree)]

    def ident(self, tree: Child) -> str:
        assert isinstance(tree, Tree)
        tok = tree.children[0]
        assert isinstance(tok, Token)
        return tok.value[1:-1] if tok.type == "QUOTED_NAME" else str(tok.value)

    def ident_list(self, tree: Child) -> tuple[str, ...]:
        assert isinstance(tree, Tree)
        return tuple(self.ident(c) for c in self.trees(tree.children))

    def once(self, current: T | None, new: T, what: str, where: LarkTree) -> T:
        if current is not None:
            self.error(f"{what} is given twice", where, hint="keep only one")
        return new

    # -- literals ----------------------------------------------------------------------------

    def decimal(self, tok: Token) -> Decimal:
        text = str(tok.value)
        if not _NUMBER.fullmatch(text):
            self.error(
                f"`{text}` is not a number", tok, hint="`_` may only separate digits, as in `1_000`"
            )
            text = text.replace("_", "") or "0"
            text = text.rstrip(".") or "0"
        digits = text.replace("_", "")
        significant = digits.replace(".", "").lstrip("0")
        if len(significant) > MAX_DIGITS:
            self.error(f"number too long: more than {MAX_DIGITS} significant digits", tok)
            return Decimal(0)
        return Decimal(digits)

    def integer(self, tok: Token, what: str = "a whole number") -> int:
        value = self.decimal(tok)
        if value != value.to_integral_value() or "." in tok.value:
            self.error(f"expected {what}, found `{tok.value}`", tok)
            return int(value)
        return int(value)

    def string(self, tok: Token) -> str:
        return unescape(tok, self.error)

    def time_of_day(self, tok: Token) -> int:
        parts = [int(p) for p in str(tok.value).split(":")]
        h, m, s = [*parts, 0][:3]
        if m >= 60 or s >= 60 or h > 24 or (h == 24 and (m or s)):
            self.error(f"`{tok.value}` is not a time of day", tok, hint="from 00:00 to 24:00")
            return 0
        return h * 3600 + m * 60 + s

    def date(self, tok: Token) -> date:
        try:
            return date.fromisoformat(str(tok.value))
        except ValueError:
            self.error(
                f"`{tok.value}` is not a date", tok, hint="write YYYY-MM-DD, e.g. 2026-10-01"
            )
            return date(1970, 1, 1)

    def instant(self, tok: Token) -> datetime:
        text = str(tok.value)
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            self.error(f"`{text}` is not an instant", tok, hint="e.g. 2026-03-02T10:00:00+08:00")
            return datetime.fromisoformat("1970-01-01T00:00:00+00:00")
        if value.tzinfo is None or not _OFFSET.search(text):
            self.error(f"`{text}` needs a UTC offset", tok, hint=f"e.g. `{text}+08:00`")
            return value.replace(tzinfo=datetime.fromisoformat("1970-01-01T00:00Z").tzinfo)
        return value

    def unit_literal(self, num: Token | None, unit: Token, span: n.Span) -> n.Expr:
        """`60s`, `3 months`, `1.5 GB`, `10 messages`; `per month` has no number (1)."""
        word = str(unit.value)
        amount = self.decimal(num) if num is not None else Decimal(1)
        if word in _DURATION_UNITS:
            return n.DurationLit(amount=amount, unit=_DURATION_UNITS[word], span=span)
        if word in _DATA_UNITS:
            return n.DataLit(amount=amount, unit=_DATA_UNITS[word], span=span)
        whole = self.integer(num) if num is not None else 1
        if word in _PERIOD_UNITS:
            return n.PeriodLit(count=whole, unit=_PERIOD_UNITS[word], span=span)
        return n.CountLit(amount=whole, unit=_COUNT_UNITS[word], span=span)

    def period_of(self, tree: Child, what: str) -> n.PeriodLit:
        """A `per_unit` or `period` that must be a calendar period (`per month`)."""
        assert isinstance(tree, Tree)
        num, unit = tree.children
        assert isinstance(unit, Token)
        lit = self.unit_literal(cast(Token | None, num), unit, span_of(tree))
        if isinstance(lit, n.PeriodLit):
            return lit
        self.error(
            f"{what} must be a calendar period, found `{unit.value}`",
            unit,
            hint="e.g. `per month`, `12 months`",
        )
        return n.PeriodLit(count=1, unit="month", span=lit.span)

    def usage_unit(self, tree: Child, what: str) -> n.DurationLit | n.DataLit | n.CountLit:
        """A `per_unit` or `quantity` that must measure usage (`per minute`, `1 KB`)."""
        assert isinstance(tree, Tree)
        num, unit = tree.children if len(tree.children) == 2 else (None, tree.children[0])
        assert isinstance(unit, Token)
        lit = self.unit_literal(cast(Token | None, num), unit, span_of(tree))
        if isinstance(lit, n.DurationLit | n.DataLit | n.CountLit):
            return lit
        self.error(
            f"{what} must be a usage unit, found `{unit.value}`",
            unit,
            hint="a duration (`min`), a data size (`MB`) or a count (`message`)",
        )
        return n.CountLit(amount=1, unit="event", span=lit.span)

    # -- expressions ---------------------------------------------------------------------------

    def expr(self, item: Child) -> n.Expr:
        assert isinstance(item, Tree)
        rule = str(item.data)
        kids = item.children
        span = span_of(item)
        method = getattr(self, "x_" + rule, None)
        if method is not None:
            return cast(n.Expr, method(kids, span))
        raise AssertionError(f"no builder for expression rule {rule}")

    def amount(self, item: Child) -> n.Expr:
        """An amount where money is expected: a bare number is money in the plan's currency."""
        assert isinstance(item, Tree)
        inner = item.children[0] if item.data == "amount" else item
        value = self.expr(inner)
        if isinstance(value, n.IntLit | n.DecimalLit):
            return n.MoneyLit(amount=Decimal(value.value), currency="", span=value.span)
        return value

    def x_or_(self, kids: list[Child], span: n.Span) -> n.Expr:
        return n.Or(operands=tuple(self.expr(k) for k in kids), span=span)

    def x_and_(self, kids: list[Child], span: n.Span) -> n.Expr:
        return n.And(operands=tuple(self.expr(k) for k in kids), span=span)

    def x_not_(self, kids: list[Child], span: n.Span) -> n.Expr:
        return n.Not(operand=self.expr(kids[0]), span=span)

    def x_compare(self, kids: list[Child], span: n.Span) -> n.Expr:
        op = cast(n.CompareOp, str(cast(Token, kids[1]).value))
        return n.Compare(op=op, left=self.expr(kids[0]), right=self.expr(kids[2]), span=span)

    def _between(self, kids: list[Child], span: n.Span, negated: bool) -> n.Expr:
        return n.Between(
            value=self.expr(kids[0]),
            low=self.expr(kids[1]),
            high=self.expr(kids[2]),
            negated=negated,
            span=span,
        )

    def x_between(self, kids: list[Child], span: n.Span) -> n.Expr:
        return self._between(kids, span, False)

    def x_not_between(self, kids: list[Child], span: n.Span) -> n.Expr:
        return self._between(kids, span, True)

    def x_in_range(self, kids: list[Child], span: n.Span) -> n.Expr:
        return self._between(kids, span, False)

    def x_not_in_range(self, kids: list[Child], span: n.Span) -> n.Expr:
        return self._between(kids, span, True)

    def x_in_(self, kids: list[Child], span: n.Span) -> n.Expr:
        return n.In(value=self.expr(kids[0]), container=self.expr(kids[1]), span=span)

    def x_not_in(self, kids: list[Child], span: n.Span) -> n.Expr:
        return n.In(value=self.expr(kids[0]), container=self.expr(kids[1]), negated=True, span=span)

    def x_within(self, kids: list[Child], span: n.Span) -> n.Expr:
        return n.Within(value=self.expr(kids[0]), area=self.expr(kids[1]), span=span)

    def x_not_within(self, kids: list[Child], span: n.Span) -> n.Expr:
        return n.Within(value=self.expr(kids[0]), area=self.expr(kids[1]), negated=True, span=span)

    def _arith(self, op: n.ArithOp, left: Child, right: Child, span: n.Span) -> n.Expr:
        return n.Arith(op=op, left=self.expr(left), right=self.expr(right), span=span)

    def x_add(self, kids: list[Child], span: n.Span) -> n.Expr:
        return self._arith("+", kids[0], kids[1], span)

    def x_sub(self, kids: list[Child], span: n.Span) -> n.Expr:
        return self._arith("-", kids[0], kids[1], span)

    def x_mul(self, kids: list[Child], span: n.Span) -> n.Expr:
        return self._arith("*", kids[0], kids[2], span)

    def x_div(self, kids: list[Child], span: n.Span) -> n.Expr:
        return self._arith("/", kids[0], kids[1], span)

    def x_neg(self, kids: list[Child], span: n.Span) -> n.Expr:
        return n.Neg(operand=self.expr(kids[0]), span=span)

    def x_group(self, kids: list[Child], span: n.Span) -> n.Expr:
        return self.expr(kids[0])

    def x_number(self, kids: list[Child], span: n.Span) -> n.Expr:
        tok = cast(Token, kids[0])
        value = self.decimal(tok)
        if "." in tok.value:
            return n.DecimalLit(value=value, span=span)
        return n.IntLit(value=int(value), span=span)

    def x_money(self, kids: list[Child], span: n.Span) -> n.Expr:
        amount = self.decimal(cast(Token, kids[0]))
        return n.MoneyLit(amount=amount, currency=str(cast(Token, kids[1]).value), span=span)

    def x_percent(self, kids: list[Child], span: n.Span) -> n.Expr:
        return n.PercentLit(value=self.decimal(cast(Token, kids[0])), span=span)

    def _unit_atom(self, kids: list[Child], span: n.Span) -> n.Expr:
        return self.unit_literal(cast(Token, kids[0]), cast(Token, kids[1]), span)

    x_duration = x_period_lit = x_data_size = x_count = _unit_atom

    def x_time_of_day(self, kids: list[Child], span: n.Span) -> n.Expr:
        return n.TimeOfDayLit(seconds=self.time_of_day(cast(Token, kids[0])), span=span)

    def x_date(self, kids: list[Child], span: n.Span) -> n.Expr:
        return n.DateLit(value=self.date(cast(Token, kids[0])), span=span)

    def x_instant(self, kids: list[Child], span: n.Span) -> n.Expr:
        return n.InstantLit(value=self.instant(cast(Token, kids[0])), span=span)

    def x_string(self, kids: list[Child], span: n.Span) -> n.Expr:
        return n.StringLit(value=self.string(cast(Token, kids[0])), span=span)

    def x_true(self, kids: list[Child], span: n.Span) -> n.Expr:
        return n.BoolLit(value=True, span=span)

    def x_false(self, kids: list[Child], span: n.Span) -> n.Expr:
        return n.BoolLit(value=False, span=span)

    def dotted(self, tree: Child) -> n.Name:
        assert isinstance(tree, Tree)
        return n.Name(parts=self.ident_list(tree), span=span_of(tree))

    def x_name(self, kids: list[Child], span: n.Span) -> n.Expr:
        return self.dotted(kids[0])

    def x_call(self, kids: list[Child], span: n.Span) -> n.Expr:
        head = kids[0]
        assert isinstance(head, Tree)
        parts = self.trees(head.children)
        names = tuple(self.ident(p) for p in parts)
        args = tuple(self.expr(k) for k in kids[1:] if k is not None)
        if len(names) < 2:
            self.error(f"`{names[0]}(…)` needs a receiver, as in `cart.count(x)`", head)
            target = n.Name(parts=names, span=span_of(head))
            return n.Call(target=target, method=names[0], args=args, span=span)
        first, last = span_of(parts[0]), span_of(parts[-2])
        target_span = n.Span(first.line, first.column, last.end_line, last.end_column)
        target = n.Name(parts=names[:-1], span=target_span)
        return n.Call(target=target, method=names[-1], args=args, span=span)

    def x_set(self, kids: list[Child], span: n.Span) -> n.Expr:
        return n.SetLit(items=tuple(self.expr(k) for k in kids if k is not None), span=span)


class ModuleBuilder(Builder):
    """Declarations: one `d_RULE` method per grammar rule, each returning its node."""

    def build(self, tree: LarkTree) -> n.Module:
        decls = tuple(cast(n.Declaration, self.node(d)) for d in self.trees(tree.children))
        return n.Module(path=self.path, declarations=decls, span=span_of(tree))

    def node(self, tree: Child) -> object:
        assert isinstance(tree, Tree)
        method = getattr(self, "d_" + str(tree.data), None)
        assert method is not None, f"no builder for {tree.data}"
        return cast(Callable[[LarkTree], object], method)(tree)

    def reason(self, tree: Child) -> n.Reason | None:
        if tree is None:
            return None
        assert isinstance(tree, Tree)
        code, message = tree.children
        return n.Reason(
            code=self.string(cast(Token, code)),
            message=self.string(message) if isinstance(message, Token) else "",
            span=span_of(tree),
        )

    # -- offers --------------------------------------------------------------------------------

    def d_offer_decl(self, t: LarkTree) -> n.OfferDecl:
        eligibility: n.Eligibility | None = None
        composition: n.Composition | None = None
        examples: list[n.Example] = []
        for item in self.trees(t.children[1:]):
            built = self.node(item)
            if isinstance(built, n.Eligibility):
                eligibility = self.once(eligibility, built, "`eligible`", item)
            elif isinstance(built, n.Composition):
                composition = self.once(composition, built, "`composition`", item)
            else:
                examples.append(cast(n.Example, built))
        return n.OfferDecl(
            code=self.ident(t.children[0]),
            eligibility=eligibility,
            composition=composition,
            examples=tuple(examples),
            span=span_of(t),
        )

    def d_eligible_all(self, t: LarkTree) -> n.Eligibility:
        rules = tuple(self.d_elig_rule(r) for r in self.trees(t.children))
        return n.Eligibility(mode="all", rules=rules, span=span_of(t))

    def d_elig_rule(self, t: LarkTree) -> n.Rule:
        name, cond, reason = t.children
        return n.Rule(
            name=self.ident(name),
            condition=self.expr(cond),
            reason=self.reason(reason),
            span=span_of(t),
        )

    def d_eligible_first(self, t: LarkTree) -> n.Eligibility:
        branches: list[n.Branch] = []
        for b in self.trees(t.children):
            verdict = b.children[-1]
            assert isinstance(verdict, Tree)
            cond = self.expr(b.children[0]) if b.data == "when_branch" else None
            allow = verdict.data == "allow"
            reason = None
            if not allow and isinstance(verdict.children[0], Token):
                message = verdict.children[1]
                reason = n.Reason(
                    code=self.string(verdict.children[0]),
                    message=self.string(message) if isinstance(message, Token) else "",
                    span=span_of(verdict),
                )
            branches.append(n.Branch(condition=cond, allow=allow, reason=reason, span=span_of(b)))
        return n.Eligibility(mode="first", branches=tuple(branches), span=span_of(t))

    def cardinality(self, t: Child) -> n.Cardinality:
        assert isinstance(t, Tree)
        nums = [self.integer(cast(Token, c), "a whole number of lines") for c in t.children]
        low, high = {
            "card_exactly": (nums[0], nums[0]),
            "card_at_least": (nums[0], None),
            "card_at_most": (0, nums[0]),
        }.get(str(t.data), (nums[0], nums[-1]))
        return n.Cardinality(low=low, high=high, span=span_of(t))

    def d_composition(self, t: LarkTree) -> n.Composition:
        rules = tuple(cast(n.CompositionRule, self.node(r)) for r in self.trees(t.children))
        return n.Composition(rules=rules, span=span_of(t))

    def d_member_one(self, t: LarkTree) -> n.MemberRule:
        card, offer, reason = t.children
        return n.MemberRule(
            cardinality=self.cardinality(card),
            offers=(self.ident(offer),),
            reason=self.reason(reason),
            span=span_of(t),
        )

    def d_member_group(self, t: LarkTree) -> n.MemberRule:
        card, offers, group, reason = t.children
        return n.MemberRule(
            cardinality=self.cardinality(card),
            offers=self.ident_list(offers),
            group=self.ident(group) if group is not None else "",
            reason=self.reason(reason),
            span=span_of(t),
        )

    def d_requires_rule(self, t: LarkTree) -> n.RequiresRule:
        offers, reason = t.children
        return n.RequiresRule(
            offers=self.ident_list(offers), reason=self.reason(reason), span=span_of(t)
        )

    def d_excludes_rule(self, t: LarkTree) -> n.ExcludesRule:
        offers, reason = t.children
        return n.ExcludesRule(
            offers=self.ident_list(offers), reason=self.reason(reason), span=span_of(t)
        )

    def d_addon_rule(self, t: LarkTree) -> n.AddOnRule:
        addon, bases, reason = t.children
        return n.AddOnRule(
            addon=self.ident(addon),
            bases=self.ident_list(bases),
            reason=self.reason(reason),
            span=span_of(t),
        )

    # -- plans -----------------------------------------------------------------------------------

    def d_plan_decl(self, t: LarkTree) -> n.PlanDecl:
        name, title, *rest = t.children
        items: list[n.PlanItem] = []
        examples: list[n.Example] = []
        for item in self.trees(rest):
            built = self.node(item)
            if isinstance(built, n.Example):
                examples.append(built)
            else:
                items.append(cast(n.PlanItem, built))
        return n.PlanDecl(
            name=self.ident(name),
            title=self.string(title) if isinstance(title, Token) else "",
            items=tuple(items),
            examples=tuple(examples),
            span=span_of(t),
        )

    def d_currency(self, t: LarkTree) -> n.Currency:
        return n.Currency(code=str(cast(Token, t.children[0]).value), span=span_of(t))

    def d_tax(self, t: LarkTree) -> n.Tax:
        num, mode = (cast(Token, c) for c in t.children)
        first = span_of(num)
        rate_span = n.Span(first.line, first.column, first.end_line, first.end_column + 1)
        rate = n.PercentLit(value=self.decimal(num), span=rate_span)
        return n.Tax(rate=rate, included=mode.value == "included", span=span_of(t))

    def d_rounding(self, t: LarkTree) -> n.Rounding:
        mode, decimals, scope = t.children
        return n.Rounding(
            mode=cast(n.RoundingMode, str(cast(Token, mode).value)),
            decimals=self.integer(cast(Token, decimals), "a whole number of decimals"),
            scope=cast(n.RoundingScope, str(scope.value) if isinstance(scope, Token) else "line"),
            span=span_of(t),
        )

    def d_commitment(self, t: LarkTree) -> n.Commitment:
        return n.Commitment(term=self.period_of(t.children[0], "a commitment"), span=span_of(t))

    def d_price(self, t: LarkTree) -> n.Price:
        name, body = t.children
        assert isinstance(body, Tree)
        fields: dict[str, object] = {}
        opts = self.trees(body.children[1:])
        if body.data == "recurring":
            fields["period"] = self.period_of(opts.pop(0), "a recurring price's `per`")
        for opt in opts:
            key, value = self.price_option(opt)
            if key in fields:
                self.error(f"`{_OPTION_WORDS[key]}` is given twice", opt, hint="keep only one")
            fields[key] = value
        return n.Price(
            name=self.ident(name),
            kind=cast('Literal["one_time", "recurring"]', str(body.data)),
            amount=self.amount(body.children[0]),
            span=span_of(t),
            **fields,  # type: ignore[arg-type]
        )

    def price_option(self, opt: LarkTree) -> tuple[str, object]:
        kind = str(opt.data)
        if kind == "price_for":
            return "business", self.ident(opt.children[0])
        if kind == "starting_now":
            return "starting", "now"
        if kind == "starting_next":
            unit = cast(Token, opt.children[0])
            if unit.value != "month":
                self.error(
                    f"`starting next {unit.value}` is not supported",
                    unit,
                    hint="write `starting next month` or `starting now`",
                )
            return "starting", "next_period"
        if kind == "price_covering":
            return "covering", self.period_of(opt.children[0], "`covering`")
        if kind == "price_prorated":
            return "prorated", True
        return "condition", self.expr(opt.children[0])

    def d_option_group(self, t: LarkTree) -> n.OptionGroup:
        name, default, *choices = t.children
        built = tuple(
            n.OptionChoice(
                name=self.ident(c.children[0]),
                prices=tuple(self.d_price(p) for p in self.trees(c.children[1:])),
                span=span_of(c),
            )
            for c in self.trees(choices)
        )
        return n.OptionGroup(
            name=self.ident(name), default=self.ident(default), choices=built, span=span_of(t)
        )

    def target(self, t: Child) -> n.PriceTarget:
        assert isinstance(t, Tree)
        span = span_of(t)
        if t.data == "target_all":
            return n.PriceTarget(price="*", span=span)
        if t.data == "target_price":
            return n.PriceTarget(price=self.ident(t.children[0]), span=span)
        offer, price = (self.ident(c) for c in t.children)
        return n.PriceTarget(price=price, offer=offer, each=t.data == "target_each", span=span)

    def alteration(
        self,
        t: LarkTree,
        kind: n.AlterationKind,
        name: Child,
        target: Child,
        amount: Child,
        opts: Sequence[Child],
        replaces: bool = False,
    ) -> n.Alteration:
        fields: dict[str, object] = {}
        for opt in self.trees(opts):
            key, value = self.alteration_option(opt)
            if key in fields:
                self.error(f"`{_OPTION_WORDS[key]}` is given twice", opt, hint="keep only one")
            fields[key] = value
        return n.Alteration(
            kind=kind,
            name=self.ident(name) if name is not None else "",
            target=self.target(target),
            amount=self.amount(amount) if amount is not None else None,
            replaces=replaces,
            span=span_of(t),
            **fields,  # type: ignore[arg-type]
        )

    def alteration_option(self, opt: LarkTree) -> tuple[str, object]:
        kind = str(opt.data)
        if kind == "alt_when":
            return "condition", self.expr(opt.children[0])
        if kind == "alt_priority":
            return "priority", self.integer(cast(Token, opt.children[0]), "a whole priority")
        if kind == "alt_for":
            return "duration", self.period_of(opt.children[0], "`for`")
        if kind == "alt_label":
            return "label", self.string(cast(Token, opt.children[0]))
        return "credit", True

    def d_discount(self, t: LarkTree) -> n.Alteration:
        name, amount, target, *opts = t.children
        return self.alteration(t, "discount", name, target, amount, opts)

    def d_waive(self, t: LarkTree) -> n.Alteration:
        name, target, *opts = t.children
        return self.alteration(t, "waive", name, target, None, opts)

    def d_override(self, t: LarkTree) -> n.Alteration:
        name, target, amount, *opts = t.children
        return self.alteration(t, "override", name, target, amount, opts)

    def d_cap(self, t: LarkTree) -> n.Alteration:
        name, target, amount, *opts = t.children
        return self.alteration(t, "cap", name, target, amount, opts)

    def d_floor(self, t: LarkTree) -> n.Alteration:
        name, target, amount, *opts = t.children
        return self.alteration(t, "floor", name, target, amount, opts)

    def d_replaces(self, t: LarkTree) -> n.Alteration:
        target, *opts = t.children
        return self.alteration(t, "waive", None, target, None, opts, replaces=True)

    # -- usage -----------------------------------------------------------------------------------

    def d_usage(self, t: LarkTree) -> n.Usage:
        fields: dict[str, object] = {}
        rates: list[n.Rate] = []
        allowances: list[n.Allowance] = []
        caps: list[n.Cap] = []
        for item in self.trees(t.children[1:]):
            kind = str(item.data)
            if kind == "rate":
                rates.append(self.d_rate(item))
            elif kind == "allowance":
                allowances.append(self.d_allowance(item))
            elif kind == "usage_cap":
                caps.append(self.d_usage_cap(item))
            else:
                key, value = self.usage_setting(item)
                if key in fields:
                    self.error(f"`{_OPTION_WORDS[key]}` is given twice", item, hint="keep only one")
                fields[key] = value
        return n.Usage(
            business=self.ident(t.children[0]),
            rates=tuple(rates),
            allowances=tuple(allowances),
            caps=tuple(caps),
            span=span_of(t),
            **fields,  # type: ignore[arg-type]
        )

    def usage_setting(self, item: LarkTree) -> tuple[str, object]:
        kind = str(item.data)
        if kind == "usage_zones":
            return "zones", self.ident(item.children[0])
        if kind == "usage_bands":
            return "bands", self.ident(item.children[0])
        if kind == "usage_time_zone":
            return "time_zone", self.string(cast(Token, item.children[0]))
        if kind == "usage_split":
            return "split", True
        if kind == "tiers":
            return "tiers", self.d_tiers(item)
        return "rounding", self.d_rounding(item)

    def pattern(self, t: Child) -> n.Pattern:
        assert isinstance(t, Tree)
        inner = t.children[0]
        text = self.ident(inner) if isinstance(inner, Tree) else str(inner.value)
        return n.Pattern(text=text, span=span_of(t))

    def d_rate(self, t: LarkTree) -> n.Rate:
        zone, band, price, per, *opts = t.children
        fields: dict[str, object] = {}
        for opt in self.trees(opts):
            kind = str(opt.data)
            if kind == "rate_increments":
                first, then = opt.children
                pairs: list[tuple[str, object]] = [
                    ("first_increment", self.usage_unit(first, "an increment"))
                ]
                if then is not None:
                    pairs.append(("next_increment", self.usage_unit(then, "an increment")))
            elif kind == "rate_when":
                pairs = [("condition", self.expr(opt.children[0]))]
            else:
                pairs = [(kind.removeprefix("rate_"), self.amount(opt.children[0]))]
            for key, value in pairs:
                if key in fields:
                    self.error(f"`{_OPTION_WORDS[key]}` is given twice", opt, hint="keep only one")
                fields[key] = value
        return n.Rate(
            zone=self.pattern(zone),
            band=self.pattern(band),
            price=self.amount(price),
            per=self.usage_unit(per, "a rate's `per`"),
            span=span_of(t),
            **fields,  # type: ignore[arg-type]
        )

    def d_tiers(self, t: LarkTree) -> n.Tiers:
        mode, period, *tiers = t.children
        built = []
        for tier in self.trees(tiers):
            low, high, price, per = tier.children
            built.append(
                n.Tier(
                    low=self.usage_unit(low, "a tier bound"),
                    high=self.usage_unit(high, "a tier bound") if high is not None else None,
                    price=self.amount(price),
                    per=self.usage_unit(per, "a tier's `per`"),
                    span=span_of(tier),
                )
            )
        return n.Tiers(
            mode=cast('Literal["graduated", "volume"]', str(cast(Token, mode).value)),
            period=self.period_of(period, "a tier period"),
            tiers=tuple(built),
            span=span_of(t),
        )

    def d_allowance(self, t: LarkTree) -> n.Allowance:
        name, amount, period, on, in_ = t.children

        def patterns(x: Child) -> tuple[n.Pattern, ...]:
            return tuple(self.pattern(p) for p in x.children) if isinstance(x, Tree) else ()

        return n.Allowance(
            name=self.ident(name),
            amount=self.usage_unit(amount, "an allowance"),
            period=self.period_of(period, "an allowance period"),
            zones=patterns(on),
            bands=patterns(in_),
            span=span_of(t),
        )

    def d_usage_cap(self, t: LarkTree) -> n.Cap:
        amount, period = t.children
        return n.Cap(
            amount=self.amount(amount),
            period=self.period_of(period, "a cap period"),
            span=span_of(t),
        )

    # -- calendars, bands, zones, attributes -------------------------------------------------------

    def d_calendar_decl(self, t: LarkTree) -> n.CalendarDecl:
        weekend: tuple[str, ...] | None = None
        days: list[n.Holiday] = []
        for item in self.trees(t.children[1:]):
            if item.data == "weekend":
                names = tuple(str(cast(Token, c).value) for c in item.children)
                weekend = self.once(weekend, names, "`weekend`", item)
                continue
            start, end, label = item.children
            first = self.date(cast(Token, start))
            days.append(
                n.Holiday(
                    start=first,
                    end=self.date(end) if isinstance(end, Token) else first,
                    label=self.string(label) if isinstance(label, Token) else "",
                    workday=item.data == "workday",
                    span=span_of(item),
                )
            )
        return n.CalendarDecl(
            name=self.ident(t.children[0]),
            weekend=weekend if weekend is not None else ("sat", "sun"),
            days=tuple(days),
            span=span_of(t),
        )

    def d_bands_decl(self, t: LarkTree) -> n.BandsDecl:
        calendar: str | None = None
        bands: list[n.Band] = []
        for item in self.trees(t.children[1:]):
            if item.data == "bands_calendar":
                calendar = self.once(calendar, self.ident(item.children[0]), "`calendar`", item)
                continue
            name = self.ident(item.children[0])
            span = span_of(item)
            if item.data == "band_otherwise":
                bands.append(n.Band(name=name, otherwise=True, span=span))
                continue
            days: tuple[str, ...] = ()
            times: Child = item.children[-1]
            if item.data == "band_days":
                days_tree = item.children[1]
                assert isinstance(days_tree, Tree)
                days = tuple(str(cast(Token, d).value) for d in days_tree.children)
            start = end = None
            if isinstance(times, Tree):
                a, b = (self.time_of_day(cast(Token, x)) for x in times.children)
                start, end = a, b
            bands.append(n.Band(name=name, days=days, start=start, end=end, span=span))
        return n.BandsDecl(
            name=self.ident(t.children[0]),
            calendar=calendar or "",
            bands=tuple(bands),
            span=span_of(t),
        )

    def d_zones_decl(self, t: LarkTree) -> n.ZonesDecl:
        entries = tuple(
            n.ZoneEntry(
                prefix=self.string(cast(Token, e.children[0])),
                zone=self.ident(e.children[1]),
                span=span_of(e),
            )
            for e in self.trees(t.children[1:])
        )
        return n.ZonesDecl(name=self.ident(t.children[0]), entries=entries, span=span_of(t))

    def d_attribute_decl(self, t: LarkTree) -> n.AttributeDecl:
        owner_t, name_t, type_t = self.trees(t.children)
        owner, type_ = self.ident(owner_t), self.ident(type_t)
        if owner not in _OWNERS:
            self.error(
                f"attributes belong to `customer`, `item` or `event`, not `{owner}`",
                owner_t,
                hint=_did_you_mean(owner, _OWNERS),
            )
            owner = "customer"
        if type_ not in _ATTRIBUTE_TYPES:
            self.error(
                f"`{type_}` is not an attribute type",
                type_t,
                hint=_did_you_mean(type_, _ATTRIBUTE_TYPES)
                or "one of: " + ", ".join(_ATTRIBUTE_TYPES),
            )
            type_ = "string"
        return n.AttributeDecl(
            owner=cast('Literal["customer", "item", "event"]', owner),
            name=self.ident(name_t),
            type=cast(n.AttributeType, type_),
            span=span_of(t),
        )

    # -- examples ----------------------------------------------------------------------------------

    def d_example_decl(self, t: LarkTree) -> n.Example:
        given: list[n.Given] = []
        cart: list[n.CartLine] = []
        events: list[n.EventSpec] = []
        expect: list[n.Expectation] = []
        for clause in self.trees(t.children[1:]):
            for item in self.trees(clause.children):
                kind = str(item.data)
                if kind == "given_value":
                    name, value = item.children
                    given.append(
                        n.Given(
                            name=self.given_name(name), value=self.expr(value), span=span_of(item)
                        )
                    )
                elif kind == "given_cart":
                    target = self.given_name(item.children[0])
                    if target.parts != ("cart",):
                        self.error(
                            f"only `cart` takes a list of offers, not `{target.dotted}`", item
                        )
                    cart.extend(self.cart_lines(item.children[1:]))
                elif kind == "event_spec":
                    events.append(self.event_spec(item))
                else:
                    expect.append(self.expectation(item))
        return n.Example(
            name=self.ident(t.children[0]),
            given=tuple(given),
            cart=tuple(cart),
            events=tuple(events),
            expect=tuple(expect),
            span=span_of(t),
        )

    def given_name(self, t: Child) -> n.Name:
        assert isinstance(t, Tree)
        parts = tuple(
            str(c.value) if isinstance(c, Token) else self.ident(c)
            for c in t.children
            if c is not None
        )
        return n.Name(parts=parts, span=span_of(t))

    def cart_lines(self, items: Sequence[Child]) -> list[n.CartLine]:
        """Lines and the `name = choice` options that follow them (`a with x = 1, y = 2, b`)."""
        lines: list[n.CartLine] = []
        for item in self.trees(items):
            if item.data == "cart_option":
                option = (self.ident(item.children[0]), self.ident(item.children[1]))
                if not lines:
                    self.error("an option needs an offer before it, as in `x with a = b`", item)
                    continue
                last = lines[-1]
                lines[-1] = n.CartLine(
                    offer=last.offer,
                    quantity=last.quantity,
                    options=(*last.options, option),
                    members=last.members,
                    span=last.span,
                )
                continue
            qty, offer, *rest = item.children
            members: list[n.CartLine] = []
            options: list[tuple[str, str]] = []
            for sub in self.trees(rest):
                if sub.data == "cart_option":
                    options.append((self.ident(sub.children[0]), self.ident(sub.children[1])))
                else:
                    members.extend(self.cart_lines([sub]))
            lines.append(
                n.CartLine(
                    offer=self.ident(offer),
                    quantity=self.integer(qty, "a whole quantity") if isinstance(qty, Token) else 1,
                    options=tuple(options),
                    members=tuple(members),
                    span=span_of(item),
                )
            )
        return lines

    def event_spec(self, t: LarkTree) -> n.EventSpec:
        _, business, quantity, *opts = t.children
        fields: dict[str, object] = {}
        for opt in self.trees(opts):
            kind, value = opt.data, opt.children[0]
            built: object
            if kind == "event_to":
                key, built = "destination", self.string(cast(Token, value))
            elif kind == "event_at":
                tok = cast(Token, value)
                key, built = "at", n.InstantLit(value=self.instant(tok), span=span_of(tok))
            else:
                key, built = "plan", self.ident(value)
            if key in fields:
                self.error(f"`{_OPTION_WORDS[key]}` is given twice", opt, hint="keep only one")
            fields[key] = built
        return n.EventSpec(
            business=self.ident(business),
            quantity=self.usage_unit(quantity, "an event"),
            span=span_of(t),
            **fields,  # type: ignore[arg-type]
        )

    def expectation(self, t: LarkTree) -> n.Expectation:
        kind = str(t.data).removeprefix("expect_")
        kids = t.children
        span = span_of(t)
        if kind in ("eligible", "zone", "band"):
            return n.Expectation(
                kind=cast(n.ExpectKind, kind), subject=self.ident(kids[0]), span=span
            )
        if kind == "not_eligible":
            because = kids[1]
            reason = (
                self.string(because)
                if isinstance(because, Token)
                else self.ident(because)
                if because is not None
                else ""
            )
            return n.Expectation(
                kind="not_eligible", subject=self.ident(kids[0]), reason=reason, span=span
            )
        if kind == "price":
            return n.Expectation(
                kind="price", subject=self.ident(kids[0]), value=self.amount(kids[1]), span=span
            )
        if kind == "allowance":
            subject = self.ident(kids[0]) if kids[0] is not None else ""
            return n.Expectation(
                kind="allowance_used",
                subject=subject,
                value=self.usage_unit(kids[1], "an allowance"),
                span=span,
            )
        return n.Expectation(kind=cast(n.ExpectKind, kind), value=self.amount(kids[0]), span=span)


_OPTION_WORDS = {
    "business": "for",
    "starting": "starting",
    "covering": "covering",
    "prorated": "prorated",
    "condition": "when",
    "priority": "priority",
    "duration": "for",
    "label": "label",
    "credit": "credit",
    "zones": "zones",
    "bands": "bands",
    "time_zone": "time zone",
    "split": "split at band edges",
    "tiers": "tiers",
    "rounding": "rounding",
    "first_increment": "increments",
    "next_increment": "then",
    "connection": "connection",
    "minimum": "minimum",
    "maximum": "maximum",
    "destination": "to",
    "at": "at",
    "plan": "under",
}


def _did_you_mean(word: str, candidates: Sequence[str]) -> str:
    best = suggest(word, candidates)
    return f"did you mean `{best}`?" if best else ""


def expression_depth_violation(tree: LarkTree, limit: int) -> LarkTree | None:
    """The first expression node nested deeper than `limit`, found without recursion."""
    stack: list[tuple[LarkTree, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if str(node.data) in _EXPR_RULES:
            depth += 1
            if depth > limit:
                return node
        stack.extend((c, depth) for c in node.children if isinstance(c, Tree))
    return None
