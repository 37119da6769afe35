"""`make demo` as the README describes it today: the MCU simulator driven live by the host."""

from __future__ import annotations

import os
import shutil
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


def _planned(tmp_path: Path, target: str) -> str:
    """What `make TARGET` would run on a fresh clone (no .venv yet), without running it."""
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy(REPO / name, tmp_path / name)
    result = subprocess.run(
        ["make", "--dry-run", target],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout


def test_make_demo_installs_the_runtime_alone(tmp_path: Path) -> None:
    demo = _planned(tmp_path, "demo")
    installs = [line for line in demo.splitlines() if "pip install" in line]
    assert any(line.endswith("install --quiet -e .") for line in installs), demo
    assert not any("train" in line or "dev" in line for line in installs), installs


def test_the_venv_of_make_test_has_the_dev_and_train_extras(tmp_path: Path) -> None:
    # `make test`, lint, bench and models depend on `venv`.
    assert '-e ".[dev,train]"' in _planned(tmp_path, "venv")
