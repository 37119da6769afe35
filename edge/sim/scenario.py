"""Scenarios: a seeded YAML file that says what happens in one simulated run.

Example (scenarios/corridor-walk.yaml)::

    name: corridor-walk
    seed: 7
    site: stock                 # or a site folder, relative to this file
    duration_s: 120
    chair: {start: lobby, goal: b-305}
    people:
      - {start: a-door-a-104, goal: lobby, kind: visitor}
      - {start: a-103, goal: nurse-station, kind: patient, start_s: 5}
    random_people: 6            # more, with random routes, drawn from the seed
    objects:
      - {cls: bed, x: 30.0, y: 9.6, yaw: 0.0, length: 2.0, width: 0.9, z_max: 0.6}
    faults:
      - {kind: stack_silent, at_s: 20, duration_s: 3}
    vitals:
      patient_token: pt-7f3a9c    # pseudonymous, never a name or record number
      spo2_pct: 97
      pulse_bpm: 72
      events:
        - {kind: desaturation, at_s: 180, duration_s: 60, ramp_s: 20, spo2_pct: 86}
        - {kind: probe_off, at_s: 260, duration_s: 8}
    tilt:
      - {at_s: 40, duration_s: 12, pitch_deg: 4.8}   # a 1:12 ramp
"""

from __future__ import annotations

import math
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from chairlink.errors import ChairlinkError
from chairlink.yaml_file import read_yaml

__all__ = [
    "FaultKind",
    "Scenario",
    "ScenarioError",
    "TiltSpec",
    "VitalsEvent",
    "VitalsEventKind",
    "VitalsSpec",
    "load_scenario",
]


class ScenarioError(ChairlinkError):
    """A scenario file is missing or malformed; the message names the file and field."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class PoseSpec(_Model):
    """A pose in the map frame."""

    x: float
    y: float
    yaw: float = 0.0


Place = Annotated[str, Field(min_length=1)] | PoseSpec


class ChairSpec(_Model):
    """Where the chair starts and where it should go (waypoint names or poses)."""

    start: Place
    goal: Place | None = None
    soc: Annotated[float, Field(ge=0, le=1)] = 0.9
    seat_kg: Annotated[float, Field(ge=0, le=300)] = 72.0
    belt_closed: bool = True


class PersonSpec(_Model):
    """One person walking from a waypoint to another."""

    start: str
    goal: str
    kind: str = "visitor"
    speed_mps: Annotated[float, Field(ge=0, le=3)] | None = None
    start_s: Annotated[float, Field(ge=0)] = 0.0


class ObjectSpec(_Model):
    """A static object: a circle (radius) or a box (length and width)."""

    cls: str
    x: float
    y: float
    yaw: float = 0.0
    radius: Annotated[float, Field(gt=0, le=2)] | None = None
    length: Annotated[float, Field(gt=0, le=5)] | None = None
    width: Annotated[float, Field(gt=0, le=5)] | None = None
    z_min: Annotated[float, Field(ge=0)] = 0.0
    z_max: Annotated[float, Field(gt=0)] = 1.0

    @model_validator(mode="after")
    def _one_shape(self) -> ObjectSpec:
        if (self.radius is None) == (self.length is None or self.width is None):
            raise ValueError("give either radius (a circle) or length and width (a box)")
        if self.z_min >= self.z_max:
            raise ValueError(f"z_min {self.z_min} must be below z_max {self.z_max}")
        return self


class FaultKind(StrEnum):
    """Faults a scenario can inject."""

    LIDAR_DROPOUT = "lidar_dropout"
    LIDAR_BLINDED = "lidar_blinded"
    CAMERA_FROZEN = "camera_frozen"
    LINK_LOSS = "link_loss"
    STACK_SILENT = "stack_silent"


class FaultSpec(_Model):
    """A fault from ``at_s`` for ``duration_s``; ``rate`` for dropouts."""

    kind: FaultKind
    at_s: Annotated[float, Field(ge=0)]
    duration_s: Annotated[float, Field(gt=0)]
    rate: Annotated[float, Field(ge=0, le=1)] = 1.0

    def active(self, t_s: float) -> bool:
        """Whether the fault is in force at ``t_s``."""
        return self.at_s <= t_s < self.at_s + self.duration_s


class VitalsEventKind(StrEnum):
    """What happens to the patient (or the probe)."""

    DESATURATION = "desaturation"
    TACHYCARDIA = "tachycardia"
    BRADYCARDIA = "bradycardia"
    PROBE_OFF = "probe_off"


class VitalsEvent(_Model):
    """A change of the patient's readings from ``at_s`` for ``duration_s``, ramped in and out."""

    kind: VitalsEventKind
    at_s: Annotated[float, Field(ge=0)]
    duration_s: Annotated[float, Field(gt=0)]
    ramp_s: Annotated[float, Field(ge=0)] = 0.0
    spo2_pct: Annotated[float, Field(ge=50, le=100)] | None = None
    pulse_bpm: Annotated[float, Field(ge=20, le=250)] | None = None


