"""The reference interpreter: the executable spec the compiled path is tested against.

It walks the syntax tree for every evaluation, so it is slow and simple on purpose. Values
follow the model in `dsl.runtime`; None is *unknown* and `and`/`or`/`not` are Kleene's.
Names resolve dynamically: a dotted name of `SCHEMA` reads the facts, `customer.X` and
`item.X` read free attributes, `item.option.G` the chosen option, and any other single word is
a catalog code (`hall`, `GD`). Periods compare as months: `1 quarter` is 3, `1 year` 12.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from dsl import nodes as n
from dsl import runtime as rt
from dsl.context import EMPTY, SCHEMA, SaleFacts
from dsl.runtime import EvalError

PERIOD_MONTHS: Mapping[str, int] = {"month": 1, "quarter": 3, "year": 12}


@dataclass(frozen=True, slots=True)
class Env:
    """What evaluation needs beyond the facts: the lineage of areas other than the sale's
    (`event.origin within GD`), from the catalog's area tree."""

    areas: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: rt.NO_AREAS)


DEFAULT_ENV = Env()


class Failure(NamedTuple):
    """Why an offer is not eligible, or a composition rule is broken."""

    rule: str
    code: str
    message: str
    span: n.Span


class TraceEntry(NamedTuple):
    rule: str  # rule name, or `first[N]` (1-based) for branches
    span: n.Span  # the condition's (the branch's for `otherwise`)
    outcome: bool | None
    observed: tuple[tuple[str, object], ...]


@dataclass(frozen=True, slots=True)
class Outcome:
    qualified: bool
    reasons: tuple[Failure, ...] = ()
    branch: int | None = None  # `first`: index of the deciding branch
    trace: tuple[TraceEntry, ...] | None = None


def is_code(parts: tuple[str, ...]) -> bool:
    """A bare word that is not a context name is a catalog code."""
    return len(parts) == 1 and parts[0] not in SCHEMA


def check_word(word: str) -> None:
    if word.startswith("__"):
        raise EvalError(f"unknown name `{word}`")


# -- expressions -----------------------------------------------------------------------------


def read(parts: tuple[str, ...], facts: SaleFacts) -> object:
    """The value of a context name (raises EvalError for names that are none)."""
    for part in parts:
        check_word(part)
    dotted = ".".join(parts)
    c = facts.customer
    item = facts.item
    simple: dict[str, object] = {}
    if dotted.startswith("customer."):
        simple = {
            "customer.type": c.type,
            "customer.segments": c.segments,
            "customer.age": c.age,
            "customer.vip_level": c.vip_level,
            "customer.tenure": c.tenure_months,
            "customer.credit_class": c.credit_class,
            "customer.products": c.products,
        }
        if dotted in simple:
            return simple[dotted]
        if len(parts) == 2:
            return c.attributes.get(parts[1])
    elif dotted == "area":
        return facts.area
    elif dotted == "channel":
        return facts.channel
    elif dotted == "time":
        return facts.time
    elif dotted == "time.date":
        return facts.time.date()
    elif dotted == "time.time":
        return rt.time_of_day(facts.time)
    elif dotted == "time.weekday":
        return rt.weekday(facts.time)
    elif dotted == "cart":
        return rt.cart_set(facts.cart)
    elif dotted == "bundle.lines":
        return rt.bundle_lines(facts.bundle)
    elif dotted.startswith("item."):
        if len(parts) == 3 and parts[1] == "option":
            return None if item is None else item.options.get(parts[2])
        if dotted == "item.quantity":
            return None if item is None else item.quantity
        if len(parts) == 2:
            return None if item is None else item.attributes.get(parts[1])
    elif dotted.startswith("event."):
        raise EvalError(f"`{dotted}` is only known in usage rules")
    raise EvalError(f"unknown name `{dotted}`")


def literal(expr: n.Expr) -> object:
    match expr:
        case n.IntLit(value=v) | n.DecimalLit(value=v):
            return v
        case n.PercentLit(value=v):
            return v / 100  # a fraction, so `70 CNY * 10%` is 7 CNY
        case n.StringLit(value=v) | n.BoolLit(value=v) | n.DateLit(value=v):
            return v
        case n.InstantLit(value=v):
            return v
        case n.MoneyLit(amount=amount, currency=currency):
            return (amount, currency)
        case n.DurationLit():
            return expr.milliseconds
        case n.DataLit():
            return expr.bytes
        case n.CountLit(amount=amount):
            return amount
        case n.TimeOfDayLit(seconds=seconds):
            return seconds
        case n.PeriodLit(count=count, unit=unit):
            if unit not in PERIOD_MONTHS:
                raise EvalError(f"a period of {unit}s does not compare with months")
            return count * PERIOD_MONTHS[unit]
    raise EvalError(f"not a literal: {type(expr).__name__}")


