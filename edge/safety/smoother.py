"""The velocity smoother: acceleration and jerk limits for a seated patient, the indoor speed cap.

Each axis (linear, angular) follows its target with bounded acceleration and bounded jerk and
never overshoots a target it could reach: every period it picks the largest acceleration,
within the jerk and acceleration bounds, from which braking at the jerk limit still lands on
the target. Stops bypass all of this: the speed ramps down at the emergency deceleration
(docs/hazards.md H-03), never more gently. Time is passed in; dt comes from it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from chairlink.config import DriveLimits
from edge.safety.arbiter import ArbitratedCommand, CommandSource
from edge.stack import CONTROL_PERIOD_NS
from edge.types import DriveCommand

__all__ = ["SmoothedCommand", "Smoother", "SmootherConfig"]

_DEFAULT_LIMITS = DriveLimits()


@dataclass(frozen=True, slots=True)
class SmootherConfig:
    """Limits of the smoother; all must be finite and positive.

    Sources (docs/safety.md): the speeds, accelerations and emergency deceleration are the
    chair's DriveLimits (1.1 m/s indoor cap = the WHILL airport service's ~4 km/h, below the
    1.32 m/s mean walking speed; 0.5 m/s^2 and 1.2 m/s^2 are conservative picks, H-03). The
    1.0 m/s^3 jerk is an unsourced pick (docs/references.md), well below the 2.5-12.3 m/s^3 a
    TRB study tested on seated passengers. The angular jerk and emergency
    angular deceleration scale the linear ones by the angular/linear acceleration ratio (2).
    """

    max_linear_mps: float = _DEFAULT_LIMITS.max_linear_mps
    """Indoor speed cap, forward and backward, m/s."""
    max_angular_radps: float = _DEFAULT_LIMITS.max_angular_radps
    """Turn-rate cap, rad/s."""
    max_linear_accel_mps2: float = _DEFAULT_LIMITS.max_linear_accel_mps2
    """Acceleration and planned deceleration, m/s^2."""
    max_angular_accel_radps2: float = _DEFAULT_LIMITS.max_angular_accel_radps2
    """Angular acceleration, rad/s^2."""
    max_linear_jerk_mps3: float = 1.0
    """Linear jerk, m/s^3."""
    max_angular_jerk_radps3: float = 2.0
    """Angular jerk, rad/s^3."""
    emergency_decel_mps2: float = _DEFAULT_LIMITS.emergency_decel_mps2
    """Deceleration of a stop, m/s^2: stops ramp down at this rate, never more gently."""
    emergency_angular_decel_radps2: float = 2.4
    """Angular deceleration of a stop, rad/s^2."""

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"SmootherConfig.{f.name} must be finite and > 0, got {value!r}")

    @staticmethod
    def from_limits(limits: DriveLimits) -> SmootherConfig:
        """The smoother for a chair's DriveLimits, default jerks scaled as documented."""
        ratio = limits.max_angular_accel_radps2 / limits.max_linear_accel_mps2
        return SmootherConfig(
            max_linear_mps=limits.max_linear_mps,
            max_angular_radps=limits.max_angular_radps,
            max_linear_accel_mps2=limits.max_linear_accel_mps2,
            max_angular_accel_radps2=limits.max_angular_accel_radps2,
            max_angular_jerk_radps3=1.0 * ratio,
            emergency_decel_mps2=limits.emergency_decel_mps2,
            emergency_angular_decel_radps2=limits.emergency_decel_mps2 * ratio,
        )


@dataclass(frozen=True, slots=True)
class SmoothedCommand:
    """The command sent to the chair this period, with where it came from and why."""

    stamp_ns: int
    linear_mps: float
    angular_radps: float
    source: CommandSource
    reason: str
    stop: bool

    def drive(self) -> DriveCommand:
        """As the DriveCommand the firmware bridge sends."""
        return DriveCommand(self.stamp_ns, self.linear_mps, self.angular_radps)


