"""The telemetry agent: the chair's state and the patient's vitals to the monitor over MQTT 5,
and the monitor's commands back, with nothing lost on the way.

A library fed by its host (the telemetry node, the simulator's runner, or `chairlink edge
agent`): the host calls ``vehicle()``, ``vitals()``, ``safety()``, ``trip_event()`` and
``event()``; the agent stores each message in the outbox with its sequence number first, then
sends it. On paho-mqtt 2 with MQTT 5: a persistent session (clean start off, a session expiry),
a retained birth message and a retained last will ``offline`` on the state topic, QoS 1 for
everything. A message leaves the outbox only when the broker's PUBACK comes back.

The agent composes four parts that share one lock and its counters (``AgentStats``):

- ``Uplink`` (uplink.py) builds the messages and puts them in the outbox, numbered;
- ``Sender`` (sender.py), one thread: live messages first, the backlog drained behind them at
  ``drain_msgs_per_s``, PUBACKs settled;
- ``Connection`` (connection.py), one thread: a paho client per connection, its backoff, topic
  aliases, Receive Maximum, TLS and will;
- ``CommandReceiver`` (commands.py): commands validated, answered, idempotent by command id,
  trips expiring.
"""

from __future__ import annotations

import dataclasses
import sqlite3
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Literal

from chairlink.config import IdentityConfig, TelemetryConfig, outbox_file
from chairlink.wire.payloads import CommandAck, EventMessage, VehicleSample
from edge.telemetry.commands import CommandHandler, CommandReceiver
from edge.telemetry.connection import Connection
from edge.telemetry.errors import AlreadyStartedError, TelemetryError
from edge.telemetry.outbox import Outbox
from edge.telemetry.sender import Sender
from edge.telemetry.stats import AgentStats
from edge.telemetry.uplink import TripEvent, Uplink
from edge.types import Vitals

__all__ = ["AgentStats", "CommandHandler", "TelemetryAgent"]