def evaluate(expr: n.Expr, facts: SaleFacts, env: Env = DEFAULT_ENV) -> object:
    """The value of `expr` for these facts: None when unknown. Raises EvalError."""
    match expr:
        case n.Name(parts=parts):
            if is_code(parts):
                check_word(parts[0])
                return parts[0]
            return read(parts, facts)
        case n.SetLit(items=items):
            values = [evaluate(item, facts, env) for item in items]
            return None if None in values else frozenset(values)
        case n.Call(target=target, method=method, args=args):
            return _call(target.dotted, method, args, facts, env)
        case n.Compare(op=op, left=left, right=right):
            return compare(op, evaluate(left, facts, env), evaluate(right, facts, env))
        case n.Between(value=value, low=low, high=high, negated=negated):
            x, lo, hi = (evaluate(e, facts, env) for e in (value, low, high))
            if x is None or lo is None or hi is None:
                return None
            inside = bool(compare("<=", lo, x) and compare("<=", x, hi))
            return kleene_not(inside) if negated else inside
        case n.In(value=value, container=container, negated=negated):
            found = contains(evaluate(container, facts, env), evaluate(value, facts, env))
            return kleene_not(found) if negated else found
        case n.Within(value=value, area=area, negated=negated):
            found = _within(value, evaluate(area, facts, env), facts, env)
            return kleene_not(found) if negated else found
        case n.Not(operand=operand):
            return kleene_not(truth(evaluate(operand, facts, env)))
        case n.And(operands=operands):
            return kleene_and(truth(evaluate(o, facts, env)) for o in operands)
        case n.Or(operands=operands):
            return kleene_or(truth(evaluate(o, facts, env)) for o in operands)
        case n.Arith(op=op, left=left, right=right):
            return arith(op, evaluate(left, facts, env), evaluate(right, facts, env))
        case n.Neg(operand=operand):
            number = evaluate(operand, facts, env)
            if number is None:
                return None
            if isinstance(number, tuple):
                return rt.money_neg(number)
            return -rt._num(number)
    return literal(expr)


def truth(value: object) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise EvalError(f"expected a condition, got {value!r}")


def kleene_not(value: bool | None) -> bool | None:
    return None if value is None else not value


def kleene_and(values: Iterator[bool | None] | list[bool | None]) -> bool | None:
    """False as soon as one is false (later operands are not evaluated), else unknown if one
    is unknown, else true."""
    unknown = False
    for value in values:
        if value is False:
            return False
        unknown = unknown or value is None
    return None if unknown else True


def kleene_or(values: Iterator[bool | None]) -> bool | None:
    unknown = False
    for value in values:
        if value is True:
            return True
        unknown = unknown or value is None
    return None if unknown else False


def compare(op: str, left: object, right: object) -> bool | None:
    if left is None or right is None:
        return None
    if isinstance(left, tuple) or isinstance(right, tuple):
        return rt.money_cmp(op, left, right)
    try:
        if op == "==":
            return bool(left == right)
        if op == "!=":
            return bool(left != right)
        if op == "<":
            return bool(left < right)  # type: ignore[operator]
        if op == "<=":
            return bool(left <= right)  # type: ignore[operator]
        if op == ">":
            return bool(left > right)  # type: ignore[operator]
        return bool(left >= right)  # type: ignore[operator]
    except TypeError as err:
        raise EvalError(f"cannot compare {left!r} {op} {right!r}") from err


def contains(container: object, value: object) -> bool | None:
    if container is None or value is None:
        return None
    if not isinstance(container, frozenset):
        raise EvalError(f"`in` needs a set, got {container!r}")
    return rt.member(value, container)


def _within(value: n.Expr, area: object, facts: SaleFacts, env: Env) -> bool | None:
    if area is None:
        return None
    if not isinstance(area, str):
        raise EvalError(f"`within` needs an area, got {area!r}")
    if isinstance(value, n.Name) and value.parts == ("area",):
        return rt.within(facts.area_lineage, area)
    code = evaluate(value, facts, env)
    if code is not None and not isinstance(code, str):
        raise EvalError(f"`within` needs an area, got {code!r}")
    lineage = rt.lineage_of(env.areas, code)
    return None if lineage is None else rt.within(lineage, area)


def _call(
    target: str, method: str, args: tuple[n.Expr, ...], facts: SaleFacts, env: Env
) -> int | None:
    if method != "count" or target not in ("cart", "bundle") or len(args) != 1:
        raise EvalError(f"unknown method `{target}.{method}`")
    code = evaluate(args[0], facts, env)
    if not isinstance(code, str):
        raise EvalError(f"`{target}.count` needs an offer code, got {code!r}")
    if target == "cart":
        return facts.cart.get(code, 0)
    return None if facts.bundle is None else facts.bundle.get(code, 0)


