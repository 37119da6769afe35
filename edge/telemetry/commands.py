"""Answering the monitor's commands: decoded, checked, carried out once, and answered.

A command that cannot be read changes nothing and is answered with the reason. A command for
another chair is refused. A repeated command id is answered again (``duplicate: true``) and not
carried out again, across restarts (the answers are kept in the outbox file); a stop that
failed is carried out again when repeated. A trip issued more than ``trip_max_age_s`` ago is
refused as expired, and one issued that far in the future too (a clock that would keep it from
ever expiring); a stop never expires. The host's handler carries the rest out.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable
from typing import Literal

from chairlink.config import TelemetryConfig
from chairlink.wire.payloads import (
    CancelCommand,
    Command,
    CommandAck,
    PayloadError,
    StopCommand,
    TripCommand,
    decode_command,
)
from chairlink.wire.topics import CommandKind
from edge.telemetry.errors import CommandExpiredError, CommandRefusedError
from edge.telemetry.outbox import CommandAnswer, Outbox
from edge.telemetry.stats import AgentStats
from edge.telemetry.uplink import TripEvent, Uplink
from edge.trips.commands import repeat_answer

__all__ = ["CommandHandler", "CommandReceiver", "check_addressee", "check_age"]

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

    def receive(self, payload: bytes) -> None:
        """A command's bytes, as the broker delivered them."""
        with self._lock:
            self._stats.commands += 1
        try:
            command = decode_command(payload)
        except PayloadError as err:
            self._refuse_unreadable(str(err))
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
            check_age(command, self._clock_ns(), self.config.trip_max_age_s)
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

    def _refuse_unreadable(self, reason: str) -> None:
        with self._lock:
            self._stats.commands_rejected += 1
        ack = CommandAck(command_id="unreadable", kind=CommandKind.STOP, accepted=False)
        self._uplink.event("command", "command_rejected", "medium", reason[:500], ack=ack)

    def _answer(self, command: Command, answer: CommandAnswer, *, duplicate: bool = False) -> None:
        if not duplicate:
            self._outbox.remember_command(command.command_id, answer)
        if not answer.accepted:
            with self._lock:
                self._stats.commands_rejected += 1
        ack = CommandAck(
            command_id=command.command_id,
            kind=command.kind,
            accepted=answer.accepted,
            reason=answer.reason,
            duplicate=duplicate,
        )
        if isinstance(command, TripCommand | CancelCommand):
            event: TripEvent
            if answer.accepted:
                event = "accepted" if isinstance(command, TripCommand) else "cancelled"
            else:
                event = "expired" if answer.expired else "refused"
            self._uplink.trip_event(command.trip_id, event, answer.reason, ack)
        else:
            code = "command_ack" if answer.accepted else "command_rejected"
            priority: Literal["high", "low"] = "high" if command.kind == CommandKind.STOP else "low"
            self._uplink.event("command", code, priority, answer.reason, ack=ack)
