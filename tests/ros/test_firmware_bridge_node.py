"""firmware_bridge_node running with real rclpy over DDS, against the MCU simulator on a pty."""

from __future__ import annotations

import math
import threading
import time
from pathlib import Path

import pytest
from chairlink_interfaces.msg import ChairStatus
from chairlink_ros import qos
from chairlink_ros.firmware_bridge_node import PUBLISHED, FirmwareBridgeNode
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from geometry_msgs.msg import Twist, TwistStamped
from nav_msgs.msg import Odometry
from rclpy.parameter import Parameter
from rclpy.publisher import Publisher
from rosgraph_msgs.msg import Clock as ClockMsg
from sensor_msgs.msg import BatteryState
from std_srvs.srv import Trigger

from chairlink.errors import ConfigError
from firmware_bridge.mcu_sim import McuSimulator
from firmware_bridge.messages import Fault
from tests.ros.driving import drive_while, publish_for, rearm, twist
from tests.ros.graph import BridgeFactory, Graph
from tests.wait import WAIT_S, wait_until


def drive_through_node(
    graph: Graph, make_bridge: BridgeFactory, linear: float = 0.5, seconds: float = 1.5
) -> tuple[FirmwareBridgeNode, Publisher]:
    """Start the node, arm the chair, and drive it through /cmd_vel for a while."""
    node = make_bridge()
    cmd = graph.probe.create_publisher(TwistStamped, "cmd_vel", qos.COMMANDS)
    rearm(graph)
    publish_for(cmd, twist(linear), seconds)
    return node, cmd


def test_cmd_vel_moves_the_chair_and_odom_shows_it(
    graph: Graph, sim: McuSimulator, make_bridge: BridgeFactory
) -> None:
    make_bridge()
    odom = graph.collect(Odometry, "odom", qos.TELEMETRY)
    status = graph.collect(ChairStatus, "chair/status", qos.STATE)
    battery = graph.collect(BatteryState, "battery", qos.STATE)
    cmd = graph.probe.create_publisher(TwistStamped, "cmd_vel", qos.COMMANDS)
    rearm(graph)
    publish_for(cmd, twist(0.5, 0.2), 2.0)
    assert sim.snapshot().linear_mps == pytest.approx(0.5, abs=1e-3)
    assert wait_until(lambda: len(odom) > 20, WAIT_S)
    last = odom[-1]
    assert last.header.frame_id == "odom"
    assert last.child_frame_id == "base_link"
    assert last.twist.twist.linear.x == pytest.approx(0.5, abs=0.03)
    assert last.twist.twist.angular.z == pytest.approx(0.2, abs=0.03)
    assert last.pose.pose.position.x > 0.4
    assert last.pose.covariance[0] > 0
    assert status[-1].armed
    assert status[-1].configured
    assert status[-1].link_up
    assert battery[-1].current < 0
    assert 0.8 < battery[-1].percentage <= 1.0


def test_silence_on_cmd_vel_brakes_the_chair(
    graph: Graph, sim: McuSimulator, make_bridge: BridgeFactory
) -> None:
    node, _cmd = drive_through_node(graph, make_bridge, 0.5, 1.5)
    silent_at = time.monotonic()
    timeout_s = node.get_parameter("ros.cmd_vel_timeout_s").value
    assert wait_until(lambda: sim.snapshot().target_linear_mps == 0.0, WAIT_S)
    # Before the MCU's own drive timeout (1 s here, see make_bridge), with room for a loaded
    # machine: the timing itself is the node's unit test's, on its own clock.
    assert time.monotonic() - silent_at <= timeout_s + 0.4
    assert wait_until(lambda: not sim.snapshot().moving, WAIT_S)
    # The node commanded zero: the MCU's own watchdog had nothing to catch.
    assert sim.snapshot().faults == Fault.NONE


