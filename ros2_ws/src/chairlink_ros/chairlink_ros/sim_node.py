"""sim_node: the simulated hospital played into a ROS graph, closed loop through /cmd_vel.

The node steps edge.sim's runner on a steady-clock timer, at ``rate`` times real time, and
publishes what a chair would (/scan, /camera/image_raw and camera_info, /odom, /imu/data,
/chair/status, /battery, /patient/vitals, /tf with odom -> base_link, and latched /tf_static
with the mounts of chair.yaml's parameters) with /clock, so nodes under use_sim_time follow the
simulation; as ground truth also map -> odom on /tf and the floor, latched, on /map. Messages
are serialised once by the same code that records bags (edge.rosbag.SimTopics) and published
raw, so the graph carries byte for byte what a recording holds. All names are relative: in a
chair's namespace tf and tf_static are the namespace's, with unprefixed frame names. /cmd_vel
drives the simulated chair through the MCU model: a silent /cmd_vel becomes zero after
``cmd_vel_timeout_s`` of simulated time, as firmware_bridge_node does on a chair.
"""

from __future__ import annotations

import importlib
import time
from typing import Any

from geometry_msgs.msg import Twist, TwistStamped
from rcl_interfaces.msg import ParameterDescriptor
from rclpy.clock import Clock
from rclpy.clock_type import ClockType
from rclpy.exceptions import ParameterException
from rclpy.node import Node
from rclpy.publisher import Publisher
from rclpy.qos import QoSProfile
from rosgraph_msgs.msg import Clock as ClockMsg

from chairlink.errors import ChairlinkError
from chairlink.interfaces import typestore
from chairlink_ros import qos
from chairlink_ros.chair_parameters import declare_chair_parameters
from chairlink_ros.node_main import spin_node
from edge.rosbag import SimTopics
from edge.rosbag.cdr import CLOCK, prepare, serialize, to_clock
from edge.rosbag.conversions import command_from_twist
from edge.rosbag.sim_topics import RosMessage
from edge.rosbag.transforms import OCCUPANCY_GRID, TF_MESSAGE
from edge.sim.runner import Message, SimRunner
from edge.sim.scenario import load_scenario
from edge.stack import SensorMessage
from edge.types import DriveCommand

__all__ = ["CmdVelStack", "SimNode", "main"]

_QOS: dict[str, QoSProfile] = {
    "sensor_msgs/msg/LaserScan": qos.SENSORS,
    "sensor_msgs/msg/Image": qos.SENSORS,
    "sensor_msgs/msg/CompressedImage": qos.SENSORS,
    "sensor_msgs/msg/CameraInfo": qos.SENSORS,
    "sensor_msgs/msg/Imu": qos.SENSORS,
    "nav_msgs/msg/Odometry": qos.TELEMETRY,
    "sensor_msgs/msg/BatteryState": qos.STATE,
    "chairlink_interfaces/msg/ChairStatus": qos.STATE,
    "chairlink_interfaces/msg/PatientVitals": qos.TELEMETRY,
}
_TOPIC_QOS: dict[str, QoSProfile] = {"/tf": qos.TF, "/tf_static": qos.TF_STATIC, "/map": qos.MAP}
STEP_NS = 10_000_000
MAX_STEPS_PER_TICK = 50


def _message_class(msgtype: str) -> Any:
    package, _, name = msgtype.split("/")
    return getattr(importlib.import_module(f"{package}.msg"), name)


class CmdVelStack:
    """The simulator's stack in a ROS graph: whatever /cmd_vel says, zero once it goes silent."""

    def __init__(self, timeout_ns: int) -> None:
        self._timeout_ns = timeout_ns
        self._latest: tuple[int, float, float] | None = None
        self.now_ns = 0

    def command(self, linear: float, angular: float) -> None:
        """A /cmd_vel arrived (stamped with the simulation's time)."""
        self._latest = (self.now_ns, linear, angular)

    def on_sensor(self, now_ns: int, message: SensorMessage) -> None:
        """The graph sees the sensors; this stack needs none of them."""
        self.now_ns = max(self.now_ns, now_ns)

    def step(self, now_ns: int) -> DriveCommand | None:
        """The latest command while fresh, then zero; nothing before the first."""
        self.now_ns = now_ns
        if self._latest is None:
            return None
        received, linear, angular = self._latest
        if now_ns - received > self._timeout_ns:
            return DriveCommand.stop(now_ns)
        return DriveCommand(now_ns, linear, angular)


