"""The telemetry agent's sender: outbox rows to the broker, live first, and PUBACKs settled.

One thread. Rows put while connected are live and go at once, in put order, from memory after
their group's commit; rows that were in the outbox when the connection came are the backlog,
drained behind the live ones in outbox order at ``drain_msgs_per_s``. At most ``_MAX_UNACKED``
rows are in flight. PUBACKs are queued by paho's thread and settled here, off paho's busy
thread: a row leaves the outbox only on its PUBACK. Work begun on one connection never lands on
the next (``_generation``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable

import paho.mqtt.client as mqtt
from paho.mqtt.reasoncodes import ReasonCode

from chairlink.wire.topics import Channel
from edge.telemetry.connection import TopicAliases
from edge.telemetry.outbox import DURABLE_CHANNELS, Outbox, Pending
from edge.telemetry.stats import AgentStats

__all__ = ["Sender"]

_log = logging.getLogger(__name__)

_MAX_UNACKED = 1000
_ACK_BATCH = 64


class Sender:
    """Sends the outbox to the broker over whichever connection is up."""

    def __init__(
        self,
        outbox: Outbox,
        drain_msgs_per_s: float,
        *,
        lock: threading.Condition,
        stats: AgentStats,
        stop: threading.Event,
        stopping: threading.Event,
        each_round: Callable[[], None],
        raise_alarm: Callable[[str, str], None],
        on_drained: Callable[[], None],
    ) -> None:
        """A sender for ``outbox``; ``start()`` starts its thread.

        ``lock`` guards ``stats`` and the sender's state, and wakes the thread; ``stop`` ends
        it; once ``stopping`` is set the backlog stays for the next start. ``each_round`` runs
        on the thread every round (every 20 ms when idle); ``raise_alarm(code, message)``
        tells the attendant; ``on_drained`` says that the backlog is sent.
        """
        self._outbox = outbox
        self._drain_rate = drain_msgs_per_s
        self._lock = lock
        self._stats = stats
        self._stop = stop
        self._stopping = stopping
        self._each_round = each_round
        self._raise_alarm = raise_alarm
        self._on_drained = on_drained
        self._inflight: dict[int, Pending] = {}
        # PUBACKs as paho's thread hands them over, (mid, refused): appended without a lock
        # (deque appends are atomic), settled by the sender, off paho's busy thread.
        self._pubacks: deque[tuple[int, bool]] = deque()
        # Counts connections: work begun on one connection never lands on the next.
        self._generation = 0
        self._connected = False
        self._client: mqtt.Client | None = None
        self._aliases = TopicAliases(0)
        self._idle = False
        self._unreported_refusals = 0
        self._refusal_alarm_raised = False
        self._acked = 0
        # Rows up to the mark were in the outbox when the connection came: the backlog, sent
        # from the drain cursor at a bounded rate. Rows after it are live, sent at once.
        self._backlog_mark = 0
        self._cursor = 0
        # Live messages wait here for the sender, in put order, as well as in the outbox.
        self._live: deque[Pending] = deque()
        self._drain_tokens = 0.0
        self._drain_refill_ns = time.monotonic_ns()
        self._thread: threading.Thread | None = None

    @property
    def connected(self) -> bool:
        """Whether the broker has accepted the connection."""
        return self._connected

    @property
    def acked(self) -> int:
        """Messages the broker has acknowledged."""
        return self._acked

    def start(self) -> None:
        """Start the sender's thread."""
        self._thread = threading.Thread(target=self._run, name="telemetry-send", daemon=True)
        self._thread.start()

    def settle(self, timeout: float) -> None:
        """Wait up to ``timeout`` while connected for what is live or in flight to be
        acknowledged."""
        deadline = time.monotonic() + timeout
        with self._lock:
            self._lock.notify_all()
        # The thread settles the PUBACKs meanwhile: only the thread that records a row as in
        # flight may settle it, or an early PUBACK could find nothing to settle.
        while time.monotonic() < deadline and self._connected:
            with self._lock:
                if not self._inflight and not self._live and not self._pubacks:
                    break
            time.sleep(0.01)

    def stop(self) -> None:
        """End the thread (``stop`` is set by then), then settle the PUBACKs that came."""
        with self._lock:
            self._lock.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        if self._thread is None or not self._thread.is_alive():
            self._forget_acked()

    def enqueue(self, rows: list[Pending]) -> None:
        """Rows just put in the outbox: live while connected, sent at once."""
        with self._lock:
            if self._connected:
                # Tombstones a put made stand for messages receivers may be counting.
                self._live.extend(r for r in rows if r.id > self._backlog_mark)
                if self._idle:
                    self._lock.notify_all()

    # -- from the connection, on paho's thread ---------------------------------------------------

    def link_up(self, client: mqtt.Client, alias_max: int) -> None:
        """A new connection: what the outbox holds now is the backlog."""
        with self._lock:
            self._connected = True
            self._client = client
            self._stats.connects += 1
            self._inflight.clear()
            self._pubacks.clear()
            self._generation += 1
            self._aliases = TopicAliases(alias_max)
            self._backlog_mark = self._outbox.last_row_id()
            self._live.clear()
            self._cursor = 0
            self._stats.backlog = self._outbox.stats().messages
            self._stats.draining = True
            self._drain_tokens = 0.0
            self._drain_refill_ns = time.monotonic_ns()

    def link_lost(self, why: str) -> None:
        """The connection is gone: nothing more goes out on it."""
        with self._lock:
            if self._connected:
                self._stats.last_error = why
            self._connected = False
            self._client = None
            self._live.clear()
            self._aliases = TopicAliases(0)
            self._stats.draining = False
            self._lock.notify_all()

    def puback(self, mid: int, reason: ReasonCode) -> None:
        """The broker's PUBACK for ``mid``, queued for the sender's thread."""
        refused = reason.is_failure
        if refused:
            with self._lock:
                self._stats.refused_by_broker += 1
                self._stats.last_error = f"broker refused a message: {reason.getName()}"
        else:
            self._acked += 1  # only paho's thread writes it
        self._pubacks.append((mid, refused))
        if len(self._pubacks) >= _ACK_BATCH:
            with self._lock:
                self._lock.notify_all()

    # -- the sender's thread ---------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._round()
            except Exception as err:  # a full disk, a damaged file: keep trying, and say why
                _log.exception("telemetry sender failed")
                with self._lock:
                    self._stats.last_error = f"sender failed: {err}"
                self._stop.wait(1.0)

    def _round(self) -> None:
        with self._lock:
            if not self._pubacks and not (self._live and len(self._inflight) < _MAX_UNACKED):
                self._idle = True
                self._lock.wait(0.02)
                self._idle = False
        self._forget_acked()
        self._each_round()
        self._report_refusals()
        with self._lock:
            connected = self._connected
            link = self._generation
            room = _MAX_UNACKED - len(self._inflight)
            rows = [self._live.popleft() for _ in range(min(room, len(self._live)))]
        try:
            # Staged vehicle messages reach the disk every round, connected or not (a long
            # outage must not keep them only in memory), and before any of them goes out.
            self._outbox.commit()
            sent = self._publish(rows, link, live=True) if rows else 0
        except BaseException:
            self._give_back(rows, link)
            raise
        if connected and sent == len(rows):
            self._drain(link)

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
        self._outbox.remove(done)

    def _give_back(self, rows: list[Pending], link: int) -> None:
        """Return live rows a failed round took, to the front, while their connection lasts
        (after it, the next connection's backlog holds them)."""
        with self._lock:
            if link == self._generation and self._connected:
                self._live.extendleft(reversed(rows))

    def _drain(self, link: int) -> None:
        with self._lock:
            draining = self._stats.draining and not self._stopping.is_set()
            room = _MAX_UNACKED - len(self._inflight)
            cursor, mark = self._cursor, self._backlog_mark
        if not draining or room <= 0:
            return
        rate = self._drain_rate
        now = time.monotonic_ns()
        # At least one whole token fits, so a rate under 1/s still drains.
        self._drain_tokens = min(
            max(rate, 1.0), self._drain_tokens + (now - self._drain_refill_ns) / 1e9 * rate
        )
        self._drain_refill_ns = now
        budget = min(room, int(self._drain_tokens))
        if budget <= 0:
            return
        rows = [p for p in self._outbox.pending(budget, after_id=cursor) if p.id <= mark]
        sent = self._publish(rows, link, live=False) if rows else 0
        self._drain_tokens -= sent
        if sent < len(rows):
            return
        with self._lock:
            if link != self._generation or self._stopping.is_set():
                return
            done = not rows or self._cursor >= self._backlog_mark
            if done:
                self._stats.draining = False
        if done:
            self._on_drained()

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
            aliases = self._aliases.copy()
        sent: list[tuple[int, Pending]] = []
        for row in rows:
            # Only a live state may become the retained one; backlog states are history.
            retain = live and row.channel == Channel.STATE
            info = aliases.publish(client, row.topic, row.payload, retain=retain)
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
            self._raise_alarm(
                "broker_refused",
                f"the broker refused {refused} vitals or event messages ({error}): kept on the "
                "chair and retried on the next connection",
            )
