"""telemetry_node: the chair's ROS topics to the hospital monitor over MQTT, and its commands back.

A thin adapter over edge.telemetry.TelemetryAgent (docs/telemetry.md). Uplink: /odom and
/chair/status become vehicle samples at ``telemetry.vehicle_hz`` (steady clock),
/patient/vitals and /safety/state go to the agent as they come. Downlink, validated and made
idempotent by the agent: a remote stop calls the firmware bridge's ``remote_estop`` service and
is acknowledged only once the MCU has acknowledged it; trips and cancels go out on
/trip/command for navigation; config changes are applied to the firmware bridge atomically
through its parameter service. Alarms raised on the chair go to /diagnostics for the
attendant's display, and the agent's own health at ``ros.diagnostics_hz``.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any, Literal

from chairlink_interfaces.msg import ChairStatus, PatientVitals, SafetyState
from chairlink_interfaces.msg import TripCommand as TripCommandMsg
from diagnostic_msgs.msg import DiagnosticArray
from nav_msgs.msg import Odometry as OdometryMsg
from pydantic import ValidationError
from rcl_interfaces.srv import SetParametersAtomically
from rclpy.client import Client
from rclpy.clock import Clock
from rclpy.clock_type import ClockType
from rclpy.node import Node
from rclpy.parameter import Parameter
from std_srvs.srv import Trigger

from chairlink.interfaces import typestore
from chairlink.ros_params import runtime_changes
from chairlink.wire.payloads import (
    CancelCommand,
    Command,
    ConfigCommand,
    EventMessage,
    PayloadError,
    StopCommand,
    TripCommand,
    describe,
)
from chairlink_ros import qos
from chairlink_ros.chair_parameters import declare_chair_parameters
from chairlink_ros.node_main import spin_node
from edge.diagnostics import Diagnostic, patient_alarm, telemetry_link
from edge.rosbag.cdr import prepare, serialize
from edge.rosbag.conversions import (
    DIAGNOSTIC_ARRAY,
    TRIP_COMMAND,
    from_chair_status,
    from_odometry,
    from_patient_vitals,
    to_diagnostic_array,
    to_trip_command,
)
from edge.telemetry.agent import TelemetryAgent
from edge.telemetry.vehicle_state import VehicleState

__all__ = ["TelemetryNode", "main"]

BRIDGE_NODE = "firmware_bridge"
STATE_STALE_S = 1.0
"""With no odometry or MCU status for this long (they come at 50 and 10 Hz), samples say so."""
SERVICE_TIMEOUT_S = 2.0
SafetyName = Literal["clear", "slow", "stop", "estop"]
_SAFETY_STATES: dict[int, SafetyName] = {
    SafetyState.CLEAR: "clear",
    SafetyState.SLOW: "slow",
    SafetyState.STOP: "stop",
    SafetyState.ESTOP: "estop",
}


class TelemetryNode(Node):
    """The chair's link to the monitor, in the ROS graph."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("telemetry", **kwargs)
        config, _ = declare_chair_parameters(self)
        self._config = config
        self._hardware_id = f"{config.identity.chair_id}/telemetry"
        self._frame = config.ros.base_frame
        self._store = typestore()
        prepare(self._store, (TRIP_COMMAND, DIAGNOSTIC_ARRAY))
        self._vehicle = VehicleState()
        self._vehicle_lock = threading.Lock()
        self._odometry_at = self._status_at = 0.0
        # One trip at a time: its patient is the one whose vitals go out.
        self._trip_lock = threading.Lock()
        self._trip_id = ""

        self._trip_pub = self.create_publisher(TripCommandMsg, "trip/command", qos.COMMANDS)
        self._diagnostics_pub = self.create_publisher(
            DiagnosticArray, "/diagnostics", qos.DIAGNOSTICS
        )
        self._estop = self.create_client(Trigger, "remote_estop")
        self._set_bridge_parameters = self.create_client(
            SetParametersAtomically, f"{BRIDGE_NODE}/set_parameters_atomically"
        )
        self.create_subscription(OdometryMsg, "odom", self._on_odometry, qos.TELEMETRY)
        self.create_subscription(ChairStatus, "chair/status", self._on_status, qos.STATE)
        self.create_subscription(PatientVitals, "patient/vitals", self._on_vitals, qos.TELEMETRY)
        self.create_subscription(SafetyState, "safety/state", self._on_safety, qos.STATE)

        self._agent = TelemetryAgent(
            config.identity,
            config.telemetry,
            on_command=self._on_command,
            on_local_alarm=self._on_local_alarm,
        )
        self._agent.start()
        steady = Clock(clock_type=ClockType.STEADY_TIME)
        self.create_timer(1.0 / config.telemetry.vehicle_hz, self._send_vehicle, clock=steady)
        self.create_timer(1.0 / config.ros.diagnostics_hz, self._publish_health, clock=steady)
        self.get_logger().info(
            f"chair {config.identity.chair_id} at {config.identity.site}: telemetry to "
            f"{config.telemetry.broker_host}:{config.telemetry.broker_port}, outbox "
            f"{config.telemetry.outbox_path}"
        )

    @property
    def agent(self) -> TelemetryAgent:
        """The agent this node adapts."""
        return self._agent

    def destroy_node(self) -> None:
        """Send what is pending, say offline, and tear the node down."""
        self._agent.stop()
        super().destroy_node()

    # -- uplink ----------------------------------------------------------------------------------

    def _on_odometry(self, message: OdometryMsg) -> None:
        with self._vehicle_lock:
            self._vehicle.odometry = from_odometry(message)
            self._odometry_at = time.monotonic()

    def _on_status(self, message: ChairStatus) -> None:
        with self._vehicle_lock:
            self._vehicle.status = from_chair_status(message)
            self._status_at = time.monotonic()

    def _send_vehicle(self) -> None:
        now = time.monotonic()
        try:
            with self._vehicle_lock:
                stale = max(now - self._odometry_at, now - self._status_at) > STATE_STALE_S
                sample = self._vehicle.sample(time.time_ns(), stale=stale)
        except ValidationError as err:
            self.get_logger().warning(
                f"vehicle state refused: {describe(err)}", throttle_duration_sec=5.0
            )
            return
        if sample is not None:
            self._agent.vehicle(sample)

    def _on_vitals(self, message: PatientVitals) -> None:
        vitals = from_patient_vitals(message)
        if not vitals.patient_token:
            return  # no patient on the chair: nothing to tell the monitor
        try:
            self._agent.vitals(vitals)
        except PayloadError as err:
            self.get_logger().warning(f"/patient/vitals refused: {err}", throttle_duration_sec=5.0)

    def _on_safety(self, message: SafetyState) -> None:
        state = _SAFETY_STATES.get(message.state)
        if state is None:
            self.get_logger().warning(f"/safety/state: unknown state {message.state}, sent as stop")
            state = "stop"
        clearance = float(message.min_clearance)
        self._agent.safety(
            state, message.reason[:200], clearance if math.isfinite(clearance) else None
        )

    def _publish_health(self) -> None:
        self._publish_diagnostics(telemetry_link(self._hardware_id, self._agent.stats()))

    def _on_local_alarm(self, alarm: EventMessage) -> None:
        self.get_logger().error(f"alarm on the chair: {alarm.code}: {alarm.message}")
        self._publish_diagnostics(patient_alarm(self._hardware_id, alarm))

    def _publish_diagnostics(self, diagnostic: Diagnostic) -> None:
        now_ns = self.get_clock().now().nanoseconds
        self._diagnostics_pub.publish(
            serialize(self._store, to_diagnostic_array(self._store, now_ns, [diagnostic]))
        )

    # -- downlink (called on the MQTT client's thread) ------------------------------------------

    def _on_command(self, command: Command) -> tuple[bool, str]:
        if isinstance(command, StopCommand):
            return self._remote_stop(command)
        if isinstance(command, TripCommand | CancelCommand):
            return self._trip(command)
        return self._configure(command)

    def _trip(self, command: TripCommand | CancelCommand) -> tuple[bool, str]:
        with self._trip_lock:
            if isinstance(command, TripCommand):
                if self._trip_id:
                    # A second trip would switch the vitals to its patient while the first
                    # one may still be aboard.
                    return False, f"busy with trip {self._trip_id}: cancel it first"
                self._trip_id = command.trip_id
            elif command.trip_id != self._trip_id:
                return False, f"trip {command.trip_id} is not assigned to this chair"
            else:
                self._trip_id = ""
        now_ns = self.get_clock().now().nanoseconds
        self._trip_pub.publish(
            serialize(self._store, to_trip_command(self._store, command, now_ns, self._frame))
        )
        return True, "passed to navigation on /trip/command"

    def _remote_stop(self, command: StopCommand) -> tuple[bool, str]:
        self.get_logger().warning(f"remote stop {command.command_id}: {command.reason}")
        response = self._call(self._estop, Trigger.Request())
        if isinstance(response, str):
            self.get_logger().error(f"remote stop not delivered: {response}")
            return False, response
        if not response.success:
            self.get_logger().error(f"remote stop refused: {response.message}")
        return bool(response.success), str(response.message)

    def _configure(self, command: ConfigCommand) -> tuple[bool, str]:
        changes = runtime_changes(command.changes)
        if isinstance(changes, str):
            return False, changes
        parameters = [Parameter(n, value=v).to_parameter_msg() for n, v in changes.items()]
        response = self._call(
            self._set_bridge_parameters, SetParametersAtomically.Request(parameters=parameters)
        )
        if isinstance(response, str):
            return False, response
        result = response.result
        return bool(result.successful), str(result.reason) if not result.successful else "applied"

    def _call(self, client: Client, request: Any) -> Any:
        """Call a service from a thread other than the executor's; the response, or why not."""
        if not client.service_is_ready():
            return f"service {client.service_name} not available"
        done = threading.Event()
        future = client.call_async(request)
        future.add_done_callback(lambda _: done.set())
        if not done.wait(SERVICE_TIMEOUT_S):
            client.remove_pending_request(future)
            return f"service {client.service_name} did not answer in {SERVICE_TIMEOUT_S} s"
        return future.result()


def main(args: list[str] | None = None) -> None:
    """Run the node until shutdown; what is pending is sent on the way out."""
    spin_node(TelemetryNode, "telemetry", args)
