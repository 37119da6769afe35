"""The MCU's STATUS and the host's odometry estimate as edge types."""

from __future__ import annotations

import pytest

from edge.firmware_conversions import chair_status_from_mcu, odometry_from_estimate
from edge.telemetry.vehicle_state import mode_of
from edge.types import Odometry, Pose2D
from firmware_bridge.messages import Fault, Status, StatusFlag
from firmware_bridge.odometry import OdometryEstimate


def mcu_status(flags: StatusFlag, faults: Fault = Fault.NONE, current_ma: int = 2500) -> Status:
    return Status(
        battery_mv=25120,
        current_ma=current_ma,
        soc_pct=76,
        motor_temp_left_dc=312,
        motor_temp_right_dc=305,
        faults=int(faults),
        flags=int(flags),
        joystick_x_pct=0,
        joystick_y_pct=0,
        seat_load_dkg=780,
    )


def test_status_fields_and_flags_map_to_the_chair_status() -> None:
    flags = StatusFlag.ARMED | StatusFlag.SEAT_OCCUPIED | StatusFlag.BELT_CLOSED
    status = chair_status_from_mcu(mcu_status(flags), 123)
    assert status.stamp_ns == 123
    assert status.battery_v == pytest.approx(25.12)
    assert status.current_a == pytest.approx(2.5)
    assert status.soc == pytest.approx(0.76)
    assert status.armed
    assert status.seat_occupied
    assert status.belt_closed
    assert not status.estop
    assert not status.motion_refused
    assert not status.joystick_override
    assert status.faults == 0


@pytest.mark.parametrize(
    ("flags", "faults", "current_ma", "mode"),
    [
        (StatusFlag.ESTOP | StatusFlag.JOYSTICK_OVERRIDE, Fault.NONE, 100, "estop"),
        (StatusFlag.ARMED, Fault.LINK_LOST, 100, "fault"),
        (StatusFlag.NONE, Fault.NONE, -3000, "charging"),
        (StatusFlag.JOYSTICK_OVERRIDE, Fault.NONE, 100, "manual"),
        (StatusFlag.ARMED | StatusFlag.MOTION_REFUSED, Fault.NONE, 100, "idle"),
    ],
)
def test_the_monitor_sees_the_mcus_state_as_the_right_mode(
    flags: StatusFlag, faults: Fault, current_ma: int, mode: str
) -> None:
    status = chair_status_from_mcu(mcu_status(flags, faults, current_ma), 0)
    assert status.faults == int(faults)
    assert status.motion_refused == bool(flags & StatusFlag.MOTION_REFUSED)
    assert mode_of(status, Odometry(0, Pose2D(), 0.0, 0.0)) == mode


def test_an_odometry_estimate_becomes_odometry() -> None:
    estimate = OdometryEstimate(7, 1.5, -2.0, 0.3, 0.4, -0.1, 12.0)
    assert odometry_from_estimate(estimate) == Odometry(7, Pose2D(1.5, -2.0, 0.3), 0.4, -0.1)
