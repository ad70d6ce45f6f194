"""Usage events, counters and rated events <-> rules.rating: quantities by measure, bad
events as rejections (never exceptions), counters named as the engine names them, results
exact to the nano with their rule, split events with their parts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from types import MappingProxyType

import pytest
from google.type import decimal_pb2, money_pb2

from catalog.content import CatalogContent
from catalog.errors import ValidationError
from catalog.model import CatalogVersionInfo, EntityKind, Product
from dsl.eval_usage import Counters, UsageEvent
from rules.rating import RatingSession, UsageRecord
from rules.sale_catalog import SaleCatalog
from rules.usage_rows import record_from_row
from tariff.gen.catalogs import CatalogSpec, generate_catalog
from tariff.mappers import usage as m
from tariff.mappers.common import Problems, datetime_to_timestamp
from tariff.mappers.money import money_to_proto
from tariff.v1 import common_pb2
from tariff.v1 import pricing_service_pb2 as pb

CHINA = timezone(timedelta(hours=8))
START = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)  # 09:30 in China, a Monday: peak
OFFER = "mob_cn_0012"  # a national mobile plan of the generated catalog (voice, data, SMS)
INFO = CatalogVersionInfo(1, START, START, "test", "", 0, 0, 0)
SPLIT = '    time zone "Asia/Shanghai"\n    rate local peak'


def with_split(content: CatalogContent) -> CatalogContent:
    """`OFFER`'s local voice split at band edges (the generated plans never split)."""
    key = (EntityKind.PRODUCT, OFFER)
    entity = content.entities[key]
    product = entity.definition
    assert isinstance(product, Product)
    first = product.rule_sources[0]
    text = first.text.replace(SPLIT, "    split at band edges\n" + SPLIT, 1)
    assert text != first.text
    sources = (replace(first, text=text), *product.rule_sources[1:])
    entities = dict(content.entities)
    entities[key] = replace(entity, definition=replace(product, rule_sources=sources))
    return replace(content, entities=MappingProxyType(entities))


@pytest.fixture(scope="module")
def catalog() -> SaleCatalog:
    content = generate_catalog(CatalogSpec(offers=40, areas=4, seed=3, combos=1))
    return SaleCatalog(INFO, with_split(content))


def event(**fields: object) -> pb.UsageEvent:
    values: dict[str, object] = {
        "event_id": "e1",
        "subscriber_id": "s1",
        "offer_code": OFFER,
        "business_code": "local_voice",
        "start_time": datetime_to_timestamp(START),
        "duration_ms": 61_000,
        "destination": "01012345678",
        "origin_area_code": "CN",
    }
    values.update(fields)
    return pb.UsageEvent(**values)  # type: ignore[arg-type]


def record(msg: pb.UsageEvent, catalog: SaleCatalog) -> UsageRecord:
    start = m.start_from_proto(msg)
    assert isinstance(start, datetime)
    found = m.record_from_proto(msg, start, catalog)
    assert isinstance(found, UsageRecord), found
    return found


def rejection(msg: pb.UsageEvent, catalog: SaleCatalog) -> m.Rejection:
    start = m.start_from_proto(msg)
    if isinstance(start, m.Rejection):
        return start
    found = m.record_from_proto(msg, start, catalog)
    assert isinstance(found, m.Rejection), found
    return found


# -- events -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("business", "fields", "quantity"),
    [
        ("local_voice", {"duration_ms": 61_000, "volume_bytes": 5, "count": 7}, 61_000),
        ("mobile_data", {"duration_ms": 61_000, "volume_bytes": 5_000_000}, 5_000_000),
        ("sms", {"count": 3, "duration_ms": 9}, 3),
        ("sms", {"count": 0}, 1),  # 0 = one message
    ],
)
def test_the_quantity_is_the_column_of_the_business_measure(
    catalog: SaleCatalog, business: str, fields: dict[str, int], quantity: int
) -> None:
    found = record(event(business_code=business, **fields), catalog)
    assert found.usage.quantity == quantity
    assert found.usage.business == business


