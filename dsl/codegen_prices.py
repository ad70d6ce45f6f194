"""Price plans to Python source: one loop-free `run(facts, item, bundle, …)` per unit.

A unit prices the lines of one plan: its own lines, or the member lines of one offer in a
combo whose plan then takes part with its bundle stage and limits (`layout` with a `combo`).
What the interpreter (`dsl.eval_prices`) works out on every call is worked out here once:

- the layout: every price of the plan by index, each price's waterfall as a tuple of
  alteration slots already in order (product, bundle, limits; by priority, then the own
  plan's limits before the combo's, then source order), and what each slot shows on a quote;
- the code: option groups resolved by `==` on the chosen name, `when` conditions written
  by `dsl.codegen.Writer` (a plan without conditions reads no facts at all), money constants
  folded and checked against the plan's currency once (a constant that would fail becomes a
  `fail(...)` where the interpreter would raise), percentages turned into exact factors, the
  "never below zero" clamp left out where it provably cannot bind.

The source keeps the interpreter's order of evaluation - option groups, then the conditions
of the listed prices, then each price's amount and steps in waterfall order - so it raises
in the same cases with the same messages. `run` hands each listed price to its caller's
`finish(price index, listed amount, final amount, ((slot, change), ...))` as soon as its
waterfall is done (tax, rounding and timing are the caller's, so they too fail in the
interpreter's order) and returns what `finish` returned, in order; `active` returns the
listed price indexes. Only `text_literal` and `repr()` of literals and names from resolved
symbols are emitted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple, get_args

from dsl import nodes as n
from dsl.codegen import Writer
from dsl.codegen_text import text_literal
from dsl.emitter import Function, Line, Module, render
from dsl.eval_prices_model import AppliedKind, PriceError, Stage, plan_currency
from dsl.runtime_prices import Step, money_value
from pricing.rounding import EXACT

__all__ = ["Layout", "UnitSource", "layout", "unit_source"]

_PRODUCT = frozenset({"discount", "waive", "override"})
_LIMITS = frozenset({"cap", "floor"})
_KINDS = frozenset(get_args(AppliedKind))


@dataclass(frozen=True, slots=True)
class Layout:
    """The static tables of a unit. Indexes depend only on the plans' structure, so a
    program cached for an equal tree (spans aside) reads this layout's spans correctly."""

    plan: n.PlanDecl
    prices: tuple[n.Price, ...]  # every price, options' included, in source order
    alterations: tuple[n.Alteration, ...]  # by slot
    steps: tuple[Step, ...]  # by slot
    waterfalls: tuple[tuple[int, ...], ...]  # per price: its slots in waterfall order
    paired: bool  # some waterfall holds an alteration of the combo's plan


