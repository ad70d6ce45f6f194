"""Expressions to Python source: a table from node class to writer.

A value is written as a `Val`: Python source that is valid when its `guards` (locals that
may hold None, or `(quotN := div(...))` bindings: a division by zero is unknown) are not
None, so three-valued logic costs `x is not None` tests only where a value may be unknown.
As a division by zero is unknown, not an error, the order in which Python short-circuits
the tests cannot change an answer the interpreter gives. A condition is written twice:
`true(e)` is a plain Python boolean that holds when `e` is *true*, `false(e)` when it is
*false*; unknown is neither (Kleene logic without a third value at run time). Context names
are read once into locals (`reads`); constants other than ints, strings and bools are
hoisted into module constants. Only locals from resolved symbols, operators from fixed
tables and literals (text through `dsl.codegen_text.text_literal`) are ever emitted;
anything else raises CompileError.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from dsl import interpreter
from dsl import nodes as n
from dsl.codegen_text import text_literal
from dsl.errors import LanguageError
from dsl.runtime import EvalError

NUMERIC = frozenset({"int", "decimal"})
MEASURES = frozenset({"percent", "duration", "data", "count"})
CODES = frozenset(
    {"code", "area", "channel", "segment", "offer", "customer_type", "weekday", "string"}
)
INVERSE = {"==": "!=", "!=": "==", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}
ARITHMETIC = frozenset({"+", "-", "*", "/"})


class CompileError(LanguageError):
    """A rule that cannot be compiled; `span` points at the offending node."""

    def __init__(self, message: str, span: n.Span) -> None:
        super().__init__(f"{span.line}:{span.column}: {message}")
        self.message = message
        self.span = span


@dataclass(frozen=True, slots=True)
class Val:
    code: str
    type: str
    guards: tuple[str, ...] = ()
    const: object = None  # folded value when `is_const`
    is_const: bool = False
    untyped: bool = False  # from a free attribute: membership goes through `member`


#: dotted name -> (local, source, type, may be None, locals it needs first)
READS: Mapping[str, tuple[str, str, str, bool, tuple[str, ...]]] = {
    "@customer": ("customer", "facts.customer", "", False, ()),
    "@item": ("item", "facts.item", "", True, ()),
    "@lineage": ("lineage", "facts.area_lineage", "", False, ()),
    "@cart": ("cart_lines", "facts.cart", "", False, ()),
    "@bundle": ("bundle", "facts.bundle", "", True, ()),
    "customer.type": ("c_type", "customer.type", "customer_type", True, ("@customer",)),
    "customer.segments": (
        "c_segments",
        "customer.segments",
        "set of segment",
        False,
        ("@customer",),
    ),
    "customer.age": ("c_age", "customer.age", "int", True, ("@customer",)),
    "customer.vip_level": ("c_vip_level", "customer.vip_level", "int", True, ("@customer",)),
    "customer.tenure": ("c_tenure", "customer.tenure_months", "period", True, ("@customer",)),
    "customer.credit_class": (
        "c_credit_class",
        "customer.credit_class",
        "string",
        True,
        ("@customer",),
    ),
    "customer.products": ("c_products", "customer.products", "set of offer", False, ("@customer",)),
    "area": ("s_area", "facts.area", "area", False, ()),
    "channel": ("s_channel", "facts.channel", "channel", False, ()),
    "time": ("s_time", "facts.time", "instant", False, ()),
    "time.date": ("s_date", "s_time.date()", "date", False, ("time",)),
    "time.time": ("s_time_of_day", "time_of_day(s_time)", "time_of_day", False, ("time",)),
    "time.weekday": ("s_weekday", "weekday(s_time)", "weekday", False, ("time",)),
    "cart": ("s_cart", "cart_set(cart_lines)", "set of offer", False, ("@cart",)),
    "item.quantity": (
        "i_quantity",
        "None if item is None else item.quantity",
        "int",
        True,
        ("@item",),
    ),
    "bundle.lines": ("b_lines", "bundle_lines(bundle)", "int", True, ("@bundle",)),
}


def python_constant(value: object) -> str:
    """Source re-creating a folded constant from runtime names only."""
    if value is None or isinstance(value, bool):
        return repr(value is True) if value is not None else "None"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, str):
        return text_literal(value)
    if isinstance(value, Decimal):
        return f"Decimal({text_literal(Decimal.__str__(value))})"
    if isinstance(value, tuple) and len(value) == 2:
        return f"({python_constant(value[0])}, {python_constant(value[1])})"
    if isinstance(value, frozenset):
        items = sorted(value, key=repr)
        return f"frozenset(({''.join(python_constant(i) + ', ' for i in items)}))"
    if isinstance(value, datetime):
        offset = value.utcoffset()
        seconds = 0 if offset is None else int(offset.total_seconds())
        fields = (value.year, value.month, value.day, value.hour, value.minute, value.second)
        return f"instant({', '.join(map(str, fields))}, {value.microsecond}, {seconds})"
    if isinstance(value, date):
        return f"date({value.year}, {value.month}, {value.day})"
    raise TypeError(f"no constant for {value!r}")


class Writer:
    """Writes the expressions of one compiled unit; collects its reads and constants."""

    def __init__(self, attributes: Mapping[str, str], constants: dict[str, str] | None = None):
        self.attributes = attributes
        self.reads: dict[str, tuple[str, str]] = {}  # key -> (local, source), in order
        self.constants: dict[str, str] = {} if constants is None else constants  # source->name
        self.guarded = 0  # how many guards were written: > 0 means a value may be unknown
        self.quotients = 0  # `quotN` locals bound by divisions

    # -- names and constants -----------------------------------------------------------------

    def read(self, key: str) -> str:
        local, source, _, _, needs = READS[key]
        for need in needs:
            self.read(need)
        self.reads.setdefault(key, (local, source))
        return local

    def constant(self, value: object, type_: str) -> Val:
        if value is None:  # folded to unknown (`1 / 0`): guarded, so it is never compared
            return Val("None", type_, ("None",), const=None, is_const=True)
        if isinstance(value, bool | int | str):
            return Val(python_constant(value), type_, const=value, is_const=True)
        source = python_constant(value)
        name = self.constants.setdefault(source, f"K{len(self.constants)}")
        return Val(name, type_, const=value, is_const=True)

    def name(self, node: n.Name) -> Val:
        parts = node.parts
        if any(p.startswith("__") for p in parts):
            raise CompileError(f"unknown name `{node.dotted}`", node.span)
        if interpreter.is_code(parts):
            return Val(text_literal(parts[0]), "code", const=parts[0], is_const=True)
        dotted = node.dotted
        if dotted in READS:
            _, _, type_, nullable, _ = READS[dotted]
            local = self.read(dotted)
            return Val(local, type_, (local,) if nullable else ())
        if dotted.startswith("event."):
            raise CompileError(f"`{dotted}` is only known in usage rules", node.span)
        if len(parts) == 3 and parts[:2] == ("item", "option"):
            source = f"None if item is None else item.options.get({text_literal(parts[2])})"
            return self._free(dotted, source, "string", "@item")
        if len(parts) == 2 and parts[0] in ("customer", "item") and dotted in self.attributes:
            if parts[0] == "customer":
                source = f"customer.attributes.get({text_literal(parts[1])})"
            else:
                source = f"None if item is None else item.attributes.get({text_literal(parts[1])})"
            return self._free(dotted, source, self.attributes[dotted], "@" + parts[0])
        raise CompileError(f"unknown name `{dotted}`", node.span)

    def _free(self, dotted: str, source: str, type_: str, owner: str) -> Val:
        self.read(owner)
        local = self.reads.get(dotted, (f"a{len(self.reads)}", ""))[0]
        self.reads.setdefault(dotted, (local, source))
        return Val(local, type_, (local,), untyped=True)

    # -- values ------------------------------------------------------------------------------

    def value(self, expr: n.Expr) -> Val:
        writer = VALUE_WRITERS.get(type(expr))
        if writer is None:
            if isinstance(expr, CONDITIONS):
                raise CompileError("a condition cannot be used as a value here", expr.span)
            raise CompileError(f"unsupported expression {type(expr).__name__}", expr.span)
        return writer(self, expr)

    def literal(self, expr: n.Expr) -> Val:
        try:
            value = interpreter.literal(expr)
        except EvalError as err:
            raise CompileError(str(err), expr.span) from err
        return self.constant(value, LITERAL_TYPES[type(expr)])

    def set_lit(self, expr: n.SetLit) -> Val:
        items = [self.value(item) for item in expr.items]
        if not all(item.is_const for item in items):
            raise CompileError("set items must be literals or codes", expr.span)
        kinds = {item.type for item in items}
        type_ = f"set of {min(kinds, default='')}"
        if any(item.const is None for item in items):  # an unknown item: an unknown set
            return self.constant(None, type_)
        return self.constant(frozenset(i.const for i in items), type_)

    def call(self, expr: n.Call) -> Val:
        target = expr.target.dotted
        if expr.method != "count" or target not in ("cart", "bundle") or len(expr.args) != 1:
            raise CompileError(f"unknown method `{target}.{expr.method}`", expr.span)
        arg = self.value(expr.args[0])
        if arg.type not in CODES:
            raise CompileError(f"`{target}.count` needs an offer code", expr.args[0].span)
        if target == "cart":
            return Val(f"{self.read('@cart')}.get({arg.code}, 0)", "int", arg.guards)
        local = self.read("@bundle")
        return Val(f"{local}.get({arg.code}, 0)", "int", (local, *arg.guards))

    def arith(self, expr: n.Arith) -> Val:
        if expr.op not in ARITHMETIC:  # trees built by tools: only operators are written raw
            raise CompileError(f"unknown operator {expr.op!r}", expr.span)
        left, right, op = self.value(expr.left), self.value(expr.right), expr.op
        type_, code = arith_code(op, left, right, expr.span)
        if left.is_const and right.is_const:
            try:
                return self.constant(interpreter.arith(op, left.const, right.const), type_)
            except EvalError as err:
                raise CompileError(str(err), expr.span) from err
        guards = left.guards + right.guards
        if op == "/":  # unknown when the divisor is zero: bind the quotient, guard it
            local = f"quot{self.quotients}"
            self.quotients += 1
            return Val(local, type_, (*guards, f"({local} := {code})"))
        return Val(code, type_, guards)

    def neg(self, expr: n.Neg) -> Val:
        operand = self.value(expr.operand)
        if operand.type != "money" and operand.type not in NUMERIC | MEASURES:
            raise CompileError(f"cannot negate a {operand.type}", expr.span)
        if operand.is_const:
            return self.constant(interpreter.arith("*", operand.const, -1), operand.type)
        code = f"money_neg({operand.code})" if operand.type == "money" else f"(-{operand.code})"
        return Val(code, operand.type, operand.guards)

    # -- conditions --------------------------------------------------------------------------

    def guard(self, vals: tuple[Val, ...], body: str) -> str:
        guards = list(dict.fromkeys(g for v in vals for g in v.guards))
        self.guarded += len(guards)
        return " and ".join([*(f"{g} is not None" for g in guards), body])

    def truth(self, expr: n.Expr, want: bool) -> str:
        """Python source true exactly when `expr` is `want` (never when unknown)."""
        writer = CONDITION_WRITERS.get(type(expr))
        if writer is None:
            raise CompileError("not a condition", expr.span)
        return f"({writer(self, expr, want)})"

    def compare(self, expr: n.Compare, want: bool) -> str:
        if expr.op not in INVERSE:  # trees built by tools: only operators are written raw
            raise CompileError(f"unknown comparison {expr.op!r}", expr.span)
        left, right = self.value(expr.left), self.value(expr.right)
        check_comparable(left, right, expr.span)
        if left.type == "money":
            body = f"money_cmp({text_literal(expr.op)}, {left.code}, {right.code})"
            return self.guard((left, right), body if want else f"not {body}")
        op = expr.op if want else INVERSE[expr.op]
        return self.guard((left, right), f"{left.code} {op} {right.code}")

    def between(self, expr: n.Between, want: bool) -> str:
        x, lo, hi = self.value(expr.value), self.value(expr.low), self.value(expr.high)
        check_comparable(x, lo, expr.span)
        check_comparable(x, hi, expr.span)
        if x.type == "money":
            body = f"money_cmp('<=', {lo.code}, {x.code}) and money_cmp('<=', {x.code}, {hi.code})"
        else:
            body = f"{lo.code} <= {x.code} <= {hi.code}"
        if want == expr.negated:
            body = f"not ({body})"
        return self.guard((x, lo, hi), body)

    def in_(self, expr: n.In, want: bool) -> str:
        x, container = self.value(expr.value), self.value(expr.container)
        if not container.type.startswith("set of"):
            raise CompileError("`in` needs a set", expr.container.span)
        if x.untyped or container.untyped:
            body = f"member({x.code}, {container.code})"
            body = body if want != expr.negated else f"not {body}"
        else:
            op = "in" if want != expr.negated else "not in"
            body = f"{x.code} {op} {container.code}"
        return self.guard((x, container), body)

    def within(self, expr: n.Within, want: bool) -> str:
        area = self.value(expr.area)
        if area.type not in CODES:
            raise CompileError("`within` needs an area", expr.area.span)
        if isinstance(expr.value, n.Name) and expr.value.parts == ("area",):
            body = f"{area.code} in {self.read('@lineage')}"
            vals: tuple[Val, ...] = (area,)
        else:
            value = self.value(expr.value)
            if value.type not in CODES:
                raise CompileError("`within` needs an area", expr.value.span)
            body = f"within(lineage_of(areas, {value.code}), {area.code})"
            vals = (value, area)
        return self.guard(vals, body if want != expr.negated else f"not {body}")

    def not_(self, expr: n.Not, want: bool) -> str:
        return self.truth(expr.operand, not want)

    def and_or(self, expr: n.And | n.Or, want: bool) -> str:
        joiner = " and " if isinstance(expr, n.And) == want else " or "
        return joiner.join(self.truth(o, want) for o in expr.operands)

    def bool_lit(self, expr: n.BoolLit, want: bool) -> str:
        return repr(expr.value == want)

    def bool_name(self, expr: n.Name, want: bool) -> str:
        value = self.value(expr)
        if value.type != "bool":
            raise CompileError(f"`{expr.dotted}` is not a condition", expr.span)
        self.guarded += 1  # `x is True` is three-valued by itself
        return f"{value.code} is {want}"

    def three_valued(self, expr: n.Expr) -> str:
        """Source of the condition's value: True, False or None."""
        before = self.guarded
        yes = self.truth(expr, True)
        if self.guarded == before:
            return yes
        return f"(True if {yes} else (False if {self.truth(expr, False)} else None))"

    def value_or_none(self, expr: n.Expr) -> str:
        """Source of any expression's value, None when unknown (for traces and tests)."""
        if isinstance(expr, CONDITIONS) or (
            isinstance(expr, n.Name) and self.value(expr).type == "bool"
        ):
            return self.three_valued(expr)
        val = self.value(expr)
        if not val.guards or val.guards == (val.code,):
            return val.code
        test = " or ".join(f"{g} is None" for g in dict.fromkeys(val.guards))
        return f"(None if {test} else {val.code})"