def arith(op: str, left: object, right: object) -> object:
    if left is None or right is None:
        return None
    lmoney, rmoney = isinstance(left, tuple), isinstance(right, tuple)
    if lmoney and rmoney and op in "+-":
        return rt.money_add(left, right) if op == "+" else rt.money_sub(left, right)
    if lmoney and not rmoney and op in "*/":
        return rt.money_scale(left, right) if op == "*" else rt.money_div(left, right)
    if rmoney and not lmoney and op == "*":
        return rt.money_scale(right, left)
    if lmoney or rmoney:
        raise EvalError(f"cannot compute {left!r} {op} {right!r}")
    a, b = rt._num(left), rt._num(right)
    if op == "/":
        return rt.div(a, b)
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    return a * b


# -- traces ----------------------------------------------------------------------------------


def observed_nodes(expr: n.Expr) -> list[tuple[str, n.Expr]]:
    """The context reads of a condition, labelled, first occurrence first (pre-order)."""
    found: dict[str, n.Expr] = {}
    stack: list[n.Node] = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, n.Call):
            args = ", ".join(a.dotted if isinstance(a, n.Name) else "?" for a in node.args)
            found.setdefault(f"{node.target.dotted}.{node.method}({args})", node)
            continue
        if isinstance(node, n.Name):
            if not is_code(node.parts):
                found.setdefault(node.dotted, node)
            continue
        stack.extend(reversed(list(node.children())))
    return list(found.items())


def observe(expr: n.Expr, facts: SaleFacts, env: Env) -> tuple[tuple[str, object], ...]:
    return tuple((label, evaluate(node, facts, env)) for label, node in observed_nodes(expr))


# -- eligibility -----------------------------------------------------------------------------


def branch_name(index: int) -> str:
    return f"first[{index + 1}]"


def eligibility(
    block: n.Eligibility, facts: SaleFacts, env: Env = DEFAULT_ENV, *, trace: bool = False
) -> Outcome:
    """Whether the facts qualify: `all` collects every failing rule's reason, `first`
    reports the deciding branch (`no_rule_matched` when none decides). Raises EvalError."""
    entries: list[TraceEntry] = []
    outcome: bool | None
    if block.mode == "all":
        failures: list[Failure] = []
        for rule in block.rules:
            outcome = truth(evaluate(rule.condition, facts, env))
            if trace:
                observed = observe(rule.condition, facts, env)
                entries.append(TraceEntry(rule.name, rule.condition.span, outcome, observed))
            if outcome is not True:
                code, message = (
                    (rule.reason.code, rule.reason.message)
                    if rule.reason
                    else (
                        rule.name,
                        "",
                    )
                )
                failures.append(Failure(rule.name, code, message, rule.span))
        traced = tuple(entries) if trace else None
        return Outcome(not failures, tuple(failures), None, traced)
    for index, branch in enumerate(block.branches):
        name = branch_name(index)
        if branch.condition is None:
            outcome = True
            if trace:
                entries.append(TraceEntry(name, branch.span, True, ()))
        else:
            outcome = truth(evaluate(branch.condition, facts, env))
            if trace:
                observed = observe(branch.condition, facts, env)
                entries.append(TraceEntry(name, branch.condition.span, outcome, observed))
        if outcome is True:
            traced = tuple(entries) if trace else None
            if branch.allow:
                return Outcome(True, (), index, traced)
            reason = branch.reason or n.Reason(code="denied", message="")
            failure = Failure(name, reason.code, reason.message, branch.span)
            return Outcome(False, (failure,), index, traced)
    failure = Failure("first", "no_rule_matched", "no rule matched", block.span)
    return Outcome(False, (failure,), None, tuple(entries) if trace else None)


# -- composition -----------------------------------------------------------------------------


def composition(
    block: n.Composition,
    counts: Mapping[str, int],
    held: frozenset[str] = frozenset(),
    cart: Mapping[str, int] = EMPTY,
) -> list[Failure]:
    """The broken rules of a combo whose members are `counts` (offer -> lines), with the
    rest of the cart and the customer's held products (for requires/excludes/add-on)."""
    present = {o for o, c in counts.items() if c > 0} | {o for o, c in cart.items() if c > 0}
    present |= held
    failures: list[Failure] = []
    for rule in block.rules:
        match rule:
            case n.MemberRule(cardinality=card, offers=offers, group=group):
                total = sum(counts.get(o, 0) for o in offers)
                ok = card.low <= total and (card.high is None or total <= card.high)
                label, default = group or ",".join(offers), "cardinality"
            case n.RequiresRule(offers=offers):
                ok = all(o in present for o in offers)
                label, default = "requires " + ",".join(offers), "requires"
            case n.ExcludesRule(offers=offers):
                ok = not any(o in present for o in offers)
                label, default = "excludes " + ",".join(offers), "excludes"
            case n.AddOnRule(addon=addon, bases=bases):
                bought = counts.get(addon, 0) > 0 or cart.get(addon, 0) > 0
                ok = not bought or any(b in present for b in bases)
                label, default = "add-on " + addon, "addon_without_base"
        if not ok:
            code, message = (
                (rule.reason.code, rule.reason.message)
                if rule.reason
                else (
                    default,
                    "",
                )
            )
            failures.append(Failure(label, code, message, rule.span))
    return failures
