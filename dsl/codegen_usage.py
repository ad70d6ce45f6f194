"""Usage blocks to Python source: one rating module per plan, agreeing with `dsl.eval_usage`.

The blocks come settled (`dsl.compile_usage.analyse`): increments in base units, money as
integers on the block's scale, allowance amounts, caps, rounding. So the source has every
static term folded into it: increments as integer arithmetic on literals, allowance filters
as frozenset constants and prefix tests, tiers unrolled, the rounding mode as one `if`, the
charge of a part an integer number of 1/scale (no Fraction until the result is built, no
float anywhere). Where a term is one the interpreter refuses, the source raises `Deferred`
at the point the interpreter would fail, and the event is rated by the interpreter itself
(see `dsl.runtime_usage`).

Generated names:

- `rate_one(event, counters, values, facts, env)` rates one event and returns (Rated, the new
  counter values): `values` is any mapping holding the counters (the block copies it with
  `{**values}`), the new values a dict nothing else holds;
- `rate_many(events, counters, values, facts, env)` loops over one subscriber's events inside
  the generated code, threading the values;
- `lean_one(event, at, values, facts, env)` is `rate_one` without the result objects (`at`:
  the start in whole milliseconds since the epoch, floored, or None to work it out): a
  `dsl.runtime_usage.Lean` tuple when the compiled code rates the event, else a `Rated` (a
  rejection, or the interpreter's answer for a deferred event);
- `lean_I` rates an event of the I-th usage block into a `Lean`, `block_I` wraps that into
  (Rated, the new values); `part_I_J` prices a part with rate J
  (increments, allowances, tiers, fee, minimum, maximum) and returns (billed, paid, amount on
  the block's scale); `when_I_J` is rate J's `when` condition; `PARTS_I`, `WHEN_I` (None for
  a rate without `when`, or one that does not compile) and `WHEN_FACTS_I` (whether it reads
  the sale's facts, not only `event.*`) are indexed by rate;
- the objects a plan binds (`ZONE_I` and its memo `ZMEMO_I`, `BAND_I`/`BAND_MS_I`/`SPLIT_I`,
  `STATIC_I`, `PICK_I`, `SPANS_I`, `INTERPRET`) come from `dsl.compile_usage`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from dsl import nodes as n
from dsl.codegen import CompileError, Val, Writer, python_constant
from dsl.codegen_text import text_literal
from dsl.context import SCHEMA
from dsl.eval_usage import allowance_key, cap_key, tier_key
from pricing.rounding import RoundingMode
from pricing.steps import Lines, allowances, caps, increments
from pricing.steps import rounding as steps_rounding
from pricing.steps import terms as steps_terms
from pricing.steps import tiers as steps_tiers

if TYPE_CHECKING:
    from collections.abc import Mapping

    from dsl.compile_usage import Block

__all__ = ["UsageWriter", "usage_source"]

SpannedLines = list[tuple[int, str, n.Span | None]]


# -- conditions ------------------------------------------------------------------------------


class UsageWriter(Writer):
    """The expression writer with `event.*` names read from the event, and every free
    attribute read through `fit` (so an ill-typed value defers to the interpreter)."""

    def value(self, expr: n.Expr) -> Val:
        # the base class dispatches through a table bound to Writer.name
        return self.name(expr) if isinstance(expr, n.Name) else super().value(expr)

    def name(self, node: n.Name) -> Val:
        parts = node.parts
        if len(parts) != 2 or parts[0] != "event":
            return super().name(node)
        field, dotted = parts[1], node.dotted
        if field.startswith("__"):
            raise CompileError(f"unknown name `{dotted}`", node.span)
        if field in ("roaming", "origin", "destination"):
            type_, source = SCHEMA[dotted], f"event.{field}"
        elif dotted in self.attributes:
            type_ = self.attributes[dotted]
            source = f"event.attributes.get({text_literal(field)})"
        else:
            raise CompileError(f"unknown name `{dotted}`", node.span)
        local = self.reads.get(dotted, (f"e{len(self.reads)}", ""))[0]
        self.reads.setdefault(dotted, (local, f"fit({source}, {text_literal(type_)})"))
        return Val(local, type_, (local,), untyped=True)

    def _free(self, dotted: str, source: str, type_: str, owner: str) -> Val:
        return super()._free(dotted, f"fit({source}, {text_literal(type_)})", type_, owner)


# -- source ----------------------------------------------------------------------------------


class _Module:
    """The lines and hoisted constants of one generated module."""

    def __init__(self) -> None:
        self.lines: SpannedLines = []
        self.constants: dict[str, str] = {}  # source -> name, shared with the Writers

    def add(self, indent: int, text: str, span: n.Span | None = None) -> None:
        self.lines.append((indent, text, span))

    def step(self, indent: int, lines: Lines, span: n.Span | None = None) -> None:
        """A step's source (`pricing.steps`), its first line from `span`."""
        for at, (depth, text) in enumerate(lines):
            self.add(indent + depth, text, span if at == 0 else None)

    def constant(self, value: object) -> str:
        if isinstance(value, tuple) and all(isinstance(v, str) for v in value):
            source = "(" + "".join(f"{text_literal(v)}, " for v in value) + ")"
        else:
            source = python_constant(value)
        return self.constants.setdefault(source, f"K{len(self.constants)}")

    def render(self, header: str) -> tuple[str, dict[int, n.Span]]:
        body = " ".join(text for _, text, _ in self.lines)
        used = set(re.findall(r"\bK\d+\b", body))
        out = [f"# {text_literal(header)}; generated by dsl.compile_usage", ""]
        out += [f"{name} = {source}" for source, name in self.constants.items() if name in used]
        out += ["", ""]
        spans: dict[int, n.Span] = {}
        for indent, text, span in self.lines:
            if span is not None:
                spans[len(out) + 1] = span
            out.append("    " * indent + text if text else "")
        return "\n".join(out) + "\n", spans


