"""A horizontal bar chart as server-side SVG: the shadow rating's difference per key (a
gain to the right in green, a loss to the left in red), exact amounts in the labels."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from html import escape
from typing import Any

ROW = 22
WIDTH = 640
LABEL = 180
TOP = 12


def difference_chart(rows: Sequence[dict[str, Any]], key: str, limit: int = 12) -> str:
    """SVG of rows' `difference` (B - A) by `key`, the largest first (at most `limit`)."""
    shown = list(rows[:limit])
    if not shown:
        return ""
    amounts = [Decimal(r["difference"]) for r in shown]
    largest = max((abs(a) for a in amounts), default=Decimal(0)) or Decimal(1)
    half = (WIDTH - LABEL) / 2
    middle = LABEL + half
    height = TOP * 2 + ROW * len(shown)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{WIDTH}" '
        f'height="{height}" viewBox="0 0 {WIDTH} {height}">',
        f'<line x1="{middle}" y1="4" x2="{middle}" y2="{height - 4}" stroke="#888"/>',
    ]
    for i, (row, amount) in enumerate(zip(shown, amounts, strict=True)):
        y = TOP + i * ROW
        length = float(abs(amount) / largest) * (half - 70)
        x = middle if amount >= 0 else middle - length
        colour = "#2e7d32" if amount >= 0 else "#c62828"
        name = escape(str(row.get(key) or "(none)"))
        text = escape(f"{amount:+f} {row['currency']}")
        anchor, tx = ("start", middle + length + 4) if amount >= 0 else ("end", x - 4)
        parts += [
            f'<text x="{LABEL - 6}" y="{y + 15}" text-anchor="end" font-size="12">{name}</text>',
            f'<rect x="{x:.1f}" y="{y + 3}" width="{max(length, 1):.1f}" height="{ROW - 6}" '
            f'fill="{colour}"><title>{name}: {text}</title></rect>',
            f'<text x="{tx:.1f}" y="{y + 15}" text-anchor="{anchor}" font-size="11">{text}</text>',
        ]
    parts.append("</svg>")
    return "".join(parts)
