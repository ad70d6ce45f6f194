"""Checking expressions: names, codes and types.

Inference runs bottom-up over an explicit stack (no recursion: the parser allows nesting 64
deep and conditions may be long `and` chains). A bare identifier that is not a context name
gets the pending type `CODE`; the operator above it resolves it against the other operand
(`area within GD`: an area; `channel in {hall, web}`: channels; `cart.count(x)`: an offer)
and checks it against the catalog. A string literal where a code is expected is checked the
same way (`"vip" in customer.segments`). A wrong subexpression gets `UNKNOWN`, which every
rule accepts, so each mistake is reported once.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from dsl import interpreter as ip
from dsl import types as t
from dsl.check_common import Env, ExprContext, did_you_mean
from dsl.context import METHODS, OPTION_PREFIX, SCHEMA
from dsl.nodes import (
    And,
    Arith,
    Between,
    BoolLit,
    Call,
    Compare,
    CountLit,
    DataLit,
    DateLit,
    DecimalLit,
    DurationLit,
    Expr,
    In,
    InstantLit,
    IntLit,
    MoneyLit,
    Name,
    Neg,
    Node,
    Not,
    Or,
    PercentLit,
    PeriodLit,
    SetLit,
    StringLit,
    TimeOfDayLit,
    Within,
)
from dsl.runtime import EvalError
from dsl.types import Type

__all__ = ["check_condition", "check_value", "infer", "resolve_name"]

_LITERALS: dict[type[Expr], Type] = {
    IntLit: t.INT,
    DecimalLit: t.DECIMAL,
    PercentLit: t.PERCENT,
    DurationLit: t.DURATION,
    PeriodLit: t.PERIOD,
    DataLit: t.DATA,
    CountLit: t.COUNT,
    TimeOfDayLit: t.TIME_OF_DAY,
    DateLit: t.DATE,
    InstantLit: t.INSTANT,
    StringLit: t.STRING,
    BoolLit: t.BOOL,
}
_OWNERS = ("customer", "item", "event")
_NUMBERS = (IntLit, DecimalLit, PercentLit, MoneyLit, DurationLit, DataLit, CountLit)


def _children(expr: Expr) -> Sequence[Expr]:
    if isinstance(expr, Call):
        return expr.args  # the receiver is part of the method's name, not a value
    return [child for child in expr.children() if isinstance(child, Expr)]


class _Inference:
    def __init__(self, env: Env, ctx: ExprContext) -> None:
        self.env = env
        self.ctx = ctx
        self.types: dict[int, Type] = {}
        self.constants: dict[int, object] = {}  # the value of each constant subexpression

    # -- the walk ----------------------------------------------------------------------------

    def run(self, root: Expr) -> Type:
        stack: list[tuple[Expr, bool]] = [(root, False)]
        while stack:  # bounded: each node is pushed twice
            node, ready = stack.pop()
            if ready:
                self.types[id(node)] = self.combine(node)
                self.fold(node)
            else:
                stack.append((node, True))
                stack.extend((child, False) for child in _children(node))
        return self.types[id(root)]

    def of(self, node: Expr) -> Type:
        return self.types.get(id(node), t.UNKNOWN)

    # -- pending codes -------------------------------------------------------------------------

    def pending(self, node: Expr) -> bool:
        """Whether `node` may still become a code: a bare identifier, a string literal, or a
        set literal of those."""
        kind = self.of(node)
        if kind == t.CODE or isinstance(node, StringLit):
            return True
        return (
            isinstance(node, SetLit)
            and bool(node.items)
            and all(self.pending(item) for item in node.items)
        )

    def coerce(self, node: Expr, expected: Type) -> Type:
        """Resolve a pending `node` as a value of `expected`; otherwise settle it."""
        if isinstance(node, SetLit) and expected.element and self.pending(node):
            for item in node.items:
                self.coerce(item, expected.element)
            self.types[id(node)] = expected
            return expected
        if expected.is_code and self.pending(node) and not isinstance(node, SetLit):
            word = node.value if isinstance(node, StringLit) else _word(node)
            self.check_code(node, word, expected.kind)
            self.types[id(node)] = expected
            return expected
        return self.settle(node)

    def settle(self, node: Expr) -> Type:
        """A pending code that nothing resolved: an unknown name."""
        kind = self.of(node)
        if kind == t.CODE:
            self.unknown_name(node, _word(node))
            kind = self.types[id(node)] = t.UNKNOWN
        elif kind == t.set_of(t.CODE) and isinstance(node, SetLit):
            for item in node.items:
                self.settle(item)
            kind = self.types[id(node)] = t.set_of(t.UNKNOWN)
        return kind

    def check_code(self, node: Node, word: str, kind: str) -> None:
        codes = self.env.codes(kind)
        if codes is not None and word not in codes:
            label = kind.replace("_", " ")
            self.env.report.error(
                f"unknown-{kind.replace('_', '-')}",
                node.span,
                f"unknown {label} `{word}`",
                did_you_mean(word, codes),
            )

    def unknown_name(self, node: Expr, word: str) -> None:
        self.env.report.error(
            "unknown-name", node.span, f"unknown name `{word}`", _name_hint(word, self.env)
        )

    # -- one node, its children done -----------------------------------------------------------

    def combine(self, node: Expr) -> Type:
        literal = _LITERALS.get(type(node))
        if literal is not None:
            return literal
        if isinstance(node, MoneyLit):
            return self.money(node)
        if isinstance(node, Name):
            return resolve_name(node, self.env, self.ctx)
        if isinstance(node, SetLit):
            return self.set_literal(node)
        if isinstance(node, Call):
            return self.call(node)
        if isinstance(node, Compare):
            return self.compare(node)
        if isinstance(node, Between):
            return self.between(node)
        if isinstance(node, In):
            return self.membership(node)
        if isinstance(node, Within):
            for part in (node.value, node.area):
                found = self.coerce(part, t.AREA)
                if not t.accepts(t.AREA, found):
                    self.mismatch(part, f"`within` works on areas, not {found}")
            return t.BOOL
        if isinstance(node, Not):
            self.need_bool(node.operand)
            return t.BOOL
        if isinstance(node, And | Or):
            for operand in node.operands:
                self.need_bool(operand)
            return t.BOOL
        if isinstance(node, Arith):
            return self.arith(node)
        if isinstance(node, Neg):
            found = self.settle(node.operand)
            result = t.negation(found)
            if result is None:
                self.mismatch(node, f"cannot negate {found}")
                return t.UNKNOWN
            return result
        return t.UNKNOWN  # pragma: no cover - every Expr kind is handled above

    def fold(self, node: Expr) -> None:
        """The value of a literal, or of arithmetic on constants, for `division-by-zero`."""
        try:
            if isinstance(node, Arith):
                left, right = self.constants[id(node.left)], self.constants[id(node.right)]
                self.constants[id(node)] = ip.arith(node.op, left, right)
            elif isinstance(node, Neg):
                self.constants[id(node)] = ip.arith("*", self.constants[id(node.operand)], -1)
            elif isinstance(node, _NUMBERS):
                self.constants[id(node)] = ip.literal(node)
        except (KeyError, EvalError, TypeError, ArithmeticError):
            pass  # not a constant, or one of the wrong type (reported as such)

    def divisor_zero(self, node: Arith) -> None:
        divisor = self.constants.get(id(node.right))
        if isinstance(divisor, tuple):
            divisor = divisor[0]
        if isinstance(divisor, int | Decimal) and not isinstance(divisor, bool) and not divisor:
            self.env.report.error(
                "division-by-zero",
                node.right.span,
                "division by zero: the divisor is always 0",
                "a division by zero is unknown: a condition reading it is never true and an amount"
                " reading it is a rule error",
            )

    def mismatch(self, node: Node, message: str, hint: str | None = None) -> None:
        self.env.report.error("type-mismatch", node.span, message, hint)

    def need_bool(self, node: Expr) -> None:
        found = self.settle(node)
        if not t.accepts(t.BOOL, found):
            self.mismatch(node, f"expected a condition (bool), got {found}")

    def money(self, node: MoneyLit) -> Type:
        plan = self.ctx.currency
        if not node.currency:
            if not plan:
                self.env.report.error(
                    "missing-currency",
                    node.span,
                    f"amount {node.amount} has no currency",
                    f"write `{node.amount} CNY`, or declare `currency` in the plan",
                )
            return t.money(plan)
        if plan and node.currency != plan:
            self.env.report.error(
                "currency-mismatch",
                node.span,
                f"amount in {node.currency} in a plan priced in {plan}",
            )
            return t.UNKNOWN
        return t.money(node.currency)

    def set_literal(self, node: SetLit) -> Type:
        if self.pending(node):
            has_code = any(self.of(i) == t.CODE for i in node.items)
            return t.set_of(t.CODE if has_code else t.STRING)
        element: Type | None = None
        for item in node.items:
            if self.pending(item):
                continue
            found = self.of(item)
            if element is None or element.is_unknown:
                element = found
            elif not t.accepts(element, found):
                if t.accepts(found, element):
                    element = found  # {1, 1.5}: a set of decimals
                else:
                    self.mismatch(item, f"a set of {element} cannot hold {found}")
        for item in node.items:
            if not self.pending(item):
                continue
            found = self.coerce(item, element) if element and element.is_code else self.settle(item)
            if element and not t.accepts(element, found):
                self.mismatch(item, f"a set of {element} cannot hold {found}")
        return t.set_of(element or t.UNKNOWN)

    def call(self, node: Call) -> Type:
        key = f"{node.target.dotted}.{node.method}"
        signature = METHODS.get(key)
        if signature is None:
            for arg in node.args:  # codes or names: nothing tells which; say nothing more
                if self.pending(arg):
                    self.types[id(arg)] = t.UNKNOWN
            hint = did_you_mean(key, METHODS)
            self.env.report.error("unknown-name", node.span, f"unknown method `{key}`", hint)
            return t.UNKNOWN
        params, result = signature
        if len(params) != len(node.args):
            self.env.report.error(
                "wrong-arguments",
                node.span,
                f"`{key}` takes {len(params)} argument(s), got {len(node.args)}",
            )
        for param, arg in zip(params, node.args, strict=False):
            expected = t.parse_type(param)
            found = self.coerce(arg, expected)
            if not t.accepts(expected, found):
                self.mismatch(arg, f"`{key}` takes {expected}, not {found}")
        if node.target.parts[0] == "bundle":
            _check_bundle(node.target, self.env, self.ctx)
        return t.parse_type(result)

    def pair(self, left: Expr, right: Expr) -> tuple[Type, Type]:
        """Both sides, each pending one resolved by the other."""
        lt, rt = self.of(left), self.of(right)
        if self.pending(left) and _codes(rt):
            lt = self.coerce(left, rt)
        if self.pending(right) and _codes(lt):
            rt = self.coerce(right, lt)
        return self.settle(left), self.settle(right)

    def compare(self, node: Compare) -> Type:
        lt, rt = self.pair(node.left, node.right)
        problem = t.comparison_problem(lt, rt, node.op)
        if problem:
            self.env.report.error(problem[0], node.span, problem[1])
        else:
            self.option_value(node.left, node.right)
            self.option_value(node.right, node.left)
            self.tenure_unit(node.left, node.right)
            self.tenure_unit(node.right, node.left)
        return t.BOOL

    def tenure_unit(self, name: Expr, value: Expr) -> None:
        """Tenure is kept in whole months: days and weeks do not convert exactly."""
        if (
            isinstance(name, Name)
            and name.dotted == "customer.tenure"
            and isinstance(value, PeriodLit)
            and value.unit in ("day", "week")
        ):
            self.env.report.error(
                "type-mismatch",
                value.span,
                f"`customer.tenure` is counted in months; `{value.count} {value.unit}s` "
                "does not convert",
                "write months, quarters or years, e.g. `customer.tenure >= 1 month`",
            )

    def option_value(self, name: Expr, value: Expr) -> None:
        """`item.option.payment == "yearly"`: the choice must exist."""
        groups = self.ctx.option_groups
        if not (isinstance(name, Name) and isinstance(value, StringLit) and groups):
            return
        if name.dotted.startswith(OPTION_PREFIX) and len(name.parts) == 3:
            choices = groups.get(name.parts[2])
            if choices is not None and value.value not in choices:
                self.env.report.error(
                    "unknown-option",
                    value.span,
                    f"option group `{name.parts[2]}` has no choice `{value.value}`",
                    did_you_mean(value.value, choices),
                )

    def between(self, node: Between) -> Type:
        value = self.settle(node.value)
        for bound in (node.low, node.high):
            found = self.coerce(bound, value) if value.is_code else self.settle(bound)
            problem = t.comparison_problem(value, found, "between")
            if problem:
                self.env.report.error(problem[0], bound.span, problem[1])
        low, high = _number(node.low), _number(node.high)
        if low is not None and high is not None and low > high:
            self.env.report.warning(
                "empty-range",
                node.span,
                f"`between {low} and {high}` is never true: the low bound is above the high",
                "write the smaller bound first",
            )
        return t.BOOL

    def membership(self, node: In) -> Type:
        value, container = self.of(node.value), self.of(node.container)
        if self.pending(node.container) and value.is_code:
            self.coerce(node.container, t.set_of(value))
        if self.pending(node.value) and container.element and container.element.is_code:
            self.coerce(node.value, container.element)
        value, container = self.settle(node.value), self.settle(node.container)
        if container.is_unknown:
            return t.BOOL
        if container.kind != "set" or container.element is None:
            self.mismatch(node.container, f"`in` needs a set, got {container}")
            return t.BOOL
        element = container.element
        if not (t.accepts(element, value) or t.accepts(value, element)):
            self.mismatch(node, f"{value} is never in a {container}")
        return t.BOOL

    def arith(self, node: Arith) -> Type:
        lt, rt = self.settle(node.left), self.settle(node.right)
        result = t.arithmetic(node.op, lt, rt)
        if result is not None:
            if node.op == "/":
                self.divisor_zero(node)
            return result
        if lt.kind == rt.kind == "money":
            self.env.report.error(
                "currency-mismatch", node.span, f"cannot mix {lt.currency} and {rt.currency}"
            )
        else:
            self.mismatch(node, f"cannot compute {lt} {node.op} {rt}")
        return t.UNKNOWN


def _codes(kind: Type) -> bool:
    """A code type, or a set of one."""
    return kind.is_code or (kind.element is not None and kind.element.is_code)


def _word(node: Expr) -> str:
    return node.dotted if isinstance(node, Name) else ""


def _number(node: Expr) -> Decimal | None:
    if isinstance(node, IntLit | DecimalLit | PercentLit):
        return Decimal(node.value)
    if isinstance(node, MoneyLit):
        return node.amount
    return None


def _check_bundle(node: Name, env: Env, ctx: ExprContext) -> None:
    if ctx.combo is False:
        env.report.error(
            "wrong-context", node.span, f"`{node.dotted}` only means something in a combo"
        )


def resolve_name(node: Name, env: Env, ctx: ExprContext) -> Type:
    """The type of a context name, `CODE` for a bare identifier, UNKNOWN (reported) for an
    unknown name."""
    dotted = node.dotted
    head = node.parts[0]
    if head == "event" and not ctx.usage and len(node.parts) > 1:
        env.report.error(
            "wrong-context", node.span, f"`{dotted}` only means something in usage rules"
        )
        return t.UNKNOWN
    if head == "bundle":
        _check_bundle(node, env, ctx)
    if dotted in SCHEMA:
        return t.parse_type(SCHEMA[dotted])
    if dotted.startswith(OPTION_PREFIX) and len(node.parts) == 3:
        groups = ctx.option_groups
        if groups is not None and node.parts[2] not in groups:
            env.report.error(
                "unknown-option",
                node.span,
                f"the plan has no option group `{node.parts[2]}`",
                did_you_mean(node.parts[2], groups),
            )
            return t.UNKNOWN
        return t.STRING
    declared = env.scope.attributes.get(dotted)
    if declared is not None:
        return t.parse_type(declared.type)
    if len(node.parts) == 1 and head not in {*_OWNERS, "bundle", "time"}:
        return t.CODE
    env.report.error("unknown-name", node.span, f"unknown name `{dotted}`", _name_hint(dotted, env))
    return t.UNKNOWN


def _name_hint(dotted: str, env: Env) -> str | None:
    """A close context name (`customer.agee` -> `customer.age`), else for `customer.x`,
    `item.x`, `event.x` how to declare it."""
    known = set(SCHEMA) | set(env.scope.attributes)
    head, _, tail = dotted.partition(".")
    if tail:
        tails = {k.partition(".")[2]: k for k in known if k.partition(".")[0] == head}
        close = did_you_mean(tail, tails)
        if close is not None:
            return f"did you mean `{head}.{close.split('`')[1]}`?"
        if head in _OWNERS and "." not in tail:
            return f"declare it first: `attribute {dotted}: TYPE`"
    return did_you_mean(dotted, known)


def infer(expr: Expr, env: Env, ctx: ExprContext) -> Type:
    """The type of `expr`, every problem inside reported; a bare identifier left pending is
    reported as an unknown name."""
    inference = _Inference(env, ctx)
    inference.run(expr)
    return inference.settle(expr)


def check_value(expr: Expr, allowed: Sequence[Type], env: Env, ctx: ExprContext, what: str) -> Type:
    """Check `expr` is one of the `allowed` types (codes resolved against the first allowed
    code type); returns its type (UNKNOWN when wrong)."""
    inference = _Inference(env, ctx)
    inference.run(expr)
    codes = [a for a in allowed if a.is_code or a.kind == "set"]
    found = inference.coerce(expr, codes[0]) if codes else inference.settle(expr)
    if any(t.accepts(a, found) for a in allowed):
        return found
    money_wanted = [a for a in allowed if a.kind == "money" and a.currency]
    if found.kind == "money" and money_wanted:
        env.report.error(
            "currency-mismatch",
            expr.span,
            f"{what} must be in {money_wanted[0].currency}, not {found.currency}",
        )
    else:
        wanted = " or ".join(str(a) for a in allowed)
        env.report.error("type-mismatch", expr.span, f"{what} must be {wanted}, got {found}")
    return t.UNKNOWN


def check_condition(expr: Expr, env: Env, ctx: ExprContext) -> None:
    check_value(expr, [t.BOOL], env, ctx, "a condition")
