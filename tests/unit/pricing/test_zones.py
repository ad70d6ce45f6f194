"""Zones: destination normalization, longest prefix over hand-built tables and against a
brute-force longest prefix, refusals, and a million-row build (marked heavy, no timing)."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pricing.zones import MAX_PREFIX_DIGITS, ZoneTable, normalize_destination

NORMALIZE_CASES = [
    ("075512345678", None, "075512345678"),
    ("0755-1234 5678", None, "075512345678"),
    ("  0755 1234 5678 ", None, "075512345678"),
    ("(0755) 1234.5678", None, "075512345678"),
    ("0755\t12345678", None, "075512345678"),
    ("+44 20 7946 0958", None, "00442079460958"),
    ("0044 20 7946 0958", None, "00442079460958"),
    ("+1-212-555-0100", None, "0012125550100"),
    ("+86 755 1234 5678", None, "008675512345678"),
    ("+86 755 1234 5678", "86", "075512345678"),
    ("0086 755 1234 5678", "86", "075512345678"),
    ("+44 20 7946 0958", "86", "00442079460958"),  # other countries stay international
    ("0086", "86", "0086"),  # only the country code: nothing national to keep
    ("+861", "86", "01"),
    ("10086", None, "10086"),  # short service number
    ("10086", "86", "10086"),
    ("13800138000", "86", "13800138000"),  # a mobile number, national form
    ("0", None, "0"),
]


@pytest.mark.parametrize(("raw", "country", "expected"), NORMALIZE_CASES)
def test_normalize_destination(raw: str, country: str | None, expected: str) -> None:
    assert normalize_destination(raw, country_code=country) == expected


@pytest.mark.parametrize(
    "raw",
    ["", "   ", "+", "abc", "0755x1234", "*21#", "12+34", "++44", "٠٧٥٥", "0755/1234", "1" * 33],
)
def test_normalize_refuses_non_numbers(raw: str) -> None:
    with pytest.raises(ValueError, match=r"phone number|digits"):
        normalize_destination(raw)


def test_normalize_refuses_bad_country_code() -> None:
    with pytest.raises(ValueError, match="country code"):
        normalize_destination("0755", country_code="+86")


CN_ROWS = [
    ("0971", "local"),
    ("0972", "qinghai"),
    ("097", "northwest"),
    ("0", "domestic_ld"),
    ("00", "intl_other"),
    ("001", "intl_nanp"),
    ("0044", "intl_uk"),
    ("00447", "intl_uk_mobile"),
    ("13", "mobile"),
    ("138", "mobile_cm"),
    ("10086", "service"),
]

LOOKUP_CASES = [
    ("09711234567", "local"),  # longest (4) beats 097 and 0
    ("0971", "local"),  # exact match
    ("0972 888 1234", "qinghai"),
    ("0973 1234", "northwest"),  # falls back to the 3-digit prefix
    ("097", "northwest"),
    ("0755 1234 5678", "domestic_ld"),  # only the 1-digit prefix matches
    ("09", "domestic_ld"),
    ("+44 20 7946 0958", "intl_uk"),
    ("+44 7700 900123", "intl_uk_mobile"),
    ("0044 7700 900123", "intl_uk_mobile"),
    ("+1 212 555 0100", "intl_nanp"),
    ("+33 1 23 45 67 89", "intl_other"),
    ("+4", "intl_other"),  # "004": longest is "00"
    ("13800138000", "mobile_cm"),
    ("13900139000", "mobile"),
    ("10086", "service"),
    ("100861", "service"),
    ("1008", None),  # shorter than every prefix that could match
    ("2345678", None),  # no match at all
    ("1", None),
]


@pytest.mark.parametrize(("destination", "zone"), LOOKUP_CASES)
def test_lookup_longest_prefix(destination: str, zone: str | None) -> None:
    assert ZoneTable(CN_ROWS).lookup(destination) == zone


@pytest.mark.parametrize(
    ("digits", "prefix"),
    [("09711234567", "0971"), ("0973", "097"), ("0755", "0"), ("2", None), ("00447700", "00447")],
)
def test_matched_prefix(digits: str, prefix: str | None) -> None:
    assert ZoneTable(CN_ROWS).matched_prefix(digits) == prefix


def test_home_country_numbers_rate_as_national() -> None:
    table = ZoneTable(CN_ROWS, country_code="86")
    assert table.lookup("+86 971 1234567") == "local"
    assert table.lookup("+44 20 7946 0958") == "intl_uk"
    assert ZoneTable(CN_ROWS).lookup("+86 971 1234567") == "intl_other"


def test_lookup_refuses_non_numbers_but_match_just_misses() -> None:
    table = ZoneTable(CN_ROWS)
    with pytest.raises(ValueError, match="phone number"):
        table.lookup("alice@example.com")
    assert table.match("") is None


def test_empty_table_matches_nothing() -> None:
    table = ZoneTable([])
    assert len(table) == 0
    assert table.lookup("0971") is None


def test_duplicates() -> None:
    table = ZoneTable([("0971", "local"), ("0971", "local"), ("0972", "qinghai")])
    assert len(table) == 2
    assert sorted(table) == [("0971", "local"), ("0972", "qinghai")]
    with pytest.raises(ValueError, match="'0971' is in zone"):
        ZoneTable([("0971", "local"), ("0972", "qinghai"), ("0971", "qinghai")])


@pytest.mark.parametrize(
    "prefix", ["+44", "0971 ", "09-71", "", "abc", "٠٩٧١", "0" * (MAX_PREFIX_DIGITS + 1)]
)
def test_table_refuses_bad_prefixes(prefix: str) -> None:
    with pytest.raises(ValueError, match="prefix"):
        ZoneTable([("0971", "local"), (prefix, "bad")])


def test_table_refuses_empty_zone_and_bad_country() -> None:
    with pytest.raises(ValueError, match="zone"):
        ZoneTable([("0971", "")])
    with pytest.raises(ValueError, match="country code"):
        ZoneTable([("0971", "local")], country_code="x")


def brute_force(rows: list[tuple[str, str]], digits: str) -> str | None:
    best: tuple[str, str] | None = None
    for prefix, zone in rows:
        if digits.startswith(prefix) and (best is None or len(prefix) > len(best[0])):
            best = (prefix, zone)
    return None if best is None else best[1]


digit_strings = st.text(alphabet="0123", min_size=1, max_size=6)


@given(st.dictionaries(digit_strings, st.sampled_from(["a", "b", "c"]), max_size=40), digit_strings)
def test_longest_prefix_equals_brute_force(table: dict[str, str], digits: str) -> None:
    rows = list(table.items())
    assert ZoneTable(rows).match(digits) == brute_force(rows, digits)


def million_rows() -> list[tuple[str, str]]:
    zones = [f"zone_{i}" for i in range(100)]
    # 1,000,000 distinct 7-digit prefixes "0" + 6 digits, plus shorter ones to fall back on.
    rows = [(f"0{n:03d}", "area") for n in range(1000)]
    rows += [(f"0{n:06d}", zones[n % 100]) for n in range(1_000_000)]
    return rows


@pytest.mark.heavy
def test_million_row_table() -> None:
    rows = million_rows()
    table = ZoneTable(rows)
    assert len(table) == 1_001_000
    assert table.match("01234567890") == "zone_56"  # 0123456 -> 123456 % 100 = 56
    assert table.match("0999999") == "zone_99"
    assert table.match("0123") == "area"  # too short for the 7-digit prefixes
    assert table.match("1234567") is None
    sample = random.Random(1).sample(rows, 200)
    for prefix, zone in sample:
        assert table.match(prefix + "42") == zone  # 4-digit prefixes + 2 digits stay short
