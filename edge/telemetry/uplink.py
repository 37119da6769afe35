"""The chair's uplink messages, built from what the host feeds and put in the outbox numbered.

Every message gets its sequence number from the outbox in the statement that stores it, then
goes to the sender (``Outlet``). Vehicle samples wait for their batch (at most
``vehicle_batch_s``), safety states go on change and as a keep-alive, and the outbox's
tombstones for thinned vehicle messages are sent like any message. While the link is down,
vitals alarms are raised on the chair at once (``on_local_alarm``) and sent when it returns.
"""

from __future__ import annotations

import math
import sqlite3
import threading
from collections.abc import Callable
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ValidationError

from chairlink.config import TelemetryConfig
from chairlink.wire.payloads import (
    SCHEMA_VERSION,
    CommandAck,
    EventMessage,
    PatientMessage,
    PayloadError,
    SafetyMessage,
    StateMessage,
    TripMessage,
    VehicleMessage,
    VehicleSample,
    describe,
    encode,
)
from chairlink.wire.topics import Channel, channel_topic
from edge.telemetry.errors import TelemetryError
from edge.telemetry.outbox import Outbox, Pending
from edge.telemetry.stats import AgentStats
from edge.telemetry.vitals_alarms import VitalsAlarms
from edge.types import Perfusion, Vitals

__all__ = ["Outlet", "TripEvent", "Uplink"]

_PERFUSION: dict[Perfusion, Literal["unknown", "good", "marginal", "low"]] = {
    Perfusion.UNKNOWN: "unknown",
    Perfusion.GOOD: "good",
    Perfusion.MARGINAL: "marginal",
    Perfusion.LOW: "low",
}
_BATCH_SAMPLES = 200

TripEvent = Literal["accepted", "refused", "started", "arrived", "cancelled", "failed", "expired"]
"""What a trip message says happened."""


class Outlet(Protocol):
    """Where stored messages go next: the sender."""

    @property
    def connected(self) -> bool:
        """Whether the broker has accepted the connection."""

    def enqueue(self, rows: list[Pending]) -> None:
        """Rows just put in the outbox."""