def test_an_event_maps_to_the_record_rows_give(catalog: SaleCatalog) -> None:
    msg = event(roaming=True, origin_area_code="P01_C1")
    msg.start_time.nanos = 123_456_789
    found = record(msg, catalog)
    assert (found.event_id, found.subscriber_id, found.offer_code) == ("e1", "s1", OFFER)
    usage = found.usage
    assert usage.start == START + timedelta(microseconds=123_456)
    assert usage.start.tzinfo is UTC
    assert (usage.destination, usage.origin, usage.roaming) == ("01012345678", "P01_C1", True)
    assert record(event(origin_area_code=""), catalog).usage.origin is None


def test_records_equal_those_built_from_usage_rows(catalog: SaleCatalog) -> None:
    row = {
        "event_id": "e1",
        "subscriber_id": "s1",
        "offer_code": OFFER,
        "business_code": "mobile_data",
        "start_time": "2026-03-02T09:30:00+08:00",
        "duration_ms": "61000",
        "volume_bytes": "123456",
        "count": "0",
        "origin_area_code": "P01_C1",
        "destination": "",
        "roaming": "true",
    }
    msg = event(
        business_code="mobile_data",
        volume_bytes=123_456,
        origin_area_code="P01_C1",
        destination="",
        roaming=True,
    )
    found = record(msg, catalog)
    assert found == record_from_row(row, catalog.businesses)


def test_attributes_are_read_as_rules_read_them(catalog: SaleCatalog) -> None:
    msg = event()
    msg.attributes["on_net"].bool_value = True
    msg.attributes["share"].decimal_value.CopyFrom(decimal_pb2.Decimal(value="0.15"))
    msg.attributes["spent"].money_value.CopyFrom(money_pb2.Money(currency_code="CNY", units=2))
    msg.attributes["absent"].CopyFrom(common_pb2.Value())
    attributes = record(msg, catalog).usage.attributes
    assert attributes == {
        "on_net": True,
        "share": Decimal("0.15"),
        "spent": (Decimal(2), "CNY"),
    }


@pytest.mark.parametrize(
    ("change", "reason", "words"),
    [
        (lambda e: e.ClearField("start_time"), "malformed", "start_time is required"),
        (lambda e: setattr(e.start_time, "nanos", -1), "malformed", "start_time: nanos -1"),
        (lambda e: setattr(e, "duration_ms", -5), "malformed", "duration_ms: negative"),
        (lambda e: setattr(e, "subscriber_id", ""), "malformed", "subscriber_id is required"),
        (
            lambda e: e.attributes["not a name"].CopyFrom(common_pb2.Value(int_value=1)),
            "malformed",
            "attributes['not a name']",
        ),
        (
            lambda e: e.attributes["d"].decimal_value.CopyFrom(decimal_pb2.Decimal(value="x")),
            "malformed",
            "is not a decimal number",
        ),
        (lambda e: setattr(e, "business_code", "telepathy"), "unknown-business", "not in"),
        (lambda e: setattr(e, "business_code", "caller_id"), "unknown-business", "not rated"),
    ],
)
def test_a_bad_event_is_a_rejection_naming_what_is_wrong(
    catalog: SaleCatalog, change: Callable[[pb.UsageEvent], object], reason: str, words: str
) -> None:
    msg = event()
    change(msg)
    found = rejection(msg, catalog)
    assert found.reason == reason
    assert words in found.message


def test_every_engine_rejection_has_a_reason_on_the_wire() -> None:
    engine = {
        "unknown-offer",
        "no-version",
        "unknown-business",
        "no-zone",
        "no-rate",
        "malformed",
        "malformed-tariff",
        "rule-error",
    }
    assert set(m.REJECTIONS) == engine
    assert pb.REJECTION_REASON_UNSPECIFIED not in m.REJECTIONS.values()


# -- counters ---------------------------------------------------------------------------------


def given(*pairs: pb.SubscriberCounters) -> m.GivenCounters:
    problems = Problems()
    found = m.counters_from_proto(pairs, "counters", problems)
    problems.check()
    return found


def cny(amount: str) -> money_pb2.Money:
    return money_to_proto(Decimal(amount), "CNY")


