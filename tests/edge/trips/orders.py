"""The trip and cancel commands the trip-rule tests give the chair."""

from __future__ import annotations

from chairlink.wire.payloads import CancelCommand, TripCommand
from chairlink.wire.topics import CommandKind

PATIENT = "pt-4e1b2c9d"


def trip_order(
    trip_id: str = "trip-1",
    patient: str | None = PATIENT,
    *,
    command_id: str | None = None,
    issued_ns: int = 0,
    origin: str = "ward-a",
    destination: str = "x-ray",
) -> TripCommand:
    """A trip for chair-07; its command id ``c-TRIP`` unless given."""
    return TripCommand(
        v=1,
        command_id=command_id or f"c-{trip_id}",
        chair="chair-07",
        issued_ns=issued_ns,
        kind=CommandKind.TRIP,
        trip_id=trip_id,
        origin=origin,
        destination=destination,
        patient=patient,
    )


def cancel(trip_id: str = "trip-1") -> CancelCommand:
    """The cancel of ``trip_id``."""
    return CancelCommand(
        v=1,
        command_id=f"x-{trip_id}",
        chair="chair-07",
        issued_ns=0,
        kind=CommandKind.CANCEL,
        trip_id=trip_id,
    )
