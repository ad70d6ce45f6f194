"""The lean per-event engine (rules.rating.EventRating, behind PricingService.Rate) against
RatingSession on generated usage: the same decisions event by event, the same counters,
versions missing and offers unknown, and the split-batch property."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from catalog.errors import NotFound
from dsl.eval_usage import Counters, Rated, UsageEvent
from dsl.runtime_usage import Lean
from rules.rating import EventRating, RatingSession, UsageRecord
from rules.sale_catalog import SaleCatalog
from tests.unit.rules.test_rating import catalog, records  # noqa: F401 - fixtures

CHINA = timezone(timedelta(hours=8))


def _fields(result: Lean | Rated) -> tuple[object, ...]:
    """What Rate writes of a result, whichever shape it has."""
    if isinstance(result, Lean):
        parts_ = tuple(result.parts) if len(result.parts) > 1 else ()
        return (
            "rated",
            str(result.charge),
            result.currency,
            result.zone,
            result.band,
            result.billed,
            result.billed - result.paid,
            result.rate,
            result.rate_span,
            parts_,
        )
    if result.status != "rated":
        return (result.status, result.reason, result.message)
    parts_ = result.parts if len(result.parts) > 1 else ()
    free = sum(p.free for p in result.parts)
    return (
        "rated",
        str(result.charge),
        result.currency,
        result.zone,
        result.band,
        result.billed,
        free,
        result.rate,
        result.rate_span,
        parts_,
    )


def _agree(full: Sequence[Rated], lean: Sequence[Lean | Rated]) -> None:
    assert [_fields(r) for r in lean] == [_fields(r) for r in full]


def test_lean_results_are_the_sessions(
    catalog: SaleCatalog,  # noqa: F811 - fixture
    records: list[UsageRecord],  # noqa: F811 - fixture
) -> None:
    session = RatingSession(lambda _start: catalog, CHINA)
    full = [r.rated for r in session.rate_all(records)]
    engine = EventRating(lambda _start: catalog, CHINA)
    _agree(full, engine.rate_all(records))
    assert {k: dict(v) for k, v in engine.counters.items()} == {
        k: dict(v) for k, v in session.counters.items()
    }
    assert sum(isinstance(r, tuple) for r in engine.rate_all(records)) > 0.9 * len(records)


def test_rate_decides_and_keep_stores(
    catalog: SaleCatalog,  # noqa: F811 - fixture
    records: list[UsageRecord],  # noqa: F811 - fixture
) -> None:
    engine = EventRating(lambda _start: catalog, CHINA)
    record = next(r for r in records if r.usage.business == "local_voice")
    key, plan, result = engine.rate(catalog, record.subscriber_id, record.offer_code, record.usage)
    assert key == (record.subscriber_id, "2026-03")
    assert plan
    assert not engine.counters  # nothing stored yet
    engine.keep(key, result)
    assert isinstance(result, tuple)
    assert engine.counters[key] is result[0]


def test_no_version_unknown_offer_and_naive_starts_are_rejected(
    catalog: SaleCatalog,  # noqa: F811 - fixture
) -> None:
    def nothing(_start: datetime) -> SaleCatalog:
        raise NotFound("no catalog version is in force")

    start = datetime(2026, 3, 2, 10, tzinfo=UTC)
    usage = UsageEvent("local_voice", start, 60_000, "01012345678", "CN", False)
    [lost] = EventRating(nothing, CHINA).rate_all([UsageRecord("e", "s", "x", usage)])
    assert isinstance(lost, Rated)
    assert (lost.status, lost.reason) == ("rejected", "no-version")
    engine = EventRating(lambda _start: catalog, CHINA)
    _key, _plan, unknown = engine.rate(catalog, "s", "nope", usage)
    assert isinstance(unknown, Rated)
    assert unknown.reason == "unknown-offer"
    offer = next(iter(catalog.offers))
    naive = UsageEvent("local_voice", start.replace(tzinfo=None), 60_000, "01012345678")
    session = RatingSession(lambda _start: catalog, CHINA)
    want = session.rate(UsageRecord("e", "s", offer, naive)).rated
    _key, _plan, got = engine.rate(catalog, "s", offer, naive)
    assert isinstance(got, Rated)
    assert got == want
    assert not engine.counters


@settings(max_examples=10, deadline=None)
@given(cut=st.integers(min_value=0, max_value=1500))
def test_two_parts_with_the_counters_handed_on_equal_the_whole(
    catalog: SaleCatalog,  # noqa: F811 - fixture
    records: list[UsageRecord],  # noqa: F811 - fixture
    cut: int,
) -> None:
    whole = EventRating(lambda _start: catalog, CHINA).rate_all(records)
    first = EventRating(lambda _start: catalog, CHINA)
    head = first.rate_all(records[:cut])
    given_ = {k: Counters(v) for k, v in first.counters.items()}  # as a request gives them
    tail = EventRating(lambda _start: catalog, CHINA, dict(given_)).rate_all(records[cut:])
    assert [_fields(r) for r in head + tail] == [_fields(r) for r in whole]