class VitalsSpec(_Model):
    """The patient's baseline readings and scripted events; the token is pseudonymous."""

    patient_token: str = Field(default="pt-0000", pattern=r"^pt-[0-9a-f]{4,32}$")
    spo2_pct: Annotated[float, Field(ge=50, le=100)] = 97.0
    pulse_bpm: Annotated[float, Field(ge=20, le=250)] = 72.0
    events: list[VitalsEvent] = []


class TiltSpec(_Model):
    """A stretch of tilted floor (a ramp, a threshold), ramped in and out."""

    at_s: Annotated[float, Field(ge=0)]
    duration_s: Annotated[float, Field(gt=0)]
    ramp_s: Annotated[float, Field(ge=0)] = 1.0
    pitch_deg: Annotated[float, Field(ge=-30, le=30)] = 0.0
    roll_deg: Annotated[float, Field(ge=-30, le=30)] = 0.0


class Scenario(_Model):
    """One seeded run."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    seed: Annotated[int, Field(ge=0, lt=2**63)] = 0
    site: str = "stock"
    duration_s: Annotated[float, Field(gt=0, le=24 * 3600)] = 120.0
    chair: ChairSpec
    people: list[PersonSpec] = []
    random_people: Annotated[int, Field(ge=0, le=200)] = 0
    objects: list[ObjectSpec] = []
    faults: list[FaultSpec] = []
    vitals: VitalsSpec = VitalsSpec()
    tilt: list[TiltSpec] = []
    base_dir: Path = Path()

    def fault_active(self, kind: FaultKind, t_s: float) -> FaultSpec | None:
        """The fault of this kind in force at ``t_s``, if any."""
        return next((f for f in self.faults if f.kind == kind and f.active(t_s)), None)

    def with_seed(self, seed: int) -> Scenario:
        """The same scenario with another seed (validated)."""
        return self.changed(seed=seed)

    def changed(self, **fields: Any) -> Scenario:
        """The same scenario with some fields replaced, validated like the file was.

        Raises:
            ScenarioError: a replaced value is invalid.
        """
        try:
            return Scenario.model_validate({**self.model_dump(), **fields})
        except ValidationError as err:
            raise ScenarioError(f"{self.name}: invalid override: {_describe(err)}") from err


def _describe(err: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in err.errors()
    )


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file.

    Raises:
        ScenarioError: the file is missing, not YAML, or a field is invalid; the message names
            the file and each field.
    """
    path = Path(path)
    raw: Any = read_yaml(path, "scenario", ScenarioError)
    if raw is None:
        raise ScenarioError(f"{path}: empty; a scenario names at least its chair's start and goal")
    if not isinstance(raw, dict):
        raise ScenarioError(
            f"{path}: expected a mapping at the top level, got {type(raw).__name__}"
        )
    if "base_dir" in raw:
        raise ScenarioError(f"{path}: base_dir is set by the loader, not the file")
    try:
        scenario = Scenario.model_validate({**raw, "base_dir": path.parent})
    except ValidationError as err:
        raise ScenarioError(f"{path}: invalid scenario: {_describe(err)}") from err
    if not math.isfinite(scenario.duration_s):
        raise ScenarioError(f"{path}: duration_s must be finite")
    return scenario
