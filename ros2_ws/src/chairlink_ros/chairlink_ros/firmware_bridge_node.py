"""firmware_bridge_node: /cmd_vel to the motor MCU, and the MCU's odometry and state back.

With the odometry goes odom -> base_link on tf; the sensors' mounts (chair.yaml's) go once on
tf_static at start, latched. Both names are relative, so in a chair's namespace they are the
namespace's tf and tf_static, with unprefixed frame names (as Nav2's multi-robot bringup has it).

A thin adapter over firmware_bridge.SerialDriver. Parameters are chair.yaml's, flattened
(chairlink.ros_params), validated through the same schema on declaration and on every change.
Staleness of /cmd_vel and the diagnostics rate run on the steady clock, so under use_sim_time a
paused /clock can never keep the chair moving; ROS time only stamps the messages.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from typing import Any

from chairlink_interfaces.msg import ChairStatus
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import Twist, TwistStamped
from nav_msgs.msg import Odometry as OdometryMsg
from rcl_interfaces.msg import SetParametersResult
from rclpy.clock import Clock
from rclpy.clock_type import ClockType
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.publisher import Publisher
from sensor_msgs.msg import BatteryState
from std_srvs.srv import Trigger
from tf2_msgs.msg import TFMessage

from chairlink.config import ChairConfig
from chairlink.errors import ConfigError
from chairlink.interfaces import typestore
from chairlink.ros_params import validate_parameters
from chairlink_ros import qos
from chairlink_ros.chair_parameters import declare_chair_parameters
from chairlink_ros.node_main import spin_node
from edge.diagnostics import motor_controller, motor_link
from edge.firmware_conversions import (
    chair_status_from_mcu,
    motor_link_from_stats,
    odometry_from_estimate,
)
from edge.rosbag.cdr import prepare, serialize
from edge.rosbag.conversions import (
    BATTERY_STATE,
    CHAIR_STATUS,
    DIAGNOSTIC_ARRAY,
    ODOMETRY,
    command_from_twist,
    to_battery_state,
    to_chair_status,
    to_diagnostic_array,
    to_odometry,
)
from edge.rosbag.transforms import TF_MESSAGE, pose_transform, static_transforms, tf_message
from edge.types import DriveCommand
from firmware_bridge.driver import Received, SerialDriver
from firmware_bridge.errors import LinkError
from firmware_bridge.messages import (
    Ack,
    ErrorCode,
    EstopReason,
    Fault,
    Odometry,
    Status,
    error_name,
)
from firmware_bridge.odometry import OdometryIntegrator

__all__ = ["PUBLISHED", "FirmwareBridgeNode", "main"]

PUBLISHED = (ODOMETRY, BATTERY_STATE, CHAIR_STATUS, DIAGNOSTIC_ARRAY, TF_MESSAGE)
"""The message types this node publishes."""


class FirmwareBridgeNode(Node):
    """Drives the motor MCU from /cmd_vel and publishes /odom, /battery, /chair/status."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("firmware_bridge", **kwargs)
        config, self._values = declare_chair_parameters(self)
        self._config: ChairConfig = config
        self.add_on_set_parameters_callback(self._on_set_parameters)

        firmware, ros = config.firmware, config.ros
        wheels = firmware.wheels
        self._odometry = OdometryIntegrator(
            wheels.radius_m, wheels.separation_m, wheels.ticks_per_rev
        )
        self._hardware_id = f"{config.identity.chair_id}/motor-mcu"
        self._store = typestore()
        prepare(self._store, PUBLISHED)
        # Publishing happens on the driver's thread and the executor's; destroy_node waits for
        # one in flight and stops the next, so none reaches a destroyed publisher.
        self._publishing = threading.Lock()
        self._closed = False
        self._last_cmd_ns: int | None = None
        self._cmd_stale = False
        self._rejected_commands = 0
        self._watchdog_trips = 0
        self._previous_faults = 0

        self._odom_pub = self.create_publisher(OdometryMsg, "odom", qos.TELEMETRY)
        self._battery_pub = self.create_publisher(BatteryState, "battery", qos.STATE)
        self._status_pub = self.create_publisher(ChairStatus, "chair/status", qos.STATE)
        self._diagnostics_pub = self.create_publisher(
            DiagnosticArray, "/diagnostics", qos.DIAGNOSTICS
        )
        # TF is built by edge.rosbag.transforms (as sim_node's and the bags') and sent as CDR.
        self._tf_pub = self.create_publisher(TFMessage, "tf", qos.TF)
        self._tf_static_pub = self.create_publisher(TFMessage, "tf_static", qos.TF_STATIC)
        self._publish(self._tf_static_pub, static_transforms(self._store, config, self._now_ns()))
        cmd_type = TwistStamped if ros.cmd_vel_stamped else Twist
        self.create_subscription(cmd_type, "cmd_vel", self._on_cmd_vel, qos.COMMANDS)

        # Service calls wait for the MCU's ACK (a few ms; up to 2 s for a re-arm that configures
        # and retries). Meanwhile the driver keeps refreshing the current command on its own
        # thread, and times it out with /cmd_vel's timeout.
        self.create_service(Trigger, "estop", self._on_estop)
        # The monitor's remote stop (through telemetry_node): the same e-stop, logged by the
        # MCU with its own reason.
        self.create_service(Trigger, "remote_estop", self._on_remote_estop)
        self.create_service(Trigger, "clear_estop", self._on_clear_estop)
        self.create_service(Trigger, "rearm", self._on_rearm)

        steady = Clock(clock_type=ClockType.STEADY_TIME)
        self.create_timer(1.0 / firmware.drive_refresh_hz, self._check_cmd_vel, clock=steady)
        self.create_timer(1.0 / ros.diagnostics_hz, self._publish_diagnostics, clock=steady)

        # The driver's own backstop times out with /cmd_vel, so a node stalled in a service
        # call cannot let a queued command outlive it.
        backstop = firmware.model_copy(update={"command_timeout_s": ros.cmd_vel_timeout_s})
        self._driver = SerialDriver(backstop, on_frame=self._on_frame)
        self._driver.start()
        self.get_logger().info(
            f"bridging {firmware.port} at {firmware.baud} baud; /cmd_vel "
            f"({cmd_type.__name__}) stale after {ros.cmd_vel_timeout_s} s"
        )

    @property
    def driver(self) -> SerialDriver:
        """The serial driver this node adapts."""
        return self._driver

    @property
    def rejected_commands(self) -> int:
        """How many /cmd_vel messages were refused as malformed."""
        return self._rejected_commands

    def destroy_node(self) -> None:
        """Brake the chair, close the port, then tear the node down."""
        self._driver.stop(brake=True)
        with self._publishing:
            self._closed = True
        super().destroy_node()

    def _on_cmd_vel(self, message: Twist | TwistStamped) -> None:
        self._last_cmd_ns = time.monotonic_ns()
        try:
            command = command_from_twist(message, self._last_cmd_ns)
        except ValueError as err:
            self._rejected_commands += 1
            self.get_logger().warning(f"refused /cmd_vel, commanding zero: {err}")
            command = DriveCommand.stop(self._last_cmd_ns)
        self._cmd_stale = False
        self._driver.command(command.linear_mps, command.angular_radps)

    def _check_cmd_vel(self) -> None:
        if self._last_cmd_ns is None or self._cmd_stale:
            return
        silent_s = (time.monotonic_ns() - self._last_cmd_ns) / 1e9
        if silent_s > self._config.ros.cmd_vel_timeout_s:
            self._cmd_stale = True
            self._driver.command(0.0, 0.0)
            self.get_logger().warning(f"/cmd_vel silent for {silent_s:.2f} s: commanding zero")

    def _on_frame(self, received: Received[Odometry | Status | Ack]) -> None:
        # Messages carry ROS time (sim time under use_sim_time); the driver's stamps are steady.
        message = received.message
        ros = self._config.ros
        if isinstance(message, Odometry):
            estimate = self._odometry.update(message, received.stamp_ns)
            if estimate is not None:
                odometry = dataclasses.replace(
                    odometry_from_estimate(estimate), stamp_ns=self._now_ns()
                )
                self._publish(
                    self._odom_pub,
                    to_odometry(self._store, odometry, ros.odom_frame, ros.base_frame),
                )
                transform = pose_transform(
                    self._store, odometry.stamp_ns, ros.odom_frame, ros.base_frame, odometry.pose
                )
                self._publish(self._tf_pub, tf_message(self._store, [transform]))
        elif isinstance(message, Status):
            if (
                message.faults & Fault.DRIVE_TIMEOUT
                and not self._previous_faults & Fault.DRIVE_TIMEOUT
            ):
                self._watchdog_trips += 1
                self.get_logger().error(
                    "the MCU's drive watchdog tripped: chair braked, re-arm needed"
                )
            self._previous_faults = message.faults
            status = chair_status_from_mcu(message, self._now_ns())
            link = motor_link_from_stats(self._driver.stats())
            self._publish(self._battery_pub, to_battery_state(self._store, status, ros.base_frame))
            self._publish(
                self._status_pub, to_chair_status(self._store, status, ros.base_frame, link)
            )

    def _publish_diagnostics(self) -> None:
        now_ns = self._now_ns()
        latest = self._driver.latest_status
        status = chair_status_from_mcu(latest.message, now_ns) if latest is not None else None
        diagnostics = (
            motor_link(
                self._hardware_id, self._driver.port, motor_link_from_stats(self._driver.stats())
            ),
            motor_controller(self._hardware_id, status, self._watchdog_trips),
        )
        self._publish(self._diagnostics_pub, to_diagnostic_array(self._store, now_ns, diagnostics))

    def _publish(self, publisher: Publisher, message: Any) -> None:
        data = serialize(self._store, message)
        with self._publishing:
            if not self._closed:
                publisher.publish(data)

    def _now_ns(self) -> int:
        return int(self.get_clock().now().nanoseconds)

    def _trigger(self, response: Trigger.Response, action: str, call: Any) -> Trigger.Response:
        try:
            ack: Ack = call()
        except LinkError as err:
            response.success = False
            response.message = f"{action} failed: {err}"
        else:
            response.success = ack.error == ErrorCode.OK
            response.message = f"{action}: {error_name(ack.error)}"
        # rclpy binds a severity to each logging call site, so the two levels need two calls.
        if response.success:
            self.get_logger().info(response.message)
        else:
            self.get_logger().warning(response.message)
        return response

    def _on_estop(self, request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        return self._trigger(response, "e-stop", lambda: self._driver.estop(EstopReason.OPERATOR))

    def _on_remote_estop(
        self, request: Trigger.Request, response: Trigger.Response
    ) -> Trigger.Response:
        return self._trigger(
            response, "remote e-stop", lambda: self._driver.estop(EstopReason.REMOTE)
        )

    def _on_clear_estop(
        self, request: Trigger.Request, response: Trigger.Response
    ) -> Trigger.Response:
        return self._trigger(response, "e-stop clear", self._driver.clear_estop)

    def _on_rearm(self, request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        return self._trigger(response, "re-arm", self._driver.rearm)

    def _on_set_parameters(self, parameters: list[Parameter]) -> SetParametersResult:
        candidate = dict(self._values)
        candidate.update({p.name: p.value for p in parameters})
        try:
            config = validate_parameters(candidate)
        except ConfigError as err:
            return SetParametersResult(successful=False, reason=str(err))
        if config.firmware != self._config.firmware:
            try:
                ack = self._driver.reconfigure(config.firmware)
            except LinkError as err:
                return SetParametersResult(successful=False, reason=f"MCU not reachable: {err}")
            if ack.error != ErrorCode.OK:
                reason = error_name(ack.error)
                if ack.error == ErrorCode.BUSY:
                    reason += " (limits change only while the chair stands still)"
                return SetParametersResult(successful=False, reason=f"MCU refused: {reason}")
        self._values = candidate
        self._config = config
        return SetParametersResult(successful=True)


def main(args: list[str] | None = None) -> None:
    """Run the node until shutdown; brake the chair on the way out."""
    spin_node(FirmwareBridgeNode, "firmware_bridge", args)
