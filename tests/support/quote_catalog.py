"""The catalog quote tests price: the DSL examples bundle (broadband 100M with its options,
tax, rounding and alterations; the family bundle's waivers and replacements) plus a few plans
written here so every amount in the tests can be computed by hand."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from catalog import bundle
from catalog.content import CatalogContent
from catalog.model import AreaTariffOverride, EntityKind, Product, RuleSource, VersionedEntity

EXAMPLES = Path(__file__).resolve().parents[2] / "dsl" / "examples"

QUOTE_PLANS = """\
# 报价测试资费: 每个金额都能手算.
plan youth_stack "叠加优惠" {
  currency CNY
  price rent: recurring 100.00 per month
  discount pct: 10% on rent priority 1
  discount amt: 5.00 on rent priority 2 for 3 months
  usage sms {
    rate * *: 0.10 per message
  }
}

plan vip_limits "上下限" {
  currency CNY
  tax 6% excluded
  rounding half_up 2
  price rent: recurring 200.00 per month
  price setup: one_time 30.00
  discount amt: 15.00 on rent priority 1
  floor rent at 190.00
  cap setup at 25.00
}

plan family_mobile "亲情1+ 手机" {
  currency CNY
  price rent: recurring 39.00 per month
}

plan bb_basic "宽带基础" {
  currency CNY
  option payment default monthly {
    monthly: price rent: recurring 70.00 per month
  }
  price installation: one_time 58.00 for installation
}

plan fixed_20 "固话" {
  currency CNY
  price rent: recurring 20.00 per month
  price installation: one_time 58.00 for installation
}

plan fixed_gd "固话 (广东)" {
  currency CNY
  price rent: recurring 18.00 per month
  price installation: one_time 58.00 for installation
}
"""

PLANS = {
    "youth_plan": "youth_stack",
    "vip_plan": "vip_limits",
    "family_plan": "family_mobile",
    "broadband_basic": "bb_basic",
    "fixed_line_basic": "fixed_20",
}


#: Examples of the DSL bundle whose amounts assume the bundle's own member plans, which this
#: catalog replaces (the quote tests check those amounts by hand instead): a publish runs
#: every example, so they leave with the plans they were written for.
STALE_EXAMPLES = {"family_bundle.tariff": ("bundle_monthly",)}


def _without_stale_examples(source: RuleSource) -> RuleSource:
    text = source.text
    for name in STALE_EXAMPLES.get(source.path, ()):
        text, found = re.subn(rf"\n  example {name} \{{.*?\n  \}}\n", "\n", text, flags=re.S)
        assert found == 1, f"example {name} not found in {source.path}"
    return dataclasses.replace(source, text=text)


def quote_content(plans_text: str = QUOTE_PLANS) -> CatalogContent:
    content = bundle.read_path(EXAMPLES)
    entities = dict(content.entities)
    for code, plan in PLANS.items():
        key = (EntityKind.PRODUCT, code)
        entity = entities[key]
        assert isinstance(entity.definition, Product)
        changes: dict[str, object] = {"tariff_plan": plan}
        if code == "fixed_line_basic":
            changes["tariff_overrides"] = (AreaTariffOverride("GD", "fixed_gd"),)
        definition = dataclasses.replace(entity.definition, **changes)  # type: ignore[arg-type]
        entities[key] = VersionedEntity(definition, entity.status, entity.version)
    kept = tuple(_without_stale_examples(s) for s in content.rule_sources)
    sources = (*kept, RuleSource("rules/quote_plans.tariff", plans_text))
    return dataclasses.replace(content, entities=entities, rule_sources=sources)
