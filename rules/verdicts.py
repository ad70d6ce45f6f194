"""The answers of qualification (TM Forum TMF679 vocabulary): per cart item qualified,
unqualified or alternate, with every reason and the proposals that would change it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from dsl import interpreter as ip
from dsl import nodes as n

Result = Literal["qualified", "unqualified", "alternate"]
ProposalKind = Literal["add_offer", "remove_offer", "alternate_offer"]


@dataclass(frozen=True, slots=True)
class Reason:
    """Why an item does not qualify. `rule` names the rule (`youth_plan.eligibility.age`
    for a written rule, `catalog.area` for the catalog's own checks); `path` and `span`
    locate a written rule (empty / NOWHERE for catalog checks). `offer` is the offer the
    reason is about when it is not the item's own (a missing base, an excluded product)."""

    code: str
    message: str
    rule: str
    path: str = ""
    span: n.Span = n.NOWHERE
    offer: str = ""


@dataclass(frozen=True, slots=True)
class Proposal:
    kind: ProposalKind
    offer_code: str
    offer_name: str
    message: str


@dataclass(frozen=True, slots=True)
class TraceStep:
    """One condition evaluated for an item (with `explain`): its rule, outcome (None =
    unknown: a fact it needs is missing) and the values it saw."""

    rule: str
    path: str
    span: n.Span
    outcome: bool | None
    observed: tuple[tuple[str, object], ...] = ()

    @classmethod
    def of(cls, prefix: str, path: str, entry: ip.TraceEntry) -> TraceStep:
        return cls(f"{prefix}.{entry.rule}", path, entry.span, entry.outcome, entry.observed)


@dataclass(frozen=True, slots=True)
class ItemVerdict:
    item_id: str
    offer_code: str
    result: Result
    reasons: tuple[Reason, ...] = ()
    proposals: tuple[Proposal, ...] = ()
    members: tuple[ItemVerdict, ...] = ()
    trace: tuple[TraceStep, ...] = ()

    @property
    def qualified(self) -> bool:
        return self.result == "qualified"


@dataclass(frozen=True, slots=True)
class CartVerdict:
    qualified: bool
    items: tuple[ItemVerdict, ...]
    version: int