def _pattern_test(patterns: Sequence[n.Pattern], var: str, module: _Module) -> str | None:
    """Source true when `var` matches one of the patterns; None when any name does."""
    if not patterns or any(p.is_any for p in patterns):
        return None
    exact = frozenset(p.text for p in patterns if not p.is_prefix)
    prefixes = tuple(p.text[:-1] for p in patterns if p.is_prefix)
    tests = [f"{var} in {module.constant(exact)}"] if exact else []
    if prefixes:
        tests.append(f"{var}.startswith(({''.join(text_literal(p) + ', ' for p in prefixes)}))")
    return " or ".join(tests)


def _allowances(m: _Module, block: Block) -> None:
    for allowance, amount in zip(block.usage.allowances, block.allowances, strict=True):
        zone_test = _pattern_test(allowance.zones, "zone", m)
        band_test = _pattern_test(allowance.bands, "band", m)
        tests = [f"({t})" for t in (zone_test, band_test) if t is not None]
        depth = 1
        if tests:
            note = f"  # allowance {text_literal(allowance.name)}"
            m.add(1, f"if {' and '.join(tests)}:{note}", allowance.span)
            depth = 2
        if amount is None:
            m.add(depth, "raise Deferred", allowance.span)
            continue
        key, name = text_literal(allowance_key(allowance.name)), text_literal(allowance.name)
        m.add(depth, f"before = whole(state.get({key}, 0))", allowance.span)
        kept = [
            (0, f"state[{key}] = before + free"),
            (0, f"used[{name}] = used.get({name}, 0) + free"),
        ]
        m.step(depth, allowances.source(amount, kept))


def _tiers(m: _Module, block: Block) -> None:
    tiers, node = block.tiers, block.usage.tiers
    assert tiers is not None
    assert node is not None
    key = text_literal(tier_key(block.usage.business))
    m.add(1, f"before = whole(state.get({key}, 0))", node.span)
    m.add(1, "if before < 0:")
    m.add(2, "raise Deferred")
    m.add(1, "end = before + paid")
    m.step(1, steps_tiers.source(node.mode == "graduated", tiers))
    m.add(1, f"state[{key}] = end")


def _part(m: _Module, block: Block, b: int, r: int) -> None:
    rate, terms = block.usage.rates[r], block.rates[r]
    m.add(0, f"def part_{b}_{r}(zone, band, usage, state, used):", rate.span)
    if terms is None:
        m.add(1, "raise Deferred  # the interpreter refuses this rate's terms", rate.span)
    else:
        m.step(1, increments.source(terms.first, terms.next), rate.span)
        m.add(1, "paid = billed")
        _allowances(m, block)
        tiered = block.tiers is not None
        if tiered:
            _tiers(m, block)
        usage = "amount" if tiered else f"{terms.multiplier} * paid"
        m.step(1, steps_terms.source(usage, terms.connection, terms.minimum, terms.maximum))
        m.add(1, "return billed, paid, amount")
    m.add(0, "")
    m.add(0, "")


def _condition(
    m: _Module, rate: n.Rate, b: int, r: int, attributes: Mapping[str, str]
) -> tuple[str, bool]:
    """Rate r's `when` as `when_B_R(event, facts, areas)`: (its name, whether it reads the
    sale's facts); ("None", False) when it does not compile (the selector then defers every
    event that must evaluate it)."""
    assert rate.condition is not None
    writer = UsageWriter(attributes, m.constants)
    try:
        test = writer.truth(rate.condition, True)
    except CompileError:
        return "None", False
    m.add(0, f"def when_{b}_{r}(event, facts, areas):", rate.condition.span)
    for local, source in writer.reads.values():
        m.add(1, f"{local} = {source}")
    m.add(1, f"return {test}", rate.condition.span)
    m.add(0, "")
    m.add(0, "")
    return f"when_{b}_{r}", any(not key.startswith("event.") for key in writer.reads)


