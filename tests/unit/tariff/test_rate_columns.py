"""Reading a usage batch into columns gives every row exactly what `record_from_row` gives
it: the same record for rows read column-wise or one by one, the same message for rows it
refuses - whitespace, offsets, counts of zero, flags in any case, broken lines included."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
import pytest

from catalog.model import UsageMeasure
from rules.rating import UsageRecord
from rules.usage_rows import RowError, record_from_row
from tariff.gen.usage import USAGE_HEADER
from tariff.rate_columns import read_chunk
from tariff.rate_files import Chunk
from tests.support import builders as b

BUSINESSES = {
    "voice": b.business("voice", usage_measure=UsageMeasure.DURATION),
    "data": b.business("data", usage_measure=UsageMeasure.VOLUME),
    "sms": b.business("sms", usage_measure=UsageMeasure.COUNT),
}
GOOD = {
    "event_id": "E1",
    "subscriber_id": "S1",
    "offer_code": "p1",
    "business_code": "voice",
    "start_time": "2026-03-02T10:00:00+08:00",
    "duration_ms": "61000",
    "volume_bytes": "0",
    "count": "0",
    "origin_area_code": "GD_SZ",
    "destination": "075512345678",
    "roaming": "false",
}
ROWS = [
    GOOD,
    {**GOOD, "event_id": " E2 ", "subscriber_id": "S1\t"},  # stripped, one by one
    {**GOOD, "start_time": "2026-03-02 10:00:00+08:00"},  # a space: fromisoformat reads it
    {**GOOD, "start_time": "2026-03-02T02:00:00Z"},
    {**GOOD, "start_time": "2026-03-02T10:00:00.250+08:00"},
    {**GOOD, "start_time": "2026-03-02T10:00:00"},  # no offset: refused
    {**GOOD, "start_time": "yesterday"},
    {**GOOD, "business_code": "sms", "count": "0"},  # a message counts as one
    {**GOOD, "business_code": "sms", "count": "3"},
    {**GOOD, "business_code": "data", "volume_bytes": "1048576"},
    {**GOOD, "business_code": "data", "volume_bytes": ""},  # empty is zero
    {**GOOD, "duration_ms": "-5"},
    {**GOOD, "duration_ms": "1.5"},
    {**GOOD, "duration_ms": "99999999999999999999"},  # too long for int64: one by one
    {**GOOD, "business_code": "fax"},
    {**GOOD, "roaming": "YES"},
    {**GOOD, "roaming": "maybe"},
    {**GOOD, "origin_area_code": ""},
    {**GOOD, "destination": "+44 20 7946"},
    {**GOOD, "offer_code": "  "},
]


def expected(row: dict[str, str]) -> UsageRecord | str:
    try:
        return record_from_row(row, BUSINESSES)
    except RowError as error:
        return str(error)


@pytest.mark.parametrize("broken", [{}, {3: "line 5: 2 fields, the header has 11"}])
def test_every_row_reads_as_record_from_row_reads_it(broken: dict[int, str]) -> None:
    arrays = [pa.array([row[name] for row in ROWS], pa.string()) for name in USAGE_HEADER]
    data = pa.RecordBatch.from_arrays(arrays, names=list(USAGE_HEADER))
    read = read_chunk(Chunk(data, broken, None), BUSINESSES)
    rows = read.rows.tolist()
    for place, row in enumerate(ROWS):
        want = broken.get(place) or expected(row)
        if isinstance(want, str):
            assert place not in rows
            assert read.problems[place] == want
            continue
        got = read.columns.record(rows.index(place))
        assert got.usage.start == want.usage.start
        assert got.usage.start.tzinfo is not None
        assert (got.event_id, got.subscriber_id, got.offer_code) == (
            want.event_id,
            want.subscriber_id,
            want.offer_code,
        )
        assert got.usage.quantity == want.usage.quantity
        assert (got.usage.business, got.usage.destination, got.usage.origin) == (
            want.usage.business,
            want.usage.destination,
            want.usage.origin,
        )
        assert got.usage.roaming == want.usage.roaming
    assert sorted([*rows, *read.problems]) == list(range(len(ROWS)))
    assert read.columns.start_us.dtype.kind == "i"
    assert read.columns.record(0).usage.start == datetime(2026, 3, 2, 2, tzinfo=UTC)
