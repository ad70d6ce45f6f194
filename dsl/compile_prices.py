"""Compiled price plans: the quote engine's hot path, agreeing exactly with `dsl.eval_prices`.

`compile_plan` turns a plan into generated code (`dsl.codegen_prices`), cached by content hash
like every compiled unit and exec'd once by `dsl.loader` in a namespace that holds only the
exports of `dsl.runtime` and `dsl.runtime_prices`. Per line, the generated
`run` resolves the options, tests the conditions and steps each price's amount exactly; it
hands every price to `dsl.runtime_prices.Tables.finish` (tax, rounding where declared,
timing) and this module sums the lines into the interpreter's own `PricedLine` and `Quote`,
equal down to the spelling of every Decimal, errors included.

A combo's member is priced by a unit of its own plan and the combo's plan together (the
combo's alterations aimed at that offer merged into each waterfall), compiled the first time
that pair is quoted and kept on the combo's `CompiledPlan`. Lines that cannot differ - the
units of a line of quantity N, the second and later lines of a member offer - are priced once
and counted (`PricedLine.quantity`), so a quote's work never grows with a quantity.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from functools import partial
from typing import Any

from dsl import loader
from dsl import nodes as n
from dsl.codegen_prices import Layout, layout, unit_source
from dsl.compiler import canonical
from dsl.context import EMPTY, ItemFacts, SaleFacts
from dsl.eval_prices_model import (
    ZERO,
    PricedLine,
    PricedPrice,
    Quote,
    counted,
    plan_currency,
    plan_rounding,
    plan_tax,
    quote_of,
)
from dsl.interpreter import DEFAULT_ENV, Env
from dsl.loader import Program
from dsl.runtime_prices import Clock, PriceInfo, Spelling, Tables, fresh_price_namespace
from pricing.rounding import EXACT

__all__ = [
    "CompiledMembership",
    "CompiledPlan",
    "compile_plan",
    "compile_plans",
    "quote_compiled",
]


@dataclass(frozen=True, slots=True, eq=False)
class _Code:
    """A unit's program and functions: shared by every plan of an equal tree."""

    program: Program
    run: Callable[..., tuple[PricedPrice, ...]]
    active: Callable[..., tuple[int, ...]]
    chooses: bool
    reads_item: bool


_CODE: dict[str, _Code] = loader.derived_cache({})


def _code(key: str, filename: str, plan_layout: Layout, attributes: dict[str, str]) -> _Code:
    digest = loader.digest_of(key)
    code = _CODE.get(digest)
    if code is None:
        made = unit_source(plan_layout, attributes, filename.strip("<>"))
        program = loader.build_program(key, filename, lambda: (made.source, made.spans))
        namespace: dict[str, Any] = loader.load(program, fresh_price_namespace())
        run, active = namespace["run"], namespace["active"]
        code = _CODE[digest] = _Code(program, run, active, made.chooses, made.reads_item)
    return code


@dataclass(frozen=True, slots=True, eq=False)
class _Unit:
    """A unit ready to run: its code (shared by equal trees) and this plan's tables (with
    this plan's spans)."""

    code: _Code
    layout: Layout
    tables: Tables
    timing: bool  # some price starts next month or is prorated


def _unit(plan: n.PlanDecl, code: _Code, plan_layout: Layout, currency: str) -> _Unit:
    tax = plan_tax(plan)
    infos = tuple(PriceInfo.of(plan.name, p, currency, tax) for p in plan_layout.prices)
    tables = Tables(infos, plan_layout.steps)
    return _Unit(code, plan_layout, tables, tables.timing)


@dataclass(frozen=True, slots=True)
class CompiledMembership:
    """A member line's place in a combo, as `dsl.eval_prices.Membership` says it, with the
    combo's plan compiled (None when the combo has none)."""

    combo: str
    plan: CompiledPlan | None
    counts: Mapping[str, int]
    index: int = 0


