"""PricingService.AuthorizeUsage: prepaid authorization over `rules.authorization`, with the
request read and the answer written as Rate reads and writes them (tariff.mappers.usage), so
the granted usage's `rated` is exactly the RatedEvent Rate would send for it.

A malformed request (no start, a bad balance or counters, a draft selector) fails the call
with field violations; usage the engine refuses (an unknown offer or business, no zone) is
answered as Rate answers it, REJECTED with the reason, nothing granted.
"""

from __future__ import annotations

from datetime import tzinfo

from catalog.errors import ValidationError, Violation
from catalog.snapshot import SnapshotRegistry
from catalog.versions import AsOf
from rules.authorization import MAXIMUM, CurrencyMismatch, Limit, authorize
from rules.rating import RatingSession, UsageRecord
from rules.sale_catalog import SaleCatalog
from tariff.mappers.common import Problems, published_selector_from_proto
from tariff.mappers.money import money_from_proto, money_to_proto
from tariff.mappers.usage import (
    MALFORMED,
    Rejection,
    ResultWriter,
    counters_from_proto,
    counters_to_proto,
    instant_from_proto,
    quantity_fields,
    usage_from_proto,
)
from tariff.v1 import pricing_service_pb2 as pb

_LIMITS = {
    Limit.BALANCE: pb.AUTHORIZATION_LIMIT_BALANCE,
    Limit.REQUESTED: pb.AUTHORIZATION_LIMIT_REQUESTED,
    Limit.MAXIMUM: pb.AUTHORIZATION_LIMIT_MAXIMUM,
}


def authorize_usage(
    registry: SnapshotRegistry[SaleCatalog], request: pb.AuthorizeUsageRequest, tz: tzinfo
) -> pb.AuthorizeUsageResponse:
    """AuthorizeUsage (module docstring). Raises ValidationError, or NotFound for a pinned
    version that does not exist or no version in force at the start."""
    problems = Problems()
    msg = request.event
    instant = instant_from_proto(msg)
    if isinstance(instant, Rejection):
        problems.add("event.start_time", instant.message)
    problems.required(msg.subscriber_id, "event.subscriber_id")
    problems.required(msg.offer_code, "event.offer_code")
    money = money_from_proto(request.balance, "balance", problems)
    if money is not None and money[0] < 0:
        problems.add("balance", "must not be negative")
    given = counters_from_proto(request.counters, "counters", problems)
    if request.selector.WhichOneof("selector") == "draft":
        problems.add("selector", "authorization reads published versions")
        selector = None
    else:
        selector = published_selector_from_proto(request.selector, "selector", problems)
    problems.check()
    assert money is not None
    assert not isinstance(instant, Rejection)
    start, _at = instant
    catalog = registry.get(selector if selector is not None else AsOf(start))
    response = pb.AuthorizeUsageResponse()
    results = pb.RateResponse().results  # Rate's writer, for the one event
    writer = ResultWriter(results)
    fields = quantity_fields(catalog)
    usage = usage_from_proto(msg, start, catalog, fields, msg.subscriber_id)
    if isinstance(usage, Rejection):
        if usage.reason == MALFORMED:  # one event: a bad one is a bad request
            raise ValidationError([Violation("event", usage.message)])
        writer.rejected(msg.event_id, usage.reason, usage.message, catalog.number)
        response.rated.CopyFrom(results[0])
        return response
    session = RatingSession(lambda _start: catalog, tz, counters=dict(given.counters))
    record = UsageRecord(msg.event_id, msg.subscriber_id, msg.offer_code, usage)
    ceiling = MAXIMUM[fields[usage.business]]
    balance, currency = money
    try:
        granted = authorize(session, record, balance, currency, ceiling)
    except CurrencyMismatch as error:
        raise ValidationError([Violation("balance.currency_code", str(error))]) from None
    rated = granted.rated.rated
    if rated.status == "rated":
        writer.rated(granted.rated, catalog)
    else:
        writer.rejected(msg.event_id, rated.reason, rated.message, catalog.number)
    response.rated.CopyFrom(results[0])
    if granted.limit is None:
        return response
    response.authorized_units = granted.units
    response.limit = _LIMITS[granted.limit]
    if granted.next is not None and granted.limit is Limit.BALANCE:
        response.next_unit_charge.CopyFrom(money_to_proto(granted.next.rated.charge, currency))
    key = (msg.subscriber_id, granted.rated.period)
    counters_to_proto(response.counters.add(), key, granted.rated.rated.counters, currency)
    return response