def _rounding_lines(m: _Module, block: Block, index: int, depth: int) -> None:
    rounding = block.rounding
    if rounding is None:
        m.add(depth, f"charge = unrounded_scaled(total, {block.scale})")
        return
    if not block.rounding_ok:
        m.add(depth, "raise Deferred  # a rounding the interpreter refuses", rounding.span)
        return
    mode, places = RoundingMode(rounding.mode), rounding.decimals
    m.step(depth, steps_rounding.source(mode, places, block.scale), rounding.span)
    m.add(depth, f"charge = CHARGES_{index}.get(q)  # the same few amounts, again and again")
    m.add(depth, "if charge is None:")
    m.add(depth + 1, f"charge = remember(CHARGES_{index}, q, Decimal(q).scaleb({-places}, EXACT))")


def _caps(m: _Module, block: Block) -> None:
    for index, (cap, amount) in enumerate(zip(block.usage.caps, block.caps, strict=True), 1):
        if amount is None:
            m.add(1, "raise Deferred  # a cap the interpreter refuses", cap.span)
            return
        key, limit = text_literal(cap_key(block.usage.business, index)), m.constant(amount)
        m.add(1, f"before = Decimal(state.get({key}, 0))", cap.span)
        m.step(1, caps.source(limit))
        m.add(1, f"state[{key}] = after")


def _select(m: _Module, b: int, depth: int) -> None:
    m.add(depth, f"rate = STATIC_{b}.get((zone, band), -1)")
    m.add(depth, "if rate < 0:")
    m.add(depth + 1, f"rate = PICK_{b}(zone, band, event, facts, env)")


def _zone(m: _Module, b: int) -> None:
    """The zone from the finder's memo, the finder itself on a miss."""
    m.add(1, "destination = event.destination")
    m.add(1, f"zone = ZMEMO_{b}.get(destination) if type_of(destination) is STR else None")
    m.add(1, "if zone is None:")
    m.add(2, f"zone = ZONE_{b}(destination)")


def _block(m: _Module, block: Block, b: int, names: str, currency: str) -> None:
    usage = block.usage
    scale = block.scale
    if block.rounding is not None and block.rounding_ok:
        m.add(0, f"CHARGES_{b} = {{}}  # rounded charges by their integer, bounded by remember()")
        m.add(0, "")
        m.add(0, "")
    m.add(0, f"def lean_{b}(event, start, at, values, facts, env):", usage.span)
    m.add(1, "quantity = event.quantity")
    if usage.zones:
        _zone(m, b)
    else:
        m.add(1, "zone = ''")
    if block.split:
        m.add(1, f"pieces = SPLIT_{b}(start, quantity)")
    else:
        band = f"BAND_{b}(start) if at is None else BAND_MS_{b}(at)"
        m.add(1, f"band = {band}" if usage.bands else "band = ''")
    m.add(1, "state = {**values}")
    m.add(1, "used = {}")
    if block.split:
        m.add(1, "total = 0")
        m.add(1, "billed_all = 0")
        m.add(1, "paid_all = 0")
        m.add(1, "parts = ()")
        m.add(1, "for band, begin, length in pieces:  # bounded: pricing.bands.MAX_PARTS")
        _select(m, b, 2)
        m.add(2, f"billed, paid, amount = PARTS_{b}[rate](zone, band, length, state, used)")
        m.add(2, "total += amount")
        m.add(2, "billed_all += billed")
        m.add(2, "paid_all += paid")
        m.add(2, f"part = new_part(band, begin, length, billed, paid, Fraction(amount, {scale}), "
                 f"{names}[rate], SPANS_{b}[rate])")  # fmt: skip
        m.add(2, "parts += (part,)")
        m.add(1, "first = parts[0]")
        result = (f"state, charge, {text_literal(currency)}, zone, first.band, billed_all, "
                  "paid_all, used, first.rate, first.span, parts, total")  # fmt: skip
    else:
        _select(m, b, 1)
        m.add(1, f"billed, paid, total = PARTS_{b}[rate](zone, band, quantity, state, used)")
        result = (f"state, charge, {text_literal(currency)}, zone, band, billed, paid, used, "
                  f"{names}[rate], SPANS_{b}[rate], (), total")  # fmt: skip
    _rounding_lines(m, block, b, 1)
    _caps(m, block)
    m.add(1, f"return tuple_new(Lean, ({result}))")
    m.add(0, "")
    m.add(0, "")
    m.add(0, f"def block_{b}(event, start, counters, values, facts, env):", usage.span)
    m.add(1, "(state, charge, currency, zone, band, billed, paid, used, name, span, parts, "
             f"total) = lean_{b}(event, start, None, values, facts, env)")  # fmt: skip
    m.add(1, f"exact = Fraction(total, {scale})")
    m.add(1, "if not parts:")
    m.add(2, "parts = (new_part(band, start, event.quantity, billed, paid, exact, name, span),)")
    m.add(1, "rated = new_rated(counters_of(state), charge, exact, currency, zone, band, "
             "billed, proxy(used), name, span, parts)")  # fmt: skip
    m.add(1, "return rated, state")
    m.add(0, "")
    m.add(0, "")


