"""`tariff fmt`: one canonical layout for rule sources, like gofmt.

The layout: 2-space indentation; one declaration, rule, branch, price or other item per line,
wrapped at `WIDTH` (100) characters with continuation lines 4 spaces deeper; single spaces
around operators, keywords and after `:` and `,`; sets as `{a, b}`; ranges as `a .. b`
(cardinalities `1..3`); canonical literals (see `dsl.format_text`); one blank line between
top-level declarations (consecutive `attribute` lines may stay together) and, inside blocks,
the author's blank lines kept (at most one, none after `{` or before `}`). Comments stay
where they were (see `dsl.format_layout`). Parentheses are kept as written.

Statements are written from Lark's parse tree, not from `dsl.nodes`: the syntax tree drops
what a formatter must keep (the order of usage settings, which `given` clause an item was
in, where each setting is). A table maps each grammar rule to its writer, as
`dsl.codegen` maps node classes. The result is checked before it is returned: it must parse
to the same syntax tree with the same comments, or `FormatError` is raised — a formatter
bug never changes a rule.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from lark import Token

from dsl import format_text as text
from dsl.format_layout import WIDTH, Chunks, LarkTree, cat
from dsl.format_writer import (
    Child,
    FormatError,
    Tables,
    Writer,
    _enclose,
    _list,
    _tok,
    _tree,
    _trees,
)
from dsl.parser import parse_tree_with_comments

__all__ = ["WIDTH", "FormatError", "format_source"]


def _header(word: str) -> Callable[[Writer, LarkTree], tuple[Chunks, list[LarkTree]]]:
    def write(w: Writer, t: LarkTree) -> tuple[Chunks, list[LarkTree]]:
        return [f"{word} {w.ident(t.children[0])}"], _trees(t.children[1:])

    return write


def _plain(word: str) -> Callable[[Writer, LarkTree], tuple[Chunks, list[LarkTree]]]:
    return lambda w, t: ([word], _trees(t.children))


def _plan(w: Writer, t: LarkTree) -> tuple[Chunks, list[LarkTree]]:
    name, title, *rest = t.children
    head = [f"plan {w.ident(name)}"]
    return ([*head, w.string(title)] if title is not None else head), _trees(rest)


def _option_group(w: Writer, t: LarkTree) -> tuple[Chunks, list[LarkTree]]:
    name, default, *rest = t.children
    return [f"option {w.ident(name)} default {w.ident(default)}"], _trees(rest)


def _tiers(w: Writer, t: LarkTree) -> tuple[Chunks, list[LarkTree]]:
    mode, per, *rest = t.children
    return [f"tiers {_tok(mode).value} per {w.per(per)}"], _trees(rest)


#: Rules written as `HEADER {` … `}` with their items indented.
BLOCKS: dict[str, Callable[[Writer, LarkTree], tuple[Chunks, list[LarkTree]]]] = {
    "offer_decl": _header("offer"),
    "eligible_all": _plain("eligible all"),
    "eligible_first": _plain("eligible first"),
    "composition": _plain("composition"),
    "plan_decl": _plan,
    "option_group": _option_group,
    "usage": _header("usage"),
    "tiers": _tiers,
    "calendar_decl": _header("calendar"),
    "bands_decl": _header("bands"),
    "zones_decl": _header("zones"),
    "example_decl": _header("example"),
}


def _verdict(w: Writer, item: Child) -> Chunks:
    tree = _tree(item)
    if tree.data == "allow":
        return ["allow"]
    code, message = tree.children
    out = "deny" if code is None else f"deny {w.string(code)}"
    return [out if message is None else f"{out} {w.string(message)}"]


def _cardinality(w: Writer, item: Child) -> str:
    tree = _tree(item)
    nums = [str(_tok(c).value) for c in tree.children]
    words = {"card_exactly": "exactly", "card_at_least": "at least", "card_at_most": "at most"}
    kind = str(tree.data)
    return f"{words[kind]} {nums[0]}" if kind in words else f"{nums[0]}..{nums[1]}"


def _elig_rule(w: Writer, t: LarkTree) -> Chunks:
    name, cond, reason = t.children
    return [*cat([f"{w.ident(name)}:"], " ", w.expr(cond)), *w.reason(reason)]


def _when_branch(w: Writer, t: LarkTree) -> Chunks:
    cond = cat(["when"], " ", w.expr(t.children[0]))
    return [*cat(cond, "", [":"]), *_verdict(w, t.children[1])]


def _member_group(w: Writer, t: LarkTree) -> Chunks:
    card, offers, group, reason = t.children
    out = [_cardinality(w, card), *cat(["of"], " ", _enclose("{", w.idents(offers), "}"))]
    if group is not None:
        out.append(f"as {w.ident(group)}")
    return [*out, *w.reason(reason)]


def _offers_rule(word: str) -> Callable[[Writer, LarkTree], Chunks]:
    def write(w: Writer, t: LarkTree) -> Chunks:
        offers, reason = t.children
        return [*cat([word], " ", _list(w.idents(offers))), *w.reason(reason)]

    return write


def _addon(w: Writer, t: LarkTree) -> Chunks:
    addon, bases, reason = t.children
    head = [f"add-on {w.ident(addon)}", *cat(["only with"], " ", _list(w.idents(bases)))]
    return [*head, *w.reason(reason)]


def _rounding(w: Writer, t: LarkTree) -> Chunks:
    mode, decimals, scope = t.children
    out = f"rounding {_tok(mode).value} {_tok(decimals).value}"
    return [out if scope is None else f"{out} per {_tok(scope).value}"]


def _allowance(w: Writer, t: LarkTree) -> Chunks:
    name, amount, per, on, in_ = t.children
    head = [f"allowance {w.ident(name)}:", w.measure(amount), f"per {w.per(per)}"]
    return [*head, *w.patterns("on", on), *w.patterns("in", in_)]


#: Rules written as one statement (wrapped when long).
LEAVES: dict[str, Callable[[Writer, LarkTree], Chunks]] = {
    "elig_rule": _elig_rule,
    "when_branch": _when_branch,
    "otherwise_branch": lambda w, t: ["otherwise:", *_verdict(w, t.children[0])],
    "member_one": lambda w, t: [
        _cardinality(w, t.children[0]),
        w.ident(t.children[1]),
        *w.reason(t.children[2]),
    ],
    "member_group": _member_group,
    "requires_rule": _offers_rule("requires"),
    "excludes_rule": _offers_rule("excludes"),
    "addon_rule": _addon,
    "currency": lambda w, t: [f"currency {_tok(t.children[0]).value}"],
    "tax": lambda w, t: [f"tax {_tok(t.children[0]).value}% {_tok(t.children[1]).value}"],
    "rounding": _rounding,
    "commitment": lambda w, t: [f"commitment {w.measure(t.children[0])}"],
    "price": Writer.price,
    "option_choice": Writer.option_choice,
    "discount": Writer.alteration,
    "waive": Writer.alteration,
    "override": Writer.alteration,
    "cap": Writer.alteration,
    "floor": Writer.alteration,
    "replaces": Writer.alteration,
    "usage_zones": lambda w, t: [f"zones {w.ident(t.children[0])}"],
    "usage_bands": lambda w, t: [f"bands {w.ident(t.children[0])}"],
    "usage_time_zone": lambda w, t: [f"time zone {w.string(t.children[0])}"],
    "usage_split": lambda w, t: ["split at band edges"],
    "rate": Writer.rate,
    "tier": Writer.tier,
    "allowance": _allowance,
    "usage_cap": lambda w, t: [
        *cat(["cap"], " ", w.amount(t.children[0])),
        f"per {w.per(t.children[1])}",
    ],
    "weekend": lambda w, t: cat(
        ["weekend"], " ", _list([[str(_tok(d).value)] for d in t.children])
    ),
    "holiday": lambda w, t: w.dates("holiday", t),
    "workday": lambda w, t: w.dates("workday", t),
    "bands_calendar": lambda w, t: [f"calendar {w.ident(t.children[0])}"],
    "band_days": Writer.band,
    "band_times": Writer.band,
    "band_otherwise": Writer.band,
    "zone_entry": lambda w, t: [f"{w.string(t.children[0])}: {w.ident(t.children[1])}"],
    "attribute_decl": lambda w, t: [
        f"attribute {w.ident(t.children[0])}.{w.ident(t.children[1])}: {w.ident(t.children[2])}"
    ],
    "given": lambda w, t: w.clause("given", t),
    "expect": lambda w, t: w.clause("expect", t),
}


def _given_cart(w: Writer, t: LarkTree) -> Chunks:
    items = [w.cart_item(c) for c in _trees(t.children[1:])]
    return cat([f"{w.given_name(t.children[0])} ="], " ", _enclose("[", items, "]"))


def _not_eligible(w: Writer, t: LarkTree) -> Chunks:
    offer, because = t.children
    out = [f"not eligible {w.ident(offer)}"]
    if isinstance(because, Token):
        out.append(f"because {w.string(because)}")
    elif because is not None:
        out.append(f"because {w.ident(because)}")
    return out


def _allowance_used(w: Writer, t: LarkTree) -> Chunks:
    name, quantity = t.children
    head = "allowance used" if name is None else f"allowance used {w.ident(name)}"
    return [head, w.measure(quantity)]


def _money_expect(word: str) -> Callable[[Writer, LarkTree], Chunks]:
    return lambda w, t: cat([word], " ", w.amount(t.children[0]))


#: The items of `given` and `expect` clauses.
CLAUSE_ITEMS: dict[str, Callable[[Writer, LarkTree], Chunks]] = {
    "given_value": lambda w, t: cat(
        [f"{w.given_name(t.children[0])} ="], " ", w.expr(t.children[1])
    ),
    "given_cart": _given_cart,
    "event_spec": Writer.event,
    "expect_eligible": lambda w, t: [f"eligible {w.ident(t.children[0])}"],
    "expect_not_eligible": _not_eligible,
    "expect_due_now": _money_expect("due now"),
    "expect_monthly": _money_expect("monthly"),
    "expect_price": lambda w, t: cat(
        [f"price {w.ident(t.children[0])}"], " ", w.amount(t.children[1])
    ),
    "expect_charge": _money_expect("charge"),
    "expect_zone": lambda w, t: [f"zone {w.ident(t.children[0])}"],
    "expect_band": lambda w, t: [f"band {w.ident(t.children[0])}"],
    "expect_allowance": _allowance_used,
}


def _increments(w: Writer, t: LarkTree) -> Chunks:
    first, then = t.children
    out = [f"increments {w.measure(first)}"]
    return out if then is None else [*out, f"then {w.measure(then)}"]


def _option_expr(word: str) -> Callable[[Writer, LarkTree], Chunks]:
    return lambda w, t: cat([word], " ", w.expr(t.children[0]))


def _option_amount(word: str) -> Callable[[Writer, LarkTree], Chunks]:
    return lambda w, t: cat([word], " ", w.amount(t.children[0]))


#: Options that follow prices, alterations and rates.
OPTIONS: dict[str, Callable[[Writer, LarkTree], Chunks]] = {
    "price_for": lambda w, t: [f"for {w.ident(t.children[0])}"],
    "starting_now": lambda w, t: ["starting now"],
    "starting_next": lambda w, t: [f"starting next {_tok(t.children[0]).value}"],
    "price_covering": lambda w, t: [f"covering {w.measure(t.children[0])}"],
    "price_prorated": lambda w, t: ["prorated daily"],
    "price_when": _option_expr("when"),
    "alt_when": _option_expr("when"),
    "alt_priority": lambda w, t: [f"priority {_tok(t.children[0]).value}"],
    "alt_for": lambda w, t: [f"for {w.measure(t.children[0])}"],
    "alt_label": lambda w, t: [w.string(t.children[0])],
    "alt_credit": lambda w, t: ["credit"],
    "rate_increments": _increments,
    "rate_connection": _option_amount("connection"),
    "rate_minimum": _option_amount("minimum"),
    "rate_maximum": _option_amount("maximum"),
    "rate_when": _option_expr("when"),
}


def _group(w: Writer, kids: Sequence[Child]) -> Chunks:
    return cat(cat(["("], "", w.expr(kids[0])), "", [")"])


def _call(w: Writer, kids: Sequence[Child]) -> Chunks:
    args = [w.expr(k) for k in kids[1:] if k is not None]
    return _enclose(w.dotted(kids[0]) + "(", args, ")")


#: Expression rules (`?expr` … `?atom` in the grammar).
EXPRS: dict[str, Callable[[Writer, Sequence[Child]], Chunks]] = {
    "or_": lambda w, k: w.binary(k, "or"),
    "and_": lambda w, k: w.binary(k, "and"),
    "not_": lambda w, k: cat(["not"], " ", w.expr(k[0])),
    "compare": lambda w, k: w.infix(k[0], str(_tok(k[1]).value), k[2]),
    "between": lambda w, k: w.ternary(k, "between", "and"),
    "not_between": lambda w, k: w.ternary(k, "not between", "and"),
    "in_": lambda w, k: w.infix(k[0], "in", k[1]),
    "not_in": lambda w, k: w.infix(k[0], "not in", k[1]),
    "in_range": lambda w, k: w.ternary(k, "in", ".."),
    "not_in_range": lambda w, k: w.ternary(k, "not in", ".."),
    "within": lambda w, k: w.infix(k[0], "within", k[1]),
    "not_within": lambda w, k: w.infix(k[0], "not within", k[1]),
    "add": lambda w, k: w.infix(k[0], "+", k[1]),
    "sub": lambda w, k: w.infix(k[0], "-", k[1]),
    "mul": lambda w, k: w.infix(k[0], "*", k[2]),
    "div": lambda w, k: w.infix(k[0], "/", k[1]),
    "neg": lambda w, k: cat(["-"], "", w.expr(k[0])),
    "number": lambda w, k: w.atom(k, str),
    "money": lambda w, k: w.atom(k, lambda a, c: f"{a} {c}"),
    "percent": lambda w, k: w.atom(k, lambda a: f"{a}%"),
    "duration": lambda w, k: w.atom(k, text.measure),
    "period_lit": lambda w, k: w.atom(k, text.measure),
    "data_size": lambda w, k: w.atom(k, text.measure),
    "count": lambda w, k: w.atom(k, text.measure),
    "time_of_day": lambda w, k: w.atom(k, text.time_of_day),
    "date": lambda w, k: w.atom(k, str),
    "instant": lambda w, k: w.atom(k, str),
    "string": lambda w, k: [w.string(k[0])],
    "true": lambda w, k: ["true"],
    "false": lambda w, k: ["false"],
    "name": lambda w, k: [w.dotted(k[0])],
    "call": _call,
    "set": lambda w, k: _enclose("{", [w.expr(x) for x in k if x is not None], "}"),
    "group": _group,
}


TABLES = Tables(
    blocks=BLOCKS, leaves=LEAVES, clause_items=CLAUSE_ITEMS, options=OPTIONS, exprs=EXPRS
)


def format_source(source: str, path: str = "<source>") -> str:
    """The canonical layout of `source`; raises `DslError` if it does not parse and
    `FormatError` if it cannot be laid out without changing its meaning or its comments."""
    module, tree, comments = parse_tree_with_comments(source, path)
    quoted = frozenset(
        str(t.value)[1:-1]
        for t in tree.scan_values(lambda v: isinstance(v, Token))
        if t.type == "QUOTED_NAME"
    )
    for quote_keywords in (False, True):
        out = Writer(source, quoted, quote_keywords, TABLES).module(tree, comments)
        try:
            again, _, kept = parse_tree_with_comments(out, path)
        except Exception:
            continue
        if again == module and [c.text.rstrip() for c in comments] == [c.text for c in kept]:
            return out
    raise FormatError(f"{path}: formatting would change the rules; the file is left as it is")