class SimNode(Node):
    """Plays one scenario into the graph."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("chairlink_sim", **kwargs)
        try:
            scenario_path = self.declare_parameter(
                "scenario",
                "",
                ParameterDescriptor(description="scenario YAML to play", read_only=True),
            ).value
            rate = self.declare_parameter(
                "rate", 1.0, ParameterDescriptor(description="simulated seconds per wall second")
            ).value
            stamped = self.declare_parameter(
                "cmd_vel_stamped", True, ParameterDescriptor(description="/cmd_vel is TwistStamped")
            ).value
            timeout_s = self.declare_parameter(
                "cmd_vel_timeout_s",
                0.25,
                ParameterDescriptor(description="zero after this much simulated silence"),
            ).value
        except ParameterException as err:
            raise ChairlinkError(f"chairlink_sim: {err}") from err
        chair, _values = declare_chair_parameters(self)
        if not scenario_path:
            raise ChairlinkError("sim_node needs the 'scenario' parameter: a scenario YAML")
        # The timer steps at most MAX_STEPS_PER_TICK periods per 10 ms tick.
        if not 0.01 <= rate <= MAX_STEPS_PER_TICK:
            raise ChairlinkError(f"rate {rate} outside 0.01..{MAX_STEPS_PER_TICK}")
        if not 0.01 <= timeout_s <= 5.0:
            raise ChairlinkError(f"cmd_vel_timeout_s {timeout_s} outside 0.01..5")
        self._rate = float(rate)
        self._stack = CmdVelStack(round(timeout_s * 1e9))
        # The chair the simulator renders is the one whose mounts and calibration go out.
        self._runner = SimRunner(
            load_scenario(scenario_path),
            chair=chair,
            stack_factory=lambda site, start, goal: self._stack,
        )
        self._store = typestore()
        prepare(self._store, (*_QOS, CLOCK, TF_MESSAGE, OCCUPANCY_GRID))
        self._topics = SimTopics(self._store, chair, self._runner.site.map)
        self._topic_publishers: dict[str, Publisher] = {}
        self._send(self._topics.latched())
        self._clock_pub = self.create_publisher(ClockMsg, "/clock", 10)
        cmd_type = TwistStamped if stamped else Twist
        self.create_subscription(cmd_type, "cmd_vel", self._on_cmd_vel, qos.COMMANDS)
        self._runner.start(on_message=self._publish)
        self._wall_start = time.monotonic()
        self._reported = False
        steady = Clock(clock_type=ClockType.STEADY_TIME)
        self.create_timer(STEP_NS / 1e9, self._tick, clock=steady)
        self.get_logger().info(
            f"playing {self._runner.scenario.name} (seed {self._runner.scenario.seed}) "
            f"at {self._rate}x real time"
        )

    @property
    def runner(self) -> SimRunner:
        """The simulation this node plays."""
        return self._runner

    def _on_cmd_vel(self, message: Twist | TwistStamped) -> None:
        try:
            command = command_from_twist(message, self._runner.now_ns)
        except ValueError as err:
            self.get_logger().warning(f"refused /cmd_vel, commanding zero: {err}")
            command = DriveCommand.stop(self._runner.now_ns)
        self._stack.command(command.linear_mps, command.angular_radps)

    def _tick(self) -> None:
        target = round((time.monotonic() - self._wall_start) * self._rate * 1e9)
        steps = 0
        while self._runner.now_ns < target and steps < MAX_STEPS_PER_TICK:
            if self._runner.step():
                self._finish()
                break
            steps += 1
        # /clock goes on after the scenario's end, standing still, so nodes under sim time
        # see a paused clock rather than a dead one.
        self._clock_pub.publish(serialize(self._store, to_clock(self._store, self._runner.now_ns)))

    def _finish(self) -> None:
        if self._reported:
            return
        self._reported = True
        result = self._runner.result()
        self.get_logger().info(
            f"scenario over at {result.sim_time_s:.1f} s: goal "
            f"{'reached' if result.reached_goal else 'not reached'}, "
            f"{len(result.collisions)} collisions, min clearance {result.min_clearance_m:.2f} m"
        )

    def _publish(self, topic: str, value: Message) -> None:
        if topic == "/cmd_vel":
            return  # the graph's own commands, not the simulator's to publish
        self._send(self._topics.messages(topic, value, self._runner.pose))

    def _send(self, messages: list[RosMessage]) -> None:
        for name, msgtype, message in messages:
            publisher = self._topic_publishers.get(name)
            if publisher is None:
                profile = _TOPIC_QOS.get(name) or _QOS.get(msgtype, qos.TELEMETRY)
                publisher = self.create_publisher(
                    _message_class(msgtype), name.lstrip("/"), profile
                )
                self._topic_publishers[name] = publisher
            publisher.publish(serialize(self._store, message))


def main(args: list[str] | None = None) -> None:
    """Run the simulation node until shutdown."""
    spin_node(SimNode, "chairlink_sim", args)
