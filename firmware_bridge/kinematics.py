"""Differential-drive kinematics shared by the plant and the host's odometry."""

from __future__ import annotations

import math

__all__ = ["body_twist", "ticks_to_meters", "wheel_speeds"]


def wheel_speeds(
    linear_mps: float, angular_radps: float, separation_m: float
) -> tuple[float, float]:
    """Left and right wheel rim speeds (m/s) for a body twist."""
    half = angular_radps * separation_m / 2.0
    return linear_mps - half, linear_mps + half


def body_twist(left_mps: float, right_mps: float, separation_m: float) -> tuple[float, float]:
    """Body linear (m/s) and angular (rad/s) velocity from wheel rim speeds."""
    return (left_mps + right_mps) / 2.0, (right_mps - left_mps) / separation_m


def ticks_to_meters(ticks: int, radius_m: float, ticks_per_rev: int) -> float:
    """Distance a wheel rim travels for a number of encoder ticks."""
    return ticks * 2.0 * math.pi * radius_m / ticks_per_rev
