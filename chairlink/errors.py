"""The one exception base of chairlink; each part derives its own errors from it."""

from __future__ import annotations

__all__ = ["ChairlinkError", "ConfigError", "ModelError", "SiteError"]


class ChairlinkError(Exception):
    """Base of every error chairlink raises on purpose."""


class ConfigError(ChairlinkError):
    """A configuration file is missing, unreadable or invalid; the message names file and field."""


class SiteError(ChairlinkError):
    """A site (map and nav graph) is missing or malformed; the message names file and problem."""


class ModelError(ChairlinkError):
    """A model or its description is missing, corrupt, or disagrees with the other."""
