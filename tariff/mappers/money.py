"""Exact money and decimals on the wire: google.type.Money (units + nanos, same sign) and
google.type.Decimal (a decimal string). Never through a binary float."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from google.type import decimal_pb2, money_pb2

from tariff.mappers.common import Problems

NANOS = Decimal(1_000_000_000)
MAX_UNITS = 2**63 - 1


class WirePrecisionError(ValueError):
    """An amount with more than 9 decimals cannot travel as google.type.Money."""


def money_to_proto(amount: Decimal, currency: str) -> money_pb2.Money:
    """Raises WirePrecisionError for sub-nano amounts: rounding is the tariff's to declare,
    never the wire's."""
    nanos_total = amount * NANOS
    if nanos_total != nanos_total.to_integral_value():
        raise WirePrecisionError(f"{amount} has more than 9 decimals")
    whole = int(nanos_total)
    sign = -1 if whole < 0 else 1
    units, nanos = divmod(abs(whole), 1_000_000_000)
    return money_pb2.Money(currency_code=currency, units=sign * units, nanos=sign * nanos)


def money_from_proto(
    msg: money_pb2.Money, field: str, problems: Problems
) -> tuple[Decimal, str] | None:
    ok = True
    if len(msg.currency_code) != 3 or not msg.currency_code.isupper():
        problems.add(f"{field}.currency_code", "must be an ISO 4217 code such as CNY")
        ok = False
    if not -999_999_999 <= msg.nanos <= 999_999_999:
        problems.add(f"{field}.nanos", "must be within -999999999..999999999")
        ok = False
    elif msg.units and msg.nanos and (msg.units > 0) != (msg.nanos > 0):
        problems.add(f"{field}.nanos", "must have the same sign as units")
        ok = False
    if not ok:
        return None
    return Decimal(msg.units) + Decimal(msg.nanos) / NANOS, msg.currency_code


def decimal_to_proto(value: Decimal) -> decimal_pb2.Decimal:
    return decimal_pb2.Decimal(value=format(value, "f"))


def decimal_from_proto(msg: decimal_pb2.Decimal, field: str, problems: Problems) -> Decimal | None:
    try:
        value = Decimal(msg.value.strip())
    except InvalidOperation:
        problems.add(f"{field}.value", f"{msg.value!r} is not a decimal number")
        return None
    if not value.is_finite():
        problems.add(f"{field}.value", "must be a finite number")
        return None
    return value


def money_text(msg: money_pb2.Money) -> str:
    """google.type.Money as text for people, exactly (never through a float), at least to the
    cent; "" for an unset amount (no currency)."""
    if not msg.currency_code:
        return ""
    amount = (Decimal(msg.units) + Decimal(msg.nanos).scaleb(-9)).normalize()
    if amount.as_tuple().exponent > -2:  # type: ignore[operator]
        amount = amount.quantize(Decimal("0.01"))
    return f"{amount:f}"
