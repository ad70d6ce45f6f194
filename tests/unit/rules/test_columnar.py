"""The columnar rater gives every record what the per-event engine gives it: status, reason
and message, charge, zone, band, rate, billed units, allowances, version and period, and the
same counters after the batch - on generated catalogs with generated usage, and on generated
tariffs (every increment, allowance, tier, cap and rounding form) with generated events."""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog.errors import NotFound
from catalog.model import CatalogVersionInfo, LifecycleStatus, UsageMeasure
from dsl.eval_usage import Counters, UsageEvent
from rules.columnar import RatedColumns, UsageColumns, Versions, rate_columns
from rules.rating import CounterKey, RatedRecord, RatingSession, UsageRecord
from rules.sale_catalog import SaleCatalog
from rules.usage_rows import record_from_row
from tariff.gen.catalogs import CatalogSpec, generate_catalog
from tariff.gen.usage import UsageSpec, iter_rows, write_usage
from tests.support import builders as b
from tests.unit.dsl.test_compile_usage import HEADER, MODES, SMS, events, voice_blocks

CHINA = timezone(timedelta(hours=8))
INFO = CatalogVersionInfo(
    1, datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC), "test", "", 0, 0, 0
)


def pinned(catalog: SaleCatalog) -> Versions:
    return Versions(lambda _start: catalog)


def per_event(
    versions: Versions, records: Sequence[UsageRecord], start: dict[CounterKey, Counters]
) -> tuple[list[RatedRecord], dict[CounterKey, Counters]]:
    session = RatingSession(versions.pick, CHINA, dict(start))
    return session.rate_all(records), session.counters


def view(found: RatedColumns, row: int) -> dict[str, Any]:
    rated = bool(found.rated[row])
    return {
        "status": "rated" if rated else "rejected",
        "reason": found.reason[row],
        "message": found.message[row],
        "charge": found.charge_decimal(row) if rated else Decimal(0),
        "currency": found.name(found.currency, row) if rated else "",
        "zone": found.name(found.zone, row) if rated else "",
        "band": found.name(found.band, row) if rated else "",
        "rate": found.name(found.rate, row) if rated else "",
        "billed": int(found.billed[row]),
        "allowance": found.allowance_used(row),
        "version": int(found.version[row]),
        "period": found.name(found.period, row),
    }


def expected_view(result: RatedRecord) -> dict[str, Any]:
    rated = result.rated
    ok = rated.status == "rated"
    return {
        "status": rated.status,
        "reason": rated.reason,
        "message": rated.message,
        "charge": rated.charge if ok else Decimal(0),
        "currency": rated.currency if ok else "",
        "zone": rated.zone if ok else "",
        "band": rated.band if ok else "",
        "rate": rated.rate if ok else "",
        "billed": rated.billed,
        "allowance": {k: v for k, v in rated.allowance_used.items() if v},
        "version": result.version,
        "period": result.period,
    }


def agree(
    versions: Versions,
    records: Sequence[UsageRecord],
    start: dict[CounterKey, Counters] | None = None,
) -> RatedColumns:
    start = start or {}
    expected, counters = per_event(versions, records, start)
    found = rate_columns(UsageColumns.of(records), versions, CHINA, start)
    for row, result in enumerate(expected):
        assert view(found, row) == expected_view(result), (row, records[row])
        if result.rated.status == "rated":
            text = str(result.rated.charge)
            assert found.charge_decimal(row) == result.rated.charge, text
    touched = {k for k, v in counters.items() if start.get(k) is not v}
    assert {k: dict(found.counters[k]) for k in touched} == {k: dict(counters[k]) for k in touched}
    assert set(found.counters) <= set(counters)
    return found


# -- a generated catalog and its generated usage -------------------------------------------------


@pytest.fixture(scope="module")
def catalog() -> SaleCatalog:
    return SaleCatalog(INFO, generate_catalog(CatalogSpec(offers=40, areas=4, seed=3, combos=1)))


