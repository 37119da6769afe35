"""edge/ types to and from the message objects of a rosbags typestore; no ROS needed.

The typestore is ROS 2 Jazzy's standard types plus chairlink_interfaces, loaded from the
project's .msg files (``chairlink.interfaces.typestore``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from rosbags.typesys.store import Typestore

from edge.types import DriveCommand, Odometry, Pose2D, Scan

__all__ = [
    "LASER_SCAN",
    "ODOMETRY",
    "TWIST",
    "TWIST_STAMPED",
    "from_laser_scan",
    "from_odometry",
    "from_twist",
    "to_laser_scan",
    "to_odometry",
    "to_twist_stamped",
]

LASER_SCAN = "sensor_msgs/msg/LaserScan"
ODOMETRY = "nav_msgs/msg/Odometry"
TWIST_STAMPED = "geometry_msgs/msg/TwistStamped"
TWIST = "geometry_msgs/msg/Twist"

POSE_VARIANCE = (0.01, 0.01, 1e6, 1e6, 1e6, 0.03)
TWIST_VARIANCE = (0.002, 1e6, 1e6, 1e6, 1e6, 0.01)


def _stamp(store: Typestore, nanoseconds: int) -> Any:
    time_type = store.types["builtin_interfaces/msg/Time"]
    return time_type(sec=nanoseconds // 1_000_000_000, nanosec=nanoseconds % 1_000_000_000)


def _header(store: Typestore, nanoseconds: int, frame_id: str) -> Any:
    return store.types["std_msgs/msg/Header"](stamp=_stamp(store, nanoseconds), frame_id=frame_id)


def _nanoseconds(header: Any) -> int:
    return int(header.stamp.sec) * 1_000_000_000 + int(header.stamp.nanosec)


def _diagonal(values: tuple[float, ...]) -> np.ndarray:
    covariance = np.zeros(36, dtype=np.float64)
    covariance[::7] = values
    return covariance


def to_laser_scan(store: Typestore, scan: Scan) -> Any:
    """sensor_msgs/LaserScan of a Scan."""
    count = len(scan.ranges)
    return store.types[LASER_SCAN](
        header=_header(store, scan.stamp_ns, scan.frame_id),
        angle_min=scan.angle_min,
        angle_max=scan.angle_min + scan.angle_increment * (count - 1),
        angle_increment=scan.angle_increment,
        time_increment=scan.scan_time_s / count if count else 0.0,
        scan_time=scan.scan_time_s,
        range_min=scan.range_min,
        range_max=scan.range_max,
        ranges=np.asarray(scan.ranges, dtype=np.float32),
        intensities=np.zeros(0, dtype=np.float32),
    )


def from_laser_scan(message: Any) -> Scan:
    """A Scan of a sensor_msgs/LaserScan."""
    return Scan(
        stamp_ns=_nanoseconds(message.header),
        angle_min=float(message.angle_min),
        angle_increment=float(message.angle_increment),
        range_min=float(message.range_min),
        range_max=float(message.range_max),
        ranges=np.asarray(message.ranges, dtype=np.float32),
        frame_id=str(message.header.frame_id),
        scan_time_s=float(message.scan_time),
    )


def to_odometry(
    store: Typestore, odometry: Odometry, odom_frame: str = "odom", base_frame: str = "base_link"
) -> Any:
    """nav_msgs/Odometry of an Odometry."""
    types = store.types
    pose = odometry.pose
    return types[ODOMETRY](
        header=_header(store, odometry.stamp_ns, odom_frame),
        child_frame_id=base_frame,
        pose=types["geometry_msgs/msg/PoseWithCovariance"](
            pose=types["geometry_msgs/msg/Pose"](
                position=types["geometry_msgs/msg/Point"](x=pose.x, y=pose.y, z=0.0),
                orientation=types["geometry_msgs/msg/Quaternion"](
                    x=0.0, y=0.0, z=math.sin(pose.yaw / 2), w=math.cos(pose.yaw / 2)
                ),
            ),
            covariance=_diagonal(POSE_VARIANCE),
        ),
        twist=types["geometry_msgs/msg/TwistWithCovariance"](
            twist=_twist(store, odometry.linear_mps, odometry.angular_radps),
            covariance=_diagonal(TWIST_VARIANCE),
        ),
    )


def from_odometry(message: Any) -> Odometry:
    """An Odometry of a nav_msgs/Odometry (yaw from the quaternion)."""
    q = message.pose.pose.orientation
    yaw = math.atan2(2.0 * (q.w * q.z + q.x * q.y), 1.0 - 2.0 * (q.y * q.y + q.z * q.z))
    position = message.pose.pose.position
    return Odometry(
        stamp_ns=_nanoseconds(message.header),
        pose=Pose2D(float(position.x), float(position.y), yaw),
        linear_mps=float(message.twist.twist.linear.x),
        angular_radps=float(message.twist.twist.angular.z),
    )


def _twist(store: Typestore, linear: float, angular: float) -> Any:
    vector = store.types["geometry_msgs/msg/Vector3"]
    return store.types[TWIST](
        linear=vector(x=linear, y=0.0, z=0.0), angular=vector(x=0.0, y=0.0, z=angular)
    )


def to_twist_stamped(store: Typestore, command: DriveCommand, frame_id: str = "base_link") -> Any:
    """geometry_msgs/TwistStamped of a DriveCommand, as /cmd_vel carries it on Jazzy."""
    return store.types[TWIST_STAMPED](
        header=_header(store, command.stamp_ns, frame_id),
        twist=_twist(store, command.linear_mps, command.angular_radps),
    )


def from_twist(message: Any, stamp_ns: int) -> DriveCommand:
    """A DriveCommand of a TwistStamped, or of a plain Twist stamped with the bag's time."""
    if hasattr(message, "header"):
        stamp_ns = _nanoseconds(message.header)
        message = message.twist
    return DriveCommand(stamp_ns, float(message.linear.x), float(message.angular.z))
