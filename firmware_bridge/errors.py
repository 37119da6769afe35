"""Errors of the firmware bridge."""

from __future__ import annotations

from chairlink.errors import ChairlinkError

__all__ = ["AlreadyStartedError", "BridgeError", "EncodeError", "LinkError"]


class BridgeError(ChairlinkError):
    """Base of the firmware bridge's errors."""


class EncodeError(BridgeError):
    """A message cannot be put on the wire (a field out of its wire range)."""


class LinkError(BridgeError):
    """The serial link is down or cannot be opened."""


class AlreadyStartedError(BridgeError):
    """``start()`` on a driver or simulator that is running: stop it first."""
