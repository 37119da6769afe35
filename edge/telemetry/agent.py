"""The telemetry agent: the chair's state and the patient's vitals to the monitor over MQTT 5,
and the monitor's commands back, with nothing lost on the way.

A library fed by its host (the telemetry node, the simulator's runner, or `chairlink edge
agent`): the host calls ``vehicle()``, ``vitals()``, ``safety()``, ``trip_event()`` and
``event()``; the agent stores each message in the outbox with its sequence number first, then
sends it. On paho-mqtt 2 with MQTT 5: a persistent session (clean start off, a session expiry),
a retained birth message and a retained last will ``offline`` on the state topic, QoS 1 for
everything. A message leaves the outbox only when the broker's PUBACK comes back.

After an outage live data goes first and the backlog drains behind it in outbox order at
``drain_msgs_per_s``; the state message says when the backlog is drained, so that receivers
count gaps only then.

Commands are validated, acknowledged, and idempotent by command id (the ids and answers are
kept in the outbox file, so a restart does not run a command twice). A trip older than
``trip_max_age_s`` is refused as expired; a stop never expires.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import sqlite3
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from pydantic import BaseModel, ValidationError

from chairlink.config import IdentityConfig, TelemetryConfig, outbox_file
from chairlink.errors import ChairlinkError
from chairlink.wire.payloads import (
    SCHEMA_VERSION,
    CancelCommand,
    Command,
    CommandAck,
    EventMessage,
    PatientMessage,
    PayloadError,
    SafetyMessage,
    StateMessage,
    StopCommand,
    TripCommand,
    TripMessage,
    VehicleMessage,
    VehicleSample,
    decode_command,
    describe,
    encode,
)
from chairlink.wire.topics import Channel, CommandKind, channel_topic, command_topic
from edge.telemetry.outbox import DURABLE_CHANNELS, Outbox, Pending
from edge.telemetry.vitals_alarms import VitalsAlarms
from edge.types import Perfusion, Vitals

__all__ = ["AgentStats", "CommandHandler", "TelemetryAgent"]

_log = logging.getLogger(__name__)

CommandHandler = Callable[[Command], tuple[bool, str]]
"""Carries a command out on the chair: returns whether it was accepted, and why not."""

_PERFUSION: dict[Perfusion, Literal["unknown", "good", "marginal", "low"]] = {
    Perfusion.UNKNOWN: "unknown",
    Perfusion.GOOD: "good",
    Perfusion.MARGINAL: "marginal",
    Perfusion.LOW: "low",
}
_MAX_UNACKED = 1000
_ACK_BATCH = 64
_PAHO_WINDOW = 100
_RECONNECT_MIN_S = 1.0
_RECONNECT_MAX_S = 30.0
_BATCH_SAMPLES = 200


class _AliasProperties(Properties):
    """PUBLISH properties holding only a topic alias, packed once.

    Paho packs a message's properties anew on every send, in Python, at a cost of about 7 us;
    these never change, and at thousands of messages a second the cost showed in the rate.
    """

    def __init__(self, alias: int) -> None:
        super().__init__(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        self.TopicAlias = alias
        # Properties refuses attributes that are not MQTT property names.
        object.__setattr__(self, "_packed", super().pack())  # type: ignore[no-untyped-call]

    def pack(self) -> bytes:
        """The properties' bytes on the wire."""
        return self._packed  # type: ignore[no-any-return, attr-defined]


