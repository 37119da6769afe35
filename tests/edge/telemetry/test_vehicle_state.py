"""VehicleState: the sample the monitor gets from odometry and the MCU's status."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from pydantic import ValidationError

from edge.telemetry.vehicle_state import VehicleState, mode_of
from edge.types import Odometry, Pose2D
from tests.edge.chair_values import HEALTHY_STATUS

STATUS = replace(HEALTHY_STATUS, current_a=3.0, soc=0.764)
MOVING = Odometry(0, Pose2D(3.0, 4.0, 0.5), 0.8, 0.1)
STILL = Odometry(0, Pose2D(3.0, 4.0, 0.5), 0.0, 0.0)


def test_no_sample_until_odometry_and_status_have_both_arrived() -> None:
    state = VehicleState()
    assert state.sample(1) is None
    state.odometry = MOVING
    assert state.sample(1) is None
    state.status = STATUS
    sample = state.sample(7)
    assert sample is not None
    assert (sample.stamp_ns, sample.x_m, sample.y_m, sample.yaw_rad) == (7, 3.0, 4.0, 0.5)
    assert (sample.speed_mps, sample.turn_radps, sample.battery_pct) == (0.8, 0.1, 76.4)
    assert (sample.mode, sample.faults) == ("autonomous", [])


@pytest.mark.parametrize(
    ("changes", "odometry", "mode"),
    [
        ({"estop": True, "faults": 0x10, "joystick_override": True}, MOVING, "estop"),
        ({"faults": 0x01, "joystick_override": True}, MOVING, "fault"),
        ({"current_a": -4.0}, STILL, "charging"),
        ({"joystick_override": True}, MOVING, "manual"),
        ({}, STILL, "idle"),
        ({"armed": False}, MOVING, "idle"),
    ],
)
def test_mode_is_the_most_severe_that_holds(
    changes: dict[str, object], odometry: Odometry, mode: str
) -> None:
    assert mode_of(replace(STATUS, **changes), odometry) == mode  # type: ignore[arg-type]


def test_faults_are_named_and_unknown_bits_kept() -> None:
    state = VehicleState(odometry=STILL, status=replace(STATUS, faults=0x0001 | 0x0010 | 0x0100))
    sample = state.sample(0)
    assert sample is not None
    assert sample.faults == ["drive_timeout", "battery_critical", "fault_0x0100"]


def test_state_of_charge_out_of_range_is_clamped_to_a_percentage() -> None:
    sample = VehicleState(odometry=STILL, status=replace(STATUS, soc=1.3)).sample(0)
    assert sample is not None
    assert sample.battery_pct == 100.0


def test_unknown_charge_goes_as_none_and_a_nan_pose_is_refused() -> None:
    sample = VehicleState(odometry=STILL, status=replace(STATUS, soc=math.nan)).sample(0)
    assert sample is not None
    assert sample.battery_pct is None
    broken = Odometry(0, Pose2D(math.nan, 4.0, 0.5), 0.0, 0.0)
    with pytest.raises(ValidationError, match="x_m"):
        VehicleState(odometry=broken, status=STATUS).sample(0)


def test_a_stale_state_is_a_fault_unless_the_chair_is_in_estop() -> None:
    state = VehicleState(odometry=MOVING, status=STATUS)
    sample = state.sample(0, stale=True)
    assert sample is not None
    assert (sample.mode, sample.faults) == ("fault", ["state_stale"])
    state.status = replace(STATUS, estop=True)
    held = state.sample(0, stale=True)
    assert held is not None
    assert held.mode == "estop"
