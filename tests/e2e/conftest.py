"""What every end-to-end test shares."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich wraps tables to the terminal; a wide one keeps each reason on one line."""
    monkeypatch.setenv("COLUMNS", "250")
