"""The nodes' ROS parameters come from chair.yaml, and the committed params file matches it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from chairlink_ros.firmware_bridge_node import FirmwareBridgeNode
from pydantic import ValidationError
from rclpy.parameter import Parameter

from chairlink.config import ChairConfig, load_chair_config
from chairlink.errors import ConfigError
from chairlink.ros_params import (
    flatten,
    parameter_specs,
    params_file,
    runtime_changes,
    unflatten,
    validate_parameters,
)
from firmware_bridge.mcu_sim import McuSimulator
from tests.ros.graph import Graph

REPO = Path(__file__).resolve().parents[2]
PARAMS = REPO / "ros2_ws" / "src" / "chairlink_ros" / "params" / "chair.params.yaml"


def test_committed_params_file_is_generated_from_configs_chair_yaml() -> None:
    expected = params_file(load_chair_config(REPO / "configs" / "chair.yaml"))
    assert PARAMS.read_text(encoding="utf-8") == expected, (
        "regenerate with: chairlink ros params configs/chair.yaml -o "
        + str(PARAMS.relative_to(REPO))
    )


def test_flatten_and_unflatten_round_trip() -> None:
    config = load_chair_config(REPO / "configs" / "chair.yaml")
    assert validate_parameters(flatten(config)) == config
    assert ChairConfig.model_validate(unflatten(flatten(config))) == config


def test_specs_carry_ranges_descriptions_and_mutability() -> None:
    specs = {s.name: s for s in parameter_specs()}
    baud = specs["firmware.baud"]
    assert (baud.minimum, baud.maximum, baud.read_only) == (9600, 4_000_000, True)
    assert specs["firmware.limits.max_linear_mps"].read_only is False
    assert specs["ros.cmd_vel_timeout_s"].read_only is False
    assert all(s.description for s in specs.values())


def test_node_declares_every_parameter_of_the_params_file(graph: Graph, sim: McuSimulator) -> None:
    node = FirmwareBridgeNode(
        context=graph.context,
        parameter_overrides=[Parameter("firmware.port", value=sim.device_path)],
    )
    graph.add(node)
    loaded = yaml.safe_load(PARAMS.read_text(encoding="utf-8"))["/**"]["ros__parameters"]
    names = set(flatten(ChairConfig.model_validate(loaded)))
    assert names == {s.name for s in parameter_specs()}
    for name in names:
        assert node.has_parameter(name), name
    descriptor = node.describe_parameter("firmware.limits.max_linear_mps")
    assert descriptor.description
    assert descriptor.floating_point_range[0].to_value == 4.17


def test_runtime_changes_are_typed_or_refused_with_every_reason() -> None:
    assert runtime_changes({"firmware.limits.max_linear_mps": 1, "ros.cmd_vel_timeout_s": 0.3}) == {
        "firmware.limits.max_linear_mps": 1.0,
        "ros.cmd_vel_timeout_s": 0.3,
    }
    with pytest.raises(ConfigError) as refused:
        runtime_changes(
            {
                "firmware.limits.warp": 2.0,
                "firmware.baud": 9600,
                "firmware.limits.max_angular_radps": "fast",
                "firmware.limits.max_linear_mps": True,
            }
        )
    assert str(refused.value) == (
        "unknown parameter firmware.limits.warp; firmware.baud cannot change while the chair "
        "runs; firmware.limits.max_angular_radps: expected a number, got 'fast'; "
        "firmware.limits.max_linear_mps: expected a number, got True"
    )
    with pytest.raises(
        ConfigError, match=r"^ros\.cmd_vel_timeout_s cannot change while the chair runs$"
    ):
        runtime_changes({"ros.cmd_vel_timeout_s": 0.3}, allowed=("firmware.limits.",))


def test_invalid_parameters_raise_config_error_naming_each() -> None:
    values = flatten(ChairConfig())
    values["firmware.limits.max_linear_mps"] = -1.0
    values["telemetry.vehicle_hz"] = 0.0
    with pytest.raises(ConfigError) as refused:
        validate_parameters(values)
    message = str(refused.value)
    assert "firmware.limits.max_linear_mps: " in message
    assert "telemetry.vehicle_hz: " in message
    assert isinstance(refused.value.__cause__, ValidationError)
