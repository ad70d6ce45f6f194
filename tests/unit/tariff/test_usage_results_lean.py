"""Rated results written from the engine's lean results (tariff.mappers.usage.ResultWriter
.lean, behind PricingService.Rate): the same messages as from the full `Rated`, templates
kept with the version and reused, and a charge the wire cannot carry leaving the results
as they were."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from dsl.eval_usage import UsageEvent
from dsl.runtime_usage import Lean
from rules.rating import EventRating, RatingSession, UsageRecord
from rules.sale_catalog import SaleCatalog
from tariff.mappers import usage as m
from tariff.v1 import pricing_service_pb2 as pb
from tests.unit.tariff.test_usage_mappers import CHINA, OFFER, START, catalog  # noqa: F401

EVENTS = [
    UsageEvent("ld_voice", START, 61_000, "01012345678", "CN", False),
    UsageEvent("local_voice", START, 61_000, "01012345678", "CN", False),
    UsageEvent("mobile_data", START, 5_000_000, "", "CN", False),
    UsageEvent("sms", START, 3, "13800000000", "CN", False),
]


def _lean(catalog: SaleCatalog, usage: UsageEvent) -> tuple[str, Lean]:  # noqa: F811
    _key, plan, result = EventRating(lambda _s: catalog, CHINA).rate(catalog, "s1", OFFER, usage)
    assert isinstance(result, Lean)
    return plan, result


@pytest.mark.parametrize("usage", EVENTS, ids=[e.business for e in EVENTS])
def test_lean_results_write_what_full_results_write(
    catalog: SaleCatalog,  # noqa: F811 - fixture
    usage: UsageEvent,
) -> None:
    full = RatingSession(lambda _s: catalog, CHINA).rate(UsageRecord("e1", "s1", OFFER, usage))
    expected = pb.RateResponse()
    m.ResultWriter(expected.results).rated(full, catalog)
    plan, lean = _lean(catalog, usage)
    for _ in range(2):  # the second from the templates the first left with the version
        got = pb.RateResponse()
        m.ResultWriter(got.results).lean("e1", lean, plan, catalog)
        assert got == expected
    assert m.RESULT_PARTS(catalog).templates


def test_a_lean_charge_finer_than_a_nano_is_refused(
    catalog: SaleCatalog,  # noqa: F811 - fixture
) -> None:
    plan, lean = _lean(catalog, EVENTS[0])
    fine = lean._replace(charge=Decimal("0.0000000001"))
    response = pb.RateResponse()
    writer = m.ResultWriter(response.results)
    writer.lean("e0", lean, plan, catalog)
    with pytest.raises(ValueError, match="more than 9 decimals"):
        writer.lean("e1", fine, plan, catalog)
    assert [r.event_id for r in response.results] == ["e0"]


def test_the_batch_is_rated_alike_whatever_the_templates(
    catalog: SaleCatalog,  # noqa: F811 - fixture
) -> None:
    full = RatingSession(lambda _s: catalog, CHINA)
    records = [UsageRecord(f"e{i}", "s1", OFFER, replace(e)) for i, e in enumerate(EVENTS * 3)]
    expected = pb.RateResponse()
    writer = m.ResultWriter(expected.results)
    for rated in full.rate_all(records):
        writer.rated(rated, catalog)
    m.RESULT_PARTS.forget(catalog)
    engine = EventRating(lambda _s: catalog, CHINA)
    got = pb.RateResponse()
    lean_writer = m.ResultWriter(got.results)
    for record in records:
        key, plan, result = engine.rate(catalog, "s1", OFFER, record.usage)
        assert isinstance(result, Lean)
        lean_writer.lean(record.event_id, result, plan, catalog)
        engine.keep(key, result)
    assert got == expected