@dataclass(frozen=True, slots=True, eq=False)
class CompiledPlan:
    """A plan ready to price lines: `price_line` and `active_prices` answer exactly what the
    interpreter's functions of the same names answer for `plan`. Immutable but for what it
    remembers (pure results, see `Tables`), so one instance serves concurrent quotes."""

    plan: n.PlanDecl = field(repr=False)
    path: str
    attributes: Mapping[str, str] = field(repr=False)
    key: str = field(repr=False)  # path, attributes and the canonical tree: the cache key
    unit: _Unit = field(repr=False)
    currency: str
    line_rounding: Spelling = field(repr=False)  # per price (`per line`, `per event`)
    total_rounding: Spelling | None = field(repr=False)  # of a line's totals (`per total`)
    _members: dict[tuple[CompiledPlan, str, bool], _Unit] = field(
        default_factory=dict, repr=False, compare=False
    )

    @property
    def name(self) -> str:
        return self.plan.name

    @property
    def source(self) -> str:
        """The generated Python source of the plan's own lines (for reading and traces)."""
        return self.unit.code.program.source

    def span_for_line(self, line: int) -> n.Span | None:
        """The rule span a line of the generated source came from."""
        return self.unit.code.program.span_for_line(line)

    def active_prices(
        self, line: n.CartLine, facts: SaleFacts, env: Env = DEFAULT_ENV
    ) -> list[n.Price]:
        """The list prices of a line: option choices resolved, `when` conditions true (as
        `dsl.eval_prices.active_prices`, which reads `facts` as given). Raises PriceError."""
        code = self.unit.code
        chosen = dict(line.options) if code.chooses else EMPTY
        prices = self.unit.layout.prices
        found = code.active(facts, facts.item, facts.bundle, env.areas, chosen)
        return [prices[i] for i in found]

    def price_line(
        self,
        line: n.CartLine,
        facts: SaleFacts,
        *,
        member_of: CompiledMembership | None = None,
        tz: tzinfo | None = None,
        env: Env = DEFAULT_ENV,
    ) -> PricedLine:
        """One unit of `line` under this plan, as `dsl.eval_prices.price_line`. Raises
        PriceError (and EvalError from conditions)."""
        if member_of is None:
            clock = Clock(facts.time, tz)
            return _priced(self, self.unit, line, facts, facts.bundle, "", clock, env)
        unit = self.unit
        if member_of.plan is not None:
            unit = member_of.plan._paired(self, line.offer, member_of.index == 0)
        counts = member_of.counts
        clock = Clock(facts.time, tz)
        return _priced(self, unit, line, facts, counts, member_of.combo, clock, env)

    def prepare_member(self, member: CompiledPlan, offer: str) -> None:
        """Compile now the units pricing `offer`'s lines under `member` in a combo with this
        plan (its first line and the others), so no quote compiles them. Raises
        CompileError."""
        for first in (True, False):
            self._paired(member, offer, first)

    def _paired(self, member: CompiledPlan, offer: str, first: bool) -> _Unit:
        """The unit pricing `offer`'s lines under `member` in a combo with this plan: the
        member's own unit when this plan aims nothing at `offer`. Compiled once per pair."""
        memo = (member, offer, first)
        found = self._members.get(memo)
        if found is not None:
            return found
        paired = layout(member.plan, self.plan, offer, first)
        if not paired.paired:
            unit = member.unit
        else:
            attributes = {**member.attributes, **self.attributes}
            key = f"prices-member|{offer}|{first}|{member.key}|{self.key}"
            which = "first" if first else "others"
            filename = f"<rule {self.path} plan {self.plan.name} member {offer} {which}>"
            code = _code(key, filename, paired, attributes)
            unit = _unit(member.plan, code, paired, member.currency)
        self._members[memo] = unit
        return unit


def compile_plan(
    plan: n.PlanDecl, path: str = "<rules>", attributes: Mapping[str, str] = EMPTY, unit: str = ""
) -> CompiledPlan:
    """Compile a price plan; `attributes` types the free attributes its conditions read.
    Raises CompileError (with the span of the offending node) for names and expressions the
    checker would reject. `unit`, when given, names `plan` exactly (its module's parse key
    and its place there) and spares the canonical text of its tree in the cache key."""
    attrs = dict(attributes)
    tree = f"unit {unit}" if unit else canonical(plan)
    key = f"prices|{path}|{sorted(attrs.items())}|{tree}"
    plan_layout = layout(plan)
    code = _code(key, f"<rule {path} plan {plan.name}>", plan_layout, attrs)
    currency = plan_currency(plan)
    rounding = plan_rounding(plan)
    total = rounding is not None and rounding.scope == "total"
    return CompiledPlan(
        plan=plan,
        path=path,
        attributes=attrs,
        key=key,
        unit=_unit(plan, code, plan_layout, currency),
        currency=currency,
        line_rounding=Spelling.of(None if total else rounding),
        total_rounding=Spelling.of(rounding) if total else None,
    )


def compile_plans(
    plans_by_offer: Mapping[str, n.PlanDecl],
    path: str = "<rules>",
    attributes: Mapping[str, str] = EMPTY,
) -> dict[str, CompiledPlan]:
    """Compile each distinct plan once, keyed as given (offer -> plan). Raises CompileError."""
    compiled: dict[int, CompiledPlan] = {}
    out: dict[str, CompiledPlan] = {}
    for offer, plan in plans_by_offer.items():
        if id(plan) not in compiled:
            compiled[id(plan)] = compile_plan(plan, path, attributes)
        out[offer] = compiled[id(plan)]
    return out


