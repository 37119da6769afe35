"""chair.yaml's camera calibration as sensor_msgs/CameraInfo, and as the pinhole model replay uses.

On a chair the camera driver publishes its own camera_info; this one is what the simulator
publishes and what replay falls back on for a bag that has none.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rosbags.typesys.store import Typestore

from chairlink.geometry import CameraCalibration
from edge.types import CameraIntrinsics

__all__ = ["calibration_camera_info", "calibration_intrinsics"]


def calibration_camera_info(
    store: Typestore, calibration: CameraCalibration, stamp_ns: int, frame_id: str
) -> Any:
    """sensor_msgs/CameraInfo of a calibration (unrectified: R is the identity, P is K)."""
    c = calibration
    types = store.types
    return types["sensor_msgs/msg/CameraInfo"](
        header=types["std_msgs/msg/Header"](
            stamp=types["builtin_interfaces/msg/Time"](
                sec=stamp_ns // 1_000_000_000, nanosec=stamp_ns % 1_000_000_000
            ),
            frame_id=frame_id,
        ),
        height=c.height,
        width=c.width,
        distortion_model=c.distortion_model,
        d=np.asarray(c.distortion, dtype=np.float64),
        k=np.array([c.fx, 0.0, c.cx, 0.0, c.fy, c.cy, 0.0, 0.0, 1.0]),
        r=np.eye(3).reshape(-1),
        p=np.array([c.fx, 0.0, c.cx, 0.0, 0.0, c.fy, c.cy, 0.0, 0.0, 0.0, 1.0, 0.0]),
        binning_x=0,
        binning_y=0,
        roi=types["sensor_msgs/msg/RegionOfInterest"](
            x_offset=0, y_offset=0, height=0, width=0, do_rectify=False
        ),
    )


def calibration_intrinsics(calibration: CameraCalibration) -> CameraIntrinsics:
    """The pinhole model of a calibration (its distortion aside)."""
    c = calibration
    return CameraIntrinsics(c.width, c.height, c.fx, c.fy, c.cx, c.cy)
