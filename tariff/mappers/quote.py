"""Quote requests and answers (TMF622/648 order-price shape) <-> rules.quoting.

A QuoteItem carries the prices of one unit of its line, each with the number of units it is
charged for (`quantity`: the line's, for a member times its combo's; a member's first unit
and the units after it may price differently and then appear as two prices), and, for a
combo, its members as QuoteItems of their own. Totals count each price `quantity` times, so
a response's size never grows with a quantity. Amounts are exact
google.type.Money; `list_price` is in the plan's basis (tax included when the plan says so,
else duty free) and `price` carries both bases of the final amount. Proration, an exact
ratio of days, is shown to 9 decimals.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any

from google.protobuf.internal.containers import RepeatedCompositeFieldContainer

from dsl import nodes as n
from dsl.eval_prices_model import AppliedAlteration, PricedLine, PricedPrice, exact_sum, times
from rules.per_version import PerVersion
from rules.projection import UsageProfileEntry
from rules.quoting import QuotedCart
from rules.sale import CartItem
from rules.sale_catalog import SaleCatalog
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


class QuoteParts:
    """Response parts that repeat across quotes, encoded once: what a price declares (name,
    type, period, due, rule; per version) and the conversions of amounts, applied
    alterations, start dates and prorations (pure functions of their values; keyed by their
    wire text where equal Decimals print differently). Bounded: cleared when full."""

    __slots__ = ("found",)
    LIMIT = 8192

    def __init__(self) -> None:
        self.found: dict[Hashable, Any] = {}

    def encoded(self, price: PricedPrice, plan: str, path: str) -> bytes:
        """`price` as the wire encoding of a QuotePrice: its parts' encodings, each built
        once, joined (a message parses concatenated encodings as their merge)."""
        found = self.found
        currency, rate, basis = price.currency, price.tax_rate, price.tax_included_basis
        declared = (price.name, price.business, price.type, price.period, price.due, price.span)
        key: tuple[Any, ...] = ("declared", plan, path, *declared)
        chunk = found.get(key)
        if chunk is None:
            chunk = self._keep(key, _declared(price, plan, path).SerializeToString())
        chunks = [chunk]
        rate_text = str(rate)  # 9 and 9.000 are equal Decimals but different wire text
        listed = (None, price.list_amount) if basis else (price.list_amount, None)
        key = ("list_price", currency, rate_text, *listed)
        chunk = found.get(key)
        if chunk is None:
            amount = _amount(currency, rate, *listed)
            chunk = self._keep(key, pb.QuotePrice(list_price=amount).SerializeToString())
        chunks.append(chunk)
        key = ("price", currency, rate_text, price.duty_free, price.tax_included)
        chunk = found.get(key)
        if chunk is None:
            amount = _amount(currency, rate, price.duty_free, price.tax_included)
            chunk = self._keep(key, pb.QuotePrice(price=amount).SerializeToString())
        chunks.append(chunk)
        for step in price.alterations:
            name = "" if step.name else price.name  # what the rule ref reads of the price
            key = ("alteration", step, rate_text, str(step.percent), currency, basis, name, path)
            chunk = found.get(key)
            if chunk is None:
                altered = _alteration(step, price, path)
                chunk = self._keep(key, pb.QuotePrice(alterations=[altered]).SerializeToString())
            chunks.append(chunk)
        starts = price.starts
        if starts is not None:
            key = ("starts", starts)  # equal instants (in any zone) are the same Timestamp
            chunk = found.get(key)
            if chunk is None:
                stamp = datetime_to_timestamp(starts)
                chunk = self._keep(key, pb.QuotePrice(starts=stamp).SerializeToString())
            chunks.append(chunk)
        if price.proration is not None:
            key = ("proration", price.proration)
            chunk = found.get(key)
            if chunk is None:
                share = decimal_to_proto(_proration(price.proration))
                chunk = self._keep(key, pb.QuotePrice(proration=share).SerializeToString())
            chunks.append(chunk)
        return b"".join(chunks)

    def _keep(self, key: Hashable, message: Any) -> Any:
        if len(self.found) >= self.LIMIT:
            self.found.clear()
        self.found[key] = message
        return message


#: Each version's quote parts, kept by the edge (`rules.per_version`).
VERSION_PARTS: PerVersion[QuoteParts] = PerVersion(lambda _catalog: QuoteParts())


def parts_of(catalog: SaleCatalog | None) -> QuoteParts:
    """The version's quote parts (a fresh, unshared set without a version)."""
    return QuoteParts() if catalog is None else VERSION_PARTS(catalog)


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


