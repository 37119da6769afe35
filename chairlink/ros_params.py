"""The chair configuration as flat ROS 2 parameters, without importing ROS.

ROS parameters are flat, dotted names (``firmware.limits.max_linear_mps``); chair.yaml is
nested. ``parameter_specs`` walks the pydantic schema once to name every parameter with its
default, description and range, ``flatten`` and ``unflatten`` convert between the two shapes,
and ``params_file`` renders the ``ros__parameters`` YAML that launch files load. A node declares
its parameters from the specs and validates every change through the same schema, so a value
lives in chair.yaml and is checked in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

import annotated_types
import yaml
from pydantic import BaseModel, ValidationError

from chairlink.config import ChairConfig
from chairlink.errors import ConfigError

__all__ = [
    "DYNAMIC_PARAMETERS",
    "ParameterSpec",
    "flatten",
    "parameter_specs",
    "params_file",
    "runtime_changes",
    "unflatten",
    "validate_parameters",
]

Scalar = bool | int | float | str | list[float]
"""A ROS parameter's value: a polygon goes as a string in Nav2's footprint format."""

DYNAMIC_PARAMETERS = ("ros.cmd_vel_timeout_s", "firmware.limits.")
"""Names (or prefixes) a running node accepts changes to; everything else needs a restart."""


@dataclass(frozen=True, slots=True)
class ParameterSpec:
    """One ROS parameter: its name, default, description and inclusive range."""

    name: str
    default: Scalar
    description: str
    minimum: float | None = None
    maximum: float | None = None

    @property
    def read_only(self) -> bool:
        """Whether a running node refuses changes to it."""
        return not any(self.name.startswith(prefix) for prefix in DYNAMIC_PARAMETERS)


def _bounds(metadata: list[Any]) -> tuple[float | None, float | None]:
    low: float | None = None
    high: float | None = None
    # ROS ranges are inclusive; an exclusive bound becomes inclusive here and the schema, which
    # validates every change too, still refuses the bound itself.
    for item in metadata:
        if isinstance(item, annotated_types.Ge):
            low = float(cast(float, item.ge))
        elif isinstance(item, annotated_types.Gt):
            low = float(cast(float, item.gt))
        elif isinstance(item, annotated_types.Le):
            high = float(cast(float, item.le))
        elif isinstance(item, annotated_types.Lt):
            high = float(cast(float, item.lt))
    return low, high


def _walk(model: BaseModel, prefix: str) -> list[ParameterSpec]:
    specs: list[ParameterSpec] = []
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        full = f"{prefix}{name}"
        if isinstance(value, BaseModel):
            specs += _walk(value, f"{full}.")
            continue
        low, high = _bounds(field.metadata)
        specs.append(
            ParameterSpec(full, _parameter_value(value), field.description or "", low, high)
        )
    return specs


def _parameter_value(value: Any) -> Scalar:
    if not isinstance(value, tuple):
        return cast(Scalar, value)
    if all(isinstance(item, tuple) for item in value):
        # ROS has no array of arrays: a polygon goes as Nav2 writes its footprint parameter.
        return "[" + ", ".join(f"[{x}, {y}]" for x, y in value) + "]"
    return [float(item) for item in value]


def parameter_specs(config: ChairConfig | None = None) -> list[ParameterSpec]:
    """Every parameter of the chair config, with the values of ``config`` as defaults."""
    return _walk(config or ChairConfig(), "")


def flatten(config: ChairConfig) -> dict[str, Scalar]:
    """The config as dotted names and values."""
    return {spec.name: spec.default for spec in parameter_specs(config)}


def unflatten(values: dict[str, Scalar]) -> dict[str, Any]:
    """Dotted names back into the nested mapping the schema validates."""
    nested: dict[str, Any] = {}
    for name, value in values.items():
        node = nested
        *parents, leaf = name.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return nested


def validate_parameters(values: dict[str, Scalar]) -> ChairConfig:
    """Build the config from flat values.

    Raises:
        ConfigError: a value breaks the schema; the message names each bad parameter.
    """
    # rclpy gives double arrays as array.array, which the schema does not take as a tuple.
    plain = {
        name: list(value) if not isinstance(value, str | bool | int | float | list) else value
        for name, value in values.items()
    }
    try:
        return ChairConfig.model_validate(unflatten(plain))
    except ValidationError as err:
        raise ConfigError(
            "; ".join(
                f"{'.'.join(str(p) for p in item['loc'])}: {item['msg']}" for item in err.errors()
            )
        ) from err


def runtime_changes(
    changes: Mapping[str, object], allowed: tuple[str, ...] = DYNAMIC_PARAMETERS
) -> dict[str, Scalar]:
    """Changes asked of a running chair (a config command) as typed parameter values.

    JSON has one number type, so a whole number for a float parameter is a float. Ranges are
    the schema's: ``validate_parameters`` checks them.

    Raises:
        ConfigError: naming every problem: an unknown name, one outside ``allowed`` (it needs
            a restart), a value of the wrong type.
    """
    specs = {spec.name: spec for spec in parameter_specs()}
    typed: dict[str, Scalar] = {}
    problems: list[str] = []
    for name, given in changes.items():
        spec = specs.get(name)
        if spec is None:
            problems.append(f"unknown parameter {name}")
        elif not any(name.startswith(prefix) for prefix in allowed):
            problems.append(f"{name} cannot change while the chair runs")
        elif isinstance(spec.default, bool | str):
            if type(given) is not type(spec.default):
                problems.append(f"{name}: expected {type(spec.default).__name__}, got {given!r}")
            else:
                typed[name] = cast(Scalar, given)
        elif isinstance(given, bool) or not isinstance(given, int | float):
            problems.append(f"{name}: expected a number, got {given!r}")
        elif isinstance(spec.default, int) and not isinstance(given, int):
            problems.append(f"{name}: expected a whole number, got {given!r}")
        else:
            typed[name] = float(given) if isinstance(spec.default, float) else given
    if problems:
        raise ConfigError("; ".join(problems))
    return typed


def params_file(config: ChairConfig, node_names: tuple[str, ...] = ("/**",)) -> str:
    """The ros__parameters YAML of a config, for the given node names (default: every node)."""
    body = {"ros__parameters": unflatten(flatten(config))}
    header = (
        "# Generated from chair.yaml by `chairlink ros params`; do not edit by hand.\n"
        "# tests/ros/test_params.py checks it against configs/chair.yaml.\n"
    )
    return header + yaml.safe_dump({name: body for name in node_names}, sort_keys=False)
