"""chairlink: what the chair (edge) and the hospital monitor (cloud) share.

The wire contract, the chair configuration and its loader, and the error base. The command
line lives in :mod:`chairlink.cli`, the one place that imports both sides.
"""

from chairlink.errors import ChairlinkError, ConfigError

__all__ = ["ChairlinkError", "ConfigError"]
__version__ = "0.1.0"
