"""Conversions between firmware_bridge values and ROS messages, without a ROS graph."""

from __future__ import annotations

import dataclasses
import math

import pytest
from chairlink_ros.firmware_conversions import (
    battery_message,
    chair_status_message,
    command_from_twist,
    diagnostics_message,
    odometry_message,
    stamp,
)
from diagnostic_msgs.msg import DiagnosticStatus
from geometry_msgs.msg import Twist, TwistStamped
from sensor_msgs.msg import BatteryState

from firmware_bridge.driver import LinkStats
from firmware_bridge.messages import Fault, Status, StatusFlag
from firmware_bridge.odometry import OdometryEstimate

STATUS = Status(
    battery_mv=25_100,
    current_ma=2_300,
    soc_pct=87,
    motor_temp_left_dc=315,
    motor_temp_right_dc=322,
    faults=0,
    flags=StatusFlag.ARMED | StatusFlag.SEAT_OCCUPIED | StatusFlag.BELT_CLOSED,
    joystick_x_pct=0,
    joystick_y_pct=-50,
    seat_load_dkg=752,
)


def link(**changes: object) -> LinkStats:
    values: dict[str, object] = {
        "connected": True,
        "link_up": True,
        "frames_rx": 100,
        "frames_tx": 40,
        "crc_errors": 0,
        "decode_faults": {},
        "resyncs": 0,
        "drops": 0,
        "reconnects": 0,
        "link_timeouts": 0,
        "command_timeouts": 0,
        "ack_timeouts": 0,
        "acks": {"OK": 40},
        "rtt_ms": (3.0, 3.5),
        "last_error": "",
    }
    values.update(changes)
    return LinkStats(**values)  # type: ignore[arg-type]


def test_stamp_splits_nanoseconds() -> None:
    t = stamp(1_764_000_000_123_456_789)
    assert (t.sec, t.nanosec) == (1_764_000_000, 123_456_789)


def test_command_from_twist_and_twist_stamped() -> None:
    msg = TwistStamped()
    msg.twist.linear.x = 0.4
    msg.twist.angular.z = -0.2
    assert command_from_twist(msg) == pytest.approx((0.4, -0.2))
    assert command_from_twist(msg.twist) == pytest.approx((0.4, -0.2))


@pytest.mark.parametrize(
    ("field", "value"),
    [("linear.x", math.nan), ("angular.z", math.inf), ("linear.y", 0.3), ("angular.x", 0.1)],
)
def test_command_the_chair_cannot_follow_is_refused(field: str, value: float) -> None:
    msg = Twist()
    group, axis = field.split(".")
    setattr(getattr(msg, group), axis, value)
    with pytest.raises(ValueError, match=r"non-finite|cannot follow"):
        command_from_twist(msg)


def test_odometry_message_has_pose_heading_twist_and_covariance() -> None:
    estimate = OdometryEstimate(0, 1.0, 2.0, math.pi / 2, 0.5, 0.1, 3.0)
    msg = odometry_message(estimate, stamp(5), "odom", "base_link")
    assert (msg.header.frame_id, msg.child_frame_id) == ("odom", "base_link")
    assert msg.pose.pose.position.x == 1.0
    yaw = 2 * math.atan2(msg.pose.pose.orientation.z, msg.pose.pose.orientation.w)
    assert yaw == pytest.approx(math.pi / 2)
    assert msg.twist.twist.linear.x == 0.5
    assert msg.pose.covariance[0] == pytest.approx(0.01)
    assert msg.pose.covariance[35] == pytest.approx(0.03)
    assert msg.twist.covariance[14] == pytest.approx(1e6)


def test_battery_current_is_negative_while_discharging() -> None:
    msg = battery_message(STATUS, stamp(0), "base_link")
    assert msg.voltage == pytest.approx(25.1)
    assert msg.current == pytest.approx(-2.3)
    assert msg.percentage == pytest.approx(0.87)
    assert msg.power_supply_status == BatteryState.POWER_SUPPLY_STATUS_DISCHARGING
    assert math.isnan(msg.capacity)


def test_chair_status_carries_flags_and_link_counters() -> None:
    msg = chair_status_message(STATUS, link(crc_errors=4, reconnects=2), stamp(0), "base_link")
    assert (msg.armed, msg.seat_occupied, msg.belt_closed) == (True, True, True)
    assert (msg.estop, msg.motion_refused) == (False, False)
    assert msg.joystick_y == pytest.approx(-0.5)
    assert msg.seat_load == pytest.approx(75.2)
    assert msg.motor_temperature_left == pytest.approx(31.5)
    assert (msg.crc_errors, msg.reconnects, msg.link_up) == (4, 2, True)


def test_diagnostics_levels_follow_the_link_and_the_mcu() -> None:
    ok = diagnostics_message(
        "chair-01/motor-mcu", "/dev/x", link=link(), status=STATUS, watchdog_trips=0, time=stamp(0)
    )
    assert [s.level for s in ok.status] == [DiagnosticStatus.OK, DiagnosticStatus.OK]
    down = diagnostics_message(
        "c",
        "/dev/x",
        link=link(connected=False, link_up=False, last_error="gone"),
        status=None,
        watchdog_trips=0,
        time=stamp(0),
    )
    assert down.status[0].level == DiagnosticStatus.ERROR
    assert "gone" in down.status[0].message
    assert down.status[1].level == DiagnosticStatus.STALE
    faulted = dataclasses.replace(STATUS, faults=int(Fault.DRIVE_TIMEOUT))
    bad = diagnostics_message(
        "c", "/dev/x", link=link(crc_errors=1), status=faulted, watchdog_trips=1, time=stamp(0)
    )
    assert bad.status[0].level == DiagnosticStatus.WARN
    assert bad.status[1].level == DiagnosticStatus.ERROR
    assert "DRIVE_TIMEOUT" in bad.status[1].message
    assert {kv.key: kv.value for kv in bad.status[1].values}["watchdog_trips"] == "1"
