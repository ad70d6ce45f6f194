"""The docs point at places that exist: every `[text](#anchor)` and `[text](file.md#anchor)`
link of README.md and docs/*.md names a heading (GitHub's anchors), and a "(see Name)"
reference names a heading of its own document (docs/dsl.md once said "see Rounding" with no
such section)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)


def anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def headings(path: Path) -> list[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    return [m[1] for m in re.finditer(r"^#{1,6} (.+)$", text, re.MULTILINE)]


def prose(path: Path) -> str:
    return FENCE.sub("", path.read_text(encoding="utf-8"))


def test_anchors_are_githubs() -> None:
    assert anchor("### `PricingService.Quote`".lstrip("# ")) == "pricingservicequote"
    assert anchor("Usage tariffs (rating)") == "usage-tariffs-rating"
    assert anchor("Composition (combos)") == "composition-combos"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_anchor_link_names_a_heading(doc: Path) -> None:
    broken = []
    for target, name in re.findall(r"\]\(([\w./-]*?)#([^)\s]+)\)", prose(doc)):
        linked = (doc.parent / target) if target else doc
        if not linked.is_file():
            broken.append(f"{target}#{name}: no such file")
        elif name not in {anchor(h) for h in headings(linked)}:
            broken.append(f"{target or doc.name}#{name}")
    assert broken == [], f"{doc.name} links to headings that do not exist: {broken}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_a_see_reference_names_a_heading(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")  # code comments refer to sections too
    names = {h.strip("` ").lower() for h in headings(doc)}
    missing = [
        ref
        for ref in re.findall(r"\(see ([A-Z][\w ]*?)[;),]", text)
        if ref.lower() not in names and not (ROOT / ref).exists()
    ]
    assert missing == [], f"{doc.name} refers to sections it does not have: {missing}"