@pytest.fixture(scope="module")
def records(catalog: SaleCatalog) -> list[UsageRecord]:
    out = io.StringIO()
    write_usage(catalog.content, UsageSpec(events=3000, subscribers=25, seed=4), out)
    businesses = {x.code: x for x in catalog.content.businesses()}
    return [record_from_row(row, businesses) for row in iter_rows(out.getvalue())]


def test_generated_usage_agrees_record_by_record(
    catalog: SaleCatalog, records: list[UsageRecord]
) -> None:
    found = agree(pinned(catalog), records)
    assert found.rated.sum() > 0.9 * len(records)
    assert found.allowance_total.any()


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cut=st.integers(min_value=0, max_value=3000))
def test_two_parts_with_counters_handed_on_equal_the_whole(
    catalog: SaleCatalog, records: list[UsageRecord], cut: int
) -> None:
    versions = pinned(catalog)
    whole = rate_columns(UsageColumns.of(records), versions, CHINA)
    head = rate_columns(UsageColumns.of(records[:cut]), versions, CHINA)
    agree(versions, records[cut:], dict(head.counters))
    tail = rate_columns(UsageColumns.of(records[cut:]), versions, CHINA, dict(head.counters))
    joined = [view(head, r) for r in range(cut)] + [
        view(tail, r) for r in range(len(records) - cut)
    ]
    assert joined == [view(whole, r) for r in range(len(records))]


def test_no_version_and_unknown_offers_are_rejected_in_place(
    catalog: SaleCatalog, records: list[UsageRecord]
) -> None:
    edge = datetime(2026, 3, 15, tzinfo=UTC)

    def pick(start: datetime) -> SaleCatalog:
        if start < edge:
            raise NotFound("no catalog version is in force then")
        return catalog

    changed = [
        dataclasses.replace(r, offer_code="nope") if i % 7 == 0 else r
        for i, r in enumerate(records[:600])
    ]
    found = agree(Versions(pick, (edge,)), changed)
    assert {"no-version", "unknown-offer"} <= set(found.reason)


# -- generated tariffs ---------------------------------------------------------------------------


def tariff_catalog(text: str) -> SaleCatalog:
    voice = b.business("voice", usage_measure=UsageMeasure.DURATION)
    sms = b.business("sms", usage_measure=UsageMeasure.COUNT)
    offer = b.product("p1", business_codes=("voice", "sms"), tariff_plan="p")
    launched = LifecycleStatus.LAUNCHED
    content = b.content(
        [b.entry(voice, launched), b.entry(sms, launched), b.entry(offer, launched)],
        areas=b.areas(),
        channels=[b.channel()],
        rule_sources=[b.rule_source("t.tariff", text)],
    )
    return SaleCatalog(INFO, content)


def usage_records(event_list: Sequence[UsageEvent], owners: Sequence[int]) -> list[UsageRecord]:
    return [
        UsageRecord(
            f"e{i}",
            f"s{owner}",
            "p1",
            dataclasses.replace(e, attributes={}, roaming=bool(e.roaming)),  # as files hold them
        )
        for i, (e, owner) in enumerate(zip(event_list, owners, strict=False))
    ]


@settings(max_examples=200, deadline=None)
@given(
    voice_blocks(),
    st.booleans(),
    st.one_of(st.none(), st.sampled_from(MODES)),
    st.lists(events, max_size=14),
    st.lists(st.integers(0, 2), min_size=14, max_size=14),
    st.integers(0, 14),
)
def test_generated_tariffs_agree(
    block: str,
    with_sms: bool,
    plan_rounding: str | None,
    event_list: list[UsageEvent],
    owners: list[int],
    cut: int,
) -> None:
    items = "currency CNY" + (f"\n  rounding {plan_rounding} 2" if plan_rounding else "")
    body = block + ("\n" + SMS if with_sms else "")
    catalog = tariff_catalog(f"{HEADER}plan p {{\n  {items}\n{body}\n}}\n")
    versions = pinned(catalog)
    records = usage_records(event_list, owners)
    agree(versions, records)
    head = rate_columns(UsageColumns.of(records[:cut]), versions, CHINA)
    agree(versions, records[cut:], dict(head.counters))
