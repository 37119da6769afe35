"""Errors of the rosbag2 I/O."""

from __future__ import annotations

from chairlink.errors import ChairlinkError

__all__ = ["BagError"]


class BagError(ChairlinkError):
    """A bag cannot be opened, read or written; the message names the bag (and topic, time)."""
