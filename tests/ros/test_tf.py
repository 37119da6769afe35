"""TF as every ROS tool expects it, in a chair's namespace: firmware_bridge_node and sim_node.

Subscribers join after the nodes sent tf_static and the map: transient local delivers them late.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from chairlink_ros import qos
from chairlink_ros.firmware_bridge_node import FirmwareBridgeNode
from chairlink_ros.sim_node import SimNode
from geometry_msgs.msg import TwistStamped
from nav_msgs.msg import OccupancyGrid, Odometry
from rclpy.parameter import Parameter
from sensor_msgs.msg import CameraInfo, Image
from std_srvs.srv import Trigger
from tf2_msgs.msg import TFMessage

from chairlink.site import stock_site
from firmware_bridge.mcu_sim import McuSimulator
from tests.ros.driving import publish_for, twist
from tests.ros.graph import Graph
from tests.wait import wait_until

SCENARIO = """name: tf
seed: 3
duration_s: 120
chair: {start: {x: 25.0, y: 10.2, yaw: 0.4}}
"""


def frames(message: Any) -> dict[tuple[str, str], Any]:
    return {(t.header.frame_id, t.child_frame_id): t.transform for t in message.transforms}


def topic_appears(graph: Graph, name: str) -> bool:
    return name in dict(graph.probe.get_topic_names_and_types())


@pytest.fixture
def bridge(graph: Graph, sim: McuSimulator) -> Iterator[FirmwareBridgeNode]:
    """firmware_bridge_node in chair_07's namespace, with its own lidar and camera mounts."""
    node = FirmwareBridgeNode(
        context=graph.context,
        namespace="chair_07",
        parameter_overrides=[
            Parameter("firmware.port", value=sim.device_path),
            Parameter("lidar.mount.x_m", value=0.31),
            Parameter("camera.mount.pitch_rad", value=0.1),
        ],
    )
    graph.add(node)
    assert node.driver.wait_for_link(3.0), node.driver.stats().last_error
    yield node
    graph.remove(node)  # before the MCU simulator stops, as on a chair


def test_the_bridge_latches_the_mounts_and_broadcasts_odom_to_base_link(
    graph: Graph, bridge: FirmwareBridgeNode
) -> None:
    static = graph.collect(TFMessage, "/chair_07/tf_static", qos.TF_STATIC)
    tf = graph.collect(TFMessage, "/chair_07/tf", qos.TF)
    odom = graph.collect(Odometry, "/chair_07/odom", qos.TELEMETRY)
    assert wait_until(lambda: bool(static), 5.0), "no tf_static for a late subscriber"
    mounts = frames(static[0])
    assert set(mounts) == {
        ("base_link", "laser"),
        ("base_link", "camera"),
        ("camera", "camera_optical"),
    }
    assert mounts[("base_link", "laser")].translation.x == pytest.approx(0.31)
    assert mounts[("base_link", "camera")].translation.z == pytest.approx(1.0)
    assert mounts[("base_link", "camera")].rotation.y == pytest.approx(math.sin(0.05))

    response = graph.call(Trigger, "/chair_07/rearm", Trigger.Request())
    assert response.success, response.message
    cmd = graph.probe.create_publisher(TwistStamped, "/chair_07/cmd_vel", qos.COMMANDS)
    publish_for(cmd, twist(0.5, 0.4), 1.5)
    assert wait_until(lambda: len(odom) > 20 and len(tf) > 20, 2.0)

    # Each odometry goes out as odom -> base_link with the same stamp and pose.
    odometry = {(m.header.stamp.sec, m.header.stamp.nanosec): m.pose.pose for m in list(odom)}
    matched = 0
    farthest = 0.0
    for message in list(tf):
        ((parent, child), transform), *others = frames(message).items()
        assert (parent, child, others) == ("odom", "base_link", [])
        stamp = message.transforms[0].header.stamp
        pose = odometry.get((stamp.sec, stamp.nanosec))
        if pose is None:
            continue
        matched += 1
        farthest = max(farthest, transform.translation.x)
        assert (transform.translation.x, transform.translation.y) == pytest.approx(
            (pose.position.x, pose.position.y)
        )
        assert (transform.rotation.z, transform.rotation.w) == pytest.approx(
            (pose.orientation.z, pose.orientation.w)
        )
    assert matched > 20
    assert farthest > 0.3, "tf should follow the chair as it drives"
    # In a namespace, nothing goes to the global tree.
    assert wait_until(lambda: topic_appears(graph, "/chair_07/tf"), 5.0)
    assert not topic_appears(graph, "/tf")
    assert not topic_appears(graph, "/tf_static")


@pytest.fixture
def sim_node(graph: Graph, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SimNode:
    monkeypatch.setenv("CHAIRLINK_DATA", str(tmp_path / "data"))
    scenario = tmp_path / "tf.yaml"
    scenario.write_text(SCENARIO)
    node = SimNode(
        context=graph.context,
        namespace="chair_03",
        parameter_overrides=[
            Parameter("scenario", value=str(scenario)),
            Parameter("rate", value=2.0),
            Parameter("camera.optical_frame_id", value="front_camera_optical"),
            # The simulator renders an undistorted pinhole camera; a longer lens it can render.
            Parameter("camera.calibration.fx", value=200.0),
            Parameter("camera.calibration.fy", value=200.0),
        ],
    )
    graph.add(node)
    return node


def test_sim_node_latches_the_map_and_places_the_chair_on_it(
    graph: Graph, sim_node: SimNode
) -> None:
    grids = graph.collect(OccupancyGrid, "/chair_03/map", qos.MAP)
    static = graph.collect(TFMessage, "/chair_03/tf_static", qos.TF_STATIC)
    tf = graph.collect(TFMessage, "/chair_03/tf", qos.TF)
    infos = graph.collect(CameraInfo, "/chair_03/camera/camera_info", qos.SENSORS)
    images = graph.collect(Image, "/chair_03/camera/image_raw", qos.SENSORS)
    assert wait_until(lambda: bool(grids and static and tf and infos and images), 20.0)

    floor = stock_site().map
    grid = grids[0]
    assert grid.header.frame_id == "map"
    assert (grid.info.width, grid.info.height) == (floor.cells.shape[1], floor.cells.shape[0])
    assert grid.info.resolution == pytest.approx(floor.resolution)
    np.testing.assert_array_equal(np.asarray(grid.data, dtype=np.int8), floor.cells.reshape(-1))
    assert ("camera", "front_camera_optical") in frames(static[0])

    # map -> odom is the ground truth: odometry starts at zero where the chair starts.
    tree = frames(tf[-1])
    assert set(tree) == {("map", "odom"), ("odom", "base_link")}
    map_to_odom = tree[("map", "odom")]
    assert (map_to_odom.translation.x, map_to_odom.translation.y) == pytest.approx((25.0, 10.2))
    assert 2 * math.atan2(map_to_odom.rotation.z, map_to_odom.rotation.w) == pytest.approx(0.4)

    # camera_info is chair.yaml's calibration; it and the images are in the optical frame.
    info = infos[-1]
    assert info.header.frame_id == images[-1].header.frame_id == "front_camera_optical"
    assert (info.width, info.height, info.distortion_model) == (320, 240, "plumb_bob")
    assert list(info.k) == [200.0, 0.0, 159.5, 0.0, 200.0, 119.5, 0.0, 0.0, 1.0]
    assert list(info.d) == [0.0] * 5
    assert wait_until(lambda: topic_appears(graph, "/chair_03/tf"), 5.0)
    assert not topic_appears(graph, "/tf")
