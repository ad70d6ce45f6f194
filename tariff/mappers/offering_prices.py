"""rules.offering_prices -> tariff.v1.OfferingPrices (TMF620 ProductOfferingPrice), and the
`view` of offer reads.

Amounts are exact google.type.Money in the plan's price basis (the same basis as a quote's
`list_price`); percentages and tax rates are fractions ("0.2" = 20%), as everywhere on the
wire; an expression is its rule text with its location.
"""

from __future__ import annotations

from dsl import nodes as n
from rules import offering_prices as op
from tariff.mappers.common import Problems
from tariff.mappers.money import decimal_to_proto, money_to_proto
from tariff.mappers.rules import location
from tariff.v1 import offering_price_pb2 as pb

PRICE_TYPES = {
    "one_time": pb.OFFERING_PRICE_TYPE_ONE_TIME,
    "recurring": pb.OFFERING_PRICE_TYPE_RECURRING,
}
ALTERATION_TYPES = {
    "discount": pb.OFFERING_ALTERATION_TYPE_DISCOUNT,
    "waive": pb.OFFERING_ALTERATION_TYPE_WAIVER,
    "override": pb.OFFERING_ALTERATION_TYPE_OVERRIDE,
    "cap": pb.OFFERING_ALTERATION_TYPE_CAP,
    "floor": pb.OFFERING_ALTERATION_TYPE_FLOOR,
}
HUNDRED = 100


def full_view(view: int, field: str, problems: Problems) -> bool:
    """True for OFFER_VIEW_FULL; an unknown view is a field violation."""
    if view not in (pb.OFFER_VIEW_UNSPECIFIED, pb.OFFER_VIEW_BASIC, pb.OFFER_VIEW_FULL):
        problems.add(field, f"unknown offer view {view}")
        return False
    return view == pb.OFFER_VIEW_FULL


def _period(period: n.PeriodLit | None) -> pb.PricePeriod | None:
    return None if period is None else pb.PricePeriod(count=period.count, unit=period.unit)


def _expression(expr: op.Expression | None) -> pb.RuleExpression | None:
    if expr is None:
        return None
    return pb.RuleExpression(text=expr.text, location=location(expr.path, expr.span))


def _amount(amount: op.Amount | None) -> pb.OfferingAmount | None:
    if amount is None:
        return None
    if isinstance(amount, op.Money):
        return pb.OfferingAmount(money=money_to_proto(amount.amount, amount.currency))
    if isinstance(amount, op.Percent):
        return pb.OfferingAmount(percentage=decimal_to_proto(amount.value / HUNDRED))
    return pb.OfferingAmount(expression=_expression(amount))


def _quantity(quantity: op.UsageQuantity | None) -> pb.UsageQuantity | None:
    if quantity is None:
        return None
    if quantity.expression is not None:
        return pb.UsageQuantity(expression=_expression(quantity.expression))
    assert quantity.amount is not None
    return pb.UsageQuantity(amount=format(quantity.amount, "f"), unit=quantity.unit)


def _rounding(rounding: n.Rounding | None) -> pb.PriceRounding | None:
    if rounding is None:
        return None
    return pb.PriceRounding(mode=rounding.mode, decimals=rounding.decimals, scope=rounding.scope)


def _price(price: op.ListPrice, plan: op.PlanPrices) -> pb.OfferingPrice:
    return pb.OfferingPrice(
        name=price.name,
        price_type=PRICE_TYPES[price.kind],
        price=_amount(price.amount),
        recurring_period=_period(price.period),
        tax_included=plan.tax_included,
        tax_rate=decimal_to_proto(plan.tax_rate / HUNDRED),
        business_code=price.business,
        starts_next_period=price.starts_next_period,
        covering=_period(price.covering),
        prorated=price.prorated,
        condition=_expression(price.condition),
        option=price.option,
        option_choice=price.choice,
        location=location(plan.path, price.span),
    )


def _alteration(alt: op.Alteration, path: str) -> pb.OfferingPriceAlteration:
    return pb.OfferingPriceAlteration(
        name=alt.name,
        alteration_type=ALTERATION_TYPES[alt.kind],
        target_price=alt.target_price,
        target_offer=alt.target_offer,
        each_line=alt.each_line,
        amount=_amount(alt.amount),
        condition=_expression(alt.condition),
        priority=alt.priority,
        duration=_period(alt.duration),
        label=alt.label,
        credit=alt.credit,
        replaces=alt.replaces,
        location=location(path, alt.span),
    )


def _rate(rate: op.UsageRate, path: str) -> pb.UsageRate:
    return pb.UsageRate(
        zone=rate.zone,
        band=rate.band,
        price=_amount(rate.price),
        unit_of_measure=_quantity(rate.per),
        first_increment=_quantity(rate.first_increment),
        next_increment=_quantity(rate.next_increment),
        connection=_amount(rate.connection),
        minimum=_amount(rate.minimum),
        maximum=_amount(rate.maximum),
        condition=_expression(rate.condition),
        location=location(path, rate.span),
    )


def _usage(usage: op.UsagePricing, path: str) -> pb.UsagePricing:
    tiers = None
    if usage.tiers is not None:
        tiers = pb.UsageTiers(
            mode=usage.tiers.mode,
            period=_period(usage.tiers.period),
            tiers=[
                pb.UsageTier(
                    low=_quantity(t.low),
                    high=_quantity(t.high),
                    price=_amount(t.price),
                    per=_quantity(t.per),
                )
                for t in usage.tiers.tiers
            ],
        )
    return pb.UsagePricing(
        business_code=usage.business,
        zones=usage.zones,
        bands=usage.bands,
        rates=[_rate(r, path) for r in usage.rates],
        tiers=tiers,
        allowances=[
            pb.UsageAllowance(
                name=a.name,
                amount=_quantity(a.amount),
                period=_period(a.period),
                zones=a.zones,
                bands=a.bands,
            )
            for a in usage.allowances
        ],
        caps=[pb.UsageCap(amount=_amount(c.amount), period=_period(c.period)) for c in usage.caps],
        rounding=_rounding(usage.rounding),
        location=location(path, usage.span),
    )


def plan_to_proto(plan: op.PlanPrices, areas: tuple[str, ...] = ()) -> pb.OfferingPricePlan:
    if plan.error:
        return pb.OfferingPricePlan(plan=plan.plan, error=plan.error, area_codes=areas)
    return pb.OfferingPricePlan(
        plan=plan.plan,
        title=plan.title,
        currency=plan.currency,
        tax_included=plan.tax_included,
        tax_rate=decimal_to_proto(plan.tax_rate / HUNDRED),
        rounding=_rounding(plan.rounding),
        commitment=_period(plan.commitment),
        prices=[_price(p, plan) for p in plan.prices],
        options=[
            pb.PriceOption(name=o.name, default_choice=o.default, choices=o.choices)
            for o in plan.options
        ],
        alterations=[_alteration(a, plan.path) for a in plan.alterations],
        usage=[_usage(u, plan.path) for u in plan.usage],
        location=location(plan.path, plan.span),
        area_codes=areas,
    )


def offering_to_proto(prices: op.OfferingPrices) -> pb.OfferingPrices:
    return pb.OfferingPrices(
        offer_code=prices.offer,
        catalog_version=prices.version,
        plans=[plan_to_proto(plan, areas) for plan, areas in prices.plans],
        members=[
            pb.BundledOfferingPrices(
                offer_code=m.offer, plan=None if m.plan is None else plan_to_proto(m.plan)
            )
            for m in prices.members
        ],
    )
