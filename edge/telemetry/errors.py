"""Errors of the chair's telemetry: the agent, its outbox and commands, the oximeter."""

from __future__ import annotations

from chairlink.errors import ChairlinkError

__all__ = ["AlreadyStartedError", "CommandExpiredError", "CommandRefusedError", "TelemetryError"]


class TelemetryError(ChairlinkError):
    """Base of the telemetry part's errors."""


class AlreadyStartedError(TelemetryError):
    """``start()`` on a resource that is running: stop it first."""


class CommandRefusedError(TelemetryError):
    """The chair will not carry a command out; the message is the reason the monitor gets."""


class CommandExpiredError(CommandRefusedError):
    """A trip issued too long ago to start: answered with the trip event ``expired``."""