def test_counters_are_the_engines_counters_both_ways() -> None:
    msg = pb.SubscriberCounters(
        subscriber_id="s1",
        period="2026-03",
        counters=[
            pb.UsageCounter(name="allowance:p_voice", units=120_000),
            pb.UsageCounter(name="tier:mobile_data", units=5),
            pb.UsageCounter(name="cap:mobile_data[1]", amount=cny("12.345")),
        ],
    )
    found = given(msg)
    key = ("s1", "2026-03")
    assert dict(found.counters[key]) == {
        "allowance:p_voice": 120_000,
        "tier:mobile_data": 5,
        "cap:mobile_data[1]": Decimal("12.345"),
    }
    assert found.currencies == {key: "CNY"}
    back = pb.SubscriberCounters()
    m.counters_to_proto(back, key, found.counters[key], "CNY")
    assert sorted(back.counters, key=lambda c: c.name) == sorted(msg.counters, key=lambda c: c.name)
    assert [c.name for c in back.counters] == sorted(c.name for c in msg.counters)


def test_a_cap_total_finer_than_a_nano_is_floored_on_the_wire() -> None:
    assert m.cap_total_to_proto(Decimal("100.0000000019"), "CNY") == cny("100.000000001")
    assert m.cap_total_to_proto(Decimal("100.5"), "CNY") == cny("100.5")


def violations(*pairs: pb.SubscriberCounters) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        given(*pairs)
    return {v.field: v.description for v in caught.value.violations}


def test_bad_counters_are_field_violations() -> None:
    found = violations(
        pb.SubscriberCounters(subscriber_id="s1", period="2026-03"),
        pb.SubscriberCounters(subscriber_id="s1", period="2026-03"),
        pb.SubscriberCounters(
            period="2026-13",
            counters=[
                pb.UsageCounter(name="minutes", units=1),
                pb.UsageCounter(name="allowance:a", units=-1),
                pb.UsageCounter(name="tier:sms", amount=cny("1")),
                pb.UsageCounter(name="cap:sms[1]", units=3),
                pb.UsageCounter(name="cap:sms[2]"),
                pb.UsageCounter(name="cap:sms[3]", amount=money_pb2.Money(currency_code="cny")),
                pb.UsageCounter(name="cap:sms[4]", amount=cny("-1")),
                pb.UsageCounter(name="allowance:a", units=1),
            ],
        ),
    )
    assert found == {
        "counters[1]": "subscriber 's1' in 2026-03 is also counters[0]",
        "counters[2].subscriber_id": "is required",
        "counters[2].period": "'2026-13' is not a month as YYYY-MM",
        "counters[2].counters[0].name": found["counters[2].counters[0].name"],
        "counters[2].counters[1].units": "must not be negative",
        "counters[2].counters[2].amount": "only cap counters hold money: use units",
        "counters[2].counters[3].units": "a cap counter holds money: use amount",
        "counters[2].counters[3].amount": "is required for a cap counter",
        "counters[2].counters[4].amount": "is required for a cap counter",
        "counters[2].counters[5].amount.currency_code": "must be an ISO 4217 code such as CNY",
        "counters[2].counters[6].amount": "must not be negative",
        "counters[2].counters[7].name": "counter 'allowance:a' is given twice",
    }
    assert "allowance:NAME" in found["counters[2].counters[0].name"]


def test_caps_of_one_pair_share_a_currency() -> None:
    mixed = pb.SubscriberCounters(
        subscriber_id="s1",
        period="2026-03",
        counters=[
            pb.UsageCounter(name="cap:sms[1]", amount=cny("1")),
            pb.UsageCounter(name="cap:mobile_data[1]", amount=money_to_proto(Decimal(1), "HKD")),
        ],
    )
    assert violations(mixed) == {"counters[0].counters": "caps in 2 currencies"}


# -- results ----------------------------------------------------------------------------------


