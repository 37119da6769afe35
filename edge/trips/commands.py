"""The chair's rules for the monitor's commands, once for every host (docs/telemetry.md).

``TripCommands`` is a small state machine on given time: no trip, or one trip assigned. Its
decisions are values the host carries out (publish the trip for navigation, name the patient
whose vitals go out) and answers it gives the monitor word for word, so telemetry_node and the
serial host answer the same command the same way:

- a trip while none is assigned: assigned; its patient token becomes the token of the vitals
  sent (none, no vitals);
- the same trip again (same id, origin, destination, patient and priority) while it is
  assigned: accepted as a repeat, nothing done again (the monitor re-sent it under a new
  command id, after a reconnect say); the same id with other details is refused, since
  carrying it out would change the trip under way;
- another trip while one is assigned: refused; switching would send the vitals under the new
  patient's token while the first one may still be aboard;
- a cancel of the assigned trip: cleared, and with it the patient; of any other: refused.

``config_change`` is the one check of a config command, and ``STOP_SET`` and the two
``stop_*`` functions word the answer to a remote stop. Repeated command ids never get this
far: the agent answers them again itself.
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Mapping
from dataclasses import dataclass

from chairlink.config import ChairConfig
from chairlink.ros_params import Scalar, flatten, runtime_changes, validate_parameters
from chairlink.wire.payloads import CancelCommand, TripCommand

__all__ = [
    "STOP_SET",
    "Assignment",
    "ConfigChange",
    "TripAction",
    "TripCommands",
    "TripDecision",
    "config_change",
    "stop_not_delivered",
    "stop_refused",
]

STOP_SET = "e-stop set"
"""The answer to a remote stop the chair's e-stop path has acknowledged."""


def stop_not_delivered(why: str) -> str:
    """The answer to a remote stop that never reached the MCU (no link, no bridge)."""
    return f"e-stop not delivered: {why}"


def stop_refused(why: str) -> str:
    """The answer to a remote stop the MCU received and refused."""
    return f"MCU refused the e-stop: {why}"


class TripAction(enum.Enum):
    """What a decision asks of the host."""

    ASSIGN = "assign"
    """Start the trip: pass it to navigation, send vitals under its patient's token."""
    CANCEL = "cancel"
    """End the trip: stop navigation to it, send no more vitals."""
    NONE = "none"
    """Nothing: a refusal, or a repeat of what is already under way."""


@dataclass(frozen=True, slots=True)
class Assignment:
    """The trip the chair is on."""

    trip_id: str
    origin: str
    destination: str
    patient: str
    """The patient's pseudonymous token; empty for a trip without a patient."""
    priority: str
    assigned_ns: int
    """When the chair took it, on the host's clock."""

    @classmethod
    def of(cls, command: TripCommand, now_ns: int) -> Assignment:
        """The assignment a trip command asks for, taken at ``now_ns``."""
        return cls(
            trip_id=command.trip_id,
            origin=command.origin,
            destination=command.destination,
            patient=command.patient or "",
            priority=command.priority,
            assigned_ns=now_ns,
        )

    def same_trip(self, other: Assignment) -> bool:
        """Whether ``other`` asks for this very trip (its time aside)."""
        return (
            self.trip_id,
            self.origin,
            self.destination,
            self.patient,
            self.priority,
        ) == (other.trip_id, other.origin, other.destination, other.patient, other.priority)


@dataclass(frozen=True, slots=True)
class TripDecision:
    """The answer to a trip or cancel command, and what the host is to do."""

    accepted: bool
    reason: str
    """The answer's words for the monitor."""
    action: TripAction
    trip: Assignment | None
    """The trip assigned or cancelled by ``action``; None when it is ``NONE``."""
    duplicate: bool = False
    """The trip was already assigned just so: accepted, nothing done again."""

    @property
    def answer(self) -> tuple[bool, str]:
        """The agent's ``CommandHandler`` answer."""
        return self.accepted, self.reason


class TripCommands:
    """One trip at a time, and the patient it carries. Thread-safe."""

    def __init__(self) -> None:
        """Start with no trip assigned."""
        self._lock = threading.Lock()
        self._trip: Assignment | None = None

    @property
    def assignment(self) -> Assignment | None:
        """The trip assigned, if any."""
        with self._lock:
            return self._trip

    @property
    def patient(self) -> str:
        """The token of the patient aboard: the assigned trip's; empty when none."""
        with self._lock:
            return self._trip.patient if self._trip is not None else ""

    def trip(self, command: TripCommand, now_ns: int) -> TripDecision:
        """Decide on a trip command received at ``now_ns``; assigned when accepted."""
        asked = Assignment.of(command, now_ns)
        with self._lock:
            current = self._trip
            if current is None:
                self._trip = asked
                who = f"vitals as {asked.patient}" if asked.patient else "no patient, no vitals"
                return TripDecision(
                    True, f"trip {asked.trip_id} assigned; {who}", TripAction.ASSIGN, asked
                )
        if current.trip_id != asked.trip_id:
            return TripDecision(
                False, f"busy with trip {current.trip_id}: cancel it first", TripAction.NONE, None
            )
        if current.same_trip(asked):
            return TripDecision(
                True,
                f"trip {asked.trip_id} is already assigned: a repeat, nothing done again",
                TripAction.NONE,
                None,
                duplicate=True,
            )
        return TripDecision(
            False,
            f"trip {asked.trip_id} is already assigned with other details "
            f"({', '.join(_differences(current, asked))}): cancel it first",
            TripAction.NONE,
            None,
        )

    def cancel(self, command: CancelCommand) -> TripDecision:
        """Decide on a cancel command; the trip is cleared when accepted."""
        with self._lock:
            current = self._trip
            if current is not None and current.trip_id == command.trip_id:
                self._trip = None
                return TripDecision(
                    True, f"trip {current.trip_id} cancelled", TripAction.CANCEL, current
                )
        assigned = current.trip_id if current is not None else "none"
        return TripDecision(
            False,
            f"trip {command.trip_id} is not assigned here (assigned: {assigned})",
            TripAction.NONE,
            None,
        )


def _differences(current: Assignment, asked: Assignment) -> list[str]:
    names = ("origin", "destination", "patient", "priority")
    return [name for name in names if getattr(current, name) != getattr(asked, name)]


@dataclass(frozen=True, slots=True)
class ConfigChange:
    """A config command checked against the chair's configuration."""

    config: ChairConfig
    """The configuration with the changes applied."""
    changes: dict[str, Scalar]
    """The changes as typed parameter values (JSON's numbers made floats where due)."""
    changed: bool
    """Whether ``config`` differs from the one the changes were checked against."""


def config_change(
    changes: Mapping[str, object], config: ChairConfig, allowed: tuple[str, ...]
) -> ConfigChange:
    """Check a config command's changes against ``config``: names, mutability, types, ranges.

    Args:
        changes: the command's changes, dotted parameter names to JSON values.
        config: the chair's configuration now.
        allowed: the names or prefixes this host can change while running.

    Raises:
        ConfigError: naming every problem (``runtime_changes``'s words, then the schema's).
    """
    typed = runtime_changes(changes, allowed=allowed)
    updated = validate_parameters({**flatten(config), **typed})
    return ConfigChange(updated, typed, updated != config)
