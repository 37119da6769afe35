"""Errors of the simulator."""

from __future__ import annotations

from chairlink.errors import ChairlinkError

__all__ = ["SimError"]


class SimError(ChairlinkError):
    """A valid chair the simulator cannot simulate (a tilted or distorting camera); the
    message names the chair.yaml field."""
