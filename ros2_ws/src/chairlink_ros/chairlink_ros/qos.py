"""The QoS profiles every chairlink node uses, in one place.

Sensors are best effort with a short queue (a late scan is worth less than the next one);
commands are reliable, depth 10, as in the ROS 2 demos; state topics a late joiner needs
(status) are transient local. tf, tf_static and map use the profiles tf2_ros and Nav2's
map_server use, so every ROS tool matches them.
"""

from __future__ import annotations

from rclpy.qos import (
    DurabilityPolicy,
    HistoryPolicy,
    QoSProfile,
    ReliabilityPolicy,
    qos_profile_sensor_data,
)

__all__ = ["COMMANDS", "DIAGNOSTICS", "MAP", "SENSORS", "STATE", "TELEMETRY", "TF", "TF_STATIC"]

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

# Latched topics: reliable, transient local, keep last 1, for the last value to reach a late
# subscriber; tf2_ros's StaticBroadcasterQoS and map_server's map are exactly this.
_LATCHED = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=1,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.TRANSIENT_LOCAL,
)

STATE = _LATCHED
"""Latest-value state (chair status, battery, safety state): a late subscriber gets the last one."""

TF_STATIC = _LATCHED
"""tf_static: one message of every fixed transform, which a late subscriber still receives."""

MAP = _LATCHED
"""The map (nav_msgs/OccupancyGrid), latched as map_server publishes it."""

TF = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=100,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.VOLATILE,
)
"""tf: reliable, volatile, keep last 100, as tf2_ros's TransformBroadcaster publishes."""
