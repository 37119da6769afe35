"""The chair's frames as messages of a rosbags typestore: tf, tf_static and the map; no ROS needed.

Frames follow REP-105: map -> odom -> base_link -> the sensors, whose mounts chair.yaml holds.
The camera's images are stamped in its optical frame (REP-103: z forward, x right, y down), a
fixed rotation under the camera's body frame. The nodes publish these messages' CDR bytes and
the bag writer records them, so the graph and a recording carry the same transforms.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from rosbags.typesys.store import Typestore

from chairlink.config import ChairConfig
from chairlink.geometry import Mount
from chairlink.site import OccupancyMap
from edge.rosbag.cdr import to_time
from edge.types import Pose2D

__all__ = [
    "OCCUPANCY_GRID",
    "OPTICAL_ROTATION",
    "TF_MESSAGE",
    "map_to_odom",
    "mount_transform",
    "pose_transform",
    "quaternion_from_rpy",
    "static_transforms",
    "tf_message",
    "to_occupancy_grid",
]

TF_MESSAGE = "tf2_msgs/msg/TFMessage"
OCCUPANCY_GRID = "nav_msgs/msg/OccupancyGrid"

OPTICAL_ROTATION = Mount(roll_rad=-math.pi / 2, yaw_rad=-math.pi / 2)
"""The optical frame in the camera's body frame: z forward, x right, y down (REP-103)."""

Quaternion = tuple[float, float, float, float]


def quaternion_from_rpy(roll: float, pitch: float, yaw: float) -> Quaternion:
    """(x, y, z, w) of a rotation by roll about x, pitch about y, then yaw about z (fixed
    axes), as tf2's Quaternion::setRPY computes it."""
    cr, sr = math.cos(roll / 2), math.sin(roll / 2)
    cp, sp = math.cos(pitch / 2), math.sin(pitch / 2)
    cy, sy = math.cos(yaw / 2), math.sin(yaw / 2)
    return (
        sr * cp * cy - cr * sp * sy,
        cr * sp * cy + sr * cp * sy,
        cr * cp * sy - sr * sp * cy,
        cr * cp * cy + sr * sp * sy,
    )


def _transform(
    store: Typestore,
    stamp_ns: int,
    parent: str,
    child: str,
    *,
    translation: tuple[float, float, float],
    rotation: Quaternion,
) -> Any:
    types = store.types
    x, y, z = translation
    qx, qy, qz, qw = rotation
    return types["geometry_msgs/msg/TransformStamped"](
        header=types["std_msgs/msg/Header"](stamp=to_time(store, stamp_ns), frame_id=parent),
        child_frame_id=child,
        transform=types["geometry_msgs/msg/Transform"](
            translation=types["geometry_msgs/msg/Vector3"](x=x, y=y, z=z),
            rotation=types["geometry_msgs/msg/Quaternion"](x=qx, y=qy, z=qz, w=qw),
        ),
    )


def mount_transform(store: Typestore, stamp_ns: int, parent: str, child: str, mount: Mount) -> Any:
    """geometry_msgs/TransformStamped placing ``child`` at ``mount`` in ``parent``."""
    return _transform(
        store,
        stamp_ns,
        parent,
        child,
        translation=(mount.x_m, mount.y_m, mount.z_m),
        rotation=quaternion_from_rpy(mount.roll_rad, mount.pitch_rad, mount.yaw_rad),
    )


def pose_transform(store: Typestore, stamp_ns: int, parent: str, child: str, pose: Pose2D) -> Any:
    """geometry_msgs/TransformStamped of a planar pose of ``child`` in ``parent``."""
    return _transform(
        store,
        stamp_ns,
        parent,
        child,
        translation=(pose.x, pose.y, 0.0),
        rotation=quaternion_from_rpy(0, 0, pose.yaw),
    )


def tf_message(store: Typestore, transforms: list[Any]) -> Any:
    """tf2_msgs/TFMessage of some TransformStamped."""
    return store.types[TF_MESSAGE](transforms=transforms)


def static_transforms(store: Typestore, chair: ChairConfig, stamp_ns: int = 0) -> Any:
    """The chair's fixed frames for tf_static, from chair.yaml: base_link -> lidar,
    base_link -> camera, and camera -> its optical frame."""
    base, lidar, camera = chair.ros.base_frame, chair.lidar, chair.camera
    return tf_message(
        store,
        [
            mount_transform(store, stamp_ns, base, lidar.frame_id, lidar.mount),
            mount_transform(store, stamp_ns, base, camera.frame_id, camera.mount),
            mount_transform(
                store, stamp_ns, camera.frame_id, camera.optical_frame_id, OPTICAL_ROTATION
            ),
        ],
    )


def map_to_odom(truth: Pose2D, odom: Pose2D) -> Pose2D:
    """The odom frame's pose in the map, given base_link's pose in each."""
    c, s = math.cos(odom.yaw), math.sin(odom.yaw)
    inverse = Pose2D(-c * odom.x - s * odom.y, s * odom.x - c * odom.y, -odom.yaw)
    return truth.compose(inverse)


def to_occupancy_grid(
    store: Typestore, grid: OccupancyMap, stamp_ns: int = 0, frame_id: str = "map"
) -> Any:
    """nav_msgs/OccupancyGrid of a map: row-major from cell (0, 0), which the origin places."""
    types = store.types
    rows, cols = grid.cells.shape
    x, y, yaw = grid.origin
    qx, qy, qz, qw = quaternion_from_rpy(0, 0, yaw)
    stamp = to_time(store, stamp_ns)
    return types[OCCUPANCY_GRID](
        header=types["std_msgs/msg/Header"](stamp=stamp, frame_id=frame_id),
        info=types["nav_msgs/msg/MapMetaData"](
            map_load_time=stamp,
            resolution=grid.resolution,
            width=cols,
            height=rows,
            origin=types["geometry_msgs/msg/Pose"](
                position=types["geometry_msgs/msg/Point"](x=x, y=y, z=0.0),
                orientation=types["geometry_msgs/msg/Quaternion"](x=qx, y=qy, z=qz, w=qw),
            ),
        ),
        data=np.ascontiguousarray(grid.cells, dtype=np.int8).reshape(-1),
    )