def test_estop_stops_the_chair_and_motion_needs_clear_and_rearm(
    graph: Graph, sim: McuSimulator, make_bridge: BridgeFactory
) -> None:
    _node, cmd = drive_through_node(graph, make_bridge, 0.6, 1.5)
    response = graph.call(Trigger, "estop", Trigger.Request())
    assert response.success, response.message
    publish_for(cmd, twist(0.6), 1.0)
    assert not sim.snapshot().moving
    refused = graph.call(Trigger, "rearm", Trigger.Request())
    assert not refused.success
    assert "ESTOP_ACTIVE" in refused.message
    assert graph.call(Trigger, "clear_estop", Trigger.Request()).success
    publish_for(cmd, twist(0.6), 0.5)
    assert not sim.snapshot().moving
    rearm(graph)
    publish_for(cmd, twist(0.6), 0.5)
    assert sim.snapshot().moving


def test_port_vanishing_shows_in_diagnostics_and_the_node_reconnects(
    graph: Graph, sim: McuSimulator, make_bridge: BridgeFactory
) -> None:
    make_bridge({"ros.diagnostics_hz": 10.0})
    diagnostics = graph.collect(DiagnosticArray, "/diagnostics", qos.DIAGNOSTICS)

    def link(level: bytes) -> bool:
        return bool(diagnostics) and diagnostics[-1].status[0].level == level

    assert wait_until(lambda: link(DiagnosticStatus.OK), WAIT_S)
    sim.unplug()
    assert wait_until(lambda: link(DiagnosticStatus.ERROR), WAIT_S)
    sim.replug()
    assert wait_until(lambda: link(DiagnosticStatus.OK), WAIT_S)
    values = {kv.key: kv.value for kv in diagnostics[-1].status[0].values}
    assert int(values["reconnects"]) >= 1
    assert diagnostics[-1].status[0].hardware_id == "chair-01/motor-mcu"


def test_bad_parameters_are_refused_with_a_reason(
    graph: Graph, sim: McuSimulator, make_bridge: BridgeFactory
) -> None:
    node = make_bridge()
    out_of_range = node.set_parameters([Parameter("firmware.limits.max_linear_mps", value=99.0)])
    assert not out_of_range[0].successful
    assert out_of_range[0].reason
    read_only = node.set_parameters([Parameter("firmware.port", value="/dev/null")])
    assert not read_only[0].successful
    assert "read-only" in read_only[0].reason
    wrong_type = node.set_parameters([Parameter("ros.cmd_vel_timeout_s", value="soon")])
    assert not wrong_type[0].successful
    accepted = node.set_parameters([Parameter("firmware.limits.max_linear_mps", value=0.6)])
    assert accepted[0].successful, accepted[0].reason
    assert wait_until(
        lambda: math.isclose(sim.plant.settings.max_linear_mps, 0.6, rel_tol=1e-6), 1.0
    )


