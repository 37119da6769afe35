"""telemetry_node: the chair's ROS topics to the hospital monitor over MQTT, and its commands back.

A thin adapter over edge.telemetry.TelemetryAgent (docs/telemetry.md). Uplink: /odom and
/chair/status go through the same ``TelemetryFeed`` as on a chair without ROS, stamped on
arrival with the steady clock, and become vehicle samples at ``telemetry.vehicle_hz`` (stale
ones when they stop coming); /patient/vitals and /safety/state go to the agent as they come.
Downlink, validated and made idempotent by the agent, decided by the chair's rules
(edge/trips/): a remote stop calls the firmware bridge's ``remote_estop`` service and is
acknowledged only once the MCU has acknowledged it; trips and cancels that ``TripCommands``
accepts go out on /trip/command for navigation. The trip is kept on disk (``trip_file()``): a
restarted node takes it up before any command, tells the monitor, and publishes it on
/trip/command again once someone subscribes (or, for a trip that could not be restored, its
cancel), so vitals_node sends its patient's vitals again. Config changes that
``config_change`` accepts are applied to the firmware bridge atomically through its parameter
service. Alarms raised on the chair go to /diagnostics for the attendant's display, and the
agent's own health at ``ros.diagnostics_hz``.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import replace
from typing import Any, Literal

from chairlink_interfaces.msg import ChairStatus, PatientVitals, SafetyState
from chairlink_interfaces.msg import TripCommand as TripCommandMsg
from diagnostic_msgs.msg import DiagnosticArray
from nav_msgs.msg import Odometry as OdometryMsg
from rcl_interfaces.srv import SetParametersAtomically
from rclpy.client import Client
from rclpy.clock import Clock
from rclpy.clock_type import ClockType
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.timer import Timer
from std_srvs.srv import Trigger

from chairlink.config import outbox_file, trip_file
from chairlink.errors import ChairlinkError, ConfigError
from chairlink.identity import require_own_identity
from chairlink.interfaces import typestore
from chairlink.ros_params import DYNAMIC_PARAMETERS
from chairlink.wire.payloads import (
    CancelCommand,
    Command,
    ConfigCommand,
    EventMessage,
    PayloadError,
    StopCommand,
    TripCommand,
)
from chairlink.wire.topics import CommandKind
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
from edge.telemetry.feed import TelemetryFeed
from edge.trips.commands import (
    STOP_SET,
    TripAction,
    TripCommands,
    config_change,
    stop_not_delivered,
)
from edge.trips.restore import Restore, Restored
from edge.trips.store import TripStore

__all__ = ["TelemetryNode", "main"]

BRIDGE_NODE = "firmware_bridge"
NOT_RESTORED_COMMAND_ID = "trip-not-restored"
"""The command id of the cancel published for navigation when a trip could not be restored."""
_RESTORE_POLL_S = 0.1
SERVICE_TIMEOUT_S = 2.0
_TICKS_PER_SAMPLE = 4
"""The feed is told the time this often per sample, so a sample is late by a quarter period at
most when odometry and status have stopped coming."""
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
        require_own_identity(config)
        self._config = config
        self._hardware_id = f"{config.identity.chair_id}/telemetry"
        self._frame = config.ros.base_frame
        self._trips = TripCommands(TripStore(trip_file(config.identity, config.telemetry)))
        # Decisions and what they publish on /trip/command, in one order: a restored trip
        # published late must not overtake the cancel that ended it.
        self._trip_lock = threading.Lock()
        self._store = typestore()
        prepare(self._store, (TRIP_COMMAND, DIAGNOSTIC_ARRAY))

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
            describe_now=self._trips.describe,
        )
        # Before the first command can arrive: the trip a killed process left.
        restored = self._trips.restore(time.monotonic_ns())
        self._report_restore(restored)
        self._agent.start()
        # The vehicle stream runs on the steady clock; the wire wants Unix time: one offset,
        # taken once, as the serial host does. Vitals go to the agent directly (vitals_node
        # publishes them at the chair's rate).
        offset = time.time_ns() - time.monotonic_ns()
        self._feed = TelemetryFeed.for_chair(self._agent, config, stamp_offset_ns=offset)
        self._feed_lock = threading.Lock()
        steady = Clock(clock_type=ClockType.STEADY_TIME)
        self.create_timer(
            1.0 / (config.telemetry.vehicle_hz * _TICKS_PER_SAMPLE), self._tick, clock=steady
        )
        self.create_timer(1.0 / config.ros.diagnostics_hz, self._publish_health, clock=steady)
        self._renavigate: Timer | None = None
        if restored.outcome != Restore.NOTHING and restored.trip_id is not None:
            # /trip/command is volatile: published now, before discovery has matched anyone,
            # it would reach no one. Published once a subscriber is there.
            self._renavigate = self.create_timer(
                _RESTORE_POLL_S, lambda: self._tell_navigation(restored), clock=steady
            )
        self.get_logger().info(
            f"chair {config.identity.chair_id} at {config.identity.site}: telemetry to "
            f"{config.telemetry.broker_host}:{config.telemetry.broker_port}, outbox "
            f"{outbox_file(config.identity, config.telemetry)}"
        )

    @property
    def agent(self) -> TelemetryAgent:
        """The agent this node adapts."""
        return self._agent

    @property
    def trips(self) -> TripCommands:
        """The chair's trip rules, and the trip they have assigned."""
        return self._trips

    def _report_restore(self, restored: Restored) -> None:
        if restored.outcome == Restore.RESTORED:
            self.get_logger().warning(restored.message)
        elif restored.outcome == Restore.ENDED:
            self.get_logger().error(restored.message)
        restored.announce(self._agent)

    def _tell_navigation(self, restored: Restored) -> None:
        """Navigation (and vitals_node) get the restored trip again, or the ended one's
        cancel; once, when /trip/command has a subscriber."""
        if self._trip_pub.get_subscription_count() == 0:
            return
        if self._renavigate is not None:
            self._renavigate.cancel()
        with self._trip_lock:
            if restored.command is not None:
                if self._trips.command is not restored.command:
                    return  # cancelled or replaced meanwhile: that went out already
                command: TripCommand | CancelCommand = restored.command
            elif restored.trip_id is not None:
                command = CancelCommand(
                    v=1,
                    kind=CommandKind.CANCEL,
                    command_id=NOT_RESTORED_COMMAND_ID,
                    chair=self._config.identity.chair_id,
                    issued_ns=time.time_ns(),
                    trip_id=restored.trip_id,
                )
            else:
                return  # an unreadable file that named no trip: nothing to cancel
            self._publish_trip(command)

    def _publish_trip(self, command: TripCommand | CancelCommand) -> None:
        now_ns = self.get_clock().now().nanoseconds
        self._trip_pub.publish(
            serialize(self._store, to_trip_command(self._store, command, now_ns, self._frame))
        )

    def destroy_node(self) -> None:
        """Send what is pending, say offline, and tear the node down."""
        self._agent.stop()
        super().destroy_node()

    # -- uplink ----------------------------------------------------------------------------------

    def _on_odometry(self, message: OdometryMsg) -> None:
        odometry = replace(from_odometry(message), stamp_ns=time.monotonic_ns())
        with self._feed_lock:
            self._feed.take(odometry)

    def _on_status(self, message: ChairStatus) -> None:
        status = replace(from_chair_status(message), stamp_ns=time.monotonic_ns())
        with self._feed_lock:
            self._feed.take(status)

    def _tick(self) -> None:
        with self._feed_lock:
            self._feed.tick(time.monotonic_ns())

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
        if not isinstance(command, TripCommand | CancelCommand):
            return self._configure(command)
        with self._trip_lock:
            if isinstance(command, TripCommand):
                decision = self._trips.trip(command, time.monotonic_ns())
            else:
                decision = self._trips.cancel(command)
            if decision.action != TripAction.NONE:
                self._publish_trip(command)
        return decision.answer

    def _remote_stop(self, command: StopCommand) -> tuple[bool, str]:
        self.get_logger().warning(f"remote stop {command.command_id}: {command.reason}")
        try:
            response = self._call(self._estop, Trigger.Request())
        except _ServiceError as err:
            self.get_logger().error(f"remote stop not delivered: {err}")
            return False, stop_not_delivered(str(err))
        if not response.success:
            self.get_logger().error(f"remote stop refused: {response.message}")
            return False, f"firmware bridge: {response.message}"
        return True, STOP_SET

    def _configure(self, command: ConfigCommand) -> tuple[bool, str]:
        try:
            change = config_change(command.changes, self._config, DYNAMIC_PARAMETERS)
        except ConfigError as err:
            return False, str(err)
        if not change.changed:
            return True, "no change"
        parameters = [Parameter(n, value=v).to_parameter_msg() for n, v in change.changes.items()]
        try:
            response = self._call(
                self._set_bridge_parameters, SetParametersAtomically.Request(parameters=parameters)
            )
        except _ServiceError as err:
            return False, str(err)
        result = response.result
        if not result.successful:
            return False, str(result.reason)
        self._config = change.config
        return True, "applied"

    def _call(self, client: Client, request: Any) -> Any:
        """Call a service from a thread other than the executor's and return its response.

        Raises:
            _ServiceError: the service is not there, or did not answer in time.
        """
        if not client.service_is_ready():
            raise _ServiceError(f"service {client.service_name} not available")
        done = threading.Event()
        future = client.call_async(request)
        future.add_done_callback(lambda _: done.set())
        if not done.wait(SERVICE_TIMEOUT_S):
            client.remove_pending_request(future)
            raise _ServiceError(
                f"service {client.service_name} did not answer in {SERVICE_TIMEOUT_S} s"
            )
        return future.result()


class _ServiceError(ChairlinkError):
    """A service of another node could not be called."""


def main(args: list[str] | None = None) -> None:
    """Run the node until shutdown; what is pending is sent on the way out."""
    spin_node(TelemetryNode, "telemetry", args)
