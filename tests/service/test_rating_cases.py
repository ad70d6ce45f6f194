"""Rating through the real server, every charge computed by hand (in the comments).

One subscriber on a laboratory tariff (LAB below, attached to `mobile_basic`): increments of
60 s then 6 s, 60 s, 1 s and 1 KB; a connection fee, a minimum and a maximum; a band split at
22:00; a holiday band; a longer prefix beating a shorter one; an allowance used up in the
middle of a call and restricted to one zone and band; graduated and volume tiers across the
batch; a monthly cap; half-up rounding; a rejected event among good ones. Times are China
time; Monday 2026-03-02 is a working day, 2026-10-02 a holiday.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import TYPE_CHECKING

import grpc
import pytest
from google.protobuf import timestamp_pb2

from catalog import bundle
from catalog.content import CatalogContent
from catalog.model import EntityKind, Product, RuleSource, VersionedEntity
from tariff.server import Running
from tariff.v1 import catalog_service_pb2, pricing_service_pb2_grpc
from tariff.v1 import pricing_service_pb2 as pb
from tests.support.catalogs import sample_content

if TYPE_CHECKING:
    from tariff.v1.catalog_service_pb2_grpc import CatalogServiceAsyncStub
    from tariff.v1.pricing_service_pb2_grpc import PricingServiceAsyncStub

CHINA = timezone(timedelta(hours=8))
MB = 1 << 20

LAB = """\
calendar lab_holidays {
  weekend sat, sun
  holiday 2026-10-01 .. 2026-10-07 "国庆节"
}

bands lab_bands {
  calendar lab_holidays
  holiday: holidays
  peak: weekdays 08:00 .. 22:00
  offpeak: otherwise
}

zones lab_zones {
  "0": domestic_ld
  "0755": local
  "075588": local_premium
  "00": intl_other
  "001": intl_na
}

