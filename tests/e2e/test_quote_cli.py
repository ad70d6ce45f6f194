"""`tariff quote` as a sales engineer uses it against a bundle: an itemised table with the
alterations and totals, JSON, a usage estimate, one-line refusals."""

from __future__ import annotations

import json

import pytest

from catalog import bundle
from tariff import exits
from tariff.cli import main
from tariff.eligible_cli import UsageError
from tariff.quote_cli import parse_usage
from tests.support.quote_catalog import quote_content

SALE = ["--area", "GD_SZ", "--channel", "hall", "--time", "2026-03-10T10:00:00+08:00"]
FAMILY = [
    "--segment",
    "family",
    "--customer-type",
    "personal",
    "--age",
    "35",
    "--tenure",
    "30",
    "--attr",
    "address_installable=true",
]


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("quote") / "bundle"
    bundle.write_directory(quote_content(), path)
    return str(path)


def test_usage_entries_parse() -> None:
    entry = parse_usage("local_voice:local:peak=events=100,minutes=400")
    assert (entry.business_code, entry.zone, entry.band) == ("local_voice", "local", "peak")
    assert (entry.events, entry.duration_ms) == (100, 400 * 60_000)
    assert parse_usage("mobile_data=mb=2").volume_bytes == 2 * 1024**2


@pytest.mark.parametrize("text", ["", "sms", "sms=events", "sms=hours=2", "sms=events=-1"])
def test_bad_usage_entries(text: str) -> None:
    with pytest.raises(UsageError):
        parse_usage(text)


def test_an_itemised_quote(catalog: str, capsys: pytest.CaptureFixture[str]) -> None:
    cart = [
        "family_bundle=fixed_line_basic,broadband_basic,2*family_plan",
        "broadband_100m@payment=yearly_prepay",
    ]
    assert main(["quote", "--bundle", catalog, *SALE, *FAMILY, *cart]) == 0
    out = capsys.readouterr().out
    assert "bundle_rent" in out
    assert "融合业务免初装费" in out
    assert "660.55" in out  # the prepay's duty-free part: 720 / 1.09
    assert "720.00" in out  # due now
    assert "187.00" in out  # monthly: 169 + Guangdong's 18 fixed line


def test_json_and_a_usage_estimate(catalog: str, capsys: pytest.CaptureFixture[str]) -> None:
    usage = [
        "--usage",
        "local_voice:local:peak=events=100,minutes=400",
        "--usage",
        "mobile_data=events=30,gb=2",
        "--usage",
        "sms=events=120",
    ]
    assert (
        main(
            [
                "quote",
                "--bundle",
                catalog,
                *SALE,
                "--customer-type",
                "personal",
                *usage,
                "mobile_basic",
                "--json",
            ]
        )
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    estimate = data["totals"]["usageEstimate"]["taxIncludedAmount"]
    assert (estimate["units"], estimate["nanos"]) == ("83", 250000000)


def test_an_ineligible_cart_is_a_one_line_refusal(
    catalog: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(
            [
                "quote",
                "--bundle",
                catalog,
                *SALE,
                "--segment",
                "youth",
                "--age",
                "40",
                "--customer-type",
                "personal",
                "youth_plan",
            ]
        )
        == 1
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "not eligible" in err[0]
    assert "age_out_of_range" in err[0]


def test_a_bad_option_is_a_one_line_error(catalog: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["quote", "--bundle", catalog, *SALE, *FAMILY, "broadband_100m@payment=weekly"])
        == exits.USAGE
    )
    assert "items[0].options['payment']" in capsys.readouterr().err
