"""The typed syntax tree of the Tariff language (see docs/dsl.md).

Every node is frozen and slotted and carries its `Span` (file positions are 1-based), so the
checker, the compiler, the formatter and traces can point back at the source. Children are
declared as plain fields; `children()` walks them generically.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Literal


@dataclass(frozen=True, slots=True)
class Span:
    """Where a node is: 1-based line and column of its first character, and just past its
    last (end_column is exclusive)."""

    line: int
    column: int
    end_line: int
    end_column: int


NOWHERE = Span(0, 0, 0, 0)


@dataclass(frozen=True, slots=True, kw_only=True)
class Node:
    span: Span = dataclasses.field(default=NOWHERE, compare=False)

    def children(self) -> Iterator[Node]:
        """Direct child nodes, in field order."""
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Node):
                yield value
            elif isinstance(value, tuple):
                for item in value:
                    if isinstance(item, Node):
                        yield item

    def walk(self) -> Iterator[Node]:
        """This node and every descendant, depth first, pre-order (iterative: no recursion
        limit on deep trees)."""
        stack: list[Node] = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(list(node.children())))


# -- literals --------------------------------------------------------------------------------

DurationUnit = Literal["ms", "s", "min", "h"]
PeriodUnit = Literal["day", "week", "month", "quarter", "year"]
DataUnit = Literal["B", "KB", "MB", "GB", "TB"]
CountUnit = Literal["message", "event"]


class Expr(Node):
    """Base of expressions."""

    __slots__ = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class IntLit(Expr):
    value: int


@dataclass(frozen=True, slots=True, kw_only=True)
class DecimalLit(Expr):
    value: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class MoneyLit(Expr):
    """`39.00 CNY`; `currency` empty when written bare inside a plan with a currency."""

    amount: Decimal
    currency: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class PercentLit(Expr):
    """`20%` is value Decimal("20")."""

    value: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class DurationLit(Expr):
    amount: Decimal
    unit: DurationUnit

    @property
    def milliseconds(self) -> Decimal:
        return self.amount * {"ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000}[self.unit]


@dataclass(frozen=True, slots=True, kw_only=True)
class PeriodLit(Expr):
    """A calendar period: `3 months`, `1 year`."""

    count: int
    unit: PeriodUnit


@dataclass(frozen=True, slots=True, kw_only=True)
class DataLit(Expr):
    amount: Decimal
    unit: DataUnit

    @property
    def bytes(self) -> Decimal:
        return (
            self.amount
            * {"B": 1, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30, "TB": 1 << 40}[self.unit]
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class CountLit(Expr):
    amount: int
    unit: CountUnit


@dataclass(frozen=True, slots=True, kw_only=True)
class TimeOfDayLit(Expr):
    """Seconds since midnight; 24:00 is 86400."""

    seconds: int


@dataclass(frozen=True, slots=True, kw_only=True)
class DateLit(Expr):
    value: date


@dataclass(frozen=True, slots=True, kw_only=True)
class InstantLit(Expr):
    value: datetime  # always tz-aware


@dataclass(frozen=True, slots=True, kw_only=True)
class StringLit(Expr):
    value: str


@dataclass(frozen=True, slots=True, kw_only=True)
class BoolLit(Expr):
    value: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Name(Expr):
    """A context name (`customer.age`, `area`, `item.option.payment`) or a bare code
    (`GD_SZ`, `hall`, `youth_plan`); the checker decides which."""

    parts: tuple[str, ...]

    @property
    def dotted(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True, slots=True, kw_only=True)
class SetLit(Expr):
    items: tuple[Expr, ...]


# -- operators -------------------------------------------------------------------------------

CompareOp = Literal["==", "!=", "<", "<=", ">", ">="]
ArithOp = Literal["+", "-", "*", "/"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Call(Expr):
    """`cart.count(mobile_basic)`, `bundle.count(x)`: `target` is the dotted receiver."""

    target: Name
    method: str
    args: tuple[Expr, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Compare(Expr):
    op: CompareOp
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True, kw_only=True)
class Between(Expr):
    value: Expr
    low: Expr
    high: Expr
    negated: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class In(Expr):
    value: Expr
    container: Expr
    negated: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Within(Expr):
    """Area containment: `area within GD`."""

    value: Expr
    area: Expr
    negated: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Not(Expr):
    operand: Expr


@dataclass(frozen=True, slots=True, kw_only=True)
class And(Expr):
    operands: tuple[Expr, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Or(Expr):
    operands: tuple[Expr, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Arith(Expr):
    op: ArithOp
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True, kw_only=True)
class Neg(Expr):
    operand: Expr


# -- eligibility and composition ---------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Reason(Node):
    """`else "code" "message"`: what an unqualified answer says."""

    code: str
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule(Node):
    """A named condition of an `eligible all` block."""

    name: str
    condition: Expr
    reason: Reason | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Branch(Node):
    """`when COND: allow|deny …` or `otherwise: …` (condition None) of `eligible first`."""

    condition: Expr | None
    allow: bool
    reason: Reason | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Eligibility(Node):
    mode: Literal["all", "first"]
    rules: tuple[Rule, ...] = ()
    branches: tuple[Branch, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Cardinality(Node):
    """`exactly 1`, `at least 1`, `at most 3`, `1..3`: high None = unbounded."""

    low: int
    high: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberRule(Node):
    """`1..3 mobile_basic` or, with several offers, `at most 2 of {a, b} as extras`."""

    cardinality: Cardinality
    offers: tuple[str, ...]
    group: str = ""
    reason: Reason | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RequiresRule(Node):
    offers: tuple[str, ...]
    reason: Reason | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ExcludesRule(Node):
    offers: tuple[str, ...]
    reason: Reason | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AddOnRule(Node):
    """`add-on caller_id only with mobile_basic, fixed_line_basic`."""

    addon: str
    bases: tuple[str, ...]
    reason: Reason | None = None


CompositionRule = MemberRule | RequiresRule | ExcludesRule | AddOnRule


@dataclass(frozen=True, slots=True, kw_only=True)
class Composition(Node):
    rules: tuple[CompositionRule, ...]


# -- prices ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Currency(Node):
    code: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Tax(Node):
    rate: PercentLit
    included: bool


RoundingMode = Literal["half_up", "half_even", "down", "up", "ceiling", "floor"]
RoundingScope = Literal["event", "line", "total"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Rounding(Node):
    mode: RoundingMode
    decimals: int
    scope: RoundingScope = "line"


@dataclass(frozen=True, slots=True, kw_only=True)
class Price(Node):
    """`price NAME: one_time|recurring AMOUNT …`."""

    name: str
    kind: Literal["one_time", "recurring"]
    amount: Expr
    period: PeriodLit | None = None  # recurring: `per month` is PeriodLit(1, "month")
    business: str = ""
    starting: Literal["now", "next_period"] = "now"
    covering: PeriodLit | None = None
    prorated: bool = False
    condition: Expr | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class OptionChoice(Node):
    name: str
    prices: tuple[Price, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class OptionGroup(Node):
    name: str
    default: str
    choices: tuple[OptionChoice, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Commitment(Node):
    term: PeriodLit


@dataclass(frozen=True, slots=True, kw_only=True)
class PriceTarget(Node):
    """What an alteration applies to: a price of this plan (`rent`), every price (`*`), or
    in a combo plan a member's price (`mobile_basic.rent`, with `each` = every line)."""

    price: str  # "*" for every price
    offer: str = ""
    each: bool = False


