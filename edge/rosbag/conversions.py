"""edge/ types to and from the message objects of a rosbags typestore; no ROS needed.

The one edge -> ROS mapping (and ROS -> edge, for what comes in): every chairlink node builds
the messages it publishes here, serialises them with edge.rosbag.cdr.serialize and publishes
the bytes raw, and the bag writer records the same bytes. This module holds the sensors, the
odometry and the velocity command, and re-exports the chair's own messages
(edge/rosbag/chair.py) and the diagnostics (edge/rosbag/diagnostics.py). The typestore is
ROS 2 Jazzy's standard types plus chairlink_interfaces, loaded from the project's .msg files
(``chairlink.interfaces.typestore``).
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np
from rosbags.typesys.store import Typestore

from edge.rosbag.cdr import from_header as _nanoseconds
from edge.rosbag.cdr import to_header as _header
from edge.rosbag.chair import (
    BATTERY_STATE,
    CHAIR_STATUS,
    PATIENT_VITALS,
    TRIP_COMMAND,
    from_chair_status,
    from_patient_vitals,
    to_battery_state,
    to_chair_status,
    to_patient_vitals,
    to_trip_command,
)
from edge.rosbag.diagnostics import DIAGNOSTIC_ARRAY, to_diagnostic_array
from edge.rosbag.errors import ConversionError
from edge.types import (
    CameraFrame,
    CameraIntrinsics,
    DriveCommand,
    Odometry,
    Pose2D,
    Scan,
    Tilt,
)

__all__ = [
    "BATTERY_STATE",
    "CAMERA_INFO",
    "CHAIR_STATUS",
    "COMPRESSED_IMAGE",
    "DIAGNOSTIC_ARRAY",
    "IMAGE",
    "IMU",
    "LASER_SCAN",
    "ODOMETRY",
    "PATIENT_VITALS",
    "POSE_VARIANCE",
    "TRIP_COMMAND",
    "TWIST",
    "TWIST_STAMPED",
    "TWIST_VARIANCE",
    "command_from_twist",
    "covariance_diagonal",
    "from_camera_info",
    "from_chair_status",
    "from_image",
    "from_imu",
    "from_laser_scan",
    "from_odometry",
    "from_patient_vitals",
    "from_twist",
    "to_battery_state",
    "to_camera_info",
    "to_chair_status",
    "to_compressed_image",
    "to_diagnostic_array",
    "to_image",
    "to_imu",
    "to_laser_scan",
    "to_odometry",
    "to_patient_vitals",
    "to_trip_command",
    "to_twist_stamped",
]

LASER_SCAN = "sensor_msgs/msg/LaserScan"
IMAGE = "sensor_msgs/msg/Image"
COMPRESSED_IMAGE = "sensor_msgs/msg/CompressedImage"
CAMERA_INFO = "sensor_msgs/msg/CameraInfo"
IMU = "sensor_msgs/msg/Imu"
ODOMETRY = "nav_msgs/msg/Odometry"
TWIST_STAMPED = "geometry_msgs/msg/TwistStamped"
TWIST = "geometry_msgs/msg/Twist"

# Odometry's variances on the diagonal: x, y, z, roll, pitch, yaw. What a wheeled base cannot
# measure (z, roll, pitch) is marked unknown with a huge variance, as robot_localization expects.
# The live /odom of firmware_bridge_node uses the same values.
POSE_VARIANCE = (0.01, 0.01, 1e6, 1e6, 1e6, 0.03)
TWIST_VARIANCE = (0.002, 1e6, 1e6, 1e6, 1e6, 0.01)


def covariance_diagonal(values: tuple[float, ...]) -> np.ndarray:
    """A 6 x 6 row-major covariance (36 values) with ``values`` on its diagonal."""
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
            covariance=covariance_diagonal(POSE_VARIANCE),
        ),
        twist=types["geometry_msgs/msg/TwistWithCovariance"](
            twist=_twist(store, odometry.linear_mps, odometry.angular_radps),
            covariance=covariance_diagonal(TWIST_VARIANCE),
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


def command_from_twist(message: Any, stamp_ns: int) -> DriveCommand:
    """The DriveCommand of a velocity command (TwistStamped or Twist) a node receives.

    Unlike ``from_twist``, which reads what a bag holds, this refuses what the chair must not
    follow.

    Raises:
        ConversionError: a component is NaN or infinite, or the command asks for motion the
            chair cannot make (lateral, vertical, roll or pitch).
    """
    twist = message.twist if hasattr(message, "header") else message
    linear, angular = float(twist.linear.x), float(twist.angular.z)
    if not (math.isfinite(linear) and math.isfinite(angular)):
        raise ConversionError(f"non-finite velocity command: linear {linear}, angular {angular}")
    others = (twist.linear.y, twist.linear.z, twist.angular.x, twist.angular.y)
    if any(not math.isfinite(v) or abs(v) > 1e-6 for v in others):
        raise ConversionError(
            f"a differential-drive chair cannot follow {others} (y, z, roll, pitch)"
        )
    return DriveCommand(stamp_ns, linear, angular)


def to_image(store: Typestore, frame: CameraFrame) -> Any:
    """sensor_msgs/Image (rgb8) of a frame."""
    height, width, _ = frame.image.shape
    return store.types[IMAGE](
        header=_header(store, frame.stamp_ns, frame.frame_id),
        height=height,
        width=width,
        encoding="rgb8",
        is_bigendian=0,
        step=width * 3,
        data=np.ascontiguousarray(frame.image).reshape(-1),
    )


def to_compressed_image(store: Typestore, frame: CameraFrame, quality: int = 90) -> Any:
    """sensor_msgs/CompressedImage (JPEG) of a frame."""
    ok, encoded = cv2.imencode(
        ".jpg", cv2.cvtColor(frame.image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality]
    )
    if not ok:
        raise ValueError("JPEG encoding failed")
    return store.types[COMPRESSED_IMAGE](
        header=_header(store, frame.stamp_ns, frame.frame_id),
        format="rgb8; jpeg compressed bgr8",
        data=np.asarray(encoded, dtype=np.uint8).reshape(-1),
    )


def to_camera_info(store: Typestore, frame: CameraFrame) -> Any:
    """sensor_msgs/CameraInfo of a frame's pinhole intrinsics (no distortion)."""
    k = frame.intrinsics
    roi = store.types["sensor_msgs/msg/RegionOfInterest"](
        x_offset=0, y_offset=0, height=0, width=0, do_rectify=False
    )
    return store.types[CAMERA_INFO](
        header=_header(store, frame.stamp_ns, frame.frame_id),
        height=k.height,
        width=k.width,
        distortion_model="plumb_bob",
        d=np.zeros(5, dtype=np.float64),
        k=np.array([k.fx, 0.0, k.cx, 0.0, k.fy, k.cy, 0.0, 0.0, 1.0]),
        r=np.eye(3).reshape(-1),
        p=np.array([k.fx, 0.0, k.cx, 0.0, 0.0, k.fy, k.cy, 0.0, 0.0, 0.0, 1.0, 0.0]),
        binning_x=0,
        binning_y=0,
        roi=roi,
    )