def _checks(m: _Module, lean: bool) -> None:
    """The interpreter's checks of the start and the quantity, in its order (a start given
    in epoch milliseconds is aware)."""
    m.add(2, "start = event.start")
    test = "start.tzinfo is None or start.utcoffset() is None"
    m.add(2, f"if at is None and ({test}):" if lean else f"if {test}:")
    m.add(3, "raise Rejected('malformed', 'the event start needs a time zone')")
    m.add(2, "quantity = event.quantity")
    m.add(2, "if type_of(quantity) is not INT or quantity < 0:")
    m.add(3, "check_quantity(quantity)")
    m.add(2, "business = event.business")


def _dispatch(m: _Module, plan: n.PlanDecl, blocks: Sequence[Block]) -> None:
    unknown = m.constant(f"plan `{plan.name}` does not rate ")
    for kind in ("rate", "lean"):
        if kind == "rate":
            m.add(0, "def rate_one(event, counters, values, facts, env):", plan.span)
        else:
            m.add(0, "def lean_one(event, at, values, facts=None, env=DEFAULT_ENV):", plan.span)
        m.add(1, "try:")
        _checks(m, kind == "lean")
        for b, usage in enumerate(block.usage for block in blocks):
            m.add(2, f"if business == {text_literal(usage.business)}:", usage.span)
            if kind == "rate":
                m.add(3, f"return block_{b}(event, start, counters, values, facts, env)")
            else:
                m.add(3, f"return lean_{b}(event, start, at, values, facts, env)")
        m.add(2, f"raise Rejected('unknown-business', {unknown} + f'{{business}}')")
        m.add(1, "except Rejected as rejected:")
        if kind == "rate":
            m.add(2, "return new_rejected(counters, rejected.code, rejected.message), values")
        else:
            m.add(2, "return new_rejected(as_counters(values), rejected.code, rejected.message)")
            m.add(1, "except Deferred:")
            m.add(2, "return INTERPRET(event, as_counters(values), facts, env)")
        m.add(0, "")
        m.add(0, "")
    m.add(0, "def rate_many(events, counters, values, facts, env):")
    m.add(1, "results = []")
    m.add(1, "append = results.append")
    m.add(1, "for event in events:  # bounded by the batch")
    m.add(2, "try:")
    m.add(3, "result, values = rate_one(event, counters, values, facts, env)")
    m.add(2, "except Deferred:")
    m.add(3, "result = INTERPRET(event, counters, facts, env)")
    m.add(3, "values = {**result.counters}")
    m.add(2, "append(result)")
    m.add(2, "counters = result.counters")
    m.add(1, "return results")


def usage_source(
    plan: n.PlanDecl,
    blocks: Sequence[Block],
    currency: str,
    attributes: Mapping[str, str],
    header: str,
) -> tuple[str, dict[int, n.Span]]:
    """The rating module of a plan whose usage blocks are settled in `blocks` (module
    docstring), and the rule span of its lines."""
    m = _Module()
    for b, block in enumerate(blocks):
        tests: list[tuple[str, bool]] = []
        for r, rate in enumerate(block.usage.rates):
            has = rate.condition is not None
            tests.append(_condition(m, rate, b, r, attributes) if has else ("None", False))
            _part(m, block, b, r)
        parts = "".join(f"part_{b}_{r}, " for r in range(len(block.usage.rates)))
        m.add(0, f"PARTS_{b} = ({parts})")
        m.add(0, f"WHEN_{b} = ({''.join(f'{name}, ' for name, _ in tests)})")
        m.add(0, f"WHEN_FACTS_{b} = ({''.join(f'{reads!r}, ' for _, reads in tests)})")
        m.add(0, "")
        m.add(0, "")
        business = block.usage.business
        rate_names = tuple(
            f"{plan.name}.{business}.rate[{r + 1}]" for r in range(len(block.usage.rates))
        )
        _block(m, block, b, m.constant(rate_names), currency)
    _dispatch(m, plan, blocks)
    return m.render(header)
