"""The fuzzing budget: small and bounded in CI, larger under `pytest --fuzz-long`.

Every fuzz test sizes its hypothesis run with `examples(n)` and its deadline-free settings
with `fuzz_settings(n)`, so one flag scales all of them and CI stays within minutes.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings

#: How many times more examples `--fuzz-long` runs than CI.
LONG_FACTOR = 25

_long = False


def set_long(enabled: bool) -> None:
    """Called once by tests/conftest.py from the `--fuzz-long` option."""
    global _long
    _long = enabled


def is_long() -> bool:
    return _long


def examples(ci: int) -> int:
    """The number of examples for a fuzz test whose CI budget is `ci`."""
    return ci * LONG_FACTOR if _long else ci


def fuzz_settings(ci: int, **overrides: Any) -> settings:
    """Hypothesis settings for a fuzz test: `examples(ci)` examples, no deadline (the machine
    is shared and noisy; bounds are asserted by the tests themselves), derandomized in CI so
    a red run can be replayed, random under `--fuzz-long` so long runs explore."""
    options: dict[str, Any] = {
        "max_examples": examples(ci),
        "deadline": None,
        "derandomize": not _long,
        "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
    }
    options.update(overrides)
    return settings(**options)
