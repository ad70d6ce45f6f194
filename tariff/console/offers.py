"""An offer's prices as a table, read from the compiled plan of an installed catalog (the
code quotes run), not from the rule text: each list price priced once for a neutral sale,
and each usage rate with its terms settled as the raters hold them."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from dsl import nodes as n
from dsl.compile_usage import analyse, currency_of, usage_blocks
from dsl.context import CustomerFacts, SaleFacts
from dsl.eval_prices_model import PriceError
from dsl.eval_usage_setup import usage_measure
from dsl.runtime import EvalError
from rules.quoting import QuoteError, compiled_plan
from rules.sale_catalog import NEUTRAL_TIME, SaleCatalog


@dataclass(frozen=True, slots=True)
class PriceRow:
    name: str
    type: str
    period: str
    amount: str  # tax included, exact
    tax: str


@dataclass(frozen=True, slots=True)
class RateRow:
    business: str
    zone: str
    band: str
    rate: str
    increments: str


@dataclass(frozen=True, slots=True)
class OfferPrices:
    plan: str
    currency: str
    prices: tuple[PriceRow, ...]
    rates: tuple[RateRow, ...]
    allowances: tuple[str, ...]
    caps: tuple[str, ...]
    problem: str = ""


def _period(period: n.PeriodLit | None) -> str:
    if period is None:
        return ""
    return period.unit if period.count == 1 else f"{period.count} {period.unit}s"


def _quantity(units: int, measure: str | None) -> str:
    """Base units (ms, bytes, count) as people write them."""
    if measure == "duration":
        return f"{units // 60_000} min" if units % 60_000 == 0 else f"{Decimal(units) / 1000} s"
    if measure == "volume":
        for name, size in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
            if units % size == 0:
                return f"{units // size} {name}"
        return f"{units} B"
    return str(units) if units != 1 else "1 event"


def offer_prices(catalog: SaleCatalog, code: str) -> OfferPrices | None:
    """None when the offer has no plan in this catalog."""
    offer = catalog.offers.get(code)
    if offer is None:
        return None
    plan = catalog.book.plans.get(offer.tariff_plan)
    if plan is None:
        return None
    prices: list[PriceRow] = []
    problem = ""
    try:
        compiled = compiled_plan(catalog, plan.name)
        if compiled is not None:
            facts = SaleFacts(CustomerFacts(), "", (), "", NEUTRAL_TIME)
            line = compiled.price_line(n.CartLine(offer=code), facts)
            prices = [
                PriceRow(
                    p.name,
                    p.type,
                    _period(p.period),
                    f"{p.tax_included:f}",
                    f"{p.tax_rate:f}%" if p.tax_rate else "",
                )
                for p in line.prices
            ]
    except (QuoteError, PriceError, EvalError) as error:
        problem = str(error)
    rates: list[RateRow] = []
    allowances: list[str] = []
    caps: list[str] = []
    currency = currency_of(plan)
    for usage in usage_blocks(plan):
        block = analyse(plan, usage)
        measure = usage_measure(usage)
        for rate, terms in zip(usage.rates, block.rates, strict=True):
            if terms is None:
                text, steps = "(rated by the interpreter)", ""
            else:
                per = {"duration": 60_000, "volume": 1024**3}.get(measure or "", 1)
                amount = Decimal(terms.multiplier * per) / Decimal(block.scale)
                text = f"{amount.normalize():f} {currency} / {_quantity(per, measure)}"
                steps = ""
                if terms.first > 1 or terms.next > 1:  # 1 base unit: rated as measured
                    first, then = (_quantity(t, measure) for t in (terms.first, terms.next))
                    steps = first if first == then else f"{first} then {then}"
            rates.append(RateRow(usage.business, rate.zone.text, rate.band.text, text, steps))
        for allowance, units in zip(usage.allowances, block.allowances, strict=True):
            if units is not None:
                allowances.append(f"{usage.business}: {allowance.name} {_quantity(units, measure)}")
        caps += [f"{usage.business}: {c:f} {currency}" for c in block.caps if c is not None]
    return OfferPrices(
        plan.name, currency, tuple(prices), tuple(rates), tuple(allowances), tuple(caps), problem
    )
