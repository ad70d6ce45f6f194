"""PricingService.AuthorizeUsage through a real server on 127.0.0.1, held to Rate on the
generated catalog of test_rating_api.py (voice with shared allowances, data with caps, SMS):
for sampled events, balances and counters, the granted usage rated by Rate costs at most the
balance and one unit more costs more; what AuthorizeUsage says it rated is what Rate
answers; and bad requests are refused with the field at fault."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

import grpc
import pytest

from tariff.mappers.money import money_text, money_to_proto
from tariff.v1 import pricing_service_pb2 as pb
from tests.service import test_rating_api as rating_api
from tests.service.test_rating_api import Pricing, event

app, content, rows, pricing = (
    rating_api.app,
    rating_api.content,
    rating_api.rows,
    rating_api.pricing,
)
FIELDS = {"local_voice": "duration_ms", "ld_voice": "duration_ms", "mobile_data": "volume_bytes"}
BALANCE = pb.AUTHORIZATION_LIMIT_BALANCE
RATED = pb.RATING_STATUS_RATED


def charge(result: pb.RatedEvent) -> Decimal:
    return Decimal(money_text(result.charge) or 0)


async def rate_one(
    pricing: Pricing, msg: pb.UsageEvent, counters: Any, field: str, units: int
) -> pb.RateResponse:
    probe = pb.UsageEvent()
    probe.CopyFrom(msg)
    setattr(probe, field, units)
    return await pricing.stub.Rate(pb.RateRequest(events=[probe], counters=counters))


async def test_granted_usage_costs_at_most_the_balance_and_one_unit_more_costs_more(
    pricing: Pricing, rows: list[dict[str, str]]
) -> None:
    sample = random.Random(11)
    chosen = [r for r in rows if r["business_code"] in FIELDS]
    history = await pricing.stub.Rate(pb.RateRequest(events=[event(r) for r in rows[:400]]))
    by_subscriber = {c.subscriber_id: c for c in history.counters}
    seen = {pb.AUTHORIZATION_LIMIT_BALANCE: 0, pb.AUTHORIZATION_LIMIT_MAXIMUM: 0}
    for row in sample.sample(chosen, 40):
        field = FIELDS[row["business_code"]]
        msg = event(row)
        setattr(msg, field, 0)  # as much as the balance pays for
        counters = [by_subscriber[row["subscriber_id"]]] if sample.random() < 0.7 else []
        balance = Decimal(sample.randint(0, 3_000)) / 100
        answer = await pricing.stub.AuthorizeUsage(
            pb.AuthorizeUsageRequest(
                event=msg, balance=money_to_proto(balance, "CNY"), counters=counters
            )
        )
        assert answer.rated.status == RATED, answer
        granted = answer.authorized_units
        rated = await rate_one(pricing, msg, counters, field, granted)
        assert rated.results[0] == answer.rated  # exactly what Rate answers for it
        assert list(rated.counters) == list(answer.counters)
        assert charge(answer.rated) <= balance
        seen[answer.limit] = seen.get(answer.limit, 0) + 1
        if answer.limit == BALANCE:
            more = await rate_one(pricing, msg, counters, field, granted + 1)
            assert charge(more.results[0]) > balance, (row, balance, granted)
            assert charge(more.results[0]) == Decimal(money_text(answer.next_unit_charge))
        else:
            assert answer.limit == pb.AUTHORIZATION_LIMIT_MAXIMUM
            assert not answer.HasField("next_unit_charge")
    assert seen[BALANCE] > 10


async def test_a_capped_charge_under_the_balance_grants_the_maximum(
    pricing: Pricing, rows: list[dict[str, str]]
) -> None:
    data = next(r for r in rows if r["business_code"] == "mobile_data")
    msg = event(data, volume_bytes=0)
    rich = money_to_proto(Decimal("1000.00"), "CNY")  # above every generated data cap
    answer = await pricing.stub.AuthorizeUsage(pb.AuthorizeUsageRequest(event=msg, balance=rich))
    assert answer.limit == pb.AUTHORIZATION_LIMIT_MAXIMUM
    assert answer.authorized_units == 1 << 40
    assert Decimal(0) < charge(answer.rated) < Decimal("1000.00")
    rated = await rate_one(pricing, msg, [], "volume_bytes", 1 << 40)
    assert rated.results[0] == answer.rated


async def test_a_bounded_request_is_granted_whole_when_affordable(
    pricing: Pricing, rows: list[dict[str, str]]
) -> None:
    voice = next(r for r in rows if r["business_code"] == "local_voice")
    msg = event(voice, duration_ms=90_000)
    rich = money_to_proto(Decimal("1000.00"), "CNY")
    answer = await pricing.stub.AuthorizeUsage(pb.AuthorizeUsageRequest(event=msg, balance=rich))
    assert (answer.authorized_units, answer.limit) == (90_000, pb.AUTHORIZATION_LIMIT_REQUESTED)
    rated = await pricing.stub.Rate(pb.RateRequest(events=[msg]))
    assert rated.results[0] == answer.rated


async def test_usage_the_engine_refuses_is_answered_as_rate_answers_it(
    pricing: Pricing, rows: list[dict[str, str]]
) -> None:
    voice = next(r for r in rows if r["business_code"] == "local_voice")
    msg = event(voice, offer_code="no_such_offer")
    zero = money_to_proto(Decimal("5.00"), "CNY")
    answer = await pricing.stub.AuthorizeUsage(pb.AuthorizeUsageRequest(event=msg, balance=zero))
    assert answer.authorized_units == 0
    assert answer.limit == pb.AUTHORIZATION_LIMIT_UNSPECIFIED
    assert answer.rated.status == pb.RATING_STATUS_REJECTED
    assert answer.rated.rejection == pb.REJECTION_REASON_UNKNOWN_OFFER


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"balance": money_to_proto(Decimal("5.00"), "USD")}, "balance.currencyCode"),
        ({"balance": money_to_proto(Decimal("-1.00"), "CNY")}, "balance"),
        ({"start": None}, "event.startTime"),
        ({"duration_ms": -5}, "event"),
        ({"draft": True}, "selector"),
    ],
)
async def test_a_bad_request_is_refused_with_the_field_at_fault(
    pricing: Pricing, rows: list[dict[str, str]], change: dict[str, Any], field: str
) -> None:
    from google.rpc import error_details_pb2
    from grpc_status import rpc_status

    voice = next(r for r in rows if r["business_code"] == "local_voice")
    request = pb.AuthorizeUsageRequest(
        event=event(voice), balance=money_to_proto(Decimal("5.00"), "CNY")
    )
    if "balance" in change:
        request.balance.CopyFrom(change["balance"])
    if "start" in change:
        request.event.ClearField("start_time")
    if "duration_ms" in change:
        request.event.duration_ms = change["duration_ms"]
    if "draft" in change:
        request.selector.draft = True
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await pricing.stub.AuthorizeUsage(request)
    assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    status = rpc_status.from_call(refused.value)  # type: ignore[arg-type]
    assert status is not None
    fields = []
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            fields += [v.field for v in bad.field_violations]
    assert field in fields, fields
