"""Errors of the rosbag2 I/O."""

from __future__ import annotations

from chairlink.errors import ChairlinkError

__all__ = ["BagError", "ConversionError"]


class BagError(ChairlinkError):
    """A bag cannot be opened, read or written; the message names the bag (and topic, time)."""


class ConversionError(ChairlinkError, ValueError):
    """A value or message that has no counterpart on the other side; says which and why.

    A ValueError too, so code that refuses bad input as ValueError refuses these with it.
    """
