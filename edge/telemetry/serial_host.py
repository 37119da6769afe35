"""The telemetry agent's host on a chair without ROS: the motor MCU and the oximeter on serial.

``SerialTelemetryHost`` opens the firmware bridge (``SerialDriver`` on ``firmware.port``) and
the oximeter (``OximeterReader`` on ``oximeter.port``) and feeds the agent through a
``TelemetryFeed`` on the steady clock: odometry and status as the MCU sends them, vitals polled
from the reader. The samples' wire stamps are wall-clock time.

Such a chair has no navigation: its attendant pushes or drives it. So it carries the
monitor's commands out as far as it can, by the rules every host follows (edge/trips/):

- stop: the MCU's e-stop (reason REMOTE), accepted only when the MCU acknowledges it;
- trip and cancel: ``TripCommands`` decides; an assigned trip's patient token becomes the
  oximeter reader's (no token, no vitals), a cancelled one's is cleared. The trip is kept on
  disk (``trip_file()``, beside the outbox): a restarted host takes it up before any command,
  vitals under its patient from the first reading, and tells the monitor (edge/trips/restore.py);
- config: only ``firmware.limits.*``, checked by ``config_change`` and applied by
  reconfiguring the MCU, which refuses while the chair moves.

Threads: the driver's I/O thread hands frames over without waiting, the agent's MQTT thread
delivers commands, and the host's own poll thread feeds the frames and the oximeter's vitals
to the agent; one lock serialises the feed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType

from chairlink.config import ChairConfig, trip_file
from chairlink.errors import ConfigError
from chairlink.wire.payloads import (
    CancelCommand,
    Command,
    ConfigCommand,
    EventMessage,
    StopCommand,
    TripCommand,
)
from edge.firmware_conversions import chair_status_from_mcu, odometry_from_estimate
from edge.telemetry.agent import AgentStats, TelemetryAgent
from edge.telemetry.feed import FeedStats, TelemetryFeed
from edge.telemetry.oximeter.reader import OximeterReader
from edge.trips.commands import (
    STOP_SET,
    TripAction,
    TripCommands,
    config_change,
    stop_not_delivered,
    stop_refused,
)
from edge.trips.restore import Restore
from edge.trips.store import TripStore
from firmware_bridge.driver import Received, SerialDriver
from firmware_bridge.errors import LinkError
from firmware_bridge.messages import Ack, ErrorCode, EstopReason, Odometry, Status, error_name
from firmware_bridge.odometry import OdometryIntegrator

__all__ = ["DYNAMIC_PREFIX", "HostSummary", "SerialTelemetryHost"]

_log = logging.getLogger(__name__)

DYNAMIC_PREFIX = "firmware.limits."
"""The only parameters a config command may change on a chair without ROS."""

_FLUSH_WAIT_S = 3.0


@dataclass(frozen=True)
class HostSummary:
    """What a host did between start and stop."""

    uptime_s: float
    feed: FeedStats
    agent: AgentStats
    """The agent's counters just before it stopped (``outbox_messages``: left for next time)."""
    mcu_frames: int
    mcu_reconnects: int
    oximeter_readings: int
    trip: str | None
    """The trip still assigned at the stop, if any."""
    braked: bool
    """Whether the port to the MCU was open for the brake's zero DRIVE at the stop."""