def test_limits_do_not_change_while_the_chair_moves(
    graph: Graph, sim: McuSimulator, make_bridge: BridgeFactory
) -> None:
    node, cmd = drive_through_node(graph, make_bridge, 0.5, 1.5)
    # Still driving while the parameter is set: once /cmd_vel falls silent the chair stops, and
    # a loaded machine may take that long to get to the call.
    driving = threading.Event()
    driving.set()
    driver = threading.Thread(target=lambda: drive_while(cmd, driving), daemon=True)
    driver.start()
    try:
        assert wait_until(lambda: sim.snapshot().moving, WAIT_S)
        result = node.set_parameters([Parameter("firmware.limits.max_linear_mps", value=0.9)])
    finally:
        driving.clear()
        driver.join()
    assert not result[0].successful
    assert "BUSY" in result[0].reason
    assert node.get_parameter("firmware.limits.max_linear_mps").value == pytest.approx(1.1)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("firmware.drive_refresh_hz", 6.0, "drive_refresh_hz"),
        ("firmware.baud", "fast", "firmware.baud"),
        ("firmware.limits.max_linear_mps", 50.0, "max_linear_mps"),
    ],
)
def test_invalid_parameters_at_start_are_refused_with_their_name(
    graph: Graph, sim: McuSimulator, name: str, value: object, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        FirmwareBridgeNode(
            context=graph.context,
            parameter_overrides=[
                Parameter("firmware.port", value=sim.device_path),
                Parameter(name, value=value),
            ],
        )


def test_invalid_parameters_at_start_are_refused(graph: Graph, sim: McuSimulator) -> None:
    with pytest.raises(ConfigError, match="drive_refresh_hz"):
        FirmwareBridgeNode(
            context=graph.context,
            parameter_overrides=[
                Parameter("firmware.port", value=sim.device_path),
                Parameter("firmware.drive_refresh_hz", value=6.0),
            ],
        )


def test_plain_twist_is_accepted_when_configured(
    graph: Graph, sim: McuSimulator, make_bridge: BridgeFactory
) -> None:
    make_bridge({"ros.cmd_vel_stamped": False})
    cmd = graph.probe.create_publisher(Twist, "cmd_vel", qos.COMMANDS)
    rearm(graph)
    publish_for(cmd, twist(0.4).twist, 1.5)
    assert sim.snapshot().linear_mps == pytest.approx(0.4, abs=1e-3)


def test_malformed_cmd_vel_is_refused_and_commands_zero(
    graph: Graph, sim: McuSimulator, make_bridge: BridgeFactory
) -> None:
    node, cmd = drive_through_node(graph, make_bridge, 0.5, 1.0)
    sideways = twist(0.5)
    sideways.twist.linear.y = 0.3
    cmd.publish(twist(math.nan))
    cmd.publish(sideways)
    assert wait_until(lambda: node.rejected_commands == 2, WAIT_S)
    # Well inside the MCU's drive timeout (1 s here): the node stopped the chair, not the MCU.
    assert wait_until(lambda: sim.snapshot().target_linear_mps == 0.0, 0.8)


def test_paused_sim_clock_cannot_keep_the_chair_moving(
    graph: Graph, sim: McuSimulator, make_bridge: BridgeFactory
) -> None:
    clock = graph.probe.create_publisher(ClockMsg, "/clock", 10)
    paused = ClockMsg()
    paused.clock.sec = 100
    for _ in range(5):
        clock.publish(paused)
        time.sleep(0.02)
    make_bridge({"use_sim_time": True})
    odom = graph.collect(Odometry, "odom", qos.TELEMETRY)
    cmd = graph.probe.create_publisher(TwistStamped, "cmd_vel", qos.COMMANDS)
    rearm(graph)
    publish_for(cmd, twist(0.5), 1.0)
    assert sim.snapshot().moving
    clock.publish(paused)
    assert wait_until(lambda: not sim.snapshot().moving, WAIT_S)
    assert odom
    assert odom[-1].header.stamp.sec == 100


def test_shutdown_brakes_the_chair_before_the_node_exits(
    graph: Graph, sim: McuSimulator, make_bridge: BridgeFactory
) -> None:
    node, _cmd = drive_through_node(graph, make_bridge, 0.5, 1.5)
    graph.remove(node)
    # Well inside the MCU's drive timeout (1 s here): the node braked, not the watchdog, which
    # would have latched a fault.
    assert wait_until(lambda: sim.snapshot().target_linear_mps == 0.0, 0.8)
    assert sim.snapshot().faults == Fault.NONE


def test_a_publish_racing_the_nodes_destruction_is_dropped_not_raised(
    graph: Graph, sim: McuSimulator, make_bridge: BridgeFactory
) -> None:
    # A diagnostics tick the executor took just before the node was removed must not reach
    # the destroyed publisher: the exception would end the executor's spin for every node.
    node = make_bridge()
    assert wait_until(lambda: node.driver.latest_status is not None, 5.0)
    graph.remove(node)
    node._publish_diagnostics()  # the timer's callback, run after destruction


def test_the_serialisers_are_ready_before_the_first_message(graph: Graph, tmp_path: Path) -> None:
    # Generated at the first message instead, they held the GIL for hundreds of ms on a busy
    # machine, while /cmd_vel waited: ros.cmd_to_serial_p99_ms went from 35 to 200-340 ms.
    # Not spun and with no MCU, the node has published nothing yet.
    node = FirmwareBridgeNode(
        context=graph.context,
        parameter_overrides=[Parameter("firmware.port", value=str(tmp_path / "no-mcu"))],
    )
    try:
        assert set(PUBLISHED) <= set(node._store.cache)
    finally:
        node.destroy_node()
