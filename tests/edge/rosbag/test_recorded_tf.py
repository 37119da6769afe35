"""`chairlink sim record` bags carry /tf, /tf_static and /map: the scan lands on the floor plan.

The bag is opened with rosbags alone, as Foxglove or any tool would read it, and the transforms
are chained by hand, independently of the code that wrote them.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rosbags.highlevel import AnyReader
from rosbags.interfaces import ConnectionExtRosbag2, QosDurability

from chairlink.cli.main import main
from chairlink.interfaces import typestore
from chairlink.site import OCCUPIED, stock_site
from edge.rosbag import BagReader

# No people and no objects: every lidar return is a wall of the map.
SCENARIO = """name: tf
seed: 4
duration_s: 6
chair: {start: lobby, goal: a-101}
"""
NOISE_BOUND_M = 0.05  # five sigmas of the simulated lidar's range noise


@pytest.fixture(autouse=True)
def _data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAIRLINK_DATA", str(tmp_path / "data"))


def record(tmp_path: Path, storage: str) -> Path:
    scenario = tmp_path / "tf.yaml"
    scenario.write_text(SCENARIO)
    bag = tmp_path / "bag"
    assert main(["sim", "record", str(scenario), "-o", str(bag), "--storage", storage]) == 0
    return bag


def homogeneous(transform: Any) -> np.ndarray:
    """The 4 x 4 matrix of a geometry_msgs/Transform."""
    t, q = transform.translation, transform.rotation
    x, y, z, w = q.x, q.y, q.z, q.w
    result = np.eye(4)
    result[:3, :3] = [
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ]
    result[:3, 3] = [t.x, t.y, t.z]
    return result


def distance_to_occupied(grid: Any, x: float, y: float) -> float:
    """Distance from (x, y) to the nearest occupied cell of an OccupancyGrid (within 0.5 m)."""
    info = grid.info
    res, width = info.resolution, info.width
    cells = np.asarray(grid.data).reshape(info.height, width)
    ox, oy = info.origin.position.x, info.origin.position.y
    ix, iy = math.floor((x - ox) / res), math.floor((y - oy) / res)
    best = math.inf
    reach = 10
    for cy in range(max(iy - reach, 0), min(iy + reach + 1, info.height)):
        for cx in range(max(ix - reach, 0), min(ix + reach + 1, width)):
            if cells[cy, cx] == OCCUPIED:
                x0, y0 = ox + cx * res, oy + cy * res
                dx = max(x0 - x, 0.0, x - (x0 + res))
                dy = max(y0 - y, 0.0, y - (y0 + res))
                best = min(best, math.hypot(dx, dy))
    return best


@pytest.mark.parametrize("storage", ["mcap", "sqlite3"])
def test_the_scan_chained_through_tf_lands_on_the_walls_of_the_map(
    tmp_path: Path, storage: str
) -> None:
    bag = record(tmp_path, storage)
    tf: dict[int, dict[tuple[str, str], np.ndarray]] = {}
    static: dict[tuple[str, str], np.ndarray] = {}
    scans: list[Any] = []
    grids: list[Any] = []
    camera_frames: set[str] = set()
    with AnyReader([bag], default_typestore=typestore()) as reader:
        types = {c.topic: c.msgtype for c in reader.connections}
        assert types["/tf"] == types["/tf_static"] == "tf2_msgs/msg/TFMessage"
        assert types["/map"] == "nav_msgs/msg/OccupancyGrid"
        for connection in reader.connections:
            assert isinstance(connection.ext, ConnectionExtRosbag2)
            if connection.topic in ("/tf_static", "/map"):
                qos = connection.ext.offered_qos_profiles
                assert [q.durability for q in qos] == [QosDurability.TRANSIENT_LOCAL]
        wanted = [c for c in reader.connections if c.topic != "/camera/image_raw"]
        for connection, _, raw in reader.messages(connections=wanted):
            message: Any = reader.deserialize(raw, connection.msgtype)
            if connection.topic == "/scan":
                scans.append(message)
            elif connection.topic == "/camera/camera_info":
                camera_frames.add(message.header.frame_id)
            elif connection.topic == "/map":
                grids.append(message)
            elif connection.msgtype == "tf2_msgs/msg/TFMessage":
                for t in message.transforms:
                    stamp = t.header.stamp.sec * 1_000_000_000 + t.header.stamp.nanosec
                    key = (t.header.frame_id, t.child_frame_id)
                    if connection.topic == "/tf_static":
                        static[key] = homogeneous(t.transform)
                    else:
                        tf.setdefault(stamp, {})[key] = homogeneous(t.transform)
    assert len(grids) == 1
    floor = stock_site().map
    np.testing.assert_array_equal(np.asarray(grids[0].data), floor.cells.reshape(-1))
    assert set(static) == {("base_link", "laser"), ("base_link", "camera"),
                           ("camera", "camera_optical")}  # fmt: skip
    assert len(scans) > 40
    assert camera_frames == {"camera_optical"}

    moved = False
    for scan in scans[::10]:
        stamp = scan.header.stamp.sec * 1_000_000_000 + scan.header.stamp.nanosec
        at = tf[stamp]  # the simulator sends odometry (and tf) at every scan's instant
        odom_to_base = at[("odom", "base_link")]
        moved = moved or bool(np.linalg.norm(odom_to_base[:2, 3]) > 0.3)
        laser_in_map = (
            at[("map", "odom")] @ odom_to_base @ static[("base_link", scan.header.frame_id)]
        )
        ranges = np.asarray(scan.ranges, dtype=np.float64)
        angles = scan.angle_min + scan.angle_increment * np.arange(len(ranges))
        valid = np.isfinite(ranges) & (ranges >= scan.range_min) & (ranges <= scan.range_max)
        points = np.stack(
            [
                ranges[valid] * np.cos(angles[valid]),
                ranges[valid] * np.sin(angles[valid]),
                np.zeros(valid.sum()),
                np.ones(valid.sum()),
            ]
        )
        in_map = laser_in_map @ points
        # Every return lies on an occupied cell's edge, give or take the range noise.
        errors = [distance_to_occupied(grids[0], x, y) for x, y in in_map[:2].T]
        assert len(errors) > 100
        assert max(errors) < NOISE_BOUND_M, (stamp, max(errors))
    assert moved, "the chair should have driven some way for the transforms to matter"

    # Replay reads the bag as before: the frames are topics it has no value for.
    with BagReader(bag) as replay:
        topics = {m.topic for m in replay.messages()}
    assert "/scan" in topics
    assert {"/tf", "/tf_static", "/map"} <= set(replay.skipped)