# -- quotes ------------------------------------------------------------------------------------


def quote_compiled(
    lines: Sequence[n.CartLine],
    plans_by_offer: Mapping[str, CompiledPlan],
    facts: SaleFacts,
    *,
    tz: tzinfo | None = None,
    env: Env = DEFAULT_ENV,
) -> Quote:
    """Price a cart on compiled plans: `dsl.eval_prices.quote`'s answer, errors included.
    Raises PriceError (and EvalError from conditions)."""
    priced: list[PricedLine] = []
    clock = Clock(facts.time, tz)
    for line in lines:
        if line.quantity > 0:  # N units of a line: one unit, counted N times
            units = _cart_line(line, plans_by_offer, facts, clock, env)
            priced += [counted(p, line.quantity) for p in units]
    return quote_of(priced)


def _cart_line(
    line: n.CartLine,
    plans: Mapping[str, CompiledPlan],
    facts: SaleFacts,
    clock: Clock,
    env: Env,
) -> list[PricedLine]:
    counts: dict[str, int] = {}
    for member in line.members:
        counts[member.offer] = counts.get(member.offer, 0) + member.quantity
    plan = plans.get(line.offer)
    bundle = counts if line.members else facts.bundle
    out = [_own_or_empty(plan, line, facts, bundle, clock, env)]
    seen: dict[str, int] = {}
    for member in line.members:
        if member.quantity <= 0:
            continue
        index = seen.get(member.offer, 0)
        seen[member.offer] = index + member.quantity
        own = plans.get(member.offer)
        if own is None:
            empty = PricedLine(
                member.offer, "", line.offer, member.options, (), "", ZERO, ZERO, ZERO
            )
            ranks = [(True, 1), (False, member.quantity - 1)] if index == 0 else []
            for _first, count in ranks or [(False, member.quantity)]:
                if count:
                    out.append(counted(empty, count))
            continue
        unit = member  # one unit of the member: only its offer, options and quantity count
        if member.quantity != 1 or member.members:
            unit = dataclasses.replace(member, quantity=1, members=())
        ranks = [(True, 1)] if index == 0 else []
        others = member.quantity - (index == 0)
        ranks += [(False, others)] if others else []
        for first, count in ranks:  # the first line of the offer, then the others (all alike)
            paired = plan._paired(own, member.offer, first) if plan is not None else own.unit
            priced = _priced(own, paired, unit, facts, counts, line.offer, clock, env)
            out.append(counted(priced, count))
    return out


def _own_or_empty(
    plan: CompiledPlan | None,
    line: n.CartLine,
    facts: SaleFacts,
    bundle: Mapping[str, int] | None,
    clock: Clock,
    env: Env,
) -> PricedLine:
    if plan is None:
        return PricedLine(line.offer, "", "", line.options, (), "", ZERO, ZERO, ZERO)
    return _priced(plan, plan.unit, line, facts, bundle, "", clock, env)


# -- one line ----------------------------------------------------------------------------------


def _priced(
    plan: CompiledPlan,
    unit: _Unit,
    line: n.CartLine,
    facts: SaleFacts,
    bundle: Mapping[str, int] | None,
    combo: str,
    clock: Clock,
    env: Env,
) -> PricedLine:
    """One unit of `line` under `plan` through `unit` (the plan's own, or paired with a
    combo's plan): what `dsl.eval_prices.price_line` answers."""
    code = unit.code
    item = None
    if code.reads_item:  # as the interpreter gives it, attributes included
        item = ItemFacts(
            offer=line.offer,
            quantity=line.quantity,
            options=dict(line.options),
            attributes=dict(line.attributes),
        )
    moment = facts.time
    starts, proration = clock.timing() if unit.timing else (moment, None)
    finish = partial(unit.tables.finish, plan.line_rounding, moment, starts, proration)
    chosen = dict(line.options) if code.chooses else EMPTY
    prices = code.run(facts, item, bundle, env.areas, chosen, finish)
    # the exact sums of dsl.eval_prices_model.exact_sum, in one pass over the prices
    add = EXACT.add
    due_now = monthly = first_bill = ZERO
    for p in prices:
        if p.type == "one_time":
            due_now = add(due_now, p.tax_included)
        elif p.type == "recurring":
            first_bill = add(first_bill, p.first_period)
            period = p.period
            if period is not None and period.count == 1 and period.unit == "month":
                monthly = add(monthly, p.tax_included)
    whole = plan.total_rounding
    if whole is not None:
        due_now, monthly, first_bill = (
            whole.show(due_now),
            whole.show(monthly),
            whole.show(first_bill),
        )
    return PricedLine(
        line.offer,
        plan.plan.name,
        combo,
        line.options,
        prices,
        plan.currency,
        due_now,
        monthly,
        first_bill,
    )
