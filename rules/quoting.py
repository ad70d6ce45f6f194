"""Quote: price an eligible cart on the version in force, line by line, exactly.

The cart is first checked as CheckEligibility checks it; a cart that does not qualify is not
priced (CartNotEligible carries the same verdict). Each line is priced on the compiled plan
its offer uses in the sale's area (a province's override reaches its cities), a combo's
members under their own plans with the combo's bundle alterations (dsl.compile_prices, the
waterfall documented in docs/dsl.md). Removed lines are not priced. Lines of quantity N are N
priced units, in cart order; a combo line is followed by its members.

Money is exact (Decimal), rounded only where a plan declares `rounding`; a quote has one
currency (a cart mixing currencies is refused). The usage estimate, when a profile is given,
rates the profile with the same compiled raters as real rating (rules.projection).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import tzinfo
from decimal import Decimal

from dsl import nodes as n
from dsl.compile_prices import CompiledPlan, quote_compiled
from dsl.compiler import CompileError
from dsl.eval_prices_model import PriceError, Quote
from dsl.runtime import EvalError
from rules.projection import Projection, UsageProfileEntry, project_usage
from rules.qualification import check_cart, sale_facts
from rules.sale import CartItem, Sale
from rules.sale_catalog import SaleCatalog
from rules.verdicts import CartVerdict


class CartNotEligible(Exception):
    """The cart does not qualify: it is not priced. Carries CheckEligibility's verdict."""

    def __init__(self, verdict: CartVerdict) -> None:
        failing = [i for i in verdict.items if not i.qualified]
        super().__init__(f"the cart is not eligible: {len(failing)} item(s) do not qualify")
        self.verdict = verdict


class QuoteError(Exception):
    """The catalog cannot price this cart (a plan that does not compile, an amount a plan
    without rounding cannot show, mixed currencies): a tariff problem, not bad input."""


@dataclass(frozen=True, slots=True)
class QuotedCart:
    quote: Quote  # the lines (units, in cart order; a combo then its members) and totals
    items: tuple[CartItem, ...]  # the priced items (removed ones left out), for mapping back
    version: int
    usage: Projection | None = None
    eligibility: CartVerdict | None = None  # how the cart qualified (traced with `explain`)

    @property
    def currency(self) -> str:
        return self.quote.currency or (self.usage.currency if self.usage else "")

    @property
    def first_bill(self) -> Decimal:
        return self.quote.first_bill + (self.usage.charge if self.usage else Decimal(0))


def compiled_plan(catalog: SaleCatalog, plan_name: str) -> CompiledPlan | None:
    """The plan as compiled when the version was installed (None: no such plan)."""
    try:
        return catalog.compiled.plan(plan_name)
    except CompileError as error:
        raise QuoteError(f"plan {plan_name} cannot be compiled: {error}") from error


def option_problems(catalog: SaleCatalog, sale: Sale, item: CartItem) -> list[tuple[str, str]]:
    """(option group, description) for every option the item's plan does not offer."""
    if not item.options:
        return []
    lineage = catalog.tree.lineage(sale.area)
    offer = catalog.offers.get(item.offer_code)
    if offer is None:
        return []
    plan = catalog.book.plans.get(catalog.plan_name(offer, lineage))
    groups = {}
    if plan is not None:
        groups = {
            g.name: [c.name for c in g.choices] for g in plan.items if isinstance(g, n.OptionGroup)
        }
    found = []
    for group, choice in sorted(item.options.items()):
        if group not in groups:
            known = ", ".join(sorted(groups)) or "none"
            found.append((group, f"{offer.code} has no option {group!r} (options: {known})"))
        elif choice not in groups[group]:
            allowed = ", ".join(groups[group])
            found.append((group, f"{choice!r} is not a choice of {group!r} ({allowed})"))
    return found


def cart_line(item: CartItem) -> n.CartLine:
    options, attributes = item.options, item.attributes
    return n.CartLine(
        offer=item.offer_code,
        quantity=item.quantity,
        options=tuple(sorted(options.items())) if options else (),
        members=tuple([cart_line(m) for m in item.members if m.action != "remove"]),
        attributes=tuple(sorted(attributes.items())) if attributes else (),
    )


def quote_cart(
    catalog: SaleCatalog,
    sale: Sale,
    items: Sequence[CartItem],
    tz: tzinfo,
    profile: Sequence[UsageProfileEntry] = (),
    *,
    explain: bool = False,
) -> QuotedCart:
    """Raises CartNotEligible, QuoteError, and PriceError for a bad option choice."""
    verdict = check_cart(catalog, sale, items, explain=explain)
    if not verdict.qualified:
        raise CartNotEligible(verdict)
    priced = tuple(i for i in items if i.action != "remove")
    lineage = catalog.tree.lineage(sale.area)
    plans: dict[str, CompiledPlan] = {}
    for item in priced:
        for code in (item.offer_code, *(m.offer_code for m in item.members)):
            if code not in plans:
                plan = compiled_plan(catalog, catalog.plan_name(catalog.offers[code], lineage))
                if plan is not None:
                    plans[code] = plan
    counts: dict[str, int] = {}
    for item in priced:
        counts[item.offer_code] = counts.get(item.offer_code, 0) + item.quantity
    facts = sale_facts(catalog, sale, counts)
    try:
        quote = quote_compiled(
            [cart_line(i) for i in priced], plans, facts, tz=tz, env=catalog.book.env
        )
    except PriceError as error:
        if "is not a choice of option" in str(error):
            raise
        raise QuoteError(str(error)) from error
    except EvalError as error:
        raise QuoteError(f"a price condition failed: {error}") from error
    usage = None
    if profile:
        usage = project_usage(catalog, sale, priced, profile, tz)
        if quote.currency and usage.currency and usage.currency != quote.currency:
            raise QuoteError(
                f"the usage estimate is in {usage.currency}, the quote in {quote.currency}"
            )
    return QuotedCart(quote, priced, catalog.number, usage, verdict)
