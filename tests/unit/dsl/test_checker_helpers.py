"""Shared by the checker tests: a catalog modelled on docs/dsl.md and small node builders.

The catalog: the family bundle (fixed line + broadband + 1..3 mobiles + up to 2 extras), the
youth and VIP plans, broadband 100M with its payment options, mobile 39 with voice, data and
SMS, and the areas, channels and segments the examples name.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import replace

from dsl import nodes as n
from dsl.checker import check
from dsl.diagnostics import Diagnostic
from dsl.parser import parse
from dsl.symbols import AreaName, CatalogNames, GroupSlot, MemberSlot, OfferName, UsageMeasure

CATALOG = CatalogNames.of(
    areas=[
        "CN",
        AreaName("GD", "CN"),
        AreaName("GD_SZ", "GD"),
        AreaName("GD_GZ", "GD"),
        AreaName("QH", "CN"),
        AreaName("QH_XN", "QH"),
    ],
    channels=["hall", "web", "agent", "sms"],
    segments=["vip", "student"],
    offers=[
        OfferName("youth_plan", "main", plan="youth_39"),
        OfferName("vip_plan", "main"),
        OfferName("mobile_basic", "main", plan="mobile_39"),
        OfferName("fixed_line_basic", "main"),
        OfferName("broadband_basic", "main"),
        OfferName("broadband_100m", "main", plan="broadband_100m"),
        OfferName("qh_campus_card", "main"),
        OfferName("caller_id_addon", "add_on"),
        OfferName("ring_tone", "add_on"),
        OfferName(
            "family_bundle",
            "combo",
            plan="family_plan",
            members=(
                MemberSlot("fixed_line_basic", 1, 1),
                MemberSlot("broadband_basic", 1, 1),
                MemberSlot("mobile_basic", 1, 3),
            ),
            groups=(GroupSlot("extras", ("caller_id_addon", "ring_tone"), 0, 2),),
        ),
    ],
    businesses=dict[str, UsageMeasure](
        local_voice="duration",
        ld_voice="duration",
        mobile_data="volume",
        sms="count",
        installation="none",
        broadband_month="none",
    ),
    zone_tables={"cn_zones": ["local", "domestic_ld", "intl_asia", "intl_europe"]},
)

AT = n.Span(1, 1, 1, 2)


def at(line: int, column: int, width: int = 1) -> n.Span:
    return n.Span(line, column, line, column + width)


def name(dotted: str, span: n.Span = AT) -> n.Name:
    return n.Name(parts=tuple(dotted.split(".")), span=span)


def integer(value: int, span: n.Span = AT) -> n.IntLit:
    return n.IntLit(value=value, span=span)


def compare(left: n.Expr, op: n.CompareOp, right: n.Expr, span: n.Span = AT) -> n.Compare:
    return n.Compare(op=op, left=left, right=right, span=span)


def offer_module(code: str, *rules: n.Rule, path: str = "t.tariff") -> n.Module:
    block = n.Eligibility(mode="all", rules=rules, span=AT)
    return n.Module(path=path, declarations=(n.OfferDecl(code=code, eligibility=block, span=AT),))


def rule(condition: n.Expr, rule_name: str = "r", span: n.Span = AT) -> n.Rule:
    return n.Rule(name=rule_name, condition=condition, span=span)


def run(modules: Sequence[n.Module], names: CatalogNames = CATALOG) -> list[Diagnostic]:
    return check(modules, names)


def codes(diagnostics: Sequence[Diagnostic]) -> list[str]:
    return [d.code for d in diagnostics]


def only(diagnostics: Sequence[Diagnostic], code: str) -> Diagnostic:
    """The single diagnostic of `code` (fails with every diagnostic shown otherwise)."""
    found = [d for d in diagnostics if d.code == code]
    assert len(found) == 1, diagnostics
    return found[0]


def parse_source(text: str, path: str = "t.tariff") -> n.Module:
    """`text` (dedented) as a module; parse problems fail the test."""
    return parse(textwrap.dedent(text), path)


def check_source(*texts: str, names: CatalogNames = CATALOG) -> list[Diagnostic]:
    """Check the sources as one rule set (paths `a.tariff`, `b.tariff`, ...)."""
    modules = [parse_source(text, f"{chr(97 + i)}.tariff") for i, text in enumerate(texts)]
    return check(modules, names)


def test_offers_using_a_plan_come_from_the_index_in_offer_order() -> None:
    offers = [
        OfferName("b", plan="p"),
        OfferName("c", kind="combo", plan="p"),
        OfferName("a", plan="q"),
        OfferName("d", plan="p"),
    ]
    names = CatalogNames.of(offers=offers)
    assert [o.code for o in names.offers_using_plan("p")] == ["b", "c", "d"]
    assert [o.code for o in names.combos_using_plan("p")] == ["c"]
    assert names.offers_using_plan("none") == []
    fewer = replace(names, offers={"a": offers[2]})
    assert fewer.offers_using_plan("p") == []
    assert [o.code for o in fewer.offers_using_plan("q")] == ["a"]
