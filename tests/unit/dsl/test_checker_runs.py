"""Whole runs: every problem at once, across files, deep nesting, ordering."""

from __future__ import annotations

from dsl.checker import check, errors
from tests.unit.dsl.test_checker_helpers import CATALOG, check_source, codes, parse_source

BROKEN = """\
offer youth_plan {
  eligible all {
    age:     customer.agee between 15 and 26
    channel: channel in {hall, wbe}
    channel: area within GD_SX
  }
}
plan mobile_39 {
  currency CNY
  currency CNY
  usage local_voice {
    zones cn_zones
    rate locl *: 0.15 per MB
  }
}
"""


def test_several_errors_in_one_run() -> None:
    found = check_source(BROKEN)
    assert [(d.code, d.line, d.column) for d in found] == [
        ("unknown-name", 3, 14),
        ("unknown-channel", 4, 32),
        ("duplicate", 5, 5),
        ("unknown-area", 5, 26),
        ("duplicate", 10, 3),
        ("unknown-zone", 13, 10),
        ("type-mismatch", 13, 27),
    ]
    assert all(d.severity == "error" for d in found)


def test_duplicates_across_files_point_at_the_later_file() -> None:
    found = check_source("offer youth_plan {\n}\n", "\n\noffer youth_plan {\n}\n")
    assert [(d.code, d.path, d.line) for d in found] == [("duplicate", "b.tariff", 3)]
    assert "first on line 1" in found[0].message


def test_bands_zones_and_attributes_from_other_files() -> None:
    usage = (
        "plan mobile_39 {\n  currency CNY\n  usage local_voice {\n    zones xining\n"
        "    bands b\n    rate qinghai day: 0.1 per minute when event.vip\n  }\n}\n"
    )
    declarations = (
        'zones xining {\n  "0971": local\n  "0972": qinghai\n}\n'
        "bands b {\n  day: 08:00 .. 20:00\n  night: otherwise\n}\n"
        "attribute event.vip: bool\n"
    )
    assert check_source(usage, declarations) == []
    assert codes(check_source(usage)) == ["unknown-zone", "unknown-band", "unknown-name"]


def test_nesting_as_deep_as_the_parser_allows() -> None:
    condition = "(" * 40 + "customer.age > 1" + ")" * 40
    for _ in range(10):
        condition = f"not ({condition})"
    module = parse_source(f"offer youth_plan {{\n  eligible all {{\n    a: {condition}\n  }}\n}}\n")
    assert check([module], CATALOG) == []


def test_warnings_do_not_count_as_errors() -> None:
    found = check_source(
        "offer vip_plan {\n  eligible first {\n    otherwise: allow\n    when true: deny\n  }\n}\n"
    )
    assert codes(found) == ["shadowed-rule"]
    assert errors(found) == []
