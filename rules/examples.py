"""Runs the examples written next to the rules: given a context, is the outcome the expected?

Eligibility expectations run the offer's own rules (its `eligible` block and, for a combo,
its `composition`) on the reference interpreter, so a failure is reported with the trace of
the conditions that decided it; price expectations run the price interpreter over the cart;
usage expectations the usage interpreter over the given events. What cannot run is reported
as not run, by name, never as passed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Literal

from dsl import interpreter as ip
from dsl import nodes as n
from dsl.context import ItemFacts, SaleFacts
from dsl.runtime import EvalError
from dsl.symbols import CatalogNames, Scope
from pricing.zones import ZoneTable
from rules.examples_prices import price_verdict
from rules.examples_usage import usage_verdict
from rules.givens import GivenError, read_givens

Status = Literal["passed", "failed", "not_run"]

ELIGIBILITY = frozenset({"eligible", "not_eligible"})
NEEDS_QUOTES = frozenset({"due_now", "monthly", "price"})


@dataclass(frozen=True, slots=True)
class ExampleResult:
    name: str
    path: str
    span: n.Span
    status: Status
    expected: str = ""
    actual: str = ""
    trace: tuple[str, ...] = ()  # rendered for people
    steps: tuple[ip.TraceEntry, ...] = ()  # the same, structured for the API
    #: What the run exercised: ("offer:CODE" or "plan:NAME", span) of each rule, branch,
    #: composition rule, price, alteration and rate it evaluated (`tariff lint`'s coverage).
    covered: tuple[tuple[str, n.Span], ...] = ()


def run_examples(
    modules: Sequence[n.Module],
    names: CatalogNames,
    now: datetime | None = None,
    zone_tables: Mapping[str, ZoneTable] | None = None,
) -> list[ExampleResult]:
    """Every example of every module, in source order; `zone_tables` are the catalog's,
    built for lookups (usage examples need them)."""
    scope = Scope.merge(modules)
    moment = now or datetime.now(UTC)
    tables = zone_tables or {}
    results: list[ExampleResult] = []
    for module in modules:
        for example in _examples(module):
            results.append(_run(example, module.path, scope, names, moment, tables))
    return results


def _examples(module: n.Module) -> Iterator[n.Example]:
    for decl in module.declarations:
        if isinstance(decl, n.Example):
            yield decl
        elif isinstance(decl, n.OfferDecl | n.PlanDecl):
            yield from decl.examples


def _run(
    example: n.Example,
    path: str,
    scope: Scope,
    names: CatalogNames,
    now: datetime,
    zone_tables: Mapping[str, ZoneTable],
) -> ExampleResult:
    seen: list[tuple[str, n.Span]] = []
    result = _outcome(example, path, scope, names, now, zone_tables, seen)
    return replace(result, covered=tuple(seen))


def _outcome(
    example: n.Example,
    path: str,
    scope: Scope,
    names: CatalogNames,
    now: datetime,
    zone_tables: Mapping[str, ZoneTable],
    seen: list[tuple[str, n.Span]],
) -> ExampleResult:
    base = ExampleResult(example.name, path, example.span, "not_run")
    kinds = {e.kind for e in example.expect}
    try:
        facts = _facts(example, names, now)
    except (GivenError, EvalError) as error:
        return _with(base, "failed", actual=f"cannot build the context: {error}")
    verdicts: list[_Verdict] = []
    if kinds & ELIGIBILITY:
        env = ip.Env(areas={code: names.lineage(code) for code in names.areas})
        for expectation in example.expect:
            if expectation.kind in ELIGIBILITY:
                verdicts.append(_eligibility(expectation, example, facts, env, scope, seen))
    if kinds & NEEDS_QUOTES:
        plans = {
            code: scope.plans[offer.plan]
            for code, offer in names.offers.items()
            if offer.plan in scope.plans
        }
        status, expected, actual = price_verdict(example, plans, scope, facts, seen=seen)
        verdicts.append(_Verdict(status, expected, actual))
    if kinds - ELIGIBILITY - NEEDS_QUOTES:
        env = ip.Env(areas={code: names.lineage(code) for code in names.areas})
        status, expected, actual = usage_verdict(
            example, scope.plans, scope, zone_tables, now, env=env, seen=seen
        )
        verdicts.append(_Verdict(status, expected, actual))
    for status in ("failed", "not_run"):
        for verdict in verdicts:
            if verdict.status == status:
                return _with(base, status, verdict.expected, verdict.actual, verdict.steps)
    return _with(base, "passed")


def _with(
    base: ExampleResult,
    status: Status,
    expected: str = "",
    actual: str = "",
    steps: tuple[ip.TraceEntry, ...] = (),
) -> ExampleResult:
    trace = tuple(_render_trace(steps))
    return ExampleResult(base.name, base.path, base.span, status, expected, actual, trace, steps)


@dataclass(frozen=True, slots=True)
class _Verdict:
    status: Status
    expected: str = ""
    actual: str = ""
    steps: tuple[ip.TraceEntry, ...] = ()


def _eligibility(
    expectation: n.Expectation,
    example: n.Example,
    facts: SaleFacts,
    env: ip.Env,
    scope: Scope,
    seen: list[tuple[str, n.Span]],
) -> _Verdict:
    offer = expectation.subject
    decl = scope.offers.get(offer)
    want = expectation.kind == "eligible"
    expected = ("eligible " if want else "not eligible ") + offer
    if expectation.reason:
        expected += f" because {expectation.reason}"
    failures: list[ip.Failure] = []
    steps: list[ip.TraceEntry] = []
    item = _line_of(example.cart, offer)
    item_facts = _item(item) if item else None
    sale = SaleFacts(
        customer=facts.customer,
        area=facts.area,
        area_lineage=facts.area_lineage,
        channel=facts.channel,
        time=facts.time,
        cart=facts.cart,
        item=item_facts,
        bundle=_counts(item.members) if item and item.members else None,
    )
    try:
        if decl is not None and decl.eligibility is not None:
            outcome = ip.eligibility(decl.eligibility, sale, env, trace=True)
            failures.extend(outcome.reasons)
            steps.extend(outcome.trace or ())
        seen.extend((f"offer:{offer}", entry.span) for entry in steps)
        if decl is not None and decl.composition is not None:
            seen.extend((f"offer:{offer}", rule.span) for rule in decl.composition.rules)
            counts = _counts(item.members) if item else {}
            failures.extend(
                ip.composition(decl.composition, counts, facts.customer.products, facts.cart)
            )
    except EvalError as error:
        return _Verdict("failed", expected, f"evaluation failed: {error}", tuple(steps))
    codes = [f.code for f in failures]
    actual = "eligible" if not failures else "not eligible because " + ", ".join(codes)
    ok = (not failures) == want
    if ok and not want and expectation.reason:
        ok = expectation.reason in codes
    return _Verdict("passed" if ok else "failed", expected, actual, tuple(steps))


def _render_trace(entries: Iterable[ip.TraceEntry]) -> Iterator[str]:
    for entry in entries:
        seen = ", ".join(f"{k} = {_show(v)}" for k, v in entry.observed)
        outcome = {True: "true", False: "false", None: "unknown"}[entry.outcome]
        yield f"{entry.rule} (line {entry.span.line}): {outcome}" + (f" ({seen})" if seen else "")


def _show(value: object) -> str:
    if value is None:
        return "unknown"
    if isinstance(value, frozenset):
        return "{" + ", ".join(sorted(map(str, value))) + "}"
    return str(value)


# -- facts from `given` ------------------------------------------------------------------------


def _facts(example: n.Example, names: CatalogNames, now: datetime) -> SaleFacts:
    facts = read_givens(example, now, names.lineage).facts
    return replace(facts, cart=_counts(example.cart))


def _counts(lines: Iterable[n.CartLine]) -> Mapping[str, int]:
    counts: dict[str, int] = {}
    for line in lines:
        counts[line.offer] = counts.get(line.offer, 0) + line.quantity
    return counts


def _line_of(lines: Iterable[n.CartLine], offer: str) -> n.CartLine | None:
    return next((line for line in lines if line.offer == offer), None)


def _item(line: n.CartLine) -> ItemFacts:
    return ItemFacts(offer=line.offer, quantity=line.quantity, options=dict(line.options))