def _declared(price: PricedPrice, plan: str, plan_path: str) -> pb.QuotePrice:
    """The parts of a QuotePrice its plan declares (the same for every quote)."""
    return pb.QuotePrice(
        name=price.name,
        business_code=price.business,
        price_type=pb.PRICE_TYPE_ONE_TIME if price.type == "one_time" else pb.PRICE_TYPE_RECURRING,
        recurring_period=_period(price.period),
        due=pb.DUE_TIME_NOW if price.due == "now" else pb.DUE_TIME_EVERY_PERIOD,
        rule=rule_ref(f"{plan}.price.{price.name}", plan_path, price.span),
    )


def price_to_proto(
    price: PricedPrice, plan: str, plan_path: str, parts: QuoteParts | None = None
) -> pb.QuotePrice:
    message = pb.QuotePrice()
    _fill_price(message, price, plan, plan_path, parts or QuoteParts())
    return message


def _fill_price(
    message: pb.QuotePrice, price: PricedPrice, plan: str, plan_path: str, parts: QuoteParts
) -> None:
    """Writes `price` into the (empty) `message`: one parse of its parts' encodings."""
    message.MergeFromString(parts.encoded(price, plan, plan_path))


def quote_to_proto(
    quoted: QuotedCart,
    plan_paths: Mapping[str, str],
    texts: Mapping[str, str],
    parts: QuoteParts | None = None,
) -> pb.QuoteResponse:
    """With `parts` (the version's, `parts_of`), the parts prices declare and the
    conversions of repeated amounts are built once and copied into each answer."""
    parts = parts or QuoteParts()
    lines = iter(quoted.quote.lines)
    currency = quoted.currency
    response = pb.QuoteResponse(currency_code=currency, catalog_version=quoted.version)
    add_item = response.items.add
    for item in quoted.items:
        _fill_item(add_item(), item, lines, plan_paths, parts, with_members=True)
    quote = quoted.quote
    one_time = [(p, ln.quantity) for ln in quote.lines for p in ln.prices if p.type == "one_time"]
    monthly = [(p, ln.quantity) for ln in quote.lines for p in ln.prices if p.monthly]
    totals = response.totals
    if currency:
        totals.due_now.CopyFrom(_total(currency, one_time, quote.due_now))
        totals.monthly_recurring.CopyFrom(_total(currency, monthly, quote.monthly))
        first = pb.PriceAmount()
        first.tax_included_amount.CopyFrom(money_to_proto(quoted.first_bill, currency))
        totals.first_bill_estimate.CopyFrom(first)
    totals.usage_estimate_basis = pb.USAGE_ESTIMATE_BASIS_NONE
    if quoted.usage is not None:
        totals.usage_estimate_basis = pb.USAGE_ESTIMATE_BASIS_PROFILE
        if currency:
            usage = pb.PriceAmount()
            usage.tax_included_amount.CopyFrom(money_to_proto(quoted.usage.charge, currency))
            totals.usage_estimate.CopyFrom(usage)
    if quoted.eligibility is not None:
        for verdict in quoted.eligibility.items:
            response.trace.extend(trace_to_proto(step, texts) for step in verdict.trace)
    return response


def _total(
    currency: str, prices: Sequence[tuple[PricedPrice, int]], tax_included: Decimal
) -> pb.PriceAmount:
    """A total of (price, units) pairs: the duty-free sum here, the tax-included one given."""
    duty_free = exact_sum([times(p.duty_free, units) for p, units in prices])
    amount = pb.PriceAmount()
    amount.duty_free_amount.CopyFrom(money_to_proto(duty_free, currency))
    amount.tax_included_amount.CopyFrom(money_to_proto(tax_included, currency))
    return amount


def _fill_item(
    message: pb.QuoteItem,
    item: CartItem,
    lines: Iterator[PricedLine],
    plan_paths: Mapping[str, str],
    parts: QuoteParts,
    *,
    with_members: bool,
) -> None:
    message.item_id = item.item_id
    message.offer_code = item.offer_code
    members = [m for m in item.members if m.action != "remove"] if with_members else []
    add_member = message.members.add
    member_messages = [add_member(item_id=m.item_id, offer_code=m.offer_code) for m in members]
    _fill_prices(message.prices, item.quantity, lines, plan_paths, parts)
    for member, member_message in zip(members, member_messages, strict=True):
        units = item.quantity * member.quantity
        _fill_prices(member_message.prices, units, lines, plan_paths, parts)


def _fill_prices(
    prices: RepeatedCompositeFieldContainer[pb.QuotePrice],
    units: int,
    lines: Iterator[PricedLine],
    plan_paths: Mapping[str, str],
    parts: QuoteParts,
) -> None:
    """The prices of the next lines, up to `units` units in all (a member's first unit and
    the units after it are two lines), each price written once with its units."""
    add_price = prices.add
    while units > 0:
        line = next(lines)
        units -= line.quantity
        path = plan_paths.get(line.plan, "")
        for p in line.prices:
            message = add_price()
            _fill_price(message, p, line.plan, path, parts)
            message.quantity = line.quantity
