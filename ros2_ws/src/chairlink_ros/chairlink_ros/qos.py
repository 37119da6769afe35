"""The QoS profiles every chairlink node uses, in one place.

Sensors are best effort with a short queue (a late scan is worth less than the next one);
commands are reliable, depth 10, as in the ROS 2 demos; state topics a late joiner needs
(status) are transient local.
"""

from __future__ import annotations

from rclpy.qos import (
    DurabilityPolicy,
    HistoryPolicy,
    QoSProfile,
    ReliabilityPolicy,
    qos_profile_sensor_data,
)

__all__ = ["COMMANDS", "DIAGNOSTICS", "SENSORS", "STATE", "TELEMETRY"]

SENSORS: QoSProfile = qos_profile_sensor_data
"""Scans, images, IMU: best effort, keep last 5."""

# Commands, telemetry and diagnostics share one profile, named apart so each use says what
# it is for: reliable, volatile, keep last 10, as the ROS 2 demos do.
_RELIABLE_10 = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=10,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.VOLATILE,
)

COMMANDS = _RELIABLE_10
"""Velocity commands and trip commands: reliable, keep last 10."""

TELEMETRY = _RELIABLE_10
"""/odom and other derived streams: reliable, so reliable subscribers such as Nav2 match."""

DIAGNOSTICS = _RELIABLE_10
"""/diagnostics, as diagnostic_updater publishes it."""

STATE = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=1,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.TRANSIENT_LOCAL,
)
"""Latest-value state (chair status, battery, safety state): a late subscriber gets the last one."""