def layout(
    plan: n.PlanDecl, combo: n.PlanDecl | None = None, offer: str = "", first: bool = True
) -> Layout:
    """The layout of `plan` pricing its own lines, or (with `combo`) the member lines of
    `offer` in a combo with plan `combo`; `first` for the combo's first line of `offer`,
    which alone gets `OFFER.PRICE` alterations without `each`."""
    prices: list[n.Price] = []
    for item in plan.items:
        if isinstance(item, n.Price):
            prices.append(item)
        elif isinstance(item, n.OptionGroup):
            prices.extend(price for choice in item.choices for price in choice.prices)
    own = [
        (i, a)
        for i, a in enumerate(plan.items)
        if isinstance(a, n.Alteration) and not a.replaces and not a.target.offer
    ]
    theirs: list[tuple[int, n.Alteration]] = []
    if combo is not None:
        theirs = [
            (i, a)
            for i, a in enumerate(combo.items)
            if isinstance(a, n.Alteration) and a.target.offer == offer and (a.target.each or first)
        ]
    slots: dict[tuple[Stage, int, int], int] = {}
    alterations: list[n.Alteration] = []
    steps: list[Step] = []
    waterfalls: list[tuple[int, ...]] = []
    for price in prices:
        mine = [(i, a) for i, a in own if a.target.price in ("*", price.name)]
        members = [(i, a) for i, a in theirs if a.target.price in ("*", price.name)]
        ordered: list[tuple[Stage, int, int, n.Alteration]] = []
        ordered += [("product", 0, i, a) for _, i, a in _by_priority(mine, _PRODUCT)]
        bundle = [(i, a) for i, a in members if a.kind in _PRODUCT or a.replaces]
        ordered += [("bundle", 1, i, a) for _, i, a in _by_priority(bundle, None)]
        limits: list[tuple[Stage, int, int, n.Alteration]]
        limits = [("limit", 0, i, a) for i, a in mine if a.kind in _LIMITS]
        limits += [("limit", 1, i, a) for i, a in members if a.kind in _LIMITS and not a.replaces]
        ordered += sorted(limits, key=lambda entry: (entry[3].priority, entry[1], entry[2]))
        waterfall: list[int] = []
        for stage, origin, index, alt in ordered:
            key = (stage, origin, index)
            if key not in slots:
                slots[key] = len(steps)
                source = plan.name if origin == 0 else combo.name if combo is not None else ""
                alterations.append(alt)
                steps.append(_step(alt, source, stage))
            waterfall.append(slots[key])
        waterfalls.append(tuple(waterfall))
    paired = any(origin == 1 for _, origin, _ in slots)
    return Layout(plan, tuple(prices), tuple(alterations), tuple(steps), tuple(waterfalls), paired)


def _by_priority(
    found: Sequence[tuple[int, n.Alteration]], kinds: frozenset[str] | None
) -> list[tuple[int, int, n.Alteration]]:
    chosen = [(a.priority, i, a) for i, a in found if kinds is None or a.kind in kinds]
    return sorted(chosen, key=lambda entry: entry[:2])


def _step(alt: n.Alteration, source: str, stage: Stage) -> Step:
    kind: AppliedKind = "replace" if alt.replaces else alt.kind
    percent = alt.amount.value if isinstance(alt.amount, n.PercentLit) else None
    return Step(
        kind=kind,
        name=alt.name,
        label=alt.label,
        plan=source,
        stage=stage,
        span=alt.span,
        percent=percent if kind == "discount" else None,
        priority=alt.priority,
        duration=alt.duration,
        credit=alt.credit,
    )


# -- source ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UnitSource:
    """A unit's module source, the rule span of its lines, and what its callers must pass:
    `chosen` (the line's options) only when `chooses`, the line's `item` only when
    `reads_item` (else None will do)."""

    source: str
    spans: dict[int, n.Span]
    chooses: bool
    reads_item: bool


class _Amount(NamedTuple):
    code: str  # a constant's name or a local
    const: Decimal | None  # the folded amount, when constant