AlterationKind = Literal["discount", "waive", "override", "cap", "floor"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Alteration(Node):
    kind: AlterationKind
    name: str
    target: PriceTarget
    amount: Expr | None = None  # percent or money; None for waive
    condition: Expr | None = None
    priority: int = 0
    duration: PeriodLit | None = None
    label: str = ""
    credit: bool = False
    replaces: bool = False


# -- usage -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Pattern(Node):
    """A zone or band selector: exact (`local`), prefix (`intl_*`) or any (`*`)."""

    text: str

    @property
    def is_any(self) -> bool:
        return self.text == "*"

    @property
    def is_prefix(self) -> bool:
        return self.text.endswith("*") and self.text != "*"


@dataclass(frozen=True, slots=True, kw_only=True)
class Quantity(Node):
    """A usage quantity with its unit: a DurationLit, DataLit or CountLit."""

    value: DurationLit | DataLit | CountLit


@dataclass(frozen=True, slots=True, kw_only=True)
class Rate(Node):
    zone: Pattern
    band: Pattern
    price: Expr  # money
    per: Expr  # the unit priced: DurationLit (1 min), DataLit (1 MB) or CountLit (1 message)
    first_increment: Expr | None = None
    next_increment: Expr | None = None
    connection: Expr | None = None
    minimum: Expr | None = None
    maximum: Expr | None = None
    condition: Expr | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Tier(Node):
    low: Expr  # quantity
    high: Expr | None  # None = unbounded
    price: Expr
    per: Expr


@dataclass(frozen=True, slots=True, kw_only=True)
class Tiers(Node):
    mode: Literal["graduated", "volume"]
    period: PeriodLit
    tiers: tuple[Tier, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Allowance(Node):
    name: str
    amount: Expr  # quantity
    period: PeriodLit
    zones: tuple[Pattern, ...] = ()
    bands: tuple[Pattern, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Cap(Node):
    amount: Expr  # money
    period: PeriodLit


@dataclass(frozen=True, slots=True, kw_only=True)
class Usage(Node):
    """`usage BUSINESS { … }`: how one business is rated under a plan."""

    business: str
    zones: str = ""  # a zone table or inline zones declaration
    bands: str = ""  # a bands declaration
    time_zone: str = ""
    split: bool = False
    rates: tuple[Rate, ...] = ()
    tiers: Tiers | None = None
    allowances: tuple[Allowance, ...] = ()
    caps: tuple[Cap, ...] = ()
    rounding: Rounding | None = None


# -- declarations ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Given(Node):
    """`customer.age = 20` in an example."""

    name: Name
    value: Expr


@dataclass(frozen=True, slots=True, kw_only=True)
class CartLine(Node):
    """`broadband_100m with payment = yearly_prepay` in `cart = [...]`. `attributes` are the
    line's free attributes (`item.NAME`): order systems send them with a quote; examples
    cannot write them yet."""

    offer: str
    quantity: int = 1
    options: tuple[tuple[str, str], ...] = ()
    members: tuple[CartLine, ...] = ()
    attributes: tuple[tuple[str, object], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class EventSpec(Node):
    """`event local_voice 95s to "0755…" at INSTANT under PLAN`."""

    business: str
    quantity: Expr
    destination: str = ""
    at: InstantLit | None = None
    plan: str = ""


ExpectKind = Literal[
    "eligible",
    "not_eligible",
    "due_now",
    "monthly",
    "price",
    "charge",
    "zone",
    "band",
    "allowance_used",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Expectation(Node):
    kind: ExpectKind
    subject: str = ""  # offer code (eligible), price name (price), zone/band name, reason code
    reason: str = ""  # for not_eligible … because CODE
    value: Expr | None = None  # money or quantity


@dataclass(frozen=True, slots=True, kw_only=True)
class Example(Node):
    name: str
    given: tuple[Given, ...] = ()
    cart: tuple[CartLine, ...] = ()
    events: tuple[EventSpec, ...] = ()
    expect: tuple[Expectation, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class OfferDecl(Node):
    code: str
    eligibility: Eligibility | None = None
    composition: Composition | None = None
    examples: tuple[Example, ...] = ()


PlanItem = Currency | Tax | Rounding | Price | OptionGroup | Commitment | Alteration | Usage


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanDecl(Node):
    name: str
    title: str = ""
    items: tuple[PlanItem, ...] = ()
    examples: tuple[Example, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Holiday(Node):
    start: date
    end: date  # inclusive; equal to start for one day
    label: str = ""
    workday: bool = False  # `workday DATE`: a weekend day worked as a weekday


@dataclass(frozen=True, slots=True, kw_only=True)
class CalendarDecl(Node):
    name: str
    weekend: tuple[str, ...] = ("sat", "sun")
    days: tuple[Holiday, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Band(Node):
    """`peak: weekdays 08:00 .. 22:00` (days: weekdays/weekends/holidays or day names);
    `otherwise` has no days and no times."""

    name: str
    days: tuple[str, ...] = ()
    start: int | None = None  # seconds since midnight
    end: int | None = None
    otherwise: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class BandsDecl(Node):
    name: str
    calendar: str = ""
    bands: tuple[Band, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ZoneEntry(Node):
    prefix: str
    zone: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ZonesDecl(Node):
    name: str
    entries: tuple[ZoneEntry, ...]


AttributeType = Literal[
    "bool",
    "int",
    "decimal",
    "money",
    "percent",
    "duration",
    "period",
    "data",
    "count",
    "time_of_day",
    "date",
    "instant",
    "string",
    "area",
    "channel",
    "segment",
    "offer",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class AttributeDecl(Node):
    """`attribute customer.address_installable: bool` (owner customer, item or event)."""

    owner: Literal["customer", "item", "event"]
    name: str
    type: AttributeType


Declaration = OfferDecl | PlanDecl | CalendarDecl | BandsDecl | ZonesDecl | AttributeDecl | Example


@dataclass(frozen=True, slots=True, kw_only=True)
class Module(Node):
    """One rule source file."""

    path: str
    declarations: tuple[Declaration, ...]