class Uplink:
    """Builds one chair's messages and puts them in the outbox for the sender."""

    def __init__(
        self,
        site: str,
        chair: str,
        config: TelemetryConfig,
        outbox: Outbox,
        outlet: Outlet,
        *,
        lock: threading.Condition,
        stats: AgentStats,
        stopping: threading.Event,
        clock_ns: Callable[[], int],
        on_local_alarm: Callable[[EventMessage], None] | None,
    ) -> None:
        """Messages of chair ``chair`` at ``site``, stamped by ``clock_ns`` (Unix time).

        ``lock`` guards ``stats``; once ``stopping`` is set (``stop_online()``), no state says
        ``online`` any more.
        """
        self.config = config
        self._chair = chair
        self._topics = {c: channel_topic(site, chair, c) for c in Channel}
        self._outbox = outbox
        self._outlet = outlet
        self._lock = lock
        self._stats = stats
        self._stopping = stopping
        self._clock_ns = clock_ns
        self._on_local_alarm = on_local_alarm
        self._alarms = VitalsAlarms()
        self._state_lock = threading.Lock()
        self._batch: list[VehicleSample] = []
        self._batch_lock = threading.RLock()
        self._batch_started_ns = 0
        self._last_safety: tuple[str, str] | None = None
        self._last_safety_ns = 0
        # The incarnation of the latest connection (its will's), which states carry.
        self._incarnation = 0

    def will(self) -> bytes:
        """The last will ``offline`` of the connection about to be made: a new incarnation,
        which the states put from now on carry too, and a sequence number for the will.

        Called once per connection, before its CONNECT: each connection's will is its own, so
        a will that fires is never a repeat of an earlier one, and it orders after the
        ``online`` of its own connection (``chairlink.wire.presence``).

        Raises:
            TelemetryError: the outbox could not give out the numbers (nothing was given out).
        """
        try:
            incarnation, seq = self._outbox.new_incarnation(Channel.STATE)
        except sqlite3.Error as err:
            raise TelemetryError(f"cannot give out an incarnation for the will: {err}") from err
        with self._state_lock:
            self._incarnation = incarnation
        return encode(
            StateMessage(
                **self._head(Channel.STATE, seq, self._clock_ns()),
                status="offline",
                incarnation=incarnation,
            )
        )

    def vehicle(self, sample: VehicleSample) -> None:
        """A vehicle sample, batched (see ``TelemetryAgent.vehicle``)."""
        now = self._clock_ns()
        with self._batch_lock:
            if not self._batch:
                self._batch_started_ns = now
            self._batch.append(sample)
            if len(self._batch) >= _BATCH_SAMPLES or self._batch_due(now):
                self.flush()

    def flush(self) -> None:
        """Put the vehicle samples waiting for their batch now."""
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

    def flush_overdue(self) -> None:
        """Put a batch that no later sample completed once it is ``vehicle_batch_s`` old."""
        with self._batch_lock:
            if self._batch and self._batch_due(self._clock_ns()):
                self.flush()

    def _batch_due(self, now_ns: int) -> bool:
        return now_ns - self._batch_started_ns >= self.config.vehicle_batch_s * 1e9

    def vitals(self, vitals: Vitals) -> None:
        """A vitals reading, and the alarms it raises while the link is down.

        Raises:
            PayloadError: the reading cannot go on the wire.
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
                doubtful=vitals.doubtful,
            ),
        )
        for alarm in self._alarms.update(vitals):
            if not self._outlet.connected:
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
        reason: str,
        clearance_m: float | None,
    ) -> None:
        """The safety state, when it changes and at least every ``safety_keepalive_s``."""
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
        self, trip_id: str, event: TripEvent, detail: str, ack: CommandAck | None
    ) -> None:
        """Progress of a trip, or the answer to a trip or cancel command."""
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
        """An alarm, incident or command answer; an alarm is shown on the chair too."""
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

    def put_state(self, status: Literal["online", "offline"], drained: bool = False) -> None:
        """The chair's state, with its backlog and last sequence numbers (of the channels
        counted for gaps: not the state's own) and the incarnation of the latest connection;
        no ``online`` once ``stop_online()`` was called."""
        # One state at a time, and none `online` once stop() has put `offline`: the retained
        # state must end as the stop left it.
        with self._state_lock:
            if status == "online" and self._stopping.is_set():
                return
            now = self._clock_ns()
            backlog = self._outbox.stats().messages
            last = {c: s for c, s in self._outbox.last_seq().items() if c != Channel.STATE}
            self._put(
                Channel.STATE,
                lambda seq: StateMessage(
                    **self._head(Channel.STATE, seq, now),
                    status=status,
                    incarnation=self._incarnation,
                    backlog=backlog,
                    drained=drained,
                    last_seq=last,
                ),
            )

    def stop_online(self) -> None:
        """From now on no state says ``online``: the stop's ``offline`` is the last word."""
        with self._state_lock:
            self._stopping.set()

    def _head(self, channel: Channel, seq: int, stamp_ns: int) -> dict[str, Any]:
        """The fields every uplink message starts with."""
        return {
            "v": SCHEMA_VERSION,
            "chair": self._chair,
            "channel": channel,
            "seq": seq,
            "stamp_ns": stamp_ns,
        }

    def _tombstone(self, first: int, last: int) -> tuple[str, bytes]:
        message = VehicleMessage(
            **self._head(Channel.VEHICLE, first, self._clock_ns()),
            thinned_through=last,
        )
        return self._topics[Channel.VEHICLE], encode(message)

    def _put(self, channel: Channel, build: Callable[[int], BaseModel]) -> None:
        topic = self._topics[channel]

        def payload(seq: int) -> tuple[str, bytes]:
            return topic, encode(build(seq))

        was_overflowing = self._outbox.overflowing
        try:
            row = self._outbox.put(channel, payload, self._clock_ns(), self._tombstone)
        except ValidationError as err:
            with self._lock:
                self._stats.refused_inputs += 1
            raise PayloadError(f"{channel.value} message refused: {describe(err)}") from err
        if not was_overflowing and self._outbox.overflowing:
            # Even events and vitals no longer fit: keep them, and tell the attendant.
            self.event("alarm", "outbox_full", "high", "telemetry outbox full: link down too long")
        self._outlet.enqueue([row, *self._outbox.take_tombstones()])
