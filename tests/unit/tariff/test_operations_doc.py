"""docs/operations.md lists every setting `tariff serve` reads, with its real default."""

from __future__ import annotations

from pathlib import Path

from tariff.settings import Settings

DOC = Path(__file__).resolve().parents[3] / "docs" / "operations.md"


def test_every_setting_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    for name in Settings.model_fields:
        assert f"`TARIFF_{name.upper()}`" in text, name


def test_documented_defaults_are_the_real_ones() -> None:
    text = DOC.read_text(encoding="utf-8")
    settings = Settings()
    rows = {
        line.split("|")[1].strip().strip("`"): line
        for line in text.splitlines()
        if line.startswith("| `TARIFF_")
    }
    for name in ("host", "port", "workers", "time_zone", "max_rate_events"):
        value = str(getattr(settings, name))
        assert f"`{value}`" in rows[f"TARIFF_{name.upper()}"], name
