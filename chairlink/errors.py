"""The one exception base of chairlink; each part derives its own errors from it."""

from __future__ import annotations

__all__ = ["ChairlinkError", "ConfigError", "SiteError"]


class ChairlinkError(Exception):
    """Base of every error chairlink raises on purpose."""


class ConfigError(ChairlinkError):
    """A configuration file is missing, unreadable or invalid; the message names file and field."""


class SiteError(ChairlinkError):
    """A site (map and nav graph) is missing or malformed; the message names file and problem."""
