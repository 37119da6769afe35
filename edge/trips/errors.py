"""Errors of the chair's trips: the trip rules and the trip's state on disk."""

from __future__ import annotations

from chairlink.errors import ChairlinkError

__all__ = ["TripStoreError", "TripsError"]


class TripsError(ChairlinkError):
    """Base of the trips part's errors."""


class TripStoreError(TripsError):
    """The trip file cannot be read, decoded or written; the message names the file and why."""

    def __init__(self, message: str, trip_id: str | None = None) -> None:
        """``trip_id``: the trip the file was about, when that much could still be read."""
        super().__init__(message)
        self.trip_id = trip_id
