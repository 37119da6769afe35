"""The firmware bridge's values as edge types: the MCU's STATUS and the host's odometry.

Pure functions, for hosts that talk to the motor MCU without ROS (``chairlink edge agent``).
They live on the edge side because the layout lets edge/ import firmware_bridge/ and never the
other way round; the ROS node has its own conversions to ROS messages
(chairlink_ros/firmware_conversions.py), which map the same fields the same way.
"""

from __future__ import annotations

from edge.types import ChairStatus, Odometry, Pose2D
from firmware_bridge.messages import Status, StatusFlag
from firmware_bridge.odometry import OdometryEstimate

__all__ = ["chair_status_from_mcu", "odometry_from_estimate"]


def chair_status_from_mcu(status: Status, stamp_ns: int) -> ChairStatus:
    """The ChairStatus of an MCU STATUS received at ``stamp_ns``.

    Current stays positive while discharging, as the MCU reports it (and as ChairStatus
    means it: a negative current is charging).
    """
    flags = status.flag
    return ChairStatus(
        stamp_ns=stamp_ns,
        battery_v=status.battery_v,
        current_a=status.current_a,
        soc=status.soc_pct / 100.0,
        armed=bool(flags & StatusFlag.ARMED),
        estop=bool(flags & StatusFlag.ESTOP),
        faults=status.faults,
        seat_occupied=bool(flags & StatusFlag.SEAT_OCCUPIED),
        belt_closed=bool(flags & StatusFlag.BELT_CLOSED),
        motion_refused=bool(flags & StatusFlag.MOTION_REFUSED),
        joystick_override=bool(flags & StatusFlag.JOYSTICK_OVERRIDE),
    )


def odometry_from_estimate(estimate: OdometryEstimate) -> Odometry:
    """The Odometry of the host's dead-reckoning estimate (odometry frame, body velocity)."""
    return Odometry(
        stamp_ns=estimate.stamp_ns,
        pose=Pose2D(estimate.x_m, estimate.y_m, estimate.theta_rad),
        linear_mps=estimate.linear_mps,
        angular_radps=estimate.angular_radps,
    )
