"""launch/chair.launch.py, checked statically: no launch wheel exists to run it here.

It must parse, name only executables that chairlink_ros installs, and pass only parameters the
nodes declare.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from chairlink.ros_params import parameter_specs

REPO = Path(__file__).resolve().parents[2]
LAUNCH = REPO / "launch" / "chair.launch.py"
SETUP = REPO / "ros2_ws" / "src" / "chairlink_ros" / "setup.py"


def _calls(tree: ast.AST, name: str) -> list[ast.Call]:
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name
    ]


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((kw.value for kw in call.keywords if kw.arg == name), None)


def _console_scripts() -> set[str]:
    return set(re.findall(r'f?"(\w+) = \{?PACKAGE\}?\.', SETUP.read_text(encoding="utf-8")))


def test_launch_file_parses_and_defines_the_entry_point() -> None:
    tree = ast.parse(LAUNCH.read_text(encoding="utf-8"))
    functions = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    assert "generate_launch_description" in functions


def test_launch_declares_namespace_sim_time_and_params_file_with_descriptions() -> None:
    tree = ast.parse(LAUNCH.read_text(encoding="utf-8"))
    declared = {}
    for call in _calls(tree, "DeclareLaunchArgument"):
        assert isinstance(call.args[0], ast.Constant)
        declared[call.args[0].value] = _keyword(call, "description")
    assert set(declared) == {"namespace", "use_sim_time", "params_file"}
    assert all(isinstance(d, ast.Constant) and d.value for d in declared.values())


def test_launch_names_only_installed_executables_and_declared_parameters() -> None:
    tree = ast.parse(LAUNCH.read_text(encoding="utf-8"))
    nodes = _calls(tree, "Node")
    assert nodes
    executables = _console_scripts()
    assert {"firmware_bridge_node", "telemetry_node", "vitals_node"} <= executables
    launched = {
        e.value for call in nodes if isinstance(e := _keyword(call, "executable"), ast.Constant)
    }
    assert launched == {"firmware_bridge_node", "telemetry_node", "vitals_node"}
    declared = {s.name for s in parameter_specs()} | {"use_sim_time"}
    for call in nodes:
        package, executable = _keyword(call, "package"), _keyword(call, "executable")
        assert isinstance(package, ast.Constant)
        assert package.value == "chairlink_ros"
        assert isinstance(executable, ast.Constant)
        assert executable.value in executables
        parameters = _keyword(call, "parameters")
        assert isinstance(parameters, ast.List)
        for item in parameters.elts:
            if isinstance(item, ast.Dict):
                keys = {k.value for k in item.keys if isinstance(k, ast.Constant)}
                assert keys <= declared, keys - declared


def test_package_installs_the_launch_files_and_params() -> None:
    setup = SETUP.read_text(encoding="utf-8")
    assert 'glob("launch/*.launch.py")' in setup
    assert 'glob("params/*.yaml")' in setup
    link = REPO / "ros2_ws" / "src" / "chairlink_ros" / "launch"
    assert link.is_symlink()
    assert (link / "chair.launch.py").resolve() == LAUNCH.resolve()
