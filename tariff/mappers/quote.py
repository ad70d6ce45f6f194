"""Quote requests and answers (TMF622/648 order-price shape) <-> rules.quoting.

A QuoteItem carries the prices of every unit of its line (a line of quantity 2 lists each
price twice) and, for a combo, its members as QuoteItems of their own. Amounts are exact
google.type.Money; `list_price` is in the plan's basis (tax included when the plan says so,
else duty free) and `price` carries both bases of the final amount. Proration, an exact
ratio of days, is shown to 9 decimals.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from fractions import Fraction

from dsl import nodes as n
from dsl.eval_prices_model import AppliedAlteration, PricedLine, PricedPrice
from rules.projection import UsageProfileEntry
from rules.quoting import QuotedCart
from rules.sale import CartItem
from tariff.mappers.common import Problems, datetime_to_timestamp, join
from tariff.mappers.money import decimal_to_proto, money_to_proto
from tariff.mappers.qualification import rule_ref, trace_to_proto
from tariff.v1 import pricing_service_pb2 as pb

PERIODS = {
    (1, "day"): pb.PERIOD_DAY,
    (1, "week"): pb.PERIOD_WEEK,
    (7, "day"): pb.PERIOD_WEEK,
    (1, "month"): pb.PERIOD_MONTH,
    (3, "month"): pb.PERIOD_QUARTER,
    (1, "quarter"): pb.PERIOD_QUARTER,
    (12, "month"): pb.PERIOD_YEAR,
    (1, "year"): pb.PERIOD_YEAR,
}
KINDS = {
    "discount": pb.ALTERATION_KIND_DISCOUNT,
    "waive": pb.ALTERATION_KIND_WAIVER,
    "override": pb.ALTERATION_KIND_OVERRIDE,
    "replace": pb.ALTERATION_KIND_OVERRIDE,
    "cap": pb.ALTERATION_KIND_CAP,
    "floor": pb.ALTERATION_KIND_FLOOR,
}
MAX_PROFILE_ENTRIES = 1000
NINE = Decimal("0.000000001")


def profile_from_proto(
    msg: pb.UsageProfile, field: str, problems: Problems
) -> tuple[UsageProfileEntry, ...]:
    if len(msg.entries) > MAX_PROFILE_ENTRIES:
        problems.add(join(field, "entries"), f"at most {MAX_PROFILE_ENTRIES} entries")
        return ()
    entries = []
    for i, e in enumerate(msg.entries):
        where = f"{join(field, 'entries')}[{i}]"
        if not e.business_code.strip():
            problems.add(f"{where}.business_code", "is required")
        for name in ("events", "duration_ms", "volume_bytes"):
            if getattr(e, name) < 0:
                problems.add(f"{where}.{name}", "must not be negative")
        entries.append(
            UsageProfileEntry(
                e.business_code,
                e.zone,
                e.band,
                max(e.events, 0),
                max(e.duration_ms, 0),
                max(e.volume_bytes, 0),
            )
        )
    return tuple(entries)


def _period(period: n.PeriodLit | None) -> pb.Period.ValueType:
    if period is None:
        return pb.PERIOD_UNSPECIFIED
    return PERIODS.get((period.count, period.unit), pb.PERIOD_UNSPECIFIED)


def _amount(
    currency: str, rate: Decimal, duty_free: Decimal | None, tax_included: Decimal | None
) -> pb.PriceAmount:
    """`rate` in percent, as plans write it (`tax 9% included`); the wire carries 0.09."""
    amount = pb.PriceAmount(tax_rate=decimal_to_proto(rate / 100))  # the proto's fraction
    if duty_free is not None:
        amount.duty_free_amount.CopyFrom(money_to_proto(duty_free, currency))
    if tax_included is not None:
        amount.tax_included_amount.CopyFrom(money_to_proto(tax_included, currency))
    return amount


def _alteration(step: AppliedAlteration, price: PricedPrice, path: str) -> pb.PriceAlteration:
    basis = price.tax_included_basis
    message = pb.PriceAlteration(
        kind=KINDS.get(step.kind, pb.ALTERATION_KIND_UNSPECIFIED),
        name=step.label or step.name,
        rule=rule_ref(f"{step.plan}.{step.kind}.{step.name or price.name}", path, step.span),
        amount=_amount(
            price.currency,
            price.tax_rate,
            None if basis else step.change,
            step.change if basis else None,
        ),
        priority=step.priority,
    )
    if step.percent is not None:
        message.percentage.CopyFrom(decimal_to_proto(step.percent))
    if step.duration is not None:
        message.duration.count = step.duration.count
        message.duration.period = _period(n.PeriodLit(count=1, unit=step.duration.unit))
    return message


def _proration(value: Fraction) -> Decimal:
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(NINE)


def price_to_proto(price: PricedPrice, plan: str, plan_path: str) -> pb.QuotePrice:
    basis = price.tax_included_basis
    message = pb.QuotePrice(
        name=price.name,
        business_code=price.business,
        price_type=pb.PRICE_TYPE_ONE_TIME if price.type == "one_time" else pb.PRICE_TYPE_RECURRING,
        recurring_period=_period(price.period),
        list_price=_amount(
            price.currency,
            price.tax_rate,
            None if basis else price.list_amount,
            price.list_amount if basis else None,
        ),
        price=_amount(price.currency, price.tax_rate, price.duty_free, price.tax_included),
        alterations=[_alteration(a, price, plan_path) for a in price.alterations],
        due=pb.DUE_TIME_NOW if price.due == "now" else pb.DUE_TIME_EVERY_PERIOD,
        rule=rule_ref(f"{plan}.price.{price.name}", plan_path, price.span),
    )
    starts = datetime_to_timestamp(price.starts)
    if starts is not None:
        message.starts.CopyFrom(starts)
    if price.proration is not None:
        message.proration.CopyFrom(decimal_to_proto(_proration(price.proration)))
    return message


def quote_to_proto(
    quoted: QuotedCart, plan_paths: Mapping[str, str], texts: Mapping[str, str]
) -> pb.QuoteResponse:
    lines = iter(quoted.quote.lines)
    currency = quoted.currency
    response = pb.QuoteResponse(currency_code=currency, catalog_version=quoted.version)
    for item in quoted.items:
        response.items.append(_item(item, lines, plan_paths, with_members=True))
    quote = quoted.quote
    one_time = [p for line in quote.lines for p in line.prices if p.type == "one_time"]
    monthly = [p for line in quote.lines for p in line.prices if p.monthly]
    totals = response.totals
    if currency:
        totals.due_now.CopyFrom(_total(currency, one_time, quote.due_now))
        totals.monthly_recurring.CopyFrom(_total(currency, monthly, quote.monthly))
        first = pb.PriceAmount()
        first.tax_included_amount.CopyFrom(money_to_proto(quoted.first_bill, currency))
        totals.first_bill_estimate.CopyFrom(first)
    if quoted.usage is not None and currency:
        usage = pb.PriceAmount()
        usage.tax_included_amount.CopyFrom(money_to_proto(quoted.usage.charge, currency))
        totals.usage_estimate.CopyFrom(usage)
    if quoted.eligibility is not None:
        for verdict in quoted.eligibility.items:
            response.trace.extend(trace_to_proto(step, texts) for step in verdict.trace)
    return response


def _total(currency: str, prices: Sequence[PricedPrice], tax_included: Decimal) -> pb.PriceAmount:
    duty_free = sum((p.duty_free for p in prices), Decimal(0))
    amount = pb.PriceAmount()
    amount.duty_free_amount.CopyFrom(money_to_proto(duty_free, currency))
    amount.tax_included_amount.CopyFrom(money_to_proto(tax_included, currency))
    return amount


def _item(
    item: CartItem,
    lines: Iterator[PricedLine],
    plan_paths: Mapping[str, str],
    *,
    with_members: bool,
) -> pb.QuoteItem:
    message = pb.QuoteItem(item_id=item.item_id, offer_code=item.offer_code)
    members = [m for m in item.members if m.action != "remove"] if with_members else []
    member_messages = [pb.QuoteItem(item_id=m.item_id, offer_code=m.offer_code) for m in members]
    for _ in range(item.quantity):
        line = next(lines)
        path = plan_paths.get(line.plan, "")
        message.prices.extend(price_to_proto(p, line.plan, path) for p in line.prices)
        for member, member_message in zip(members, member_messages, strict=True):
            for _ in range(member.quantity):
                member_line = next(lines)
                member_path = plan_paths.get(member_line.plan, "")
                member_message.prices.extend(
                    price_to_proto(p, member_line.plan, member_path) for p in member_line.prices
                )
    message.members.extend(member_messages)
    return message
