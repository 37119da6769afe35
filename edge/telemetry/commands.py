"""Answering the monitor's commands: decoded, checked, carried out once, and answered.

A command must come on the topic of its kind: one on another kind's topic changes nothing and
is refused. A command that cannot be read changes nothing and is answered with the reason and
with its id and kind as far as they can be read (``read_command_head``), the topic's kind
otherwise; except on ``cmd/stop``, where only the monitor may write: a payload there that cannot
be read is carried out as a stop (fails safe) and answered as one. A command for another chair
is refused. A repeated command id is answered again (``duplicate: true``) and not carried out
again, across restarts (the answers are kept in the outbox file); a stop that failed is carried
out again when repeated. A trip issued more than ``trip_max_age_s`` ago is refused as expired,
and one issued that far in the future too (a clock that would keep it from ever expiring); a
trip that comes without an MQTT 5 message expiry is refused (``check_expiry``); a stop never
expires. The host's handler carries the rest out.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable
from typing import Literal

from chairlink.config import TelemetryConfig
from chairlink.wire.payloads import (
    SCHEMA_VERSION,
    CancelCommand,
    Command,
    CommandAck,
    CommandHead,
    PayloadError,
    StopCommand,
    TripCommand,
    decode_command,
    read_command_head,
)
from chairlink.wire.topics import CommandKind, TopicError, parse_topic
from edge.telemetry.errors import CommandExpiredError, CommandRefusedError
from edge.telemetry.outbox import CommandAnswer, Outbox
from edge.telemetry.stats import AgentStats
from edge.telemetry.uplink import TripEvent, Uplink
from edge.trips.commands import repeat_answer

__all__ = [
    "RAN_OUT_AFTER_S",
    "CommandHandler",
    "CommandReceiver",
    "check_addressee",
    "check_age",
    "check_expiry",
]

_log = logging.getLogger(__name__)

CommandHandler = Callable[[Command], tuple[bool, str]]
"""Carries a command out on the chair: returns whether it was accepted, and why not; or
raises ``CommandRefusedError`` with the reason."""


def check_addressee(command: Command, chair: str) -> None:
    """Raises:
    CommandRefusedError: the command is for another chair.
    """
    if command.chair != chair:
        raise CommandRefusedError(f"command for chair {command.chair}, this is {chair}")


def check_age(command: Command, now_ns: int, max_age_s: float) -> None:
    """A trip must have been issued within ``max_age_s`` of ``now_ns``, either way.

    Raises:
        CommandExpiredError: the trip was issued too long ago.
        CommandRefusedError: the trip was issued too far in the future.
    """
    if not isinstance(command, TripCommand):
        return
    age_s = (now_ns - command.issued_ns) / 1e9
    if age_s > max_age_s:
        raise CommandExpiredError(f"expired: issued {age_s:.0f} s ago")
    if -age_s > max_age_s:
        # A clock this far ahead would keep the trip from ever expiring.
        raise CommandRefusedError(f"issued {-age_s:.0f} s in the future: check clocks")


RAN_OUT_AFTER_S = 1.0
"""A trip without a message expiry issued longer ago than this ran out at the broker; one
issued more recently was published without one (docs/mqtt-contract.md, "Trips expire")."""


def check_expiry(command: Command, expiry_s: int | None, now_ns: int) -> None:
    """A trip must arrive with what is left of its MQTT 5 message expiry (``expiry_s``).

    Mosquitto 2.0 leaves the property out when less than a second is left, so a trip without
    one either ran out in the broker's queue or was published without one: issued more than
    ``RAN_OUT_AFTER_S`` before ``now_ns``, the first (a trip the broker delivers at once keeps
    its expiry). Either way it is not carried out; the distinction only words the answer.

    Raises:
        CommandExpiredError: no expiry left, issued more than ``RAN_OUT_AFTER_S`` ago.
        CommandRefusedError: no expiry, issued just now: the monitor sent none.
    """
    if not isinstance(command, TripCommand) or expiry_s is not None:
        return
    age_s = (now_ns - command.issued_ns) / 1e9
    if age_s > RAN_OUT_AFTER_S:
        raise CommandExpiredError(
            f"expired: no message expiry left (issued {age_s:.1f} s ago; it ran out at the "
            "broker, or the trip had none)"
        )
    raise CommandRefusedError("no MQTT message expiry: a trip must carry one")


class CommandReceiver:
    """One chair's answers to the commands that reach it."""

    def __init__(
        self,
        chair: str,
        config: TelemetryConfig,
        outbox: Outbox,
        uplink: Uplink,
        *,
        lock: threading.Condition,
        stats: AgentStats,
        clock_ns: Callable[[], int],
        on_command: CommandHandler | None,
        describe_now: Callable[[], str] | None = None,
    ) -> None:
        """Answers go out through ``uplink``; ``lock`` guards ``stats``.

        ``describe_now`` says what the chair is doing now (``TripCommands.describe``): the
        answer to a repeated trip or cancel gives it after the first answer, which a restart
        or later commands may have overtaken.
        """
        self._chair = chair
        self.config = config
        self._outbox = outbox
        self._uplink = uplink
        self._lock = lock
        self._stats = stats
        self._clock_ns = clock_ns
        self._on_command = on_command
        self._describe_now = describe_now

    def receive(self, payload: bytes, topic: str, expiry_s: int | None) -> None:
        """A command's bytes as the broker delivered them on ``topic``, with what is left of
        its MQTT 5 message expiry (None when the message came without one)."""
        with self._lock:
            self._stats.commands += 1
        try:
            on = parse_topic(topic).command
        except TopicError:
            on = None  # not a command topic: the chair subscribes to none such
        try:
            command = decode_command(payload)
        except PayloadError as err:
            with self._lock:
                self._stats.commands_unreadable += 1
            if on == CommandKind.STOP:
                self._stop_unreadable(read_command_head(payload), str(err))
            else:
                self._refuse_unreadable(read_command_head(payload), on, topic, str(err))
            return
        if command.kind != on:
            # How it came, not what it asks: not remembered, so the same command on its own
            # topic is still carried out.
            reason = f"a {command.kind} command on {topic}: not carried out"
            self._reply(*_head(command), CommandAnswer(False, reason), priority="medium")
            return
        try:
            check_addressee(command, self._chair)
            seen = self._outbox.command_answer(command.command_id)
            # A stop that failed is carried out again when repeated: stopping twice is
            # harmless, and a monitor retrying a stop must not get the old refusal back.
            retry_stop = isinstance(command, StopCommand) and seen is not None and not seen.accepted
            if seen is not None and not retry_stop:
                with self._lock:
                    self._stats.commands_duplicate += 1
                self._answer(command, self._repeat(command, seen), duplicate=True)
                return
            now_ns = self._clock_ns()
            check_age(command, now_ns, self.config.trip_max_age_s)
            check_expiry(command, expiry_s, now_ns)
        except CommandRefusedError as refusal:
            expired = isinstance(refusal, CommandExpiredError)
            self._answer(command, CommandAnswer(False, str(refusal), expired))
            return
        self._answer(command, CommandAnswer(*self._carry_out(command)))

    def _repeat(self, command: Command, first: CommandAnswer) -> CommandAnswer:
        """The answer to a repeated command id: the first one's acceptance stands; for a trip
        or cancel, the words add what the chair is doing now."""
        if self._describe_now is None or not isinstance(command, TripCommand | CancelCommand):
            return first
        try:
            now = self._describe_now()
        except Exception as err:  # the host's description must not take the agent down
            _log.exception("describing the chair's state failed")
            now = f"unknown ({err})"
        return dataclasses.replace(first, reason=repeat_answer(first.reason, now))

    def _carry_out(self, command: Command) -> tuple[bool, str]:
        if self._on_command is None:
            return False, "no handler for commands on this chair"
        try:
            return self._on_command(command)
        except CommandRefusedError as refusal:
            return False, str(refusal)
        except Exception as err:  # the host's handler must not take the agent down
            _log.exception("command handler failed")
            return False, f"handler failed: {err}"

    def _refuse_unreadable(
        self, head: CommandHead, on: CommandKind | None, topic: str, reason: str
    ) -> None:
        kind = head.kind or on
        if kind is None:
            # Neither the payload nor the topic names a kind: an event without an answer.
            with self._lock:
                self._stats.commands_rejected += 1
            message = f"on {topic}: {reason}"[:500]
            self._uplink.event("command", "command_rejected", "medium", message)
            return
        answer = CommandAnswer(False, reason[:500])
        self._reply(head.command_id, kind, head.trip_id, answer, priority="medium")

    def _stop_unreadable(self, head: CommandHead, reason: str) -> None:
        """A payload on cmd/stop that cannot be read: only the monitor may write there, so it
        is a stop, carried out and answered as one. Not remembered: a later stop with that
        id, readable, is carried out as well."""
        why = reason[:300]
        _log.warning("unreadable payload on cmd/stop, stopping: %s", why)
        stop = StopCommand(
            v=SCHEMA_VERSION,
            command_id=head.command_id or _UNREADABLE,
            chair=self._chair,
            issued_ns=self._clock_ns(),
            kind=CommandKind.STOP,
            reason=f"unreadable stop: {why}"[:200],
        )
        accepted, result = self._carry_out(stop)
        result = result or ("stopped" if accepted else "not stopped")
        answer = CommandAnswer(
            accepted, f"could not be read; carried out as a stop: {result} ({why})"
        )
        self._reply(head.command_id, CommandKind.STOP, None, answer)

    def _answer(self, command: Command, answer: CommandAnswer, *, duplicate: bool = False) -> None:
        if not duplicate:
            self._outbox.remember_command(command.command_id, answer)
        self._reply(*_head(command), answer, duplicate=duplicate)

    def _reply(
        self,
        command_id: str | None,
        kind: CommandKind,
        trip_id: str | None,
        answer: CommandAnswer,
        *,
        duplicate: bool = False,
        priority: Literal["high", "medium", "low"] | None = None,
    ) -> None:
        """Send an answer: a trip's or cancel's on the trip channel under its trip id, any
        other (and one whose trip id cannot be read) on the event channel."""
        if not answer.accepted:
            with self._lock:
                self._stats.commands_rejected += 1
        ack = CommandAck(
            command_id=command_id or _UNREADABLE,
            kind=kind,
            accepted=answer.accepted,
            reason=answer.reason,
            duplicate=duplicate,
        )
        if kind in (CommandKind.TRIP, CommandKind.CANCEL) and trip_id is not None:
            event: TripEvent
            if answer.accepted:
                event = "accepted" if kind == CommandKind.TRIP else "cancelled"
            else:
                event = "expired" if answer.expired else "refused"
            self._uplink.trip_event(trip_id, event, answer.reason, ack)
        else:
            code = "command_ack" if answer.accepted else "command_rejected"
            if priority is None:
                priority = "high" if kind == CommandKind.STOP else "low"
            self._uplink.event("command", code, priority, answer.reason, ack=ack)


_UNREADABLE = "unreadable"
"""The command id of an answer to a payload whose own id cannot be read."""


def _head(command: Command) -> tuple[str, CommandKind, str | None]:
    """The id, kind and trip id an answer to ``command`` carries."""
    trip_id = command.trip_id if isinstance(command, TripCommand | CancelCommand) else None
    return command.command_id, command.kind, trip_id
