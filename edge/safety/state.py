"""The safety state of every control period: what the safety layer decided, and why.

``combine`` folds the sensor watchdog's verdict, the stop requests of the period and (later)
the collision monitor's zone and limits into the limits the arbiter applies and one
``SafetyState`` value, published as /safety/state and, on change, as the MQTT safety message
(``chairlink.wire.payloads.SafetyMessage``, whose ``state`` is this ``mode``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from edge.safety.arbiter import SafetyLimits, StopRequest, StopSource
from edge.safety.sensor_watchdog import CameraStatus, LidarStatus, SensorVerdict

__all__ = ["ClosestObstacle", "SafetyMode", "SafetyState", "combine"]


class SafetyMode(StrEnum):
    """The safety layer's mode; the values are SafetyMessage.state's."""

    CLEAR = "clear"
    """Driving under the chair's own limits."""
    SLOW = "slow"
    """Driving under lower limits (a slowdown zone, lidar only)."""
    STOP = "stop"
    """Stopped by the safety layer or a remote stop."""
    ESTOP = "estop"
    """Stopped by a hardware input: e-stop button, MCU fault, bumper."""


@dataclass(frozen=True, slots=True)
class ClosestObstacle:
    """The obstacle nearest the chair's footprint."""

    id: int
    """Its track id."""
    label: str
    """Its class ("person", "bed", ...)."""
    clearance_m: float
    """Distance from the footprint, m."""


@dataclass(frozen=True, slots=True)
class SafetyState:
    """The safety layer's decision for one control period."""

    stamp_ns: int
    mode: SafetyMode
    reason: str
    """Why this mode; empty when clear."""
    limits: SafetyLimits
    """The limits applied (the chair's own when clear)."""
    stops: tuple[StopRequest, ...]
    """The stop requests in force; the arbiter stops for any."""
    lidar: LidarStatus
    camera: CameraStatus
    active_zone: str | None = None
    """The collision monitor's zone in force ("stop", "slowdown", ...), None when none."""
    closest: ClosestObstacle | None = None
    """The closest obstacle, None when none is seen."""

    @property
    def clearance_m(self) -> float | None:
        """The closest obstacle's clearance, m; None when none."""
        return None if self.closest is None else self.closest.clearance_m


def _lower(a: SafetyLimits, b: SafetyLimits) -> SafetyLimits:
    """The tighter of two limits on each axis; the reasons of those that bind, joined."""
    linear = min(_safe(a.max_linear_mps), _safe(b.max_linear_mps))
    angular = min(_safe(a.max_angular_radps), _safe(b.max_angular_radps))
    reasons = [x.reason for x in (a, b) if x.reason and _binds(x, linear, angular)]
    return SafetyLimits(linear, angular, "; ".join(reasons))


def _safe(limit: float) -> float:
    """A limit as the arbiter reads it: negative or non-finite counts as 0."""
    return limit if math.isfinite(limit) and limit > 0.0 else 0.0


def _binds(limits: SafetyLimits, linear: float, angular: float) -> bool:
    return _safe(limits.max_linear_mps) == linear or _safe(limits.max_angular_radps) == angular


def combine(
    now_ns: int,
    verdict: SensorVerdict,
    own: SafetyLimits,
    stops: Sequence[StopRequest] = (),
    *,
    zone_limits: SafetyLimits | None = None,
    active_zone: str | None = None,
    closest: ClosestObstacle | None = None,
) -> SafetyState:
    """The safety state for the period at ``now_ns``.

    Args:
        now_ns: The period's time, ns.
        verdict: The sensor watchdog's verdict for this period.
        own: The chair's own limits (no reason), the ceiling of every other.
        stops: Other stop requests now (remote, hardware, the collision monitor).
        zone_limits: The collision monitor's limits, when a zone or the approach check binds.
        active_zone: The zone in force, for the record.
        closest: The closest obstacle, for the record.

    Mode: ``estop`` when a hardware stop is in force, else ``stop`` for any stop (the
    watchdog's included) or limits that allow no motion, else ``slow`` when any limit is
    below the chair's own, else ``clear``.
    """
    all_stops = tuple(stops) + ((verdict.stop,) if verdict.stop is not None else ())
    limits = SafetyLimits(_safe(own.max_linear_mps), _safe(own.max_angular_radps))
    for extra in (verdict.limits, zone_limits):
        if extra is not None:
            limits = _lower(limits, extra)
    if any(s.source is StopSource.HARDWARE for s in all_stops):
        mode = SafetyMode.ESTOP
    elif all_stops or (limits.max_linear_mps == 0.0 and limits.max_angular_radps == 0.0):
        mode = SafetyMode.STOP
    elif (limits.max_linear_mps, limits.max_angular_radps) != (
        _safe(own.max_linear_mps),
        _safe(own.max_angular_radps),
    ):
        mode = SafetyMode.SLOW
    else:
        mode = SafetyMode.CLEAR
    if all_stops:
        reason = "; ".join(f"{s.source.value} stop: {s.reason}" for s in all_stops)
    elif mode is SafetyMode.CLEAR:
        reason = ""
    else:
        reason = limits.reason or "limits below the chair's own"
    return SafetyState(
        stamp_ns=now_ns,
        mode=mode,
        reason=reason,
        limits=limits,
        stops=all_stops,
        lidar=verdict.lidar,
        camera=verdict.camera,
        active_zone=active_zone,
        closest=closest,
    )
