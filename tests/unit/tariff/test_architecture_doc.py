"""docs/architecture.md names real places: every path it cites exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_every_cited_path_exists() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    cited = set(re.findall(r"[`*]{1,2}([a-z_]+/(?:[a-z_0-9]+/)*(?:[a-z_]+\.py)?)[`*]{1,2}", text))
    assert len(cited) > 15
    missing = sorted(p for p in cited if not (ROOT / p).exists())
    assert not missing, missing
