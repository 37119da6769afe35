"""The chair configuration (chair.yaml): one pydantic schema, validated at load.

Every value has a default that works on the simulator, so an empty file is a valid chair.
Defaults that matter for safety cite ../docs/firmware-protocol.md and docs/hazards.md, which
give their sources; the MCU receives its part over the protocol's CONFIG message, so wheel
geometry and limits live here and nowhere else.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from chairlink.errors import ConfigError

__all__ = [
    "ChairConfig",
    "DriveLimits",
    "FirmwareConfig",
    "IdentityConfig",
    "WheelGeometry",
    "load_chair_config",
]

PositiveFloat = Annotated[float, Field(gt=0, allow_inf_nan=False)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class IdentityConfig(_Frozen):
    """Who this chair is: its id and the site it serves (both appear in MQTT topics)."""

    chair_id: str = Field(default="chair-01", pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    site: str = Field(default="demo-hospital", pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")


class DriveLimits(_Frozen):
    """Motion limits the MCU enforces whatever the host asks.

    1.1 m/s is a walking-pace autonomous speed (WHILL's airport service runs at about 4 km/h,
    below the 1.32 m/s mean pedestrian speed); the accelerations are conservative picks that no
    source fixes yet (docs/hazards.md, H-03).
    """

    max_linear_mps: Annotated[float, Field(gt=0, le=4.17)] = 1.1
    max_angular_radps: Annotated[float, Field(gt=0, le=3.0)] = 0.8
    max_linear_accel_mps2: Annotated[float, Field(gt=0, le=3.0)] = 0.5
    max_angular_accel_radps2: Annotated[float, Field(gt=0, le=6.0)] = 1.0
    emergency_decel_mps2: Annotated[float, Field(gt=0, le=3.0)] = 1.2
    manual_max_linear_mps: Annotated[float, Field(gt=0, le=4.17)] = 0.8


class WheelGeometry(_Frozen):
    """Differential-drive geometry: drive-wheel radius, track width, encoder resolution."""

    radius_m: Annotated[float, Field(gt=0.05, le=0.5)] = 0.17
    separation_m: Annotated[float, Field(gt=0.2, le=1.2)] = 0.56
    ticks_per_rev: Annotated[int, Field(ge=16, le=65535)] = 4096


class FirmwareConfig(_Frozen):
    """The serial link to the motor MCU and the rules the MCU is configured with."""

    port: str = "/dev/ttyACM0"
    baud: Annotated[int, Field(ge=9600, le=4_000_000)] = 115200
    drive_timeout_s: Annotated[float, Field(ge=0.05, le=1.0)] = 0.2
    mcu_link_timeout_s: Annotated[float, Field(ge=0.1, le=5.0)] = 0.5
    host_link_timeout_s: Annotated[float, Field(ge=0.05, le=5.0)] = 0.3
    drive_refresh_hz: Annotated[float, Field(ge=5, le=200)] = 20.0
    heartbeat_hz: Annotated[float, Field(ge=1, le=100)] = 5.0
    command_timeout_s: Annotated[float, Field(gt=0, le=5.0)] = 0.5
    reconnect_min_s: PositiveFloat = 0.05
    reconnect_max_s: PositiveFloat = 2.0
    seat_occupied_kg: Annotated[float, Field(ge=1, le=100)] = 20.0
    refuse_unbelted: bool = True
    limits: DriveLimits = DriveLimits()
    wheels: WheelGeometry = WheelGeometry()

    @model_validator(mode="after")
    def _check_timing(self) -> FirmwareConfig:
        refresh_period = 1.0 / self.drive_refresh_hz
        if refresh_period * 2 > self.drive_timeout_s:
            raise ValueError(
                f"drive_refresh_hz {self.drive_refresh_hz} is too slow for drive_timeout_s "
                f"{self.drive_timeout_s}: at least two refreshes must fit in one timeout"
            )
        if 1.0 / self.heartbeat_hz >= self.mcu_link_timeout_s:
            raise ValueError(
                f"heartbeat_hz {self.heartbeat_hz} is too slow for mcu_link_timeout_s "
                f"{self.mcu_link_timeout_s}: the MCU would drop a live link"
            )
        if self.reconnect_min_s > self.reconnect_max_s:
            raise ValueError("reconnect_min_s must not exceed reconnect_max_s")
        return self


class ChairConfig(_Frozen):
    """One chair: identity and, part by part, everything it is configured with."""

    identity: IdentityConfig = IdentityConfig()
    firmware: FirmwareConfig = FirmwareConfig()


def _describe(err: ValidationError) -> str:
    lines = []
    for item in err.errors():
        where = ".".join(str(part) for part in item["loc"]) or "(top level)"
        lines.append(f"  {where}: {item['msg']}")
    return "\n".join(lines)


def load_chair_config(path: str | Path | None = None, **overrides: Any) -> ChairConfig:
    """Load and validate a chair.yaml; with no path, the defaults.

    Args:
        path: the YAML file, or None for the built-in defaults.
        overrides: top-level sections replacing those of the file (used by the CLI and tests).

    Raises:
        ConfigError: the file is missing, is not YAML, or a field is invalid; the message names
            the file and every offending field.
    """
    data: dict[str, Any] = {}
    source = "defaults"
    if path is not None:
        source = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as err:
            raise ConfigError(f"{source}: cannot read chair config: {err.strerror}") from err
        try:
            loaded = yaml.safe_load(text)
        except yaml.YAMLError as err:
            raise ConfigError(f"{source}: not valid YAML: {err}") from err
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ConfigError(
                f"{source}: expected a mapping at the top level, got {type(loaded).__name__}"
            )
        data = loaded
    data.update(overrides)
    try:
        return ChairConfig.model_validate(data)
    except ValidationError as err:
        raise ConfigError(f"{source}: invalid chair config:\n{_describe(err)}") from err
