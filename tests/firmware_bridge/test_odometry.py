"""Dead reckoning from cumulative ticks."""

from __future__ import annotations

import math

import pytest

from firmware_bridge.messages import Odometry
from firmware_bridge.odometry import OdometryIntegrator, tick_delta

RADIUS, SEPARATION, TPR = 0.17, 0.56, 4096
TICKS_PER_M = TPR / (2 * math.pi * RADIUS)


def test_tick_delta_survives_int32_wraparound() -> None:
    assert tick_delta(-(2**31) + 5, 2**31 - 5) == 10
    assert tick_delta(2**31 - 5, -(2**31) + 5) == -10
    assert tick_delta(100, 40) == 60


def test_straight_line_gives_distance_and_speed() -> None:
    odo = OdometryIntegrator(RADIUS, SEPARATION, TPR)
    assert odo.update(Odometry(0, 0, 20_000, 0), 0) is None
    ticks = 0
    for i in range(1, 51):
        ticks = round(i * 0.01 * TICKS_PER_M)
        estimate = odo.update(Odometry(ticks, ticks, 20_000, i * 20), i * 20_000_000)
    assert estimate is not None
    assert estimate.x_m == pytest.approx(0.5, abs=1e-3)
    assert estimate.y_m == pytest.approx(0.0)
    assert estimate.linear_mps == pytest.approx(0.5, abs=0.01)


def test_turning_on_the_spot_integrates_heading() -> None:
    odo = OdometryIntegrator(RADIUS, SEPARATION, TPR)
    odo.update(Odometry(0, 0, 20_000, 0), 0)
    quarter_turn_m = (math.pi / 2) * SEPARATION / 2
    n = round(quarter_turn_m * TICKS_PER_M)
    estimate = odo.update(Odometry(-n, n, 1_000_000, 1000), 1)
    assert estimate is not None
    assert estimate.theta_rad == pytest.approx(math.pi / 2, abs=1e-3)
    assert math.hypot(estimate.x_m, estimate.y_m) == pytest.approx(0.0, abs=1e-9)
    assert estimate.angular_radps == pytest.approx(math.pi / 2, abs=1e-3)


def test_reset_forgets_the_previous_sample() -> None:
    odo = OdometryIntegrator(RADIUS, SEPARATION, TPR)
    odo.update(Odometry(0, 0, 20_000, 0), 0)
    odo.reset()
    assert odo.update(Odometry(999_999, 999_999, 20_000, 0), 1) is None


def test_an_mcu_reboot_restarts_integration_instead_of_jumping() -> None:
    odo = OdometryIntegrator(RADIUS, SEPARATION, TPR)
    odo.update(Odometry(0, 0, 20_000, 1_000), 0)
    before = odo.update(Odometry(500, 500, 20_000, 1_020), 1)
    assert before is not None
    assert odo.update(Odometry(0, 0, 20_000, 5), 2) == before
    after = odo.update(Odometry(10, 10, 20_000, 25), 3)
    assert after is not None
    assert after.x_m > before.x_m
