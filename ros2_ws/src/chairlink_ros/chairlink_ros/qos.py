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

COMMANDS = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=10,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.VOLATILE,
)
"""Velocity commands and trip commands: reliable, keep last 10."""

STATE = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=1,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.TRANSIENT_LOCAL,
)
"""Latest-value state (chair status, battery, safety state): a late subscriber gets the last one."""

TELEMETRY = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=10,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.VOLATILE,
)
"""/odom and other derived streams: reliable, so reliable subscribers such as Nav2 match."""

DIAGNOSTICS = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=10,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.VOLATILE,
)
"""/diagnostics, as diagnostic_updater publishes it."""
