"""The rating engine over a generated catalog and generated usage: versions, counters per
subscriber and period, rejections, and the split-batch property."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog.errors import NotFound
from catalog.model import CatalogVersionInfo
from dsl.eval_usage import UsageEvent
from rules.rating import RatedRecord, RatingSession, UsageRecord, period_of
from rules.sale_catalog import SaleCatalog
from rules.usage_rows import RowError, record_from_row
from tariff.gen.catalogs import CatalogSpec, generate_catalog
from tariff.gen.usage import UsageSpec, iter_rows, write_usage

CHINA = timezone(timedelta(hours=8))
INFO = CatalogVersionInfo(
    1, datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC), "test", "", 0, 0, 0
)


@pytest.fixture(scope="module")
def catalog() -> SaleCatalog:
    return SaleCatalog(INFO, generate_catalog(CatalogSpec(offers=40, areas=4, seed=3, combos=1)))


@pytest.fixture(scope="module")
def records(catalog: SaleCatalog) -> list[UsageRecord]:
    out = io.StringIO()
    write_usage(catalog.content, UsageSpec(events=1500, subscribers=25, seed=4), out)
    businesses = {b.code: b for b in catalog.content.businesses()}
    return [record_from_row(row, businesses) for row in iter_rows(out.getvalue())]


def session(catalog: SaleCatalog) -> RatingSession:
    return RatingSession(lambda _start: catalog, CHINA)


def test_generated_usage_rates_with_few_rejections(
    catalog: SaleCatalog, records: list[UsageRecord]
) -> None:
    results = session(catalog).rate_all(records)
    statuses = [r.rated.status for r in results]
    assert statuses.count("rated") > 0.9 * len(records)
    assert all(r.version == 1 and r.period == "2026-03" for r in results)
    assert sum(r.rated.charge for r in results) > 0
    rejected = {r.rated.reason for r in results if r.rated.status == "rejected"}
    assert rejected <= {"no-zone", "no-rate", "unknown-business"}


def test_counters_are_per_subscriber_and_period(
    catalog: SaleCatalog, records: list[UsageRecord]
) -> None:
    rating = session(catalog)
    rating.rate_all(records)
    subscribers = {r.subscriber_id for r in records}
    assert {s for s, _ in rating.counters} <= subscribers
    assert {p for _, p in rating.counters} == {"2026-03"}
    assert any(rating.counters.values())  # allowances were consumed


@settings(max_examples=15, deadline=None)
@given(cut=st.integers(min_value=0, max_value=1500))
def test_rating_in_two_parts_with_the_counters_handed_on_equals_rating_whole(
    catalog: SaleCatalog, records: list[UsageRecord], cut: int
) -> None:
    whole = session(catalog).rate_all(records)
    first = session(catalog)
    head = first.rate_all(records[:cut])
    second = RatingSession(lambda _start: catalog, CHINA, dict(first.counters))
    tail = second.rate_all(records[cut:])
    assert [_key(r) for r in head + tail] == [_key(r) for r in whole]


def _key(result: RatedRecord) -> tuple[object, ...]:
    rated = result.rated
    return (
        rated.status,
        rated.reason,
        rated.charge,
        rated.zone,
        rated.band,
        rated.billed,
        dict(rated.counters),
    )


def test_unknown_offer_and_missing_version_are_rejections(catalog: SaleCatalog) -> None:
    usage = UsageEvent("sms", datetime(2026, 3, 2, tzinfo=UTC), 1, "13800000000")
    ghost = UsageRecord("e1", "s1", "no_such_offer", usage)
    result = session(catalog).rate(ghost)
    assert (result.rated.status, result.rated.reason) == ("rejected", "unknown-offer")

    def nothing(_start: datetime) -> SaleCatalog:
        raise NotFound("no catalog version is in force at 2026-03-02")

    lost = RatingSession(nothing, CHINA).rate(ghost)
    assert (lost.rated.reason, lost.version) == ("no-version", 0)


def test_a_rejected_record_leaves_the_counters(
    catalog: SaleCatalog, records: list[UsageRecord]
) -> None:
    rating = session(catalog)
    rating.rate_all(records[:100])
    before = dict(rating.counters)
    bad = UsageRecord("x", records[0].subscriber_id, "no_such_offer", records[0].usage)
    rating.rate(bad)
    assert rating.counters == before


def test_the_period_is_the_month_in_the_operators_zone() -> None:
    late = datetime(2026, 3, 31, 17, 30, tzinfo=UTC)  # 01:30 on April 1st in China
    assert period_of(late, CHINA) == "2026-04"
    assert period_of(late, UTC) == "2026-03"


@pytest.mark.parametrize(
    ("change", "column"),
    [
        ({"business_code": "telepathy"}, "business_code"),
        ({"duration_ms": "-5"}, "duration_ms"),
        ({"duration_ms": "1.5"}, "duration_ms"),
        ({"start_time": "yesterday"}, "start_time"),
        ({"start_time": "2026-03-02T10:00:00"}, "start_time"),
        ({"roaming": "maybe"}, "roaming"),
    ],
)
def test_bad_rows_name_their_column(
    catalog: SaleCatalog, change: dict[str, str], column: str
) -> None:
    row = {
        "event_id": "e",
        "subscriber_id": "s",
        "offer_code": "o",
        "business_code": "local_voice",
        "start_time": "2026-03-02T10:00:00+08:00",
        "duration_ms": "60000",
        "roaming": "false",
    }
    businesses = {b.code: b for b in catalog.content.businesses()}
    with pytest.raises(RowError, match=column):
        record_from_row({**row, **change}, businesses)
