"""The layout rules of docs/architecture.md, checked on the imports."""

from __future__ import annotations

import ast
import json
import os
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


# Run in a fresh interpreter where ROS cannot be found: a finder first in sys.meta_path refuses
# rclpy and ROS's generated message packages, so a module that needs them fails to import here
# even on a machine with ROS installed and sourced.
_WITHOUT_ROS = """
import importlib, importlib.abc, json, sys, traceback

ROS_PREFIXES = ("rclpy", "rcl_", "rmw", "rosidl", "launch", "ament_", "tf2")
ROS_SUFFIXES = ("_msgs", "_srvs", "_interfaces", "_ros")


class NoRos(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        top = name.split(".")[0]
        if top.startswith(ROS_PREFIXES) or top.endswith(ROS_SUFFIXES):
            raise ImportError(f"No module named {top!r} (ROS hidden by the test)", name=top)
        return None


sys.meta_path.insert(0, NoRos())
failed = {}
for module in json.loads(sys.argv[1]):
    try:
        importlib.import_module(module)
    except Exception:
        failed[module] = traceback.format_exc(limit=-3)
loaded = sorted(m for m in sys.modules if m.split(".")[0] in {"rclpy", "fastapi", "cloud"})
print(json.dumps({"failed": failed, "loaded": loaded}))
"""


def _modules(package: str) -> list[str]:
    """Every module of a package by its dotted name, outside the command line."""
    names = []
    for path in sorted((REPO / package).rglob("*.py")):
        parts = path.relative_to(REPO).with_suffix("").parts
        if parts[:2] in {("chairlink", "cli"), ("chairlink", "__main__")}:
            continue
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def _import_without_ros(modules: list[str], path: Path = REPO) -> dict[str, object]:
    """Import ``modules`` (found on ``path`` first) where ROS cannot be found; what failed and
    which rclpy, fastapi or cloud modules got loaded."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(path), os.environ.get("PYTHONPATH", "")]),
    }
    result = subprocess.run(
        [sys.executable, "-c", _WITHOUT_ROS, json.dumps(modules)],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
        env=env,
    )
    report: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return report


def test_every_module_of_edge_chairlink_and_the_bridge_imports_without_ros() -> None:
    modules = [m for package in ("edge", "chairlink", "firmware_bridge") for m in _modules(package)]
    assert {"edge.telemetry.serial_host", "chairlink.config", "firmware_bridge.driver"} <= set(
        modules
    )
    assert not any(m.startswith("chairlink.cli") for m in modules)
    report = _import_without_ros(modules)
    assert report == {"failed": {}, "loaded": []}, report


def test_the_import_check_catches_rclpy_ros_messages_and_the_cloud(tmp_path: Path) -> None:
    (tmp_path / "uses_rclpy.py").write_text("import rclpy.node\n", encoding="utf-8")
    (tmp_path / "uses_msgs.py").write_text("from sensor_msgs.msg import LaserScan\n")
    (tmp_path / "uses_cloud.py").write_text("import cloud\n", encoding="utf-8")
    (tmp_path / "cloud").mkdir()
    (tmp_path / "cloud" / "__init__.py").write_text("", encoding="utf-8")
    report = _import_without_ros(
        ["uses_rclpy", "uses_msgs", "uses_cloud", "edge.types"], path=tmp_path
    )
    failed = report["failed"]
    assert isinstance(failed, dict)
    assert sorted(failed) == ["uses_msgs", "uses_rclpy"]
    assert "ROS hidden by the test" in failed["uses_rclpy"]
    assert report["loaded"] == ["cloud"]


def test_no_test_module_imports_from_a_conftest() -> None:
    """Shared helpers live in helper modules (tests/wait.py, tests/monitor.py...): a conftest
    holds fixtures, and pytest, not an import, is what loads it."""
    offences = []
    for path in sorted((REPO / "tests").rglob("*.py")):
        for line, name in _imports(path):
            if name.split(".")[-1] == "conftest":
                offences.append(f"{path.relative_to(REPO).as_posix()}:{line} imports {name}")
    assert offences == []


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
