"""rules.version_diff: per offer what changed in prices, eligibility and composition, from
the rules' trees (a re-formatted file changes lines, not offers), then the files line by
line."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from catalog import bundle
from catalog.content import CatalogContent
from catalog.diff import ChangeType
from catalog.model import EntityKind, RuleSource
from dsl import nodes as n
from dsl.parser import parse
from rules.version_diff import Aspect, ItemChange, line_diff, render_text, version_diff, written
from tariff.demo import DEMO

DEMO_CONTENT = bundle.read_path(DEMO)


def edited(
    content: CatalogContent,
    kind: EntityKind,
    code: str,
    text: Callable[[str], str] = lambda t: t,
    **fields: object,
) -> CatalogContent:
    """`content` with one entity's own rule file rewritten and catalog fields replaced."""
    key = (kind, code)
    entity = content.entities[key]
    definition = entity.definition
    sources = tuple(
        RuleSource(s.path, text(s.text)) if s.path.endswith(f"{code}.tariff") else s
        for s in definition.rule_sources
    )
    definition = dataclasses.replace(definition, rule_sources=sources, **fields)  # type: ignore[arg-type]
    entities = dict(content.entities) | {key: dataclasses.replace(entity, definition=definition)}
    return dataclasses.replace(content, entities=entities)


def items(found: object, code: str) -> list[ItemChange]:
    [offer] = [o for o in found.offers if o.code == code]  # type: ignore[attr-defined]
    return list(offer.items)


def test_the_same_catalog_has_no_differences() -> None:
    found = version_diff(DEMO_CONTENT, DEMO_CONTENT)
    assert found.empty
    assert list(render_text(found, "1", "draft")) == ["no differences between 1 and draft"]


def test_a_rate_change_is_a_price_change_of_the_offer_with_both_texts() -> None:
    dearer = edited(
        DEMO_CONTENT,
        EntityKind.PRODUCT,
        "mobile_39",
        lambda t: t.replace("rate * *: 0.20 per minute", "rate * *: 0.25 per minute"),
    )
    found = version_diff(DEMO_CONTENT, dearer)
    [change] = items(found, "mobile_39")
    assert (change.aspect, change.change_type) == (Aspect.PRICES, ChangeType.MODIFIED)
    assert change.item == "usage ld_voice: rate * *"
    assert change.before == "rate * *: 0.20 per minute increments 60s then 6s"
    assert change.after == "rate * *: 0.25 per minute increments 60s then 6s"
    [file] = found.files
    assert file.path.endswith("mobile_39.tariff")
    assert file.owner == "product:mobile_39"
    assert any(line.startswith("-") and "0.20 per minute" in line for line in file.lines)
    assert any(line.startswith("+") and "0.25 per minute" in line for line in file.lines)
    assert file.lines[0].startswith("@@ ")


def test_an_eligibility_rule_and_a_catalog_field_are_eligibility() -> None:
    older = edited(
        DEMO_CONTENT,
        EntityKind.PRODUCT,
        "youth_plan",
        lambda t: t.replace("between 15 and 26", "between 15 and 28"),
        channel_codes=("hall",),
    )
    found = version_diff(DEMO_CONTENT, older)
    by_item = {i.item: i for i in items(found, "youth_plan")}
    assert by_item["rule age"].aspect is Aspect.ELIGIBILITY
    assert "between 15 and 28" in by_item["rule age"].after
    assert by_item["channel_codes"].aspect is Aspect.ELIGIBILITY
    assert by_item["channel_codes"].after == '["hall"]'


def test_a_composition_rule_change_is_composition() -> None:
    wider = edited(
        DEMO_CONTENT,
        EntityKind.COMBO,
        "family_bundle",
        lambda t: t.replace("1..3 family_mobile", "1..4 family_mobile"),
    )
    found = version_diff(DEMO_CONTENT, wider)
    changes = items(found, "family_bundle")
    assert {(c.aspect, c.change_type) for c in changes} == {
        (Aspect.COMPOSITION, ChangeType.REMOVED),
        (Aspect.COMPOSITION, ChangeType.ADDED),
    }
    assert any("1..4 family_mobile" in c.after for c in changes)


def test_reformatting_and_comments_change_lines_not_offers() -> None:
    noisy = edited(
        DEMO_CONTENT,
        EntityKind.PRODUCT,
        "mobile_39",
        lambda t: t.replace("price rent: recurring", "price  rent:   recurring") + "\n# note\n",
    )
    found = version_diff(DEMO_CONTENT, noisy)
    assert found.offers == ()
    assert len(found.files) == 1


def test_added_and_removed_offers() -> None:
    key = (EntityKind.PRODUCT, "ring_tone_addon")
    fewer = dataclasses.replace(
        DEMO_CONTENT, entities={k: v for k, v in DEMO_CONTENT.entities.items() if k != key}
    )
    gone = version_diff(DEMO_CONTENT, fewer)
    assert [(o.code, o.change_type) for o in gone.offers] == [
        ("ring_tone_addon", ChangeType.REMOVED)
    ]
    assert all(f.change_type is ChangeType.REMOVED for f in gone.files)
    back = version_diff(fewer, DEMO_CONTENT)
    assert [(o.code, o.change_type) for o in back.offers] == [("ring_tone_addon", ChangeType.ADDED)]


def _plan(text: str) -> n.PlanDecl:
    [plan] = parse(text, "p.tariff").declarations
    assert isinstance(plan, n.PlanDecl)
    return plan


def test_written_drops_comments_and_collapses_whitespace_but_keeps_strings() -> None:
    text = 'plan p {\n  currency CNY\n  price rent:   recurring 1.00\n    per month  # "x"\n}\n'
    assert written(_plan(text).items[1], text) == "price rent: recurring 1.00 per month"
    labelled = 'plan p {\n  currency CNY\n  waive * "a # b"  # c\n}\n'
    assert written(_plan(labelled).items[1], labelled) == 'waive * "a # b"'


def test_line_diff_has_hunks_without_file_headers() -> None:
    assert line_diff("a\nb\nc\n", "a\nB\nc\n") == ("@@ -1,3 +1,3 @@", " a", "-b", "+B", " c")
    assert line_diff("same", "same") == ()
