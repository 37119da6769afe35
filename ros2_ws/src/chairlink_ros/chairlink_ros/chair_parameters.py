"""chair.yaml as a node's ROS parameters: declared from one schema, validated through it.

Every chairlink node declares the whole chair configuration (chairlink.ros_params names it,
with ranges and descriptions), so one params file, generated from chair.yaml, serves them all.
"""

from __future__ import annotations

import math
from typing import Any

from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor
from rclpy.exceptions import ParameterException
from rclpy.node import Node

from chairlink.config import ChairConfig
from chairlink.errors import ConfigError
from chairlink.ros_params import ParameterSpec, parameter_specs, validate_parameters

__all__ = ["declare_chair_parameters", "descriptor"]


def descriptor(spec: ParameterSpec) -> ParameterDescriptor:
    """The ROS descriptor of a chair parameter: its description, range and mutability."""
    result = ParameterDescriptor(description=spec.description, read_only=spec.read_only)
    if spec.minimum is None and spec.maximum is None:
        return result
    if isinstance(spec.default, bool):
        return result
    if isinstance(spec.default, int):
        result.integer_range = [
            IntegerRange(
                from_value=int(spec.minimum if spec.minimum is not None else -(2**63)),
                to_value=int(spec.maximum if spec.maximum is not None else 2**63 - 1),
                step=1,
            )
        ]
    elif isinstance(spec.default, float):
        result.floating_point_range = [
            FloatingPointRange(
                from_value=spec.minimum if spec.minimum is not None else -math.inf,
                to_value=spec.maximum if spec.maximum is not None else math.inf,
                step=0.0,
            )
        ]
    return result


def declare_chair_parameters(node: Node) -> tuple[ChairConfig, dict[str, Any]]:
    """Declare every chair parameter on ``node`` and validate the values it was started with.

    Returns the configuration and the flat values (for validating later changes).

    Raises:
        ConfigError: a value is of the wrong type or out of range; the message names it.
    """
    values: dict[str, Any] = {}
    for spec in parameter_specs():
        try:
            values[spec.name] = node.declare_parameter(
                spec.name, spec.default, descriptor(spec)
            ).value
        except ParameterException as err:
            raise ConfigError(
                f"{node.get_fully_qualified_name()}: parameter {spec.name}: {err}"
            ) from err
    try:
        config = validate_parameters(values)
    except ConfigError as err:
        raise ConfigError(f"{node.get_fully_qualified_name()}: invalid parameters: {err}") from err
    return config, values