class UnitWriter:
    """Writes the `run` and `active` functions of one layout."""

    def __init__(self, plan_layout: Layout, attributes: dict[str, str]) -> None:
        self.layout = plan_layout
        self.currency = plan_currency(plan_layout.plan)
        self.writer = Writer(attributes)
        self.lister = Writer(attributes, self.writer.constants)  # `active` reads its own

    def constant(self, value: Decimal) -> str:
        return self.writer.constant(value, "money").code

    # -- prologue: options, then the conditions of the listed prices ---------------------------

    def prologue(self, writer: Writer) -> list[Line]:
        lines: list[Line] = []
        groups = [i for i in self.layout.plan.items if isinstance(i, n.OptionGroup)]
        for g, group in enumerate(groups):
            name = text_literal(group.name)
            picked = f"chosen.get({name}, {text_literal(group.default)})"
            lines.append(Line(0, f"choice = {picked}  # option {name}", group.span))
            for c, choice in enumerate(group.choices):
                keyword = "if" if c == 0 else "elif"
                test = f"{keyword} choice == {text_literal(choice.name)}:"
                lines += [Line(0, test), Line(1, f"o{g} = {c}")]
            if group.choices:
                lines += [Line(0, "else:"), Line(1, f"no_choice(choice, {name})")]
            else:
                lines.append(Line(0, f"no_choice(choice, {name})"))
        for index, guard, price in self.listed():
            if price.condition is not None:
                test = writer.truth(price.condition, True)
                text = f"when{index} = {guard + ' and ' if guard else ''}{test}"
                lines.append(Line(0, text, price.condition.span))
        return lines

    def listed(self) -> list[tuple[int, str, n.Price]]:
        """Each price with its index and the option test that lists it ("" when none)."""
        found: list[tuple[int, str, n.Price]] = []
        groups = 0
        for item in self.layout.plan.items:
            if isinstance(item, n.Price):
                found.append((len(found), "", item))
            elif isinstance(item, n.OptionGroup):
                for c, choice in enumerate(item.choices):
                    for price in choice.prices:
                        found.append((len(found), f"o{groups} == {c}", price))
                groups += 1
        return found

    # -- the functions -----------------------------------------------------------------------

    def active_body(self) -> list[Line]:
        lines = [*self.prologue(self.lister), Line(0, "found = ()")]
        for index, guard, price in self.listed():
            test = f"when{index}" if price.condition is not None else guard  # holds the guard
            if test:
                lines += [Line(0, f"if {test}:"), Line(1, f"found += ({index},)")]
            else:
                lines.append(Line(0, f"found += ({index},)"))
        return [*lines, Line(0, "return found")]

    def run_body(self) -> list[Line]:
        lines = [*self.prologue(self.writer), Line(0, "out = ()")]
        index = groups = 0
        for item in self.layout.plan.items:
            if isinstance(item, n.Price):
                lines += self.price(index, item, 0)
                index += 1
            elif isinstance(item, n.OptionGroup):
                for c, choice in enumerate(item.choices):
                    keyword = "if" if c == 0 else "elif"
                    test = f"{keyword} o{groups} == {c}:  # {text_literal(choice.name)}"
                    lines.append(Line(0, test, choice.span))
                    for price in choice.prices:
                        lines += self.price(index, price, 1)
                        index += 1
                    if not choice.prices:
                        lines.append(Line(1, "pass"))
                groups += 1
        return [*lines, Line(0, "return out")]

    def price(self, index: int, price: n.Price, indent: int) -> list[Line]:
        lines: list[Line] = []
        if price.condition is not None:
            note = f"  # price {text_literal(price.name)}"
            lines.append(Line(indent, f"if when{index}:{note}", price.span))
            indent += 1
        listed = self.amount(price.amount, f"price `{price.name}`", "listed", indent, lines)
        if listed is None:
            return lines
        waterfall = self.layout.waterfalls[index]
        if not waterfall:
            text = f"out += (finish({index}, {listed.code}, {listed.code}, ()),)"
            return [*lines, Line(indent, text, price.span)]
        lines += [Line(indent, f"amount = {listed.code}", price.span), Line(indent, "steps = ()")]
        for slot in waterfall:
            lines += self.step(slot, indent)
        return [*lines, Line(indent, f"out += (finish({index}, {listed.code}, amount, steps),)")]

    def step(self, slot: int, indent: int) -> list[Line]:
        alt, step = self.layout.alterations[slot], self.layout.steps[slot]
        at = f"{int(alt.span.line)}:{int(alt.span.column)}"
        kind = step.kind if step.kind in _KINDS else text_literal(step.kind)  # trees by tools
        note = f"  # {kind} {text_literal(alt.name)} at {at} ({step.stage})"
        lines: list[Line] = []
        if alt.condition is not None:
            test = self.writer.truth(alt.condition, True)
            lines.append(Line(indent, f"if {test}:{note}", alt.condition.span))
            indent += 1
            note = ""
        what = f"alteration `{alt.name or alt.kind}`"
        kind = step.kind
        binds = ""  # the test a cap or floor needs to bind
        if kind in ("waive", "replace"):
            new, safe = "ZERO", True
        elif alt.amount is None:
            failed = f"fail({text_literal(what + ' has no amount')}){note}"
            return [*lines, Line(indent, failed, alt.span)]
        elif isinstance(alt.amount, n.PercentLit):
            if kind != "discount":
                message = f"{what}: only a discount takes a percentage"
                return [*lines, Line(indent, f"fail({text_literal(message)}){note}", alt.span)]
            percent = alt.amount.value
            factor = self.constant(percent.scaleb(-2, context=EXACT))
            new, safe = f"minus(amount, times(amount, {factor}))", 0 <= percent <= 100
        else:
            value = self.amount(alt.amount, what, "value", indent, lines)
            if value is None:
                return lines
            const = value.const
            if kind == "discount":
                new, safe = f"minus(amount, {value.code})", const is not None and const <= 0
            else:
                new, safe = value.code, const is not None and const >= 0
                binds = {"cap": f"amount > {value.code}", "floor": f"amount < {value.code}"}.get(
                    kind, ""
                )
                safe = safe or kind == "floor"  # a floor that binds lifts the amount
        if not (safe or alt.credit):
            new = f"no_lower({new}, amount)"
        if binds:
            lines.append(Line(indent, f"if {binds}:{note}", alt.span))
            indent += 1
            note = ""
        return [
            *lines,
            Line(indent, f"new = {new}{note}", alt.span),
            Line(indent, f"steps += (({slot}, minus(new, amount)),)"),
            Line(indent, "amount = new"),
        ]

    def amount(
        self, expr: n.Expr, what: str, local: str, indent: int, lines: list[Line]
    ) -> _Amount | None:
        """The amount's source; appends the lines computing it, or the `fail(...)` a constant
        that cannot be money in the plan's currency becomes (then None: nothing follows)."""
        value = self.writer.value(expr)
        if value.is_const:
            try:
                folded = money_value(value.const, self.currency, what)
            except PriceError as err:
                lines.append(Line(indent, f"fail({text_literal(str(err))})", expr.span))
                return None
            return _Amount(self.constant(folded), folded)
        source = self.writer.value_or_none(expr)
        currency, label = text_literal(self.currency), text_literal(what)
        text = f"{local} = money_of({source}, {currency}, {label})"
        lines.append(Line(indent, text, expr.span))
        return _Amount(local, None)