def from_camera_info(message: Any) -> CameraIntrinsics:
    """The pinhole intrinsics of a sensor_msgs/CameraInfo."""
    k = message.k
    return CameraIntrinsics(
        int(message.width), int(message.height), float(k[0]), float(k[4]), float(k[2]), float(k[5])
    )


def from_image(
    message: Any, intrinsics: CameraIntrinsics, mount: Pose2D, height_m: float
) -> CameraFrame:
    """A CameraFrame of a sensor_msgs/Image (rgb8, bgr8, mono8) or CompressedImage.

    Raises:
        ValueError: an encoding this reader does not know, or data of the wrong size.
    """
    if hasattr(message, "format"):
        decoded = cv2.imdecode(np.asarray(message.data, dtype=np.uint8), cv2.IMREAD_COLOR)
        if decoded is None:
            raise ValueError("compressed image does not decode")
        image = cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB)
    else:
        height, width, encoding = int(message.height), int(message.width), str(message.encoding)
        data = np.asarray(message.data, dtype=np.uint8)
        channels = {"rgb8": 3, "bgr8": 3, "mono8": 1}.get(encoding)
        if channels is None:
            raise ValueError(f"unsupported image encoding {encoding!r}")
        step = int(message.step)
        if data.size != step * height or step < width * channels:
            raise ValueError(f"image data is {data.size} bytes, {height} rows of {step} expected")
        rows = data.reshape(height, step)[:, : width * channels].reshape(height, width, channels)
        if encoding == "bgr8":
            image = rows[..., ::-1]
        elif encoding == "mono8":
            image = np.repeat(rows, 3, axis=2)
        else:
            image = rows
    return CameraFrame(
        _nanoseconds(message.header),
        np.ascontiguousarray(image),
        intrinsics,
        mount,
        height_m,
        str(message.header.frame_id),
    )


def to_imu(store: Typestore, tilt: Tilt, frame_id: str = "imu") -> Any:
    """sensor_msgs/Imu carrying the tilt as orientation (yaw unknown: huge variance)."""
    types = store.types
    # Tilt's pitch is nose-up positive; REP 103's rotation about +y (y left) is nose-down.
    cr, sr = math.cos(tilt.roll_rad / 2), math.sin(tilt.roll_rad / 2)
    cp, sp = math.cos(-tilt.pitch_rad / 2), math.sin(-tilt.pitch_rad / 2)
    zero = types["geometry_msgs/msg/Vector3"](x=0.0, y=0.0, z=0.0)
    unknown = np.zeros(9)
    unknown[0] = -1.0  # REP 145: -1 in the first element means no estimate
    return types[IMU](
        header=_header(store, tilt.stamp_ns, frame_id),
        orientation=types["geometry_msgs/msg/Quaternion"](
            x=sr * cp, y=cr * sp, z=-sr * sp, w=cr * cp
        ),
        orientation_covariance=np.array([3e-6, 0, 0, 0, 3e-6, 0, 0, 0, 1e6], dtype=np.float64),
        angular_velocity=zero,
        angular_velocity_covariance=unknown,
        linear_acceleration=zero,
        linear_acceleration_covariance=unknown.copy(),
    )


def from_imu(message: Any) -> Tilt:
    """Roll and pitch of a sensor_msgs/Imu's orientation."""
    q = message.orientation
    roll = math.atan2(2 * (q.w * q.x + q.y * q.z), 1 - 2 * (q.x * q.x + q.y * q.y))
    pitch = math.asin(max(-1.0, min(1.0, 2 * (q.w * q.y - q.z * q.x))))
    return Tilt(_nanoseconds(message.header), roll, -pitch)