class TelemetryAgent:
    """One chair's link to the monitor."""

    def __init__(
        self,
        identity: IdentityConfig,
        config: TelemetryConfig,
        *,
        on_command: CommandHandler | None = None,
        on_local_alarm: Callable[[EventMessage], None] | None = None,
        clock_ns: Callable[[], int] = time.time_ns,
        client_id: str | None = None,
        describe_now: Callable[[], str] | None = None,
    ) -> None:
        """Open the outbox and prepare the MQTT client; ``start()`` connects.

        ``on_command`` carries out commands (a remote stop must reach the e-stop path);
        ``on_local_alarm`` shows alarms raised on the chair to its attendant. ``clock_ns`` is
        wall-clock time for the edge timestamps. ``describe_now`` says what the chair is doing
        now (``TripCommands.describe``), for the answer to a repeated trip or cancel.

        Raises:
            TelemetryError: the outbox cannot be opened, or the password or TLS files cannot
                be read.
        """
        self.identity = identity
        self.config = config
        site, chair = identity.site, identity.chair_id
        outbox = outbox_file(identity, config)
        try:
            outbox.parent.mkdir(parents=True, exist_ok=True)
            self.outbox = Outbox(outbox, max_bytes=int(config.outbox_max_mb * 1e6))
        except (OSError, sqlite3.Error) as err:
            raise TelemetryError(f"cannot open the outbox {outbox}: {err}") from err
        # One lock for the parts' shared state and counters. A plain lock under the
        # condition: nothing takes it twice, and it is cheaper per PUBACK.
        self._lock = threading.Condition(threading.Lock())
        self._stats = AgentStats()
        self._stop = threading.Event()
        stopping = threading.Event()
        self._running = False
        self._closed = False
        self._sender = Sender(
            self.outbox,
            config.drain_msgs_per_s,
            stop=self._stop,
            stopping=stopping,
            # The uplink is made next, with the sender as its outlet.
            each_round=self._flush_overdue,
            raise_alarm=self._raise_alarm,
            on_drained=self._say_drained,
            lock=self._lock,
            stats=self._stats,
        )
        self._uplink = Uplink(
            site,
            chair,
            config,
            self.outbox,
            self._sender,
            stopping=stopping,
            clock_ns=clock_ns,
            on_local_alarm=on_local_alarm,
            lock=self._lock,
            stats=self._stats,
        )
        self._commands = CommandReceiver(
            chair,
            config,
            self.outbox,
            self._uplink,
            clock_ns=clock_ns,
            on_command=on_command,
            describe_now=describe_now,
            lock=self._lock,
            stats=self._stats,
        )
        self._connection = Connection(
            site,
            chair,
            config,
            client_id=client_id or f"chairlink-{chair}",
            will=self._uplink.will,
            events=self._sender,
            on_connected=lambda: self._uplink.put_state("online"),
            on_command=self._commands.receive,
            stop=self._stop,
            lock=self._lock,
            stats=self._stats,
        )

    # -- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> TelemetryAgent:
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
        """Connect (in the background, retrying) and start sending.

        Raises:
            AlreadyStartedError: the agent is running.
            TelemetryError: the agent was stopped (its outbox is closed).
        """
        with self._lock:
            if self._running:
                raise AlreadyStartedError("the telemetry agent is already started")
            if self._closed:
                raise TelemetryError("the telemetry agent was stopped: make a new one")
            self._running = True
        self._stop.clear()
        self._connection.start()
        self._sender.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Send what is pending (up to ``timeout``), say ``offline``, disconnect, close.

        Stopping a stopped agent does nothing.
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self.flush()
        # The backlog stays for the next start, and no `online` may follow the `offline`.
        self._uplink.stop_online()
        if self._sender.connected:
            self._uplink.put_state("offline")
            self._sender.settle(timeout)
        self._stop.set()
        self._sender.stop()
        self._connection.stop()  # a clean DISCONNECT: the broker discards the will
        self.outbox.close()
        with self._lock:
            self._running = False

    def wait_sent(self, timeout_s: float) -> bool:
        """Send the waiting vehicle batch and wait until the broker has acknowledged
        everything in the outbox; False at ``timeout_s``, or at once while offline."""
        self.flush()
        deadline = time.monotonic() + timeout_s
        while self.outbox.stats().messages:
            if not self._sender.connected or time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    @property
    def connected(self) -> bool:
        """Whether the broker has accepted the connection."""
        return self._sender.connected

    def stats(self) -> AgentStats:
        """Counters, with the outbox's."""
        box = self.outbox.stats()
        with self._lock:
            return dataclasses.replace(
                self._stats,
                connected=self._sender.connected,
                acked=self._sender.acked,
                window=self._connection.window,
                outbox_messages=box.messages,
                outbox_bytes=box.bytes,
                outbox_thinned=box.thinned_messages,
                outbox_overflowing=box.overflowing,
            )

    def _flush_overdue(self) -> None:
        self._uplink.flush_overdue()

    def _raise_alarm(self, code: str, message: str) -> None:
        self._uplink.event("alarm", code, "high", message)

    def _say_drained(self) -> None:
        self._uplink.put_state("online", drained=True)

    # -- what the host feeds -------------------------------------------------------------------

    def vehicle(self, sample: VehicleSample) -> None:
        """A vehicle sample; sent in a batch at most ``vehicle_batch_s`` old (the sender sends
        a batch that no later sample completes)."""
        self._uplink.vehicle(sample)

    def flush(self) -> None:
        """Send the vehicle samples waiting for their batch now."""
        self._uplink.flush()

    def vitals(self, vitals: Vitals) -> None:
        """A vitals reading (the host calls at 1 Hz); alarms on the chair while offline.

        Raises:
            PayloadError: the reading cannot go on the wire (a malformed patient token, a
                number out of range); nothing is stored and the counter ``refused_inputs`` rises.
        """
        self._uplink.vitals(vitals)

    def safety(
        self,
        state: Literal["clear", "slow", "stop", "estop"],
        reason: str = "",
        clearance_m: float | None = None,
    ) -> None:
        """The safety state; sent when it changes and at least every ``safety_keepalive_s``."""
        self._uplink.safety(state, reason, clearance_m)

    def trip_event(
        self,
        trip_id: str,
        event: TripEvent,
        detail: str = "",
        ack: CommandAck | None = None,
    ) -> None:
        """Progress of a trip, sent at once."""
        self._uplink.trip_event(trip_id, event, detail, ack)

    def event(
        self,
        kind: Literal["alarm", "incident", "command"],
        code: str,
        priority: Literal["high", "medium", "low"] = "medium",
        message: str = "",
        *,
        patient: str | None = None,
        raised_offline: bool = False,
        ack: CommandAck | None = None,
    ) -> None:
        """An alarm, incident or command answer, committed durably and sent at once."""
        self._uplink.event(
            kind, code, priority, message, patient=patient, raised_offline=raised_offline, ack=ack
        )