class SerialTelemetryHost:
    """Feeds the telemetry agent from the MCU and the oximeter, and carries out commands."""

    def __init__(
        self,
        config: ChairConfig,
        *,
        wall_clock_ns: Callable[[], int] = time.time_ns,
        steady_clock_ns: Callable[[], int] = time.monotonic_ns,
        poll_s: float = 0.05,
        client_id: str | None = None,
    ) -> None:
        """Build the agent, the driver and the reader; ``start()`` opens them.

        Args:
            config: the chair (identity, firmware, telemetry, oximeter).
            wall_clock_ns: Unix time, for the wire's stamps.
            steady_clock_ns: the stream's time (frames, vitals, rates).
            poll_s: how often the oximeter reader is asked for the vitals; well under the
                publish period, so a reading goes out at most this late.
            client_id: the MQTT client id (default ``chairlink-<chair id>``).

        Raises:
            ValueError: ``poll_s`` is not positive.
            ChairlinkError: the oximeter protocol is unknown, or the agent's password or TLS
                files cannot be read.
        """
        if not poll_s > 0:
            raise ValueError(f"poll_s must be positive, got {poll_s}")
        self.config = config
        self._firmware = config.firmware
        self._steady = steady_clock_ns
        self._poll_s = poll_s
        self._lock = threading.Lock()
        # Odometry and status from the driver's thread, fed by the poll thread; bounded, so a
        # stalled disk costs old samples, not memory.
        self._frames: deque[object] = deque(maxlen=256)
        self.trips = TripCommands(
            TripStore(trip_file(config.identity, config.telemetry), clock_ns=wall_clock_ns)
        )
        self._stop = threading.Event()
        self._poller: threading.Thread | None = None
        self._started_ns = 0
        self._summary: HostSummary | None = None

        self.agent = TelemetryAgent(
            config.identity,
            config.telemetry,
            on_command=self._on_command,
            on_local_alarm=self._on_local_alarm,
            clock_ns=wall_clock_ns,
            client_id=client_id,
            describe_now=self.trips.describe,
        )
        # The stream runs on the steady clock; the wire wants Unix time. One offset, taken
        # once: a wall clock stepped by NTP later must not bend the samples' spacing.
        offset = wall_clock_ns() - steady_clock_ns()
        self.feed = TelemetryFeed.for_chair(self.agent, config, stamp_offset_ns=offset)
        wheels = config.firmware.wheels
        self._odometry = OdometryIntegrator(
            wheels.radius_m, wheels.separation_m, wheels.ticks_per_rev
        )
        self.driver = SerialDriver(config.firmware, clock=steady_clock_ns, on_frame=self._on_frame)
        oximeter = config.oximeter
        self.reader = OximeterReader(
            oximeter.port,
            "",
            protocol=oximeter.protocol,
            stale_after_s=oximeter.stale_after_s,
            clock=steady_clock_ns,
        )

    def __enter__(self) -> SerialTelemetryHost:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Connect to the broker and open both ports (each retried in the background)."""
        self._started_ns = self._steady()
        self._stop.clear()
        self._restore_trip()
        self.agent.start()
        self.driver.start()
        self.reader.start()
        self._poller = threading.Thread(target=self._poll, name="telemetry-host", daemon=True)
        self._poller.start()
        identity, telemetry = self.config.identity, self.config.telemetry
        _log.info(
            "chair %s at %s without ROS: MCU on %s, oximeter on %s, telemetry to %s:%d",
            identity.chair_id,
            identity.site,
            self.config.firmware.port,
            self.config.oximeter.port,
            telemetry.broker_host,
            telemetry.broker_port,
        )

    def _restore_trip(self) -> None:
        """Take up the trip a killed process left (before any command can arrive): its
        patient's vitals go out from the first reading, and the monitor is told either way."""
        restored = self.trips.restore(self._steady())
        if restored.outcome == Restore.RESTORED:
            self.reader.set_patient(restored.patient)
            _log.warning("%s", restored.message)
        elif restored.outcome == Restore.ENDED:
            _log.error("%s", restored.message)
        restored.announce(self.agent)

    def stop(self) -> HostSummary:
        """Brake the chair, close the ports, send what is pending, disconnect; say what was done.

        Stopping twice returns the first summary.
        """
        if self._summary is not None:
            return self._summary
        self._stop.set()
        if self._poller is not None:
            self._poller.join(timeout=2.0)
        # The driver first: the brake matters more than the last samples. The zero DRIVE goes
        # out only on an open port; without one the MCU brakes on its own link timeout.
        braked = self.driver.connected
        self.driver.stop(brake=True)
        link = self.driver.stats()
        self.reader.stop()
        readings = self.reader.stats().readings
        self.agent.wait_sent(_FLUSH_WAIT_S)
        agent_stats = self.agent.stats()
        self.agent.stop()
        assignment = self.trips.assignment
        trip = assignment.trip_id if assignment is not None else None
        with self._lock:
            feed_stats = self.feed.stats()
        self._summary = HostSummary(
            uptime_s=(self._steady() - self._started_ns) / 1e9,
            feed=feed_stats,
            agent=agent_stats,
            mcu_frames=link.frames_rx,
            mcu_reconnects=link.reconnects,
            oximeter_readings=readings,
            trip=trip,
            braked=braked,
        )
        return self._summary

    @property
    def patient(self) -> str | None:
        """The patient token of the assigned trip, if any."""
        return self.trips.patient or None

    # -- uplink ------------------------------------------------------------------------------

    def _on_frame(self, received: Received[Odometry | Status | Ack]) -> None:
        message = received.message
        if isinstance(message, Odometry):
            estimate = self._odometry.update(message, received.stamp_ns)
            if estimate is None:
                return
            value: object = odometry_from_estimate(estimate)
        elif isinstance(message, Status):
            value = chair_status_from_mcu(message, received.stamp_ns)
        else:
            return
        # Handed over, not fed here: feeding can wait on the outbox's fsync of a vitals
        # reading, and the driver's thread must never wait (it answers the MCU).
        self._frames.append(value)

    def _poll(self) -> None:
        while not self._stop.wait(self._poll_s):
            try:
                with self._lock:
                    while self._frames:
                        self.feed.take(self._frames.popleft())
                now = self._steady()
                vitals = self.reader.vitals(now)
                with self._lock:
                    self.feed.take(vitals)
                    self.feed.tick(now)
            except Exception:
                # A bug here must not end the telemetry for the rest of the trip.
                _log.exception("error passing telemetry on")

    def _on_local_alarm(self, alarm: EventMessage) -> None:
        # No screen on such a chair: the log is where the attendant's device looks.
        _log.error("alarm on the chair (link down): %s: %s", alarm.code, alarm.message)

    # -- downlink (on the agent's MQTT thread) --------------------------------------------------

    def _on_command(self, command: Command) -> tuple[bool, str]:
        if isinstance(command, StopCommand):
            return self._remote_stop(command)
        if isinstance(command, TripCommand):
            return self._assign(command)
        if isinstance(command, CancelCommand):
            return self._cancel(command)
        return self._configure(command)

    def _remote_stop(self, command: StopCommand) -> tuple[bool, str]:
        _log.warning("remote stop %s: %s", command.command_id, command.reason or "no reason given")
        try:
            ack = self.driver.estop(EstopReason.REMOTE)
        except LinkError as err:
            _log.error("remote stop not delivered: %s", err)
            return False, stop_not_delivered(str(err))
        if ack.error != ErrorCode.OK:
            _log.error("remote stop refused by the MCU: %s", error_name(ack.error))
            return False, stop_refused(error_name(ack.error))
        return True, STOP_SET

    def _assign(self, command: TripCommand) -> tuple[bool, str]:
        decision = self.trips.trip(command, self._steady())
        if decision.action == TripAction.ASSIGN and decision.trip is not None:
            self.reader.set_patient(decision.trip.patient)
            _log.info(
                "trip %s assigned (%s to %s), patient %s; the attendant drives (no navigation "
                "on this chair)",
                command.trip_id,
                command.origin,
                command.destination,
                command.patient or "none",
            )
        return decision.answer

    def _cancel(self, command: CancelCommand) -> tuple[bool, str]:
        decision = self.trips.cancel(command)
        if decision.action == TripAction.CANCEL:
            self.reader.set_patient("")
            _log.info("trip %s cancelled: vitals stop", command.trip_id)
        return decision.answer

    def _configure(self, command: ConfigCommand) -> tuple[bool, str]:
        current = self.config.model_copy(update={"firmware": self._firmware})
        try:
            change = config_change(command.changes, current, (DYNAMIC_PREFIX,))
        except ConfigError as err:
            return False, str(err)
        if not change.changed:
            return True, "no change"
        try:
            ack = self.driver.reconfigure(change.config.firmware)
        except LinkError as err:
            return False, f"MCU not reachable: {err}"
        if ack.error != ErrorCode.OK:
            reason = error_name(ack.error)
            if ack.error == ErrorCode.BUSY:
                reason += " (limits change only while the chair stands still)"
            return False, f"MCU refused: {reason}"
        self._firmware = change.config.firmware
        _log.info("limits changed: %s", ", ".join(f"{k}={v}" for k, v in change.changes.items()))
        return True, "applied"
