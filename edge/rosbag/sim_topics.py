"""What a simulated chair publishes, as ROS messages: its sensors' and its frames.

Shared by sim_node (which publishes them) and ``chairlink sim record`` (which records them), so
the graph and a bag hold the same messages: the sensors' values (``ros_messages``, images and
camera_info in the camera's optical frame with chair.yaml's calibration), /tf with each
odometry (odom -> base_link, and map -> odom from the simulator's ground truth, where a chair
would run a localiser), and, latched, /tf_static (the mounts of chair.yaml) and /map (the
floor the simulator runs on).
"""

from __future__ import annotations

from typing import Any

from rosbags.typesys.store import Typestore

from chairlink.config import ChairConfig
from chairlink.site import OccupancyMap
from edge.rosbag.transforms import (
    OCCUPANCY_GRID,
    TF_MESSAGE,
    map_to_odom,
    pose_transform,
    static_transforms,
    tf_message,
    to_occupancy_grid,
)
from edge.rosbag.writer import ros_messages
from edge.types import CameraFrame, ChairStatus, DriveCommand, Odometry, Pose2D, Scan, Tilt, Vitals

__all__ = ["RosMessage", "SimTopics"]

RosMessage = tuple[str, str, Any]
"""Topic, type name and message object of the typestore."""


class SimTopics:
    """The messages of one simulated chair on one floor."""

    def __init__(
        self,
        store: Typestore,
        chair: ChairConfig,
        floor: OccupancyMap,
        *,
        compress_images: bool = False,
    ) -> None:
        self._store = store
        self._chair = chair
        self._floor = floor
        self._compress_images = compress_images

    def latched(self, stamp_ns: int = 0) -> list[RosMessage]:
        """/tf_static and /map, published once (transient local) at the start."""
        return [
            ("/tf_static", TF_MESSAGE, static_transforms(self._store, self._chair, stamp_ns)),
            (
                "/map",
                OCCUPANCY_GRID,
                to_occupancy_grid(self._store, self._floor, stamp_ns, self._chair.ros.map_frame),
            ),
        ]

    def messages(
        self,
        topic: str,
        value: Scan | Odometry | DriveCommand | CameraFrame | ChairStatus | Tilt | Vitals,
        truth: Pose2D,
    ) -> list[RosMessage]:
        """The messages of one value the simulator sent on ``topic``, while the chair truly
        stood at ``truth`` in the map."""
        messages = ros_messages(
            self._store,
            topic,
            value,
            compress_images=self._compress_images,
            camera=self._chair.camera,
        )
        if isinstance(value, Odometry):
            ros, stamp = self._chair.ros, value.stamp_ns
            odom_in_map = map_to_odom(truth, value.pose)
            transforms = [
                pose_transform(self._store, stamp, ros.map_frame, ros.odom_frame, odom_in_map),
                pose_transform(self._store, stamp, ros.odom_frame, ros.base_frame, value.pose),
            ]
            messages.append(("/tf", TF_MESSAGE, tf_message(self._store, transforms)))
        return messages
