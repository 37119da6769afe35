"""The chair's frames as messages: quaternions as tf2 makes them, mounts, map -> odom, the map."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from chairlink.config import ChairConfig
from chairlink.geometry import CameraCalibration, CameraConfig, LidarConfig, Mount
from chairlink.interfaces import typestore
from chairlink.site import FREE, OCCUPIED, UNKNOWN, OccupancyMap
from edge.rosbag.calibration import calibration_camera_info, calibration_intrinsics
from edge.rosbag.transforms import (
    OCCUPANCY_GRID,
    TF_MESSAGE,
    map_to_odom,
    quaternion_from_rpy,
    static_transforms,
    to_occupancy_grid,
)
from edge.types import CameraIntrinsics, Pose2D


def rotation(roll: float, pitch: float, yaw: float) -> np.ndarray:
    """Rz(yaw) Ry(pitch) Rx(roll): fixed-axis roll, then pitch, then yaw (tf2's setRPY)."""
    cr, sr, cp, sp, cy, sy = (f(a) for a in (roll, pitch, yaw) for f in (math.cos, math.sin))
    rx = np.array([[1, 0, 0], [0, cr, -sr], [0, sr, cr]])
    ry = np.array([[cp, 0, sp], [0, 1, 0], [-sp, 0, cp]])
    rz = np.array([[cy, -sy, 0], [sy, cy, 0], [0, 0, 1]])
    result: np.ndarray = rz @ ry @ rx
    return result


def matrix(q: Any) -> np.ndarray:
    """The rotation matrix of a unit quaternion (x, y, z, w)."""
    x, y, z, w = q
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


@pytest.mark.parametrize(
    "rpy", [(0.0, 0.0, 0.0), (0.3, 0.0, 0.0), (0.0, -0.4, 0.0), (0.0, 0.0, 2.5), (0.2, -0.7, 1.9)]
)
def test_quaternions_rotate_as_tf2s_set_rpy(rpy: tuple[float, float, float]) -> None:
    q = quaternion_from_rpy(*rpy)
    assert math.fsum(c * c for c in q) == pytest.approx(1.0)
    np.testing.assert_allclose(matrix(q), rotation(*rpy), atol=1e-12)


def test_the_static_transforms_place_the_sensors_of_chair_yaml() -> None:
    chair = ChairConfig(
        lidar=LidarConfig(frame_id="front_laser", mount=Mount(x_m=0.4, y_m=-0.1, z_m=0.2)),
        camera=CameraConfig(mount=Mount(x_m=0.7, z_m=1.1, pitch_rad=0.2)),
    )
    message = static_transforms(typestore(), chair, 5)
    frames = {(t.header.frame_id, t.child_frame_id): t for t in message.transforms}
    assert set(frames) == {
        ("base_link", "front_laser"),
        ("base_link", "camera"),
        ("camera", "camera_optical"),
    }
    assert all(t.header.stamp.nanosec == 5 for t in message.transforms)
    laser = frames[("base_link", "front_laser")].transform
    assert (laser.translation.x, laser.translation.y, laser.translation.z) == (0.4, -0.1, 0.2)
    camera = frames[("base_link", "camera")].transform
    r = camera.rotation
    np.testing.assert_allclose(matrix((r.x, r.y, r.z, r.w)), rotation(0, 0.2, 0), atol=1e-12)
    # REP-103's optical frame: its z looks along the camera's x, its x to the right (-y), its
    # y down (-z).
    o = frames[("camera", "camera_optical")].transform.rotation
    optical = matrix((o.x, o.y, o.z, o.w))
    np.testing.assert_allclose(optical @ [0, 0, 1], [1, 0, 0], atol=1e-12)
    np.testing.assert_allclose(optical @ [1, 0, 0], [0, -1, 0], atol=1e-12)
    np.testing.assert_allclose(optical @ [0, 1, 0], [0, 0, -1], atol=1e-12)


def test_map_to_odom_carries_the_odometry_pose_onto_the_true_one() -> None:
    truth, odom = Pose2D(12.0, -3.0, 2.8), Pose2D(1.5, 0.7, -1.1)
    composed = map_to_odom(truth, odom).compose(odom)
    assert (composed.x, composed.y) == pytest.approx((truth.x, truth.y))
    assert math.remainder(composed.yaw - truth.yaw, 2 * math.pi) == pytest.approx(0.0, abs=1e-12)


def test_the_map_is_an_occupancy_grid_row_by_row_from_its_origin() -> None:
    cells = np.full((3, 4), FREE, dtype=np.int8)
    cells[0, 3] = OCCUPIED
    cells[2, 1] = UNKNOWN
    grid = OccupancyMap(cells, 0.05, (-1.0, 2.0, 0.0))
    store = typestore()
    message = to_occupancy_grid(store, grid, 7, "floor")
    assert message.header.frame_id == "floor"
    info = message.info
    assert (info.width, info.height, info.resolution) == (4, 3, pytest.approx(0.05))
    assert (info.origin.position.x, info.origin.position.y) == (-1.0, 2.0)
    assert info.origin.orientation.w == 1.0
    # nav_msgs/OccupancyGrid: cell (x, y) is data[y * width + x], starting at the origin.
    assert message.data[0 * 4 + 3] == OCCUPIED
    assert message.data[2 * 4 + 1] == UNKNOWN
    assert int(np.count_nonzero(message.data)) == 2
    back: Any = store.deserialize_cdr(store.serialize_cdr(message, OCCUPANCY_GRID), OCCUPANCY_GRID)
    np.testing.assert_array_equal(back.data, cells.reshape(-1))


def test_a_tf_message_survives_cdr() -> None:
    store = typestore()
    message = static_transforms(store, ChairConfig())
    back: Any = store.deserialize_cdr(store.serialize_cdr(message, TF_MESSAGE), TF_MESSAGE)
    assert [t.child_frame_id for t in back.transforms] == ["laser", "camera", "camera_optical"]


def test_camera_info_carries_the_calibration_of_chair_yaml() -> None:
    calibration = CameraCalibration(
        width=640, height=480, fx=500.0, fy=502.0, cx=321.0, cy=239.0,
        distortion=(-0.1, 0.02, 0.001, 0.0, 0.0),
    )  # fmt: skip
    info = calibration_camera_info(typestore(), calibration, 3_000_000_001, "camera_optical")
    assert info.header.frame_id == "camera_optical"
    assert (info.header.stamp.sec, info.header.stamp.nanosec) == (3, 1)
    assert (info.width, info.height, info.distortion_model) == (640, 480, "plumb_bob")
    np.testing.assert_array_equal(info.d, [-0.1, 0.02, 0.001, 0.0, 0.0])
    np.testing.assert_array_equal(info.k, [500.0, 0, 321.0, 0, 502.0, 239.0, 0, 0, 1])
    assert calibration_intrinsics(calibration) == CameraIntrinsics(
        640, 480, 500.0, 502.0, 321.0, 239.0
    )
