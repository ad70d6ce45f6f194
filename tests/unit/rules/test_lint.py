"""rules.lint over the reference runs of examples: which rules they evaluate (eligibility
rules and branches, composition rules, prices, alterations, rates) and what is declared but
never used."""

from __future__ import annotations

from datetime import UTC, datetime

from catalog.content import CatalogContent
from dsl.parser import parse
from pricing.zones import ZoneTable
from rules.examples import run_examples
from rules.lint import LintResult, lint, rule_sites
from tests.unit.dsl.test_checker_helpers import CATALOG

SOURCE = """offer vip_plan {
  eligible first {
    when customer.vip_level >= 5: allow
    when channel == sms: deny "channel"
    otherwise: deny "not_vip"
  }
  example vip {
    given customer.vip_level = 6
    expect eligible vip_plan
  }
}

plan mobile_39 {
  currency CNY
  rounding half_up 2
  price rent: recurring 39.00 per month
  discount web: 10% on rent when channel == web
  usage local_voice {
    zones cn_zones
    rate local *: 0.10 per minute
    rate intl_* *: 2.00 per minute
  }
  example local_call {
    given event local_voice 60s to "075512345678" at 2026-03-02T10:00:00+08:00
    expect charge 0.10 CNY
  }
  example web_rent {
    given channel = web, cart = [mobile_basic]
    expect monthly 35.10 CNY
  }
}
"""


def _lint() -> tuple[dict[str, bool], LintResult]:
    module = parse(SOURCE, "t.tariff")
    zones = {"cn_zones": ZoneTable([("0755", "local"), ("0044", "intl_europe")])}
    examples = run_examples([module], CATALOG, datetime(2026, 3, 2, tzinfo=UTC), zones)
    assert [e.status for e in examples] == ["passed", "passed", "passed"], examples
    result = lint([module], CatalogContent(), examples)
    unexercised = {d.message for d in result.findings if d.code == "unexercised-rule"}
    labels = {s.label: not any(s.label in m for m in unexercised) for s in rule_sites([module])}
    return labels, result


def test_what_the_examples_evaluate_is_covered() -> None:
    covered, _ = _lint()
    assert covered == {
        "eligibility branch first[1]": True,  # the VIP example is decided there
        "eligibility branch first[2]": False,
        "eligibility branch first[3]": False,
        "price `rent`": True,
        "discount `web`": True,  # applied in the web example
        "rate `local *` of local_voice": True,
        "rate `intl_* *` of local_voice": False,
    }


def test_coverage_per_file() -> None:
    _, result = _lint()
    [file] = result.coverage
    assert (file.path, file.rules, file.covered) == ("t.tariff", 7, 4)
    assert file.not_covered == (4, 5, 21)
    assert round(file.percent, 1) == 57.1