def check_comparable(left: Val, right: Val, span: n.Span) -> None:
    a, b = left.type, right.type
    if a == b or {a, b} <= NUMERIC or (a in CODES and b in CODES):
        return
    if {a, b} & {"money"} or not ({a, b} <= NUMERIC | MEASURES):
        raise CompileError(f"cannot compare {a} with {b}", span)


def arith_code(op: str, left: Val, right: Val, span: n.Span) -> tuple[str, str]:
    """The result type and source of `left op right`; raises CompileError."""
    a, b, lc, rc = left.type, right.type, left.code, right.code
    if a == b == "money" and op in "+-":
        return "money", f"{'money_add' if op == '+' else 'money_sub'}({lc}, {rc})"
    if a == "money" and (b in NUMERIC or (b == "percent" and op == "*")) and op in "*/":
        return "money", f"{'money_scale' if op == '*' else 'money_div'}({lc}, {rc})"
    if b == "money" and (a in NUMERIC or a == "percent") and op == "*":
        return "money", f"money_scale({rc}, {lc})"
    numbers = NUMERIC | MEASURES
    if a not in numbers or b not in numbers:
        raise CompileError(f"cannot compute {a} {op} {b}", span)
    if op == "/":
        return ("decimal" if b not in MEASURES or a == b else a), f"div({lc}, {rc})"
    if a in NUMERIC and b in NUMERIC:
        type_ = "int" if a == b == "int" else "decimal"
    else:
        type_ = a if a in MEASURES else b
    return type_, f"({lc} {op} {rc})"


