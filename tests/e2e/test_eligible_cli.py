"""`tariff eligible` as a sales engineer uses it: the two questions against the starter bundle
in process and against a served catalog, readable tables, JSON, one-line errors."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tariff import exits
from tariff.cli import main
from tariff.eligible_cli import NOT_QUALIFIED, UsageError, parse_item
from tariff.v1 import order_pb2
from tests.e2e.test_serve import tariff_command

ROOT = Path(__file__).resolve().parents[2]
STARTER = str(ROOT / "examples" / "starter")
SHENZHEN = ["--area", "GD_SZ", "--channel", "hall", "--time", "2026-03-02T10:00:00+08:00"]
YOUTH = ["--segment", "youth", "--age", "20", "--customer-type", "personal"]
FAMILY = ["--segment", "family", "--customer-type", "personal"]


def test_items_parse_actions_members_and_options() -> None:
    plain = parse_item("youth_plan", 1)
    assert (plain.item_id, plain.offer_code, plain.action) == (
        "1",
        "youth_plan",
        order_pb2.CART_ACTION_ADD,
    )
    combo = parse_item("family_bundle=fixed_line_basic,broadband_basic,3*family_plan", 2)
    assert [m.offer_code for m in combo.members] == [
        "fixed_line_basic",
        "broadband_basic",
        *["family_plan"] * 3,
    ]
    removed = parse_item("remove:mobile_basic", 3)
    assert removed.action == order_pb2.CART_ACTION_REMOVE
    option = parse_item("broadband_basic@payment=annual_prepay", 4)
    assert dict(option.options) == {"payment": "annual_prepay"}


@pytest.mark.parametrize("text", ["", "bad code", "x=2*", "x=0*y", "x@payment", "x=101*y"])
def test_malformed_items_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError):
        parse_item(text, 1)


def test_list_against_a_bundle(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eligible", "list", "--bundle", STARTER, *SHENZHEN, *YOUTH]) == 0
    out = capsys.readouterr().out
    assert "youth_plan" in out
    assert "qh_campus_card" not in out
    assert "4 offer(s)" in out


def test_list_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "eligible",
                "list",
                "--bundle",
                STARTER,
                *SHENZHEN,
                *FAMILY,
                "--kind",
                "combo",
                "--json",
            ]
        )
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert [o["offerCode"] for o in data["offers"]] == ["family_bundle"]


def test_check_shows_reasons_and_proposals_and_exits_3(capsys: pytest.CaptureFixture[str]) -> None:
    four = "family_bundle=fixed_line_basic,broadband_basic,4*family_plan"
    assert (
        main(["eligible", "check", "--bundle", STARTER, *SHENZHEN, *FAMILY, four]) == NOT_QUALIFIED
    )
    out = capsys.readouterr().out
    assert "not qualified" in out
    assert "too_many_members" in out
    assert "remove" in out
    three = "family_bundle=fixed_line_basic,broadband_basic,3*family_plan"
    assert main(["eligible", "check", "--bundle", STARTER, *SHENZHEN, *FAMILY, three]) == 0
    assert "Cart qualified" in capsys.readouterr().out


def test_check_explains_the_deciding_condition(capsys: pytest.CaptureFixture[str]) -> None:
    old = ["--segment", "youth", "--age", "31", "--customer-type", "personal"]
    code = main(
        ["eligible", "check", "--bundle", STARTER, *SHENZHEN, *old, "youth_plan", "--explain"]
    )
    assert code == NOT_QUALIFIED
    out = capsys.readouterr().out
    assert "age_out_of_range" in out
    assert "customer.age between 15 and 26 -> not true" in out
    assert "customer.age = 31" in out


def test_bad_codes_are_one_line_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            ["eligible", "check", "--bundle", STARTER, "--area", "XX", "--channel", "hall", "nope"]
        )
        == exits.USAGE
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    # the paths a server would send (lowerCamelCase), not the Python fields'
    assert err[0].startswith("tariff: error: context.areaCode: unknown area 'XX'")


def test_a_malformed_item_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eligible", "check", "--bundle", STARTER, *SHENZHEN, "a=2*"]) == exits.USAGE
    assert "is not [N*]OFFER" in capsys.readouterr().err


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """`tariff serve` on a published starter catalog, on an ephemeral port."""
    db = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    assert main(["bundle", "import", STARTER, "--database-url", db]) == 0
    assert main(["publish", "--effective-from", "2026-01-01T00:00:00Z", "--database-url", db]) == 0
    env = {k: v for k, v in os.environ.items() if not k.startswith("TARIFF_")}
    command = [*tariff_command(), "serve", "--port", "0", "--database-url", db]
    proc = subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        assert proc.stdout is not None
        port = 0
        for _ in range(200):  # bounded: start-up logs a few lines, then "serving on"
            line = proc.stdout.readline()
            found = re.search(r"serving on [\d.]+:(\d+)", line)
            if found or not line:
                port = int(found.group(1)) if found else 0
                break
        assert port, "tariff serve did not come up"
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(30)


def test_the_same_questions_against_a_server(
    server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["eligible", "list", "--server", server, *SHENZHEN, *YOUTH]) == 0
    assert "youth_plan" in capsys.readouterr().out
    assert (
        main(["eligible", "check", "--server", server, *SHENZHEN, *YOUTH, "caller_id_addon"])
        == NOT_QUALIFIED
    )
    assert "addon_without_base" in capsys.readouterr().out
    assert (
        main(["eligible", "check", "--server", server, "--area", "XX", "--channel", "hall", "nope"])
        == exits.USAGE
    )
    err = capsys.readouterr().err
    assert "context.areaCode: unknown area 'XX'\n" in err  # the unknown offer is an item result


def test_quote_and_eligible_exit_alike_for_a_cart_that_does_not_qualify(
    capsys: pytest.CaptureFixture[str],
) -> None:
    old = ["--segment", "youth", "--age", "40", "--customer-type", "personal", "youth_plan"]
    eligible = main(["eligible", "check", "--bundle", STARTER, *SHENZHEN, *old])
    quote = main(["quote", "--bundle", STARTER, *SHENZHEN, *old])
    assert eligible == quote == exits.FINDINGS
    assert "age_out_of_range" in capsys.readouterr().err


def test_a_server_that_is_not_there_exits_4(capsys: pytest.CaptureFixture[str]) -> None:
    nowhere = ["--server", "127.0.0.1:1", "--timeout", "5"]
    for command in (["eligible", "list"], ["eligible", "check"], ["quote"]):
        items = [] if command == ["eligible", "list"] else ["youth_plan"]
        assert main([*command, *nowhere, *SHENZHEN, *YOUTH, *items]) == exits.UNREACHABLE
        assert "UNAVAILABLE" in capsys.readouterr().err


def test_a_bad_sale_time_names_the_accepted_formats(capsys: pytest.CaptureFixture[str]) -> None:
    sale = ["--area", "GD_SZ", "--channel", "hall", "--time", "tomorrow"]
    assert main(["eligible", "list", "--bundle", STARTER, *sale]) == exits.USAGE
    err = capsys.readouterr().err
    assert "argument --time: 'tomorrow' is not an instant" in err
    assert "+1d" in err
