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
far: the agent answers them again itself, with ``repeat_answer`` (the first answer, and what
the chair is doing now: ``TripCommands.describe``).

With a ``TripStore`` (edge/trips/store.py) the assigned trip is on disk before the answer goes
out, and ``restore()`` takes it up after a restart or ends it with an event that says so
(edge/trips/restore.py).
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Mapping
from dataclasses import dataclass

from chairlink.config import ChairConfig
from chairlink.ros_params import Scalar, flatten, runtime_changes, validate_parameters
from chairlink.wire.payloads import CancelCommand, TripCommand
from edge.trips.errors import TripStoreError
from edge.trips.restore import Restore, Restored, ended, restored
from edge.trips.store import TripStore

__all__ = [
    "STOP_SET",
    "Assignment",
    "ConfigChange",
    "TripAction",
    "TripCommands",
    "TripDecision",
    "config_change",
    "repeat_answer",
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
    """One trip at a time, and the patient it carries. Thread-safe.

    With a ``TripStore`` the trip outlives the process: an assignment is saved, and a cancel
    cleared, before the answer goes out; ``restore()`` takes it up after a restart.
    """

    def __init__(self, store: TripStore | None = None) -> None:
        """Start with no trip assigned; ``store`` keeps the trip on disk (None: memory only)."""
        self._lock = threading.Lock()
        self._trip: Assignment | None = None
        self._command: TripCommand | None = None
        self._store = store
        self._restored = False

    @property
    def assignment(self) -> Assignment | None:
        """The trip assigned, if any."""
        with self._lock:
            return self._trip

    @property
    def command(self) -> TripCommand | None:
        """The command that assigned the trip, if any (for navigation, after a restart)."""
        with self._lock:
            return self._command

    @property
    def patient(self) -> str:
        """The token of the patient aboard: the assigned trip's; empty when none."""
        with self._lock:
            return self._trip.patient if self._trip is not None else ""

    def describe(self) -> str:
        """What the chair is doing now, in the words of the answers: ``on trip t-1, vitals as
        pt-...``, ``on trip t-1, no patient, no vitals`` or ``no trip assigned``."""
        with self._lock:
            current = self._trip
        if current is None:
            return "no trip assigned"
        return f"on trip {current.trip_id}, {_vitals_as(current.patient)}"

    def restore(self, now_ns: int) -> Restored:
        """Take up the trip on disk after a restart, as assigned at ``now_ns``; call it before
        the first command. An unreadable file ends the trip, and says so. Only the first call
        reads the disk, and only before any trip is assigned (the file then holds that very
        trip): otherwise, and without a store, it finds ``NOTHING``.
        """
        store = self._store
        with self._lock:
            if self._restored or self._trip is not None or store is None:
                self._restored = True
                return Restored(Restore.NOTHING)
            self._restored = True
            try:
                stored = store.load()
            except TripStoreError as err:
                aside = store.set_aside()
                return ended(str(err), err.trip_id, str(aside) if aside is not None else None)
            if stored is None:
                return Restored(Restore.NOTHING)
            self._trip = Assignment.of(stored.command, now_ns)
            self._command = stored.command
        return restored(stored.command, (store.clock_ns() - stored.saved_ns) / 1e9)

    def trip(self, command: TripCommand, now_ns: int) -> TripDecision:
        """Decide on a trip command received at ``now_ns``; assigned (and saved) when accepted.

        A trip the store cannot save is refused: after a restart the chair could not name
        the patient whose vitals it carries.
        """
        asked = Assignment.of(command, now_ns)
        with self._lock:
            current = self._trip
            if current is None:
                try:
                    if self._store is not None:
                        self._store.save(command)
                except TripStoreError as err:
                    return TripDecision(
                        False, f"trip {asked.trip_id} not assigned: {err}", TripAction.NONE, None
                    )
                self._trip = asked
                self._command = command
                return TripDecision(
                    True,
                    f"trip {asked.trip_id} assigned; {_vitals_as(asked.patient)}",
                    TripAction.ASSIGN,
                    asked,
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
        """Decide on a cancel command; the trip is cleared (on disk too) when accepted.

        A file the store cannot remove does not keep the trip: the patient has left it, and
        the answer says the trip may come back after a restart.
        """
        with self._lock:
            current = self._trip
            if current is not None and current.trip_id == command.trip_id:
                self._trip = None
                self._command = None
                reason = f"trip {current.trip_id} cancelled"
                try:
                    if self._store is not None:
                        self._store.clear()
                except TripStoreError as err:
                    reason += f", but it may be restored after a restart: {err}"
                return TripDecision(True, reason, TripAction.CANCEL, current)
        assigned = current.trip_id if current is not None else "none"
        return TripDecision(
            False,
            f"trip {command.trip_id} is not assigned here (assigned: {assigned})",
            TripAction.NONE,
            None,
        )


def repeat_answer(first: str, now: str) -> str:
    """The reason given to a repeated trip or cancel command id: the first answer (which
    stands: nothing is done again) and what the chair is doing now (``TripCommands.describe``),
    which a restart or later commands may have changed."""
    return f"first answer: {first}. Now: {now}"


def _vitals_as(patient: str) -> str:
    return f"vitals as {patient}" if patient else "no patient, no vitals"


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
