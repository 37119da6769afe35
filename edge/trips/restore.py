"""A restarted chair takes up its trip again, or says that it ended: never silence.

After a restart (a crash, a SIGKILL, a power cut) the chair reads its trip file
(``TripStore``, edge/trips/store.py) before it takes any command. What it finds is a
``Restored``:

- nothing: no trip was assigned; nothing to say;
- a trip: assigned again as it was, so vitals go out at once under its patient's token and
  navigation gets the trip again; the monitor gets the incident ``trip_restored`` (medium),
  naming the trip, the patient and how long ago it was assigned;
- a file that cannot be read or decoded: no trip, so no vitals under a patient the chair
  cannot name; the monitor gets the incident ``trip_not_restored`` (high: a patient may be
  aboard with no vitals reaching the monitor) saying why, and, when the file still names the
  trip, the trip event ``failed`` for that trip. The file is set aside, so the next start does
  not announce it again.

Both hosts (the serial host, telemetry_node) carry a ``Restored`` out the same way, and
``announce()`` words what the monitor gets, once.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Literal, Protocol

from chairlink.wire.payloads import TripCommand

__all__ = ["NOT_RESTORED", "RESTORED", "Announcer", "Restore", "Restored"]

RESTORED = "trip_restored"
"""The event code of a trip taken up again after a restart."""
NOT_RESTORED = "trip_not_restored"
"""The event code of a trip that could not be taken up again after a restart."""


class Restore(enum.Enum):
    """What a restart found on disk."""

    NOTHING = "nothing"
    RESTORED = "restored"
    ENDED = "ended"


class Announcer(Protocol):
    """Where the monitor's events go (the telemetry agent)."""

    def event(
        self,
        kind: Literal["incident"],
        code: str,
        priority: Literal["high", "medium"],
        message: str,
        *,
        patient: str | None = None,
    ) -> None:
        """An incident, sent at once."""

    def trip_event(self, trip_id: str, event: Literal["failed"], detail: str) -> None:
        """A trip's progress, sent at once."""


@dataclass(frozen=True, slots=True)
class Restored:
    """What a restart found, and the words the monitor gets for it."""

    outcome: Restore
    message: str = ""
    """The event's message; empty for ``NOTHING``."""
    command: TripCommand | None = None
    """``RESTORED``: the command that assigned the trip, for navigation to get again."""
    trip_id: str | None = None
    """The trip restored or ended; None when an unreadable file did not say."""
    patient: str = ""
    """``RESTORED``: the patient's token, empty for a trip without a patient."""

    def announce(self, outlet: Announcer) -> None:
        """Tell the monitor what the restart found (nothing when there was no trip)."""
        if self.outcome == Restore.RESTORED:
            outlet.event("incident", RESTORED, "medium", self.message, patient=self.patient or None)
        elif self.outcome == Restore.ENDED:
            outlet.event("incident", NOT_RESTORED, "high", self.message)
            if self.trip_id is not None:
                outlet.trip_event(self.trip_id, "failed", self.message)


def restored(command: TripCommand, age_s: float) -> Restored:
    """A trip taken up again; ``age_s`` since it was assigned (wall clock)."""
    patient = command.patient or ""
    who = f"vitals as {patient}" if patient else "no patient, no vitals"
    # A wall clock stepped back makes a negative age: said as 0 rather than guessed at.
    return Restored(
        Restore.RESTORED,
        f"trip {command.trip_id} restored after a restart (assigned {max(age_s, 0.0):.0f} s "
        f"ago); {who}",
        command,
        command.trip_id,
        patient,
    )


def ended(why: str, trip_id: str | None, set_aside: str | None) -> Restored:
    """A trip that could not be taken up again: ``why``, and where the file was put."""
    trip = f"trip {trip_id}" if trip_id is not None else "the assigned trip"
    kept = f"; the file is kept as {set_aside}" if set_aside else ""
    return Restored(
        Restore.ENDED,
        f"{trip} ended: not restored after a restart ({why}); no vitals are sent until a "
        f"trip is assigned again{kept}",
        None,
        trip_id,
    )
