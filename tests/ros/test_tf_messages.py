"""TFMessage and OccupancyGrid: the project's CDR bytes are rclpy's, and tf2_msgs is Jazzy's.

The nodes publish the bytes edge.rosbag.transforms makes through rosbags, so those bytes must be
the ones rclpy would send for the same message. Fast CDR leaves the alignment padding between
fields uninitialised where rosbags writes zeros, so a byte may differ only where it carries
nothing: flipping it in the project's bytes must not change the message.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from builtin_interfaces.msg import Time
from geometry_msgs.msg import TransformStamped
from nav_msgs.msg import OccupancyGrid
from rclpy.serialization import serialize_message
from rosbags.typesys import Stores, get_types_from_msg, get_typestore
from rosbags.typesys.store import Typestore
from tf2_msgs.msg import TFMessage

from chairlink.config import ChairConfig
from chairlink.geometry import Mount
from chairlink.interfaces import typestore
from chairlink.site import FREE, OCCUPIED, UNKNOWN, OccupancyMap
from edge.rosbag.transforms import (
    OCCUPANCY_GRID,
    OPTICAL_ROTATION,
    TF_MESSAGE,
    pose_transform,
    quaternion_from_rpy,
    static_transforms,
    tf_message,
    to_occupancy_grid,
)
from edge.types import Pose2D

WORKSPACE = Path(__file__).resolve().parents[2] / "ros2_ws"


def assert_same_cdr(ours: bytes, theirs: bytes, store: Typestore, msgtype: str) -> None:
    """Byte for byte equal, but for padding bytes (which carry nothing)."""
    assert len(ours) == len(theirs)
    differing = [i for i in range(len(ours)) if ours[i] != theirs[i]]
    assert len(differing) < 64, "more differences than any padding explains"
    for i in differing:
        probe = bytearray(ours)
        probe[i] ^= 0xFF
        again = store.serialize_cdr(store.deserialize_cdr(bytes(probe), msgtype), msgtype)
        assert bytes(again) == ours, f"byte {i} differs from rclpy's and carries data"


def stamp(nanoseconds: int) -> Time:
    return Time(sec=nanoseconds // 1_000_000_000, nanosec=nanoseconds % 1_000_000_000)


def rclpy_transform(
    stamp_ns: int,
    parent: str,
    child: str,
    xyz: tuple[float, float, float],
    rpy: tuple[float, float, float],
) -> TransformStamped:
    t = TransformStamped()
    t.header.stamp = stamp(stamp_ns)
    t.header.frame_id = parent
    t.child_frame_id = child
    t.transform.translation.x, t.transform.translation.y, t.transform.translation.z = xyz
    q = quaternion_from_rpy(*rpy)
    r = t.transform.rotation
    r.x, r.y, r.z, r.w = q
    return t


def test_static_transforms_are_the_bytes_rclpy_writes() -> None:
    store = typestore()
    chair = ChairConfig()
    stamp_ns = 1_700_000_000_123_456_789
    lidar, camera = chair.lidar.mount, chair.camera.mount

    def xyz(m: Mount) -> tuple[float, float, float]:
        return (m.x_m, m.y_m, m.z_m)

    def rpy(m: Mount) -> tuple[float, float, float]:
        return (m.roll_rad, m.pitch_rad, m.yaw_rad)

    theirs = TFMessage(
        transforms=[
            rclpy_transform(stamp_ns, "base_link", "laser", xyz(lidar), rpy(lidar)),
            rclpy_transform(stamp_ns, "base_link", "camera", xyz(camera), rpy(camera)),
            rclpy_transform(
                stamp_ns, "camera", "camera_optical", (0.0, 0.0, 0.0), rpy(OPTICAL_ROTATION)
            ),
        ]
    )
    ours = bytes(store.serialize_cdr(static_transforms(store, chair, stamp_ns), TF_MESSAGE))
    assert_same_cdr(ours, serialize_message(theirs), store, TF_MESSAGE)


def test_odometry_transforms_are_the_bytes_rclpy_writes() -> None:
    store = typestore()
    pose = Pose2D(3.25, -1.5, 2.9)
    ours_message = tf_message(
        store,
        [
            pose_transform(store, 42_000_000, "map", "odom", Pose2D(10.0, 4.0, -0.3)),
            pose_transform(store, 42_000_000, "odom", "base_link", pose),
        ],
    )
    theirs = TFMessage(
        transforms=[
            rclpy_transform(42_000_000, "map", "odom", (10.0, 4.0, 0.0), (0.0, 0.0, -0.3)),
            rclpy_transform(42_000_000, "odom", "base_link", (3.25, -1.5, 0.0), (0, 0, 2.9)),
        ]
    )
    ours = bytes(store.serialize_cdr(ours_message, TF_MESSAGE))
    assert_same_cdr(ours, serialize_message(theirs), store, TF_MESSAGE)


def test_the_map_is_the_bytes_rclpy_writes() -> None:
    cells = np.full((30, 41), FREE, dtype=np.int8)
    cells[0, :] = OCCUPIED
    cells[5:9, 20] = UNKNOWN
    grid = OccupancyMap(cells, 0.05, (-2.5, 1.25, 0.0))
    store = typestore()
    theirs = OccupancyGrid()
    theirs.header.stamp = stamp(9)
    theirs.header.frame_id = "map"
    theirs.info.map_load_time = stamp(9)
    theirs.info.resolution = 0.05
    theirs.info.width, theirs.info.height = 41, 30
    theirs.info.origin.position.x, theirs.info.origin.position.y = -2.5, 1.25
    theirs.info.origin.orientation.w = 1.0
    theirs.data = cells.reshape(-1).tolist()
    ours = bytes(store.serialize_cdr(to_occupancy_grid(store, grid, 9, "map"), OCCUPANCY_GRID))
    assert_same_cdr(ours, serialize_message(theirs), store, OCCUPANCY_GRID)


def test_the_vendored_tf_message_is_jazzys() -> None:
    text = (WORKSPACE / "vendor/tf2_msgs/msg/TFMessage.msg").read_text(encoding="utf-8")
    ours = get_types_from_msg(text, TF_MESSAGE)[TF_MESSAGE]
    assert ours == get_typestore(Stores.ROS2_JAZZY).fielddefs[TF_MESSAGE]
    assert TFMessage.get_fields_and_field_types() == {
        "transforms": "sequence<geometry_msgs/TransformStamped>"
    }


def colcon_list(*args: str) -> str:
    colcon = Path(sys.executable).parent / "colcon"
    return subprocess.run(
        [str(colcon), "list", "--names-only", *args],
        cwd=WORKSPACE,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout


def test_a_plain_colcon_build_never_sees_the_vendored_package() -> None:
    # On a chair, `colcon build` in ros2_ws must leave the distribution's tf2_msgs alone.
    assert "tf2_msgs" not in colcon_list().split()
    assert colcon_list("--base-paths", "vendor/tf2_msgs").split() == ["tf2_msgs"]


def vendored_packages(ament_prefix_path: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, str(WORKSPACE / "vendored_packages.py")],
        env={**os.environ, "AMENT_PREFIX_PATH": ament_prefix_path},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return result.stdout.split()


def test_make_builds_tf2_msgs_only_where_the_ament_index_lacks_it(tmp_path: Path) -> None:
    without = tmp_path / "pip"
    (without / "share/ament_index/resource_index/packages").mkdir(parents=True)
    (without / "share/ament_index/resource_index/packages/geometry_msgs").touch()
    apt = tmp_path / "opt_ros_jazzy"
    (apt / "share/ament_index/resource_index/packages").mkdir(parents=True)
    (apt / "share/ament_index/resource_index/packages/tf2_msgs").touch()
    assert vendored_packages(str(without)) == ["vendor/tf2_msgs"]
    assert vendored_packages(f"{without}{os.pathsep}{apt}") == []