#: The reads of `dsl.codegen.READS` that come from the arguments of a unit's functions.
_LINE_READS = {"@item": "item_facts", "@bundle": "bundle_facts"}


def _reads(writer: Writer) -> list[str]:
    return [f"{local} = {_LINE_READS.get(key, src)}" for key, (local, src) in writer.reads.items()]


def unit_source(plan_layout: Layout, attributes: dict[str, str], header: str) -> UnitSource:
    """The module of one unit: its constants, `run(facts, item, bundle, areas, chosen,
    finish)` and `active(facts, item, bundle, areas, chosen)`. The line's `item` and
    `bundle` come as arguments rather than in `facts`, so a quote never copies the facts of
    the sale per line."""
    unit = UnitWriter(plan_layout, attributes)
    run = unit.run_body()
    active = unit.active_body()
    functions = [
        Function("run(facts, item_facts, bundle_facts, areas, chosen, finish)", run,
                 _reads(unit.writer)),
        Function("active(facts, item_facts, bundle_facts, areas, chosen)", active,
                 _reads(unit.lister)),
    ]  # fmt: skip
    source, spans = render(Module(header, "dsl.compile_prices", unit.writer.constants, functions))
    reads = set(unit.writer.reads) | set(unit.lister.reads)
    return UnitSource(
        source=source,
        spans=spans,
        chooses=any(isinstance(i, n.OptionGroup) for i in plan_layout.plan.items),
        reads_item="@item" in reads,
    )