plan lab "评测资费" {
  currency CNY
  usage local_voice {
    zones lab_zones
    bands lab_bands
    time zone "Asia/Shanghai"
    split at band edges
    rate local peak: 0.15 per minute increments 60s then 6s connection 0.05 minimum 0.25
    rate local offpeak: 0.10 per minute increments 60s then 6s
    rate local holiday: 0.05 per minute increments 60s
    rate local_premium *: 1.00 per minute increments 1s
    rate domestic_ld *: 0.20 per minute increments 60s maximum 0.50
    rate intl_* *: 2.00 per minute increments 60s
    allowance local_free: 10 minutes per month on local in peak
    rounding half_up 2 per event
  }
  usage mobile_data {
    rate * *: 1.00 per MB increments 1 KB
    tiers graduated per month {
      0 MB .. 10 MB: 1.00 per MB
      10 MB .. : 0.50 per MB
    }
    cap 15.00 per month
  }
  usage sms {
    rate * *: 0.10 per message
    tiers volume per month {
      0 messages .. 5 messages: 0.10 per message
      5 messages .. : 0.05 per message
    }
  }
}
"""


def lab_content() -> CatalogContent:
    content = sample_content()
    entities = dict(content.entities)
    key = (EntityKind.PRODUCT, "mobile_basic")
    entity = entities[key]
    assert isinstance(entity.definition, Product)
    lab = dataclasses.replace(entity.definition, tariff_plan="lab", tariff_overrides=())
    entities[key] = VersionedEntity(lab, entity.status, entity.version)
    sources = (*content.rule_sources, RuleSource("rules/lab.tariff", LAB))
    return dataclasses.replace(content, entities=entities, rule_sources=sources)


def stamp(moment: datetime) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(moment)
    return ts


@pytest.fixture
async def stub(
    running: Running, channel: grpc.aio.Channel, catalog_stub: CatalogServiceAsyncStub
) -> PricingServiceAsyncStub:
    await catalog_stub.ImportCatalogBundle(
        catalog_service_pb2.ImportCatalogBundleRequest(archive=bundle.to_zip_bytes(lab_content()))
    )
    effective = stamp(datetime(2026, 1, 1, tzinfo=CHINA))
    await catalog_stub.PublishCatalog(
        catalog_service_pb2.PublishCatalogRequest(effective_from=effective)
    )
    return pricing_service_pb2_grpc.PricingServiceStub(channel)


def call(event_id: str, when: datetime, seconds: int, to: str) -> pb.UsageEvent:
    return pb.UsageEvent(
        event_id=event_id,
        subscriber_id="s1",
        offer_code="mobile_basic",
        business_code="local_voice",
        start_time=stamp(when),
        duration_ms=seconds * 1000,
        destination=to,
    )


def data(event_id: str, when: datetime, volume: int) -> pb.UsageEvent:
    return pb.UsageEvent(
        event_id=event_id,
        subscriber_id="s1",
        offer_code="mobile_basic",
        business_code="mobile_data",
        start_time=stamp(when),
        volume_bytes=volume,
    )


def sms(event_id: str, when: datetime, count: int) -> pb.UsageEvent:
    return pb.UsageEvent(
        event_id=event_id,
        subscriber_id="s1",
        offer_code="mobile_basic",
        business_code="sms",
        start_time=stamp(when),
        count=count,
        destination="13800000000",
    )


MONDAY = datetime(2026, 3, 2, tzinfo=CHINA)
TUESDAY = MONDAY + timedelta(days=1)
HOLIDAY = datetime(2026, 10, 2, 10, tzinfo=CHINA)

# event id -> (event, expected charge, expected zone, expected band)
CASES = [
    # 95 s at peak bills 96 s (60 then 6); all of it from the 10 free peak minutes: free, and a
    # call whose billed units are all free pays no connection fee either.
    ("free", call("free", MONDAY.replace(hour=10), 95, "07551234567"), "0", "local", "peak"),
    # 540 s bills 540 s; 504 s are left free, 36 s are paid: 0.15 x 36/60 + 0.05 = 0.14, raised
    # to the 0.25 minimum.
    (
        "mid_call",
        call("mid_call", MONDAY.replace(hour=10, minute=10), 540, "07551234567"),
        "0.25",
        "local",
        "peak",
    ),
    # 30 s bills 60 s, nothing free is left: 0.15 + 0.05 = 0.20, minimum 0.25.
    (
        "minimum",
        call("minimum", MONDAY.replace(hour=11), 30, "07551234567"),
        "0.25",
        "local",
        "peak",
    ),
    # 21:59 for 120 s: 60 s at peak (0.15 + 0.05 = 0.20 -> minimum 0.25) and 60 s off-peak
    # after 22:00 (0.10): 0.35.
    (
        "split",
        call("split", MONDAY.replace(hour=21, minute=59), 120, "07551234567"),
        "0.35",
        "local",
        "peak",
    ),
    # 075588... matches the longer prefix: 1.00 a minute by the second, 61 s = 1.01666...,
    # rounded half up to 1.02.
    (
        "longest_prefix",
        call("longest_prefix", TUESDAY.replace(hour=10), 61, "07558812345"),
        "1.02",
        "local_premium",
        "peak",
    ),
    # Long distance, 300 s = 5 minutes at 0.20 = 1.00, capped by the 0.50 maximum.
    (
        "maximum",
        call("maximum", TUESDAY.replace(hour=11), 300, "02012345678"),
        "0.50",
        "domestic_ld",
        "peak",
    ),
    # International (001 beats 00): 61 s bills 120 s at 2.00 = 4.00.
    (
        "intl",
        call("intl", TUESDAY.replace(hour=12), 61, "0012125551234"),
        "4.00",
        "intl_na",
        "peak",
    ),
    # A holiday in October (a new period): 61 s bills 120 s at 0.05 = 0.10; the free minutes
    # are for peak only.
    ("holiday", call("holiday", HOLIDAY, 61, "07551234567"), "0.10", "local", "holiday"),
    # Data, graduated: 8 MB at 1.00 = 8.00.
    ("data_1", data("data_1", TUESDAY.replace(hour=13), 8 * MB), "8", "", ""),
    # 6 MB more: 2 MB at 1.00 and 4 MB at 0.50 = 4.00 (12.00 spent).
    ("data_2", data("data_2", TUESDAY.replace(hour=14), 6 * MB), "4", "", ""),
    # 10 MB at 0.50 = 5.00, but the 15.00 cap leaves 3.00.
    ("data_cap", data("data_cap", TUESDAY.replace(hour=15), 10 * MB), "3", "", ""),
    # The cap is reached: nothing more this month.
    ("data_capped", data("data_capped", TUESDAY.replace(hour=16), MB), "0", "", ""),
    # SMS, volume tiers: 3 messages at 0.10 = 0.30.
    ("sms_1", sms("sms_1", TUESDAY.replace(hour=17), 3), "0.30", "", ""),
    # 4 more: 7 in the month, all at 0.05 = 0.35, of which 0.30 is paid: 0.05.
    ("sms_2", sms("sms_2", TUESDAY.replace(hour=18), 4), "0.05", "", ""),
]


def money(value: pb.RatedEvent) -> Decimal:
    return Decimal(value.charge.units) + Decimal(value.charge.nanos) / Decimal(10**9)


async def test_every_case_rates_to_its_hand_computed_charge(stub: PricingServiceAsyncStub) -> None:
    bad = call("bad", MONDAY.replace(hour=12), 60, "9999")  # no prefix of lab_zones
    events = [event for _, event, *_ in CASES]
    events.insert(3, bad)
    reply = await stub.Rate(pb.RateRequest(events=events))
    results = {r.event_id: r for r in reply.results}
    assert results["bad"].status == pb.RATING_STATUS_REJECTED
    assert results["bad"].rejection == pb.REJECTION_REASON_NO_RATE
    for name, _, charge, zone, band in CASES:
        result = results[name]
        assert result.status == pb.RATING_STATUS_RATED, (name, result.message)
        assert money(result) == Decimal(charge), name
        assert (result.zone, result.band) == (zone, band), name
        assert result.charge.currency_code == "CNY"
    assert reply.rated_count == len(CASES)
    assert reply.rejected_count == 1
    split = results["split"]
    assert [(p.band, p.billed_units) for p in split.parts] == [
        ("peak", 60_000),
        ("offpeak", 60_000),
    ]
    assert results["mid_call"].allowance_units == 504_000
    assert results["free"].allowance_units == 96_000
    periods = {(c.subscriber_id, c.period) for c in reply.counters}
    assert periods == {("s1", "2026-03"), ("s1", "2026-10")}


async def test_the_batch_in_two_calls_gives_the_same_charges(stub: PricingServiceAsyncStub) -> None:
    events = [event for _, event, *_ in CASES]
    whole = await stub.Rate(pb.RateRequest(events=events))
    first = await stub.Rate(pb.RateRequest(events=events[:5]))
    second = await stub.Rate(pb.RateRequest(events=events[5:], counters=first.counters))
    assert [r.charge for r in (*first.results, *second.results)] == [
        r.charge for r in whole.results
    ]
