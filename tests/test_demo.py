"""`make demo` as the README describes it today: the MCU simulator driven live by the host."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_the_demo_arms_the_chair_and_shows_it_moving() -> None:
    result = subprocess.run(
        ["bash", str(REPO / "scripts" / "demo")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "DEMO_SECONDS": "3"},
    )
    assert result.returncode == 0, result.stderr
    assert "MCU simulator on" in result.stdout
    assert "re-arm: OK" in result.stdout
    moving = [line for line in result.stdout.splitlines() if line.startswith("x=")][-1]
    assert "v=+0.00" not in moving
    assert "link=up" in moving
    assert "ack errors none" in result.stdout
