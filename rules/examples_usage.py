"""Running an example's usage expectations (`charge`, `zone`, `band`, `allowance used`) on the
compiled usage rater (`dsl.compile_usage`), the engine meant for rating traffic; it agrees with
the reference interpreter (`dsl.eval_usage`) event for event (property-tested), so an example
checks the tariff as the rating engine prices it.

The example's events (`given event …`) are rated in order under their plan - `under PLAN`,
else the plan the example is written in, else the only plan that rates the business - with
the counters carried from one event to the next, starting from an empty period. With several
events, `charge` and `allowance used` are totals over the events and `zone` and `band` are the
last event's. `given event.NAME = VALUE` sets `event.roaming`, `event.origin` or a free event
attribute for every event; `given area`, `channel`, `time` and `customer.*` build the facts
`when` conditions read. Money is compared exactly after the declared rounding (0 == 0.00);
a written currency must be the plan's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from dsl import interpreter as ip
from dsl import nodes as n
from dsl.compile_usage import CompiledUsage, compile_usage
from dsl.context import SaleFacts
from dsl.eval_usage import Counters, Rated, UsageEvent
from dsl.eval_usage_setup import RatingError, measure_of, units, usage_measure
from dsl.runtime import EvalError
from dsl.symbols import Scope
from pricing.zones import ZoneTable
from rules.givens import GivenError, read_givens

__all__ = ["USAGE_KINDS", "Status", "usage_verdict"]

Status = Literal["passed", "failed", "not_run"]

USAGE_KINDS = frozenset({"charge", "zone", "band", "allowance_used"})


@dataclass(frozen=True, slots=True)
class _Outcome:
    currency: str
    charge: Decimal
    zone: str
    band: str
    used: Mapping[str, int]


def usage_verdict(
    example: n.Example,
    plans: Mapping[str, n.PlanDecl],
    scope: Scope,
    zone_tables: Mapping[str, ZoneTable],
    now: datetime,
    *,
    env: ip.Env = ip.DEFAULT_ENV,
    seen: list[tuple[str, n.Span]] | None = None,
) -> tuple[Status, str, str]:
    """(status, expected, actual) of the example's usage expectations; `not_run` when it has
    none. `env` gives the area tree `event.origin within …` needs; `seen` receives
    ("plan:NAME", span) of every rate that priced an event."""
    wanted = [e for e in example.expect if e.kind in USAGE_KINDS]
    if not wanted:
        return "not_run", "", "no usage expectations"
    expected = ", ".join(_describe_expected(e) for e in wanted)
    if not example.events:
        return "failed", expected, "no `given event` to rate"
    try:
        event_names, facts = _givens(example, now)
        outcome = _rate_all(example, plans, scope, zone_tables, now, event_names, facts, env, seen)
    except (GivenError, RatingError, EvalError) as error:
        return "failed", expected, str(error)
    verdicts = [_check(e, outcome) for e in wanted]
    actual = ", ".join(text for _, text in verdicts)
    return ("passed" if all(ok for ok, _ in verdicts) else "failed"), expected, actual


def _plan_for(spec: n.EventSpec, example: n.Example, plans: Mapping[str, n.PlanDecl]) -> n.PlanDecl:
    if spec.plan:
        plan = plans.get(spec.plan)
        if plan is None:
            raise GivenError(f"unknown plan `{spec.plan}`")
        return plan
    for plan in plans.values():  # bounded by the plans
        if any(e is example for e in plan.examples):
            return plan
    rating = [
        p
        for p in plans.values()
        if any(isinstance(i, n.Usage) and i.business == spec.business for i in p.items)
    ]
    if len(rating) != 1:
        raise GivenError(f"say `under PLAN`: {len(rating)} plans rate {spec.business}")
    return rating[0]


def _rate_all(
    example: n.Example,
    plans: Mapping[str, n.PlanDecl],
    scope: Scope,
    zone_tables: Mapping[str, ZoneTable],
    now: datetime,
    event_names: dict[str, Any],
    facts: SaleFacts,
    env: ip.Env,
    seen: list[tuple[str, n.Span]] | None = None,
) -> _Outcome:
    counters = Counters()
    results: list[Rated] = []
    compiled: dict[str, CompiledUsage] = {}
    for spec in example.events:  # bounded by the example
        plan = _plan_for(spec, example, plans)
        quantity = spec.quantity
        if not isinstance(quantity, n.DurationLit | n.DataLit | n.CountLit):
            raise GivenError("an event quantity must be a duration, a data size or a count")
        _check_measure(plan, spec.business, quantity)
        attributes = {
            k: v for k, v in event_names.items() if k not in ("roaming", "origin", "destination")
        }
        event = UsageEvent(
            business=spec.business,
            start=spec.at.value if spec.at is not None else facts.time,
            quantity=units(quantity),
            destination=spec.destination,
            origin=event_names.get("origin"),
            roaming=event_names.get("roaming"),
            attributes=attributes,
        )
        rater = compiled.get(plan.name)
        if rater is None:
            rater = compiled[plan.name] = compile_usage(plan, scope, zone_tables)
        result = rater.rate(event, counters, facts, env)
        if result.status == "rejected":
            raise RatingError(result.reason, f"event rejected: {result.reason}: {result.message}")
        results.append(result)
        counters = result.counters
        if seen is not None:
            seen.append((f"plan:{plan.name}", result.rate_span))
            seen.extend((f"plan:{plan.name}", part.span) for part in result.parts)
    used: dict[str, int] = {}
    for result in results:
        for name, amount in result.allowance_used.items():
            used[name] = used.get(name, 0) + amount
    last = results[-1]
    return _Outcome(
        currency=last.currency,
        charge=sum((r.charge for r in results), Decimal(0)),
        zone=last.zone,
        band=last.band,
        used=used,
    )


def _check_measure(plan: n.PlanDecl, business: str, quantity: n.Expr) -> None:
    for item in plan.items:  # bounded by the plan
        if isinstance(item, n.Usage) and item.business == business:
            measure = usage_measure(item)
            if measure is not None and measure != measure_of(quantity):
                raise GivenError(f"{business} is rated by {measure}, the event gives another")


def _check(expectation: n.Expectation, outcome: _Outcome) -> tuple[bool, str]:
    if expectation.kind == "zone":
        return outcome.zone == expectation.subject, f"zone {outcome.zone or '(none)'}"
    if expectation.kind == "band":
        return outcome.band == expectation.subject, f"band {outcome.band or '(none)'}"
    if expectation.kind == "charge":
        text = f"charge {outcome.charge} {outcome.currency}".rstrip()
        value = expectation.value
        if not isinstance(value, n.MoneyLit):
            return False, text
        currency_ok = not value.currency or value.currency == outcome.currency
        return currency_ok and value.amount == outcome.charge, text
    name = expectation.subject
    amount = outcome.used.get(name, 0) if name else sum(outcome.used.values())
    label = f"allowance used {name} " if name else "allowance used "
    try:
        want = units(expectation.value)
    except RatingError:
        return False, f"{label}{amount}"
    return want == amount, label + _show_units(amount, expectation.value)


def _show_units(amount: int, like: n.Expr | None) -> str:
    if isinstance(like, n.DurationLit):
        return f"{Decimal(amount) / 1000} s"
    if isinstance(like, n.DataLit):
        return f"{amount} B"
    return str(amount)


def _describe_expected(expectation: n.Expectation) -> str:
    value = expectation.value
    if expectation.kind in ("zone", "band"):
        return f"{expectation.kind} {expectation.subject}"
    if expectation.kind == "charge" and isinstance(value, n.MoneyLit):
        return f"charge {value.amount} {value.currency}".rstrip()
    name = f"{expectation.subject} " if expectation.subject else ""
    try:
        return f"allowance used {name}" + _show_units(units(value), value)
    except RatingError:
        return f"allowance used {name}?"


def _givens(example: n.Example, now: datetime) -> tuple[dict[str, Any], SaleFacts]:
    """(`event.*` values, the facts of the other `given` names)."""
    givens = read_givens(example, now, lambda area: (area,))
    if givens.has_item_names:
        raise GivenError("`item.*` names cannot be given in a usage example")
    return givens.events, givens.facts
