"""The layout rules of docs/architecture.md, checked on the imports."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

BANNED = {
    "edge": {"rclpy", "cloud", "fastapi"},
    "cloud": {"edge", "firmware_bridge", "rclpy"},
    "chairlink": {"edge", "cloud", "rclpy"},
    "firmware_bridge": {"edge", "cloud", "rclpy"},
}


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


@pytest.mark.parametrize("package", sorted(BANNED))
def test_package_imports_only_what_the_layout_allows(package: str) -> None:
    offences = []
    for path in sorted((REPO / package).rglob("*.py")):
        rel = path.relative_to(REPO).as_posix()
        if rel.startswith("chairlink/cli/") or rel == "chairlink/__main__.py":
            continue
        for line, name in _imports(path):
            if name.split(".")[0] in BANNED[package]:
                offences.append(f"{rel}:{line} imports {name}")
    assert offences == []


def test_importing_edge_and_the_bridge_loads_no_ros_web_or_cloud_module() -> None:
    code = (
        "import sys, edge, firmware_bridge, chairlink.config\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'rclpy', 'fastapi', 'cloud'})\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_cli_loads_a_noun_only_when_it_runs() -> None:
    code = (
        "import sys\n"
        "from chairlink.cli.main import build_parser\n"
        "build_parser(['config', 'show'])\n"
        "print('firmware_bridge' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
