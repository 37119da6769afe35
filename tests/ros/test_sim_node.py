"""sim_node: the simulator in a ROS graph, closed loop through /cmd_vel, with /clock."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from chairlink_interfaces.msg import ChairStatus, PatientVitals
from chairlink_ros import qos
from chairlink_ros.sim_node import SimNode
from geometry_msgs.msg import TwistStamped
from nav_msgs.msg import Odometry
from rclpy.parameter import Parameter
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import CameraInfo, Image, LaserScan

from chairlink.errors import ChairlinkError
from tests.ros.graph import Graph
from tests.wait import WAIT_S, wait_until

SCENARIO = """name: ros-loop
seed: 3
duration_s: 120
chair: {start: {x: 25.0, y: 10.2, yaw: 0.0}}
vitals: {patient_token: pt-00c0ffee}
"""


@pytest.fixture
def sim(graph: Graph, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SimNode:
    monkeypatch.setenv("CHAIRLINK_DATA", str(tmp_path / "data"))
    scenario = tmp_path / "loop.yaml"
    scenario.write_text(SCENARIO)
    node = SimNode(
        context=graph.context,
        parameter_overrides=[
            Parameter("scenario", value=str(scenario)),
            Parameter("rate", value=2.0),
        ],
    )
    graph.add(node)
    return node


def test_the_simulation_publishes_what_a_chair_would(graph: Graph, sim: SimNode) -> None:
    scans = graph.collect(LaserScan, "scan", qos.SENSORS)
    images = graph.collect(Image, "camera/image_raw", qos.SENSORS)
    infos = graph.collect(CameraInfo, "camera/camera_info", qos.SENSORS)
    odom = graph.collect(Odometry, "odom", qos.TELEMETRY)
    status = graph.collect(ChairStatus, "chair/status", qos.STATE)
    vitals = graph.collect(PatientVitals, "patient/vitals", qos.TELEMETRY)
    ticks: list[tuple[float, float]] = []

    def on_clock(message: Clock) -> None:
        ticks.append((time.monotonic(), message.clock.sec + message.clock.nanosec / 1e9))

    graph.probe.create_subscription(Clock, "/clock", on_clock, 10)
    assert wait_until(lambda: len(images) > 5 and len(vitals) > 1, WAIT_S)
    assert len(scans[-1].ranges) == 720
    assert (images[-1].width, images[-1].height, images[-1].encoding) == (320, 240, "rgb8")
    assert infos[-1].k[0] == pytest.approx(160.0)
    assert status[-1].armed
    assert vitals[-1].patient_token == "pt-00c0ffee"
    assert odom
    # /clock runs at twice real time when the machine keeps up. A loaded one makes the
    # simulator fall behind and then catch up, for seconds at a time (3.5x over a whole 3 s
    # measured beside two busy loops), or not keep up at all (1.4x): so the typical rate over
    # half-second stretches only has to show a clock that runs, paced, not flat out.
    assert wait_until(lambda: len(ticks) > 1 and ticks[-1][0] - ticks[0][0] >= 3.0, WAIT_S)
    wall, sim_time = np.array(ticks).T
    assert np.all(np.diff(sim_time) >= 0)
    later = np.searchsorted(wall, wall + 0.5)
    starts = later < len(wall)
    rates = (sim_time[later[starts]] - sim_time[starts]) / (wall[later[starts]] - wall[starts])
    assert 0.5 < float(np.median(rates)) < 8.0


def test_cmd_vel_drives_the_simulated_chair_and_silence_stops_it(
    graph: Graph, sim: SimNode
) -> None:
    odom = graph.collect(Odometry, "odom", qos.TELEMETRY)
    cmd = graph.probe.create_publisher(TwistStamped, "cmd_vel", qos.COMMANDS)
    command = TwistStamped()
    command.twist.linear.x = 0.5
    assert wait_until(lambda: cmd.get_subscription_count() > 0, 5.0)

    def driving() -> bool:
        # Commands at 20 Hz until the chair is under way, however slowly a loaded machine
        # lets the simulation run.
        cmd.publish(command)
        time.sleep(0.05)
        return bool(odom) and odom[-1].twist.twist.linear.x > 0.4 and sim.runner.pose.x > 25.5

    assert wait_until(driving, WAIT_S)
    # Silence: the stack commands zero after 0.25 s of simulated time, and the chair stops.
    assert wait_until(lambda: abs(odom[-1].twist.twist.linear.x) < 0.01, WAIT_S)
    assert sim.runner.result().watchdog_trips == 0


def test_a_missing_scenario_is_refused(graph: Graph) -> None:
    with pytest.raises(ChairlinkError, match="scenario"):
        SimNode(context=graph.context)


@pytest.mark.parametrize(("rate", "message"), [(2, "rate"), (500.0, "outside")])
def test_a_bad_rate_is_refused_with_its_name(
    graph: Graph, tmp_path: Path, rate: object, message: str
) -> None:
    scenario = tmp_path / "loop.yaml"
    scenario.write_text(SCENARIO)
    with pytest.raises(ChairlinkError, match=message):
        SimNode(
            context=graph.context,
            parameter_overrides=[
                Parameter("scenario", value=str(scenario)),
                Parameter("rate", value=rate),
            ],
        )
