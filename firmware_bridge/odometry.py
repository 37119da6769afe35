"""Dead reckoning from the MCU's cumulative encoder ticks."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

from firmware_bridge.kinematics import body_twist, ticks_to_meters
from firmware_bridge.messages import Odometry

__all__ = ["OdometryEstimate", "OdometryIntegrator", "tick_delta"]


def tick_delta(current: int, previous: int) -> int:
    """Difference of two int32 tick counters, correct across wrap-around."""
    return ((current - previous + 2**31) % 2**32) - 2**31


@dataclass(frozen=True, slots=True)
class OdometryEstimate:
    """Pose in the odometry frame (m, rad) and body velocity (m/s, rad/s) at ``stamp_ns``."""

    stamp_ns: int
    x_m: float
    y_m: float
    theta_rad: float
    linear_mps: float
    angular_radps: float
    distance_m: float


class OdometryIntegrator:
    """Integrates tick deltas into a pose with midpoint (second-order Runge-Kutta) steps.

    Velocities are averaged over the last ``window`` samples: one 20 ms sample of a slow turn
    is a handful of ticks, so a single-sample rate would jump by a fifth with each tick (the
    same reason ros2_controllers' diff_drive_controller keeps a rolling window).
    """

    def __init__(
        self, radius_m: float, separation_m: float, ticks_per_rev: int, *, window: int = 5
    ) -> None:
        self._window: deque[tuple[float, float, float]] = deque(maxlen=window)
        self._radius = radius_m
        self._separation = separation_m
        self._tpr = ticks_per_rev
        self._last: Odometry | None = None
        self._x = 0.0
        self._y = 0.0
        self._theta = 0.0
        self._distance = 0.0
        self._estimate: OdometryEstimate | None = None

    @property
    def estimate(self) -> OdometryEstimate | None:
        """The latest estimate, or None before two samples arrived."""
        return self._estimate

    @staticmethod
    def _rebooted(previous: Odometry, sample: Odometry) -> bool:
        # The MCU's clock ran backwards (not a wrap at 2**32 ms): its counters restarted too.
        back = (previous.mcu_time_ms - sample.mcu_time_ms) & 0xFFFFFFFF
        return 0 < back < 2**31

    def reset(self) -> None:
        """Forget the previous sample (after a reconnect the MCU may have rebooted)."""
        self._last = None
        self._window.clear()

    def update(self, sample: Odometry, stamp_ns: int) -> OdometryEstimate | None:
        """Take the next sample; return the new estimate (None for the first sample)."""
        previous, self._last = self._last, sample
        if previous is None or self._rebooted(previous, sample):
            self._window.clear()
            return self._estimate
        left = ticks_to_meters(
            tick_delta(sample.left_ticks, previous.left_ticks), self._radius, self._tpr
        )
        right = ticks_to_meters(
            tick_delta(sample.right_ticks, previous.right_ticks), self._radius, self._tpr
        )
        ds, dtheta = body_twist(left, right, self._separation)
        heading = self._theta + dtheta / 2.0
        self._x += ds * math.cos(heading)
        self._y += ds * math.sin(heading)
        self._theta = math.atan2(math.sin(self._theta + dtheta), math.cos(self._theta + dtheta))
        self._distance += abs(ds)
        self._window.append((sample.interval_us / 1e6, ds, dtheta))
        elapsed = sum(step[0] for step in self._window)
        linear = sum(step[1] for step in self._window) / elapsed if elapsed > 0 else 0.0
        angular = sum(step[2] for step in self._window) / elapsed if elapsed > 0 else 0.0
        self._estimate = OdometryEstimate(
            stamp_ns, self._x, self._y, self._theta, linear, angular, self._distance
        )
        return self._estimate