LITERAL_TYPES: Mapping[type[n.Expr], str] = {
    n.IntLit: "int", n.DecimalLit: "decimal", n.MoneyLit: "money", n.PercentLit: "percent",
    n.DurationLit: "duration", n.PeriodLit: "period", n.DataLit: "data", n.CountLit: "count",
    n.TimeOfDayLit: "time_of_day", n.DateLit: "date", n.InstantLit: "instant",
    n.StringLit: "string", n.BoolLit: "bool",
}  # fmt: skip

CONDITIONS = (n.Compare, n.Between, n.In, n.Within, n.Not, n.And, n.Or)

VALUE_WRITERS: Mapping[type[n.Expr], Callable[[Writer, Any], Val]] = {
    **dict.fromkeys(LITERAL_TYPES, Writer.literal),
    n.Name: Writer.name,
    n.SetLit: Writer.set_lit,
    n.Call: Writer.call,
    n.Arith: Writer.arith,
    n.Neg: Writer.neg,
}

CONDITION_WRITERS: Mapping[type[n.Expr], Callable[[Writer, Any, bool], str]] = {
    n.Compare: Writer.compare,
    n.Between: Writer.between,
    n.In: Writer.in_,
    n.Within: Writer.within,
    n.Not: Writer.not_,
    n.And: Writer.and_or,
    n.Or: Writer.and_or,
    n.BoolLit: Writer.bool_lit,
    n.Name: Writer.bool_name,
}
