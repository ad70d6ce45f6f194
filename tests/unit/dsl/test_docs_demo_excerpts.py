"""docs/dsl.md's excerpts of the demo catalog are verbatim copies of its files."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
_EXCERPT = re.compile(r"^```tariff-excerpt (?P<path>\S+)\n(?P<body>.*?)^```$", re.M | re.S)


def test_every_excerpt_is_in_its_file() -> None:
    excerpts = list(_EXCERPT.finditer((ROOT / "docs" / "dsl.md").read_text(encoding="utf-8")))
    assert len(excerpts) >= 5
    for match in excerpts:
        source = (ROOT / match["path"]).read_text(encoding="utf-8")
        assert match["body"] in source, match["path"]