def rated_event(
    catalog: SaleCatalog, usage: UsageEvent, counters: Counters | None = None
) -> pb.RatedEvent:
    session = RatingSession(lambda _start: catalog, CHINA)
    if counters is not None:
        session.counters[("s1", "2026-03")] = counters
    result = session.rate(UsageRecord("e1", "s1", OFFER, usage))
    response = pb.RateResponse()
    m.ResultWriter(response.results).rated(result, catalog)
    [out] = response.results
    return out


def test_a_rated_event_carries_its_charge_rule_and_units(catalog: SaleCatalog) -> None:
    usage = UsageEvent("ld_voice", START, 61_000, "01012345678", "CN", False)
    out = rated_event(catalog, usage)
    assert out.status == pb.RATING_STATUS_RATED
    assert (out.zone, out.band, out.billed_units, out.allowance_units) == (
        "local",
        "peak",
        66_000,
        0,
    )
    assert out.charge == cny("0.21")  # 0.19 per minute, 60 s then 6 s: 66 s = 0.209 -> 0.21
    assert out.rule.name == "mob_cn_0012_plan.ld_voice.rate[1]"
    assert out.rule.location.path == "products/mob_cn_0012.tariff"
    assert out.rule.location.line > 0
    assert not out.parts


def test_allowance_units_are_what_allowances_took(catalog: SaleCatalog) -> None:
    usage = UsageEvent("local_voice", START, 61_000, "01012345678", "CN", False)
    used = Counters({"allowance:mob_cn_0012_plan_voice": 500 * 60_000 - 40_000})
    out = rated_event(catalog, usage, used)
    assert (out.billed_units, out.allowance_units) == (90_000, 40_000)  # 60 s then 30 s
    assert out.charge == cny("0.13")  # 50 s paid at 0.15 per minute = 0.125 -> 0.13


def test_a_split_event_carries_its_parts(catalog: SaleCatalog) -> None:
    late = datetime(2026, 3, 2, 13, 59, tzinfo=UTC)  # 21:59 in China: peak, then offpeak
    usage = UsageEvent("local_voice", late, 120_000, "01012345678", "CN", False)
    used = Counters({"allowance:mob_cn_0012_plan_voice": 500 * 60_000})  # allowance gone
    out = rated_event(catalog, usage, used)
    assert [p.band for p in out.parts] == ["peak", "offpeak"]
    assert [(p.units, p.billed_units) for p in out.parts] == [(60_000, 60_000), (60_000, 60_000)]
    assert [p.charge for p in out.parts] == [cny("0.15"), cny("0.10")]
    assert [p.rule.name for p in out.parts] == [
        "mob_cn_0012_plan.local_voice.rate[1]",
        "mob_cn_0012_plan.local_voice.rate[2]",
    ]
    assert all(p.zone == "local" for p in out.parts)
    assert out.charge == cny("0.25")
    assert (out.band, out.billed_units, out.rule.name) == ("peak", 120_000, out.parts[0].rule.name)


def test_a_charge_finer_than_a_nano_is_refused_and_nothing_is_added(
    catalog: SaleCatalog,
) -> None:
    session = RatingSession(lambda _start: catalog, CHINA)
    usage = UsageEvent("ld_voice", START, 61_000, "01012345678", "CN", False)
    result = session.rate(UsageRecord("e1", "s1", OFFER, usage))
    fine = replace(result, rated=replace(result.rated, charge=Decimal("0.0000000001")))
    response = pb.RateResponse()
    with pytest.raises(ValueError, match="more than 9 decimals"):
        m.ResultWriter(response.results).rated(fine, catalog)
    assert not response.results


def test_rejections_carry_their_reason_and_words() -> None:
    response = pb.RateResponse()
    writer = m.ResultWriter(response.results)
    writer.rejected("e1", "no-zone", "no zone of `zones` for '9'")
    writer.rejected("e2", "something-new", "why")
    first, second = response.results
    assert (first.status, first.rejection) == (
        pb.RATING_STATUS_REJECTED,
        pb.REJECTION_REASON_NO_RATE,
    )
    assert first.message == "no zone of `zones` for '9'"
    assert (second.rejection, second.message) == (
        pb.REJECTION_REASON_UNSPECIFIED,
        "something-new: why",
    )