def _axis_step(
    speed: float, accel: float, target: float, *, max_accel: float, max_jerk: float, dt: float
) -> tuple[float, float]:
    """One period of one axis: the new speed and the acceleration used to reach it.

    Bringing an acceleration ``x`` back to zero at the jerk limit adds ``x**2 / (2 * jerk)``
    to the speed in continuous time, and never more in periods of any length (their sums are
    right Riemann sums of a falling line). So the largest ``x`` with
    ``x * dt + x**2 / (2 * jerk) <= error`` never overshoots, whatever the next periods' dt;
    near the target it shrinks quadratically, so the target is reached in a few periods.
    """
    jerk_step = max_jerk * dt
    accel = max(-max_accel, min(max_accel, accel))
    error = target - speed
    # Work towards a positive error: flip the axis when the target is below.
    sign = 1.0 if error >= 0.0 else -1.0
    low, high = sorted((sign * (accel - jerk_step), sign * (accel + jerk_step)))
    low, high = max(low, -max_accel), min(high, max_accel)
    root = -jerk_step + math.sqrt(jerk_step * jerk_step + 2.0 * max_jerk * abs(error))
    # Below ``low`` overshoot cannot be avoided (the target moved): brake as hard as allowed.
    chosen = sign * max(low, min(high, root))
    return speed + chosen * dt, chosen


def _ramp_down(speed: float, decel: float, dt: float) -> float:
    """``speed`` brought towards zero by ``decel * dt``, stopping at zero."""
    return math.copysign(max(abs(speed) - decel * dt, 0.0), speed)


class Smoother:
    """Carries speed and acceleration from one control period to the next."""

    def __init__(self, config: SmootherConfig = SmootherConfig()) -> None:
        """A smoother at rest; the first step takes one control period."""
        self.config = config
        self.linear_mps = 0.0
        self.angular_radps = 0.0
        self.linear_accel_mps2 = 0.0
        self.angular_accel_radps2 = 0.0
        self.last_ns: int | None = None
        self.time_not_advancing = 0
        """Calls whose time did not advance past the previous one (answered with no change)."""

    def step(self, now_ns: int, command: ArbitratedCommand) -> SmoothedCommand:
        """The command to send at ``now_ns`` towards ``command``."""
        cfg = self.config
        if self.last_ns is None:
            dt_ns = CONTROL_PERIOD_NS
        else:
            dt_ns = now_ns - self.last_ns
            if dt_ns <= 0:
                self.time_not_advancing += 1
                dt_ns = 0
        dt = dt_ns / 1e9
        if dt_ns > 0:
            self.last_ns = now_ns
        stop = command.stop or not (
            math.isfinite(command.linear) and math.isfinite(command.angular)
        )
        reason = command.reason if command.stop or not stop else "non-finite command: stop"
        if dt == 0.0:
            pass
        elif stop:
            # Stops bypass comfort limits: the patient is braked at the emergency rate.
            self.linear_mps = _ramp_down(self.linear_mps, cfg.emergency_decel_mps2, dt)
            self.angular_radps = _ramp_down(
                self.angular_radps, cfg.emergency_angular_decel_radps2, dt
            )
            self.linear_accel_mps2 = 0.0
            self.angular_accel_radps2 = 0.0
        else:
            target_linear = max(-cfg.max_linear_mps, min(cfg.max_linear_mps, command.linear))
            target_angular = max(
                -cfg.max_angular_radps, min(cfg.max_angular_radps, command.angular)
            )
            self.linear_mps, self.linear_accel_mps2 = _axis_step(
                self.linear_mps,
                self.linear_accel_mps2,
                target_linear,
                max_accel=cfg.max_linear_accel_mps2,
                max_jerk=cfg.max_linear_jerk_mps3,
                dt=dt,
            )
            self.angular_radps, self.angular_accel_radps2 = _axis_step(
                self.angular_radps,
                self.angular_accel_radps2,
                target_angular,
                max_accel=cfg.max_angular_accel_radps2,
                max_jerk=cfg.max_angular_jerk_radps3,
                dt=dt,
            )
        return SmoothedCommand(
            now_ns, self.linear_mps, self.angular_radps, command.source, reason, stop
        )
