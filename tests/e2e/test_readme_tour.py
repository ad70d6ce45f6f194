"""Replays the README's tour, command by command, against a server this test starts.

Every fenced block tagged `sh tour` runs verbatim, except that `.venv/bin/` becomes this
interpreter's bin directory and the default port becomes the test server's.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.test_serve import served  # noqa: F401  (the fixture, reused)

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def tour_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sh tour\n(.*?)```", readme, flags=re.DOTALL)
    return [line for block in blocks for line in block.splitlines() if line.strip()]


def test_the_readme_has_a_tour() -> None:
    assert len(tour_commands()) >= 5


def test_the_readme_tour_works_verbatim(
    served: tuple[subprocess.Popen[str], int],  # noqa: F811
    tmp_path: Path,
) -> None:
    _, port = served
    for name in ("examples", "tariff"):
        (tmp_path / name).symlink_to(ROOT / name)
    env = {**os.environ, "TARIFF_PORT": str(port), "COLUMNS": "200"}  # a wide terminal
    outputs: list[str] = []
    for command in tour_commands():
        line = command.replace(".venv/bin/", f"{BIN}/").replace("50051", str(port))
        result = subprocess.run(
            ["bash", "-c", line], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
        )
        if result.returncode != 0:
            pytest.fail(f"{command}\nexit {result.returncode}\n{result.stdout}{result.stderr}")
        outputs.append(result.stdout + result.stderr)
    text = "\n".join(outputs)
    listing = outputs[0]
    assert "youth_plan" in listing
    assert "qh_campus_card" not in listing
    assert "too_many_members" in outputs[1]
    assert "remove family_mobile" in outputs[1]
    assert "158.00" in outputs[2]  # the family bundle's monthly total with two lines
    assert "3,995" in text  # rated events of the sample usage (5 misdials rejected)
    assert (tmp_path / "rated.csv").stat().st_size > 0
    assert "+1.81%" in text  # mobile_39's revenue under the draft's dearer long distance
    assert "product mobile_39: modified" in text  # tariff diff: the same change, by offer
    assert "+    rate * *: 0.25 per minute increments 60s then 6s" in text
    assert "0 error(s)" in text
    assert "98 passed" in text
    assert (
        "youth_plan"
        in outputs[
            tour_commands().index(
                ".venv/bin/python examples/eligible_offers.py GD_SZ hall --segment youth --age 20"
            )
        ]
    )
    assert '"currencyCode": "CNY"' in text
    assert '"status": "SERVING"' in text
    assert "tariff.v1.PricingService/Quote" in text
    assert "invalid_argument" in text
    assert "unknown business 'vocie' (did you mean" in text
    assert (tmp_path / "exported-v1.zip").stat().st_size > 0
