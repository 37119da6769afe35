"""Conversions between firmware_bridge values and ROS messages; no rclpy here.

The node calls these and nothing else touches message fields, so they are tested fast, without
a ROS graph, and the node stays a thin adapter.
"""

from __future__ import annotations

import math

from builtin_interfaces.msg import Time
from chairlink_interfaces.msg import ChairStatus
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from geometry_msgs.msg import Twist, TwistStamped
from nav_msgs.msg import Odometry
from sensor_msgs.msg import BatteryState

from edge.rosbag.conversions import POSE_VARIANCE, TWIST_VARIANCE, covariance_diagonal
from firmware_bridge.driver import LinkStats
from firmware_bridge.messages import Fault, Status, StatusFlag
from firmware_bridge.odometry import OdometryEstimate

__all__ = [
    "battery_message",
    "chair_status_message",
    "command_from_twist",
    "diagnostics_message",
    "odometry_message",
    "stamp",
]


def stamp(nanoseconds: int) -> Time:
    """A builtin_interfaces/Time from integer nanoseconds."""
    return Time(sec=nanoseconds // 1_000_000_000, nanosec=nanoseconds % 1_000_000_000)


def command_from_twist(message: Twist | TwistStamped) -> tuple[float, float]:
    """Linear x (m/s) and angular z (rad/s) of a velocity command.

    Raises:
        ValueError: a component is NaN or infinite, or the command asks for motion the chair
            cannot make (lateral, vertical, roll or pitch).
    """
    twist = message.twist if isinstance(message, TwistStamped) else message
    linear, angular = float(twist.linear.x), float(twist.angular.z)
    if not (math.isfinite(linear) and math.isfinite(angular)):
        raise ValueError(f"non-finite velocity command: linear {linear}, angular {angular}")
    others = (twist.linear.y, twist.linear.z, twist.angular.x, twist.angular.y)
    if any(not math.isfinite(v) or abs(v) > 1e-6 for v in others):
        raise ValueError(f"a differential-drive chair cannot follow {others} (y, z, roll, pitch)")
    return linear, angular


def odometry_message(
    estimate: OdometryEstimate, time: Time, odom_frame: str, base_frame: str
) -> Odometry:
    """nav_msgs/Odometry of a dead-reckoning estimate."""
    msg = Odometry()
    msg.header.stamp = time
    msg.header.frame_id = odom_frame
    msg.child_frame_id = base_frame
    msg.pose.pose.position.x = estimate.x_m
    msg.pose.pose.position.y = estimate.y_m
    msg.pose.pose.orientation.z = math.sin(estimate.theta_rad / 2.0)
    msg.pose.pose.orientation.w = math.cos(estimate.theta_rad / 2.0)
    msg.pose.covariance = covariance_diagonal(POSE_VARIANCE)
    msg.twist.twist.linear.x = estimate.linear_mps
    msg.twist.twist.angular.z = estimate.angular_radps
    msg.twist.covariance = covariance_diagonal(TWIST_VARIANCE)
    return msg


def battery_message(status: Status, time: Time, frame_id: str) -> BatteryState:
    """sensor_msgs/BatteryState; current is negative while discharging, as REP 145 says."""
    msg = BatteryState()
    msg.header.stamp = time
    msg.header.frame_id = frame_id
    msg.voltage = status.battery_v
    msg.current = -status.current_a
    msg.percentage = status.soc_pct / 100.0
    msg.charge = math.nan
    msg.capacity = math.nan
    msg.design_capacity = math.nan
    msg.temperature = math.nan
    msg.power_supply_status = (
        BatteryState.POWER_SUPPLY_STATUS_DISCHARGING
        if status.current_a > 0
        else BatteryState.POWER_SUPPLY_STATUS_NOT_CHARGING
    )
    msg.power_supply_health = (
        BatteryState.POWER_SUPPLY_HEALTH_DEAD
        if status.fault & Fault.BATTERY_CRITICAL
        else BatteryState.POWER_SUPPLY_HEALTH_GOOD
    )
    msg.power_supply_technology = BatteryState.POWER_SUPPLY_TECHNOLOGY_UNKNOWN
    msg.present = True
    return msg


def chair_status_message(
    status: Status | None, link: LinkStats, time: Time, frame_id: str
) -> ChairStatus:
    """chairlink_interfaces/ChairStatus of the latest MCU status and the link counters."""
    msg = ChairStatus()
    msg.header.stamp = time
    msg.header.frame_id = frame_id
    if status is not None:
        flags = status.flag
        msg.battery_voltage = status.battery_v
        msg.battery_current = status.current_a
        msg.battery_soc = status.soc_pct / 100.0
        msg.motor_temperature_left = status.motor_temp_left_dc / 10.0
        msg.motor_temperature_right = status.motor_temp_right_dc / 10.0
        msg.armed = bool(flags & StatusFlag.ARMED)
        msg.estop = bool(flags & StatusFlag.ESTOP)
        msg.configured = bool(flags & StatusFlag.CONFIGURED)
        msg.braking = bool(flags & StatusFlag.BRAKING)
        msg.motion_refused = bool(flags & StatusFlag.MOTION_REFUSED)
        msg.joystick_override = bool(flags & StatusFlag.JOYSTICK_OVERRIDE)
        msg.joystick_x = status.joystick_x_pct / 100.0
        msg.joystick_y = status.joystick_y_pct / 100.0
        msg.seat_occupied = bool(flags & StatusFlag.SEAT_OCCUPIED)
        msg.seat_load = status.seat_load_kg
        msg.belt_closed = bool(flags & StatusFlag.BELT_CLOSED)
        msg.faults = status.faults
    msg.link_up = link.link_up
    msg.frames_received = link.frames_rx
    msg.frames_sent = link.frames_tx
    msg.crc_errors = link.crc_errors
    msg.resyncs = link.resyncs
    msg.frames_dropped = link.drops
    msg.reconnects = link.reconnects
    msg.link_timeouts = link.link_timeouts
    return msg


def _fault_names(bits: int) -> str:
    return ",".join(f.name for f in Fault if f.value and bits & f.value and f.name) or "none"


def diagnostics_message(
    hardware_id: str,
    port: str,
    *,
    link: LinkStats,
    status: Status | None,
    watchdog_trips: int,
    time: Time,
) -> DiagnosticArray:
    """/diagnostics: one status for the serial link, one for the motor controller."""
    if not link.connected:
        link_level, link_text = (
            DiagnosticStatus.ERROR,
            f"port closed: {link.last_error or 'opening'}",
        )
    elif not link.link_up:
        link_level, link_text = DiagnosticStatus.ERROR, "no frames from the MCU"
    elif link.crc_errors or link.drops:
        link_level, link_text = DiagnosticStatus.WARN, "link up, with errors"
    else:
        link_level, link_text = DiagnosticStatus.OK, "link up"
    link_status = DiagnosticStatus(
        level=link_level,
        name="chairlink: motor serial link",
        message=link_text,
        hardware_id=hardware_id,
        values=[
            KeyValue(key="port", value=port),
            KeyValue(key="connected", value=str(link.connected)),
            KeyValue(key="link_up", value=str(link.link_up)),
            KeyValue(key="frames_received", value=str(link.frames_rx)),
            KeyValue(key="frames_sent", value=str(link.frames_tx)),
            KeyValue(key="crc_errors", value=str(link.crc_errors)),
            KeyValue(key="resyncs", value=str(link.resyncs)),
            KeyValue(key="frames_dropped", value=str(link.drops)),
            KeyValue(key="reconnects", value=str(link.reconnects)),
            KeyValue(key="link_timeouts", value=str(link.link_timeouts)),
            KeyValue(key="ack_timeouts", value=str(link.ack_timeouts)),
            KeyValue(key="rtt_p99_ms", value=f"{link.rtt_percentile(99):.2f}"),
            KeyValue(key="last_error", value=link.last_error),
        ],
    )
    if status is None:
        mcu_level, mcu_text, faults = DiagnosticStatus.STALE, "no status yet", "unknown"
    else:
        faults = _fault_names(status.faults)
        flags = status.flag
        if status.faults or flags & StatusFlag.ESTOP:
            mcu_level, mcu_text = DiagnosticStatus.ERROR, f"faults: {faults}"
            if flags & StatusFlag.ESTOP:
                mcu_text = "e-stop set" if not status.faults else f"e-stop set, faults: {faults}"
        elif not flags & StatusFlag.ARMED:
            mcu_level, mcu_text = DiagnosticStatus.WARN, "disarmed"
        else:
            mcu_level, mcu_text = DiagnosticStatus.OK, "armed"
    mcu_status = DiagnosticStatus(
        level=mcu_level,
        name="chairlink: motor controller",
        message=mcu_text,
        hardware_id=hardware_id,
        values=[
            KeyValue(key="faults", value=faults),
            KeyValue(key="watchdog_trips", value=str(watchdog_trips)),
        ],
    )
    msg = DiagnosticArray()
    msg.header.stamp = time
    msg.status = [link_status, mcu_status]
    return msg