@dataclass
class AgentStats:
    """What the agent has done since it started."""

    connected: bool = False
    connects: int = 0
    published: int = 0
    acked: int = 0
    refused_by_broker: int = 0
    refused_inputs: int = 0
    """Values from the host that no message could carry (a malformed token, SpO2 over 100)."""
    window: int = 0
    """Unacknowledged messages allowed out at once: at most the broker's Receive Maximum."""
    backlog: int = 0
    draining: bool = False
    commands: int = 0
    commands_rejected: int = 0
    commands_duplicate: int = 0
    local_alarms: int = 0
    outbox_messages: int = 0
    outbox_bytes: int = 0
    outbox_thinned: int = 0
    outbox_overflowing: bool = False
    last_error: str = ""


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
    ) -> None:
        """Open the outbox and prepare the MQTT client; ``start()`` connects.

        ``on_command`` carries out commands (a remote stop must reach the e-stop path);
        ``on_local_alarm`` shows alarms raised on the chair to its attendant. ``clock_ns`` is
        wall-clock time for the edge timestamps.

        Raises:
            ChairlinkError: the outbox cannot be opened, or the password or TLS files cannot
                be read.
        """
        self.identity = identity
        self.config = config
        self._site, self._chair = identity.site, identity.chair_id
        self._topics = {c: channel_topic(self._site, self._chair, c) for c in Channel}
        self._on_command = on_command
        self._on_local_alarm = on_local_alarm
        self._clock_ns = clock_ns
        outbox = outbox_file(identity, config)
        try:
            outbox.parent.mkdir(parents=True, exist_ok=True)
            self.outbox = Outbox(outbox, max_bytes=int(config.outbox_max_mb * 1e6))
        except (OSError, sqlite3.Error) as err:
            raise ChairlinkError(f"cannot open the outbox {outbox}: {err}") from err
        self._alarms = VitalsAlarms()
        # A plain lock under the condition: nothing takes it twice, and it is cheaper per PUBACK.
        self._lock = threading.Condition(threading.Lock())
        self._stats = AgentStats()
        self._inflight: dict[int, Pending] = {}
        # PUBACKs as paho's thread hands them over, (mid, refused): appended without a lock
        # (deque appends are atomic), settled by the sender, off paho's busy thread.
        self._pubacks: deque[tuple[int, bool]] = deque()
        # Counts connections: work begun on one connection never lands on the next.
        self._generation = 0
        self._stopping = False
        self._state_lock = threading.Lock()
        self._sender_idle = False
        self._unreported_refusals = 0
        self._refusal_alarm_raised = False
        self._acked_count = 0
        # Rows up to the mark were in the outbox when the connection came: the backlog, sent
        # from the drain cursor at a bounded rate. Rows after it are live, sent at once.
        self._backlog_mark = 0
        self._cursor = 0
        # Live messages wait here for the sender, in put order, as well as in the outbox.
        self._live: deque[Pending] = deque()
        self._connected = False
        self._stop = threading.Event()
        self._sender: threading.Thread | None = None
        self._batch: list[VehicleSample] = []
        self._batch_lock = threading.RLock()
        self._batch_started_ns = 0
        self._last_safety: tuple[str, str] | None = None
        self._last_safety_ns = 0
        self._drain_tokens = 0.0
        self._drain_refill_ns = time.monotonic_ns()
        self._client_id = client_id or f"chairlink-{self._chair}"
        self._password = self._read_password()
        # One will for the process: its sequence number is reserved once, so a chair that
        # reconnects many times leaves one unsent number on the state channel, not one each.
        self._will = encode(
            StateMessage(
                **self._head(
                    Channel.STATE, self.outbox.reserve_seq(Channel.STATE), self._clock_ns()
                ),
                status="offline",
            )
        )
        self._aliases: dict[str, Properties] = {}
        self._paho_window = _PAHO_WINDOW
        self._alias_max = 0
        self._link_down = threading.Event()
        self._link: threading.Thread | None = None
        # Built now so that unreadable TLS files fail here, not on a background thread.
        self._client: mqtt.Client | None = self._make_client()

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
        """Connect (in the background, retrying) and start sending."""
        self._stop.clear()
        self._link = threading.Thread(target=self._link_loop, name="telemetry-link", daemon=True)
        self._link.start()
        self._sender = threading.Thread(target=self._send_loop, name="telemetry-send", daemon=True)
        self._sender.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Send what is pending (up to ``timeout``), say ``offline``, disconnect, close."""
        self.flush()
        with self._state_lock:
            # The backlog stays for the next start, and no `online` may follow the `offline`.
            self._stopping = True
        if self._connected:
            self._put_state("offline")
            deadline = time.monotonic() + timeout
            with self._lock:
                self._lock.notify_all()
            # The sender settles the PUBACKs meanwhile: only the thread that records a row as
            # in flight may settle it, or an early PUBACK could find nothing to settle.
            while time.monotonic() < deadline and self._connected:
                with self._lock:
                    if not self._inflight and not self._live and not self._pubacks:
                        break
                time.sleep(0.01)
        self._stop.set()
        with self._lock:
            self._lock.notify_all()
        if self._sender is not None:
            self._sender.join(timeout=2.0)
        if self._sender is None or not self._sender.is_alive():
            self._forget_acked()
        with self._lock:
            client = self._client
        if client is not None:
            client.disconnect()  # a clean DISCONNECT: the broker discards the will
        self._link_down.set()
        if self._link is not None:
            self._link.join(timeout=5.0)
        self.outbox.close()

    def wait_sent(self, timeout_s: float) -> bool:
        """Send the waiting vehicle batch and wait until the broker has acknowledged
        everything in the outbox; False at ``timeout_s``, or at once while offline."""
        self.flush()
        deadline = time.monotonic() + timeout_s
        while self.outbox.stats().messages:
            if not self._connected or time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    @property
    def connected(self) -> bool:
        """Whether the broker has accepted the connection."""
        return self._connected

    def stats(self) -> AgentStats:
        """Counters, with the outbox's."""
        box = self.outbox.stats()
        with self._lock:
            return dataclasses.replace(
                self._stats,
                connected=self._connected,
                acked=self._acked_count,
                window=self._paho_window,
                outbox_messages=box.messages,
                outbox_bytes=box.bytes,
                outbox_thinned=box.thinned_messages,
                outbox_overflowing=box.overflowing,
            )

    # -- what the host feeds -------------------------------------------------------------------

    def vehicle(self, sample: VehicleSample) -> None:
        """A vehicle sample; sent in a batch at most ``vehicle_batch_s`` old (the sender sends
        a batch that no later sample completes)."""
        now = self._clock_ns()
        with self._batch_lock:
            if not self._batch:
                self._batch_started_ns = now
            self._batch.append(sample)
            if len(self._batch) >= _BATCH_SAMPLES or self._batch_due(now):
                self.flush()

    def flush(self) -> None:
        """Send the vehicle samples waiting for their batch now."""
        with self._batch_lock:
            if not self._batch:
                return
            samples, self._batch = self._batch, []
            now = self._clock_ns()
            # Under the batch lock, so that batches get their numbers in the order they filled.
            self._put(
                Channel.VEHICLE,
                lambda seq: VehicleMessage(
                    **self._head(Channel.VEHICLE, seq, now),
                    samples=samples,
                ),
            )

    def _batch_due(self, now_ns: int) -> bool:
        return now_ns - self._batch_started_ns >= self.config.vehicle_batch_s * 1e9

    def _flush_overdue(self) -> None:
        with self._batch_lock:
            if self._batch and self._batch_due(self._clock_ns()):
                self.flush()

    def vitals(self, vitals: Vitals) -> None:
        """A vitals reading (the host calls at 1 Hz); alarms on the chair while offline.

        Raises:
            PayloadError: the reading cannot go on the wire (a malformed patient token, a
                number out of range); nothing is stored and the counter ``refused_inputs`` rises.
        """
        now = self._clock_ns()

        def number(value: float) -> float | None:
            return value if math.isfinite(value) else None

        self._put(
            Channel.PATIENT,
            lambda seq: PatientMessage(
                **self._head(Channel.PATIENT, seq, now),
                patient=vitals.patient_token,
                spo2_pct=number(vitals.spo2_pct),
                pulse_bpm=number(vitals.pulse_bpm),
                perfusion=_PERFUSION[vitals.perfusion],
                probe_off=vitals.probe_off,
                artifact=vitals.artifact,
                out_of_track=vitals.out_of_track,
                stale=vitals.stale,
            ),
        )
        for alarm in self._alarms.update(vitals):
            if not self._connected:
                self.event(
                    "alarm",
                    alarm.code,
                    alarm.priority,
                    alarm.message,
                    patient=vitals.patient_token,
                    raised_offline=True,
                )

    def safety(
        self,
        state: Literal["clear", "slow", "stop", "estop"],
        reason: str = "",
        clearance_m: float | None = None,
    ) -> None:
        """The safety state; sent when it changes and at least every ``safety_keepalive_s``."""
        now = self._clock_ns()
        key = (state, reason)
        if key == self._last_safety and now - self._last_safety_ns < (
            self.config.safety_keepalive_s * 1e9
        ):
            return
        self._last_safety, self._last_safety_ns = key, now
        self._put(
            Channel.SAFETY,
            lambda seq: SafetyMessage(
                **self._head(Channel.SAFETY, seq, now),
                state=state,
                reason=reason,
                clearance_m=clearance_m,
            ),
        )

    def trip_event(
        self,
        trip_id: str,
        event: Literal[
            "accepted", "refused", "started", "arrived", "cancelled", "failed", "expired"
        ],
        detail: str = "",
        ack: CommandAck | None = None,
    ) -> None:
        """Progress of a trip, sent at once."""
        now = self._clock_ns()
        self._put(
            Channel.TRIP,
            lambda seq: TripMessage(
                **self._head(Channel.TRIP, seq, now),
                trip_id=trip_id,
                event=event,
                detail=detail,
                ack=ack,
            ),
        )

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
        now = self._clock_ns()
        built: list[EventMessage] = []

        def build(seq: int) -> EventMessage:
            message_ = EventMessage(
                **self._head(Channel.EVENT, seq, now),
                event_id=f"ev-{seq}",
                kind=kind,
                code=code,
                priority=priority,
                message=message,
                raised_offline=raised_offline,
                patient=patient,
                ack=ack,
            )
            built.append(message_)
            return message_

        self._put(Channel.EVENT, build)
        if kind == "alarm" and self._on_local_alarm is not None:
            with self._lock:
                self._stats.local_alarms += 1
            self._on_local_alarm(built[0])

    # -- outbox and sending ---------------------------------------------------------------------

    def _head(self, channel: Channel, seq: int, stamp_ns: int) -> dict[str, Any]:
        """The fields every uplink message starts with."""
        return {
            "v": SCHEMA_VERSION,
            "chair": self._chair,
            "channel": channel,
            "seq": seq,
            "stamp_ns": stamp_ns,
        }

    def _topic(self, channel: Channel) -> str:
        return self._topics[channel]

    def _tombstone(self, first: int, last: int) -> tuple[str, bytes]:
        message = VehicleMessage(
            **self._head(Channel.VEHICLE, first, self._clock_ns()),
            thinned_through=last,
        )
        return self._topic(Channel.VEHICLE), encode(message)

    def _put(self, channel: Channel, build: Callable[[int], BaseModel]) -> None:
        topic = self._topic(channel)

        def payload(seq: int) -> tuple[str, bytes]:
            return topic, encode(build(seq))

        was_overflowing = self.outbox.overflowing
        try:
            row = self.outbox.put(channel, payload, self._clock_ns(), self._tombstone)
        except ValidationError as err:
            with self._lock:
                self._stats.refused_inputs += 1
            raise PayloadError(f"{channel.value} message refused: {describe(err)}") from err
        if not was_overflowing and self.outbox.overflowing:
            # Even events and vitals no longer fit: keep them, and tell the attendant.
            self.event("alarm", "outbox_full", "high", "telemetry outbox full: link down too long")
        fresh = [row, *self.outbox.take_tombstones()]
        with self._lock:
            if self._connected:
                # Tombstones this put made stand for messages receivers may be counting.
                self._live.extend(r for r in fresh if r.id > self._backlog_mark)
                if self._sender_idle:
                    self._lock.notify_all()

    def _put_state(self, status: Literal["online", "offline"], drained: bool = False) -> None:
        # One state at a time, and none `online` once stop() has put `offline`: the retained
        # state must end as the stop left it.
        with self._state_lock:
            if status == "online" and self._stopping:
                return
            self._put_state_now(status, drained)

    def _put_state_now(self, status: Literal["online", "offline"], drained: bool) -> None:
        now = self._clock_ns()
        backlog = self.outbox.stats().messages
        last = {c: s for c, s in self.outbox.last_seq().items() if c != Channel.STATE}
        self._put(
            Channel.STATE,
            lambda seq: StateMessage(
                **self._head(Channel.STATE, seq, now),
                status=status,
                backlog=backlog,
                drained=drained,
                last_seq=last,
            ),
        )

    def _forget_acked(self) -> None:
        """Settle the PUBACKs that came; remove what they acknowledge from the outbox, many in
        one transaction."""
        done: list[int] = []
        with self._lock:
            while self._pubacks:
                mid, refused = self._pubacks.popleft()
                row = self._inflight.pop(mid, None)
                if row is None:
                    continue  # of a connection since gone: its row stays and goes again
                if row.channel in DURABLE_CHANNELS:
                    if refused:
                        # Vitals and events are never dropped: kept for the next connection,
                        # and the attendant is told (_report_refusals).
                        self._unreported_refusals += 1
                        continue
                    self._refusal_alarm_raised = False
                # Other refused messages leave: the broker would refuse them again forever.
                done.append(row.id)
        self.outbox.remove(done)

    def _send_loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._send_round()
            except Exception as err:  # a full disk, a damaged file: keep trying, and say why
                _log.exception("telemetry sender failed")
                with self._lock:
                    self._stats.last_error = f"sender failed: {err}"
                self._stop.wait(1.0)

    def _send_round(self) -> None:
        with self._lock:
            if not self._pubacks and not (self._live and len(self._inflight) < _MAX_UNACKED):
                self._sender_idle = True
                self._lock.wait(0.02)
                self._sender_idle = False
        self._forget_acked()
        self._flush_overdue()
        self._report_refusals()
        with self._lock:
            connected = self._connected
            link = self._generation
            room = _MAX_UNACKED - len(self._inflight)
            rows = [self._live.popleft() for _ in range(min(room, len(self._live)))]
        try:
            # Staged vehicle messages reach the disk every round, connected or not (a long
            # outage must not keep them only in memory), and before any of them goes out.
            self.outbox.commit()
            sent = self._publish(rows, link, live=True) if rows else 0
        except BaseException:
            self._give_back(rows, link)
            raise
        if connected and sent == len(rows):
            self._drain(link)

    def _give_back(self, rows: list[Pending], link: int) -> None:
        """Return live rows a failed round took, to the front, while their connection lasts
        (after it, the next connection's backlog holds them)."""
        with self._lock:
            if link == self._generation and self._connected:
                self._live.extendleft(reversed(rows))

    def _drain(self, link: int) -> None:
        with self._lock:
            draining = self._stats.draining and not self._stopping
            room = _MAX_UNACKED - len(self._inflight)
            cursor, mark = self._cursor, self._backlog_mark
        if not draining or room <= 0:
            return
        rate = self.config.drain_msgs_per_s
        now = time.monotonic_ns()
        # At least one whole token fits, so a rate under 1/s still drains.
        self._drain_tokens = min(
            max(rate, 1.0), self._drain_tokens + (now - self._drain_refill_ns) / 1e9 * rate
        )
        self._drain_refill_ns = now
        budget = min(room, int(self._drain_tokens))
        if budget <= 0:
            return
        rows = [p for p in self.outbox.pending(budget, after_id=cursor) if p.id <= mark]
        sent = self._publish(rows, link, live=False) if rows else 0
        self._drain_tokens -= sent
        if sent < len(rows):
            return
        with self._lock:
            if link != self._generation or self._stopping:
                return
            done = not rows or self._cursor >= self._backlog_mark
            if done:
                self._stats.draining = False
        if done:
            self._put_state("online", drained=True)

    def _publish(self, rows: list[Pending], link: int, *, live: bool) -> int:
        """Hand rows to paho, in order, on connection ``link`` (and move the backlog cursor
        past them). Returns how many went (fewer when the connection is gone).

        The lock is taken once before and once after. A PUBACK that comes in between waits in
        ``_pubacks``, which only this thread settles, after the rows are recorded.
        """
        with self._lock:
            if link != self._generation or not self._connected or self._client is None:
                return 0
            client = self._client
            aliases = dict(self._aliases)
            alias_max = self._alias_max
        sent: list[tuple[int, Pending]] = []
        for row in rows:
            # Only a live state may become the retained one; backlog states are history.
            retain = live and row.channel == Channel.STATE
            alias = aliases.get(row.topic)
            if alias is not None:
                # The topic is known to the broker on this connection: 2 bytes instead of ~40.
                info = client.publish("", row.payload, qos=1, retain=retain, properties=alias)
            else:
                new_alias = _AliasProperties(len(aliases) + 1) if len(aliases) < alias_max else None
                info = client.publish(
                    row.topic, row.payload, qos=1, retain=retain, properties=new_alias
                )
                if new_alias is not None and info.rc == mqtt.MQTT_ERR_SUCCESS:
                    aliases[row.topic] = new_alias
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                break  # not connected any more: the rest stay in the outbox for the next one
            sent.append((info.mid, row))
        with self._lock:
            if link != self._generation or not sent:
                return 0  # messages on a dead connection: the outbox resends them
            self._aliases = aliases
            if not live:
                self._cursor = sent[-1][1].id
            self._stats.published += len(sent)
            self._inflight.update(sent)
        return len(sent)

    def _report_refusals(self) -> None:
        with self._lock:
            refused, self._unreported_refusals = self._unreported_refusals, 0
            error = self._stats.last_error
            # Once until the broker takes a vitals or event message again: the alarm is an
            # event too, and would otherwise be refused and raise the next one, forever.
            raise_alarm = refused > 0 and not self._refusal_alarm_raised
            if raise_alarm:
                self._refusal_alarm_raised = True
        if raise_alarm:
            self.event(
                "alarm",
                "broker_refused",
                "high",
                f"the broker refused {refused} vitals or event messages ({error}): kept on the "
                "chair and retried on the next connection",
            )

    # -- paho callbacks -------------------------------------------------------------------------

    def _read_password(self) -> str | None:
        if not self.config.password_file:
            return None
        try:
            return Path(self.config.password_file).read_text(encoding="utf-8").strip()
        except OSError as err:
            raise ChairlinkError(
                f"{self.config.password_file}: cannot read the MQTT password: {err.strerror}"
            ) from err

    def _make_client(self) -> mqtt.Client:
        """A paho client for one connection.

        Paho resends its unacknowledged messages on a reconnect, and topic aliases do not
        survive one: a resent message naming its topic only by alias would be a protocol error.
        So each connection gets a fresh client that owns nothing; the outbox resends instead.
        """
        c = self.config
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self._client_id,
            protocol=mqtt.MQTTv5,
            reconnect_on_failure=False,
        )
        client.max_inflight_messages_set(self._paho_window)
        client.username_pw_set(c.username or self._chair, self._password)
        if c.tls_ca_file:
            try:
                client.tls_set(
                    ca_certs=c.tls_ca_file,
                    certfile=c.tls_cert_file or None,
                    keyfile=c.tls_key_file or None,
                    tls_version=ssl.PROTOCOL_TLS_CLIENT,
                )
            except (OSError, ssl.SSLError) as err:
                raise ChairlinkError(f"cannot set up TLS: {err}") from err
        client.will_set(self._topic(Channel.STATE), self._will, qos=1, retain=True)
        # An exception out of a callback would end paho's network thread: the link would look
        # up and carry nothing, remote stops included.
        client.on_connect = self._guarded(self._on_connect, reconnect=True)
        client.on_disconnect = self._guarded(self._on_disconnect, reconnect=True)
        client.on_publish = self._guarded(self._on_publish, reconnect=True)
        client.on_message = self._guarded(self._on_message, reconnect=False)
        return client

    def _guarded(self, callback: Callable[..., None], *, reconnect: bool) -> Callable[..., None]:
        """``callback``, with any exception logged and kept in ``last_error``; where the
        connection's state may be left half-updated, the connection is dropped and redone."""

        def guarded(client: mqtt.Client, *args: Any) -> None:
            try:
                callback(client, *args)
            except Exception as err:
                _log.exception("telemetry %s failed", callback.__name__)
                with self._lock:
                    self._stats.last_error = f"{callback.__name__} failed: {err}"
                if reconnect:
                    self._link_down.set()

        return guarded

    def _link_loop(self) -> None:
        """Connect, run the connection until it drops, wait, and again with a new client."""
        c = self.config
        backoff = _RECONNECT_MIN_S
        while not self._stop.is_set():
            with self._lock:
                client = self._client
                connects = self._stats.connects
            if client is None:
                try:
                    client = self._make_client()
                except ChairlinkError as err:
                    with self._lock:
                        self._stats.last_error = str(err)
                    self._stop.wait(_RECONNECT_MAX_S)
                    continue
                with self._lock:
                    self._client = client
            self._link_down.clear()
            properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            properties.SessionExpiryInterval = c.session_expiry_s
            try:
                client.connect(
                    c.broker_host,
                    c.broker_port,
                    keepalive=c.keepalive_s,
                    clean_start=False,
                    properties=properties,
                )
            except (OSError, ValueError) as err:
                with self._lock:
                    self._stats.last_error = f"cannot reach {c.broker_host}:{c.broker_port}: {err}"
            else:
                client.loop_start()
                self._link_down.wait()
                client.loop_stop()
                # After an error in a callback the socket may still be open: close it, and
                # do what a disconnect does (paho calls no on_disconnect for loop_stop).
                client.disconnect()
                self._lost("connection redone after an error")
            if self._stop.is_set():
                return
            with self._lock:
                self._client = None
                if self._stats.connects > connects:
                    backoff = _RECONNECT_MIN_S
            self._stop.wait(backoff)
            backoff = min(backoff * 2, _RECONNECT_MAX_S)

    def _on_connect(
        self,
        client: mqtt.Client,
        _userdata: object,
        _flags: object,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason.is_failure:
            with self._lock:
                self._stats.last_error = f"broker refused the connection: {reason.getName()}"
            _log.warning("broker refused the connection: %s", reason.getName())
            self._link_down.set()
            return
        # MQTT 5: no more unacknowledged QoS 1 messages out than the broker's Receive
        # Maximum (65,535 when the CONNACK leaves it out). Paho 2.2 does not read it and
        # fixes its window before connecting: reconnect with a smaller one.
        receive_maximum = getattr(properties, "ReceiveMaximum", 65_535)
        if receive_maximum < self._paho_window:
            _log.warning(
                "broker's Receive Maximum is %d: reconnecting with that window", receive_maximum
            )
            self._paho_window = receive_maximum
            client.disconnect()
            return
        client.subscribe(command_topic(self._site, self._chair, "+"), qos=1)
        with self._lock:
            self._connected = True
            self._stats.connects += 1
            self._inflight.clear()
            self._pubacks.clear()
            self._generation += 1
            # Topic aliases live as long as a connection, up to the broker's maximum.
            self._aliases = {}
            self._alias_max = min(len(Channel), getattr(properties, "TopicAliasMaximum", 0))
            self._backlog_mark = self.outbox.last_row_id()
            self._live.clear()
            self._cursor = 0
            self._stats.backlog = self.outbox.stats().messages
            self._stats.draining = True
            self._drain_tokens = 0.0
            self._drain_refill_ns = time.monotonic_ns()
        self._put_state("online")
        _log.info("connected to %s:%d", self.config.broker_host, self.config.broker_port)

    def _on_disconnect(
        self,
        _client: mqtt.Client,
        _userdata: object,
        _flags: object,
        reason: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        self._lost(f"disconnected: {reason.getName()}")

    def _lost(self, why: str) -> None:
        """The connection is gone: nothing more goes out on it."""
        with self._lock:
            if self._connected:
                self._stats.last_error = why
            self._connected = False
            self._live.clear()
            self._aliases = {}
            self._stats.draining = False
            self._lock.notify_all()
        self._link_down.set()

    def _on_publish(
        self,
        _client: mqtt.Client,
        _userdata: object,
        mid: int,
        reason: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        refused = reason.is_failure
        if refused:
            with self._lock:
                self._stats.refused_by_broker += 1
                self._stats.last_error = f"broker refused a message: {reason.getName()}"
        else:
            self._acked_count += 1  # only this thread writes it
        self._pubacks.append((mid, refused))
        if len(self._pubacks) >= _ACK_BATCH:
            with self._lock:
                self._lock.notify_all()

    def _on_message(self, _client: mqtt.Client, _userdata: object, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            self._stats.commands += 1
        try:
            command = decode_command(bytes(msg.payload))
        except PayloadError as err:
            self._refuse_unreadable(str(err))
            return
        if command.chair != self._chair:
            self._answer(
                command, False, f"command for chair {command.chair}, this is {self._chair}"
            )
            return
        seen = self.outbox.command_answer(command.command_id)
        # A stop that failed is carried out again when repeated: stopping twice is harmless,
        # and a monitor retrying a stop must not get the old refusal back.
        retry_stop = isinstance(command, StopCommand) and seen is not None and not seen[0]
        if seen is not None and not retry_stop:
            with self._lock:
                self._stats.commands_duplicate += 1
            self._answer(command, seen[0], seen[1], duplicate=True)
            return
        if isinstance(command, TripCommand):
            age_s = (self._clock_ns() - command.issued_ns) / 1e9
            if age_s > self.config.trip_max_age_s:
                self._answer(command, False, f"expired: issued {age_s:.0f} s ago")
                return
            if -age_s > self.config.trip_max_age_s:
                # A clock this far ahead would keep the trip from ever expiring.
                self._answer(command, False, f"issued {-age_s:.0f} s in the future: check clocks")
                return
        if self._on_command is None:
            accepted, reason = False, "no handler for commands on this chair"
        else:
            try:
                accepted, reason = self._on_command(command)
            except Exception as err:  # the host's handler must not take the agent down
                _log.exception("command handler failed")
                accepted, reason = False, f"handler failed: {err}"
        self._answer(command, accepted, reason)

    def _refuse_unreadable(self, reason: str) -> None:
        with self._lock:
            self._stats.commands_rejected += 1
        ack = CommandAck(command_id="unreadable", kind=CommandKind.STOP, accepted=False)
        self.event("command", "command_rejected", "medium", reason[:500], ack=ack)

    def _answer(
        self, command: Command, accepted: bool, reason: str, *, duplicate: bool = False
    ) -> None:
        if not duplicate:
            self.outbox.remember_command(command.command_id, accepted, reason)
        if not accepted:
            with self._lock:
                self._stats.commands_rejected += 1
        ack = CommandAck(
            command_id=command.command_id,
            kind=command.kind,
            accepted=accepted,
            reason=reason,
            duplicate=duplicate,
        )
        if isinstance(command, TripCommand | CancelCommand):
            if accepted:
                event: Literal["accepted", "refused", "expired", "cancelled"] = (
                    "accepted" if isinstance(command, TripCommand) else "cancelled"
                )
            else:
                event = "expired" if reason.startswith("expired") else "refused"
            self.trip_event(command.trip_id, event, reason, ack)
        else:
            code = "command_ack" if accepted else "command_rejected"
            priority: Literal["high", "low"] = "high" if command.kind == CommandKind.STOP else "low"
            self.event("command", code, priority, reason, ack=ack)
