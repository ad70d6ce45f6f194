"""Prepaid authorization (online charging): how much usage a money balance pays for.

Before a prepaid call, session or message goes ahead, the network asks how much of it the
subscriber's balance covers (what CGRateS calls GetMaxSessionTime and a Diameter Gy front
end asks as a quota). The answer is defined by rating itself, so the two cannot disagree:
the authorized quantity is the largest `q` (up to what was asked, or a maximum) whose
rating, from the subscriber's counters, costs at most the balance; one unit more costs more
than the balance. Rating is the per-event engine's (`rules.rating.RatingSession`), run on
the same record with other quantities.

Search: rates per billed increment, allowances (which only cover a prefix), graduated tiers
and caps never make a charge fall as the quantity grows, so the largest affordable quantity
is found by bisection, in at most ~64 ratings of one record. Charges step at increment
boundaries, so the answer is where a billed increment ends: rating it bills exactly it. A
cap that holds the charge below the balance authorizes the maximum. Volume tiers can make a
charge fall (crossing a tier reprices every unit): there the answer still costs at most the
balance with one unit more costing more, but a larger quantity may be affordable again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from enum import Enum

from rules.rating import RatedRecord, RatingSession, UsageRecord

#: The most usage one authorization grants when the caller sets no bound, per measure: one
#: rated event is at most 7 days long (pricing.bands.MAX_EVENT_MS); 1 TiB; 10,000 events.
MAXIMUM = {"duration_ms": 7 * 86_400_000, "volume_bytes": 1 << 40, "count": 10_000}


class Limit(Enum):
    BALANCE = "balance"  # one unit more would cost more than the balance
    REQUESTED = "requested"  # all that was asked for is affordable
    MAXIMUM = "maximum"  # no bound asked, and the maximum is affordable


@dataclass(frozen=True, slots=True)
class Authorization:
    units: int  # in the business's measure: ms, bytes or events
    limit: Limit | None  # None: the record is rejected (`rated` says why)
    rated: RatedRecord  # the authorized usage rated (charge <= balance)
    next: RatedRecord | None = None  # one unit more, when the balance is the limit


class CurrencyMismatch(ValueError):
    """The balance is not in the currency the tariff charges."""


def authorize(
    session: RatingSession, record: UsageRecord, balance: Decimal, currency: str, ceiling: int
) -> Authorization:
    """The authorization of `record` (its quantity: the most asked for, 0 = unbounded up to
    `ceiling`) against `balance` in `currency`, from the session's counters (left as they
    were). Raises CurrencyMismatch."""
    given = dict(session.counters)

    def rate(quantity: int) -> RatedRecord:
        session.counters = dict(given)  # every trial from the same counters
        usage = replace(record.usage, quantity=quantity)
        try:
            return session.rate(replace(record, usage=usage))
        finally:
            session.counters = dict(given)

    asked = record.usage.quantity
    high = min(asked, ceiling) if asked > 0 else ceiling
    top = rate(high)
    if top.rated.status != "rated":
        return Authorization(0, None, top)
    if top.rated.currency and top.rated.currency != currency:
        raise CurrencyMismatch(
            f"the balance is in {currency}; this usage is charged in {top.rated.currency}"
        )
    if top.rated.charge <= balance:
        return Authorization(high, Limit.REQUESTED if asked > 0 else Limit.MAXIMUM, top)
    low, cheap = 0, rate(0)
    if cheap.rated.status != "rated" or cheap.rated.charge > balance:
        return Authorization(0, Limit.BALANCE, cheap, top)  # not even a start is affordable
    dear = top
    while high - low > 1:  # charge(low) <= balance < charge(high); bounded: ~log2(ceiling)
        middle = (low + high) // 2
        found = rate(middle)
        if found.rated.status == "rated" and found.rated.charge <= balance:
            low, cheap = middle, found
        else:
            high, dear = middle, found
    return Authorization(low, Limit.BALANCE, cheap, dear)
