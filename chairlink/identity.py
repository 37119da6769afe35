"""The rule that keeps two chairs from sharing one identity on a hospital's broker.

A chair's MQTT client id, its topics and its broker user all derive from identity.chair_id.
Two chairs left at the example identity (chair-01 at demo-hospital) would connect with the same
client id, and an MQTT broker disconnects the older session whenever the newer one connects:
each would throw the other off, again and again, and their messages would mix under one
sequence. So a chair refuses to connect with the example identity to any broker but one on its
own machine (a developer's, or the tests'). Both hosts of the telemetry agent call this rule:
``chairlink edge agent`` and telemetry_node.
"""

from __future__ import annotations

import ipaddress

from chairlink.config import ChairConfig, IdentityConfig
from chairlink.errors import ConfigError

__all__ = ["EXAMPLE_IDENTITY", "is_loopback", "require_own_identity"]

EXAMPLE_IDENTITY = IdentityConfig()
"""The identity of the example chair.yaml and of the built-in defaults."""


def is_loopback(host: str) -> bool:
    """Whether a broker host name or address is this machine (no name is looked up)."""
    name = host.strip().lower().strip("[]").rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def require_own_identity(config: ChairConfig) -> None:
    """Refuse a chair that carries the example identity towards a broker off this machine.

    Raises:
        ConfigError: the identity is the example one and telemetry.broker_host is not a
            loopback name or address; the message says which fields to set.
    """
    if config.identity != EXAMPLE_IDENTITY or is_loopback(config.telemetry.broker_host):
        return
    raise ConfigError(
        f"identity is still the example one ({EXAMPLE_IDENTITY.chair_id} at "
        f"{EXAMPLE_IDENTITY.site}) and the broker {config.telemetry.broker_host} is not on "
        "this machine: set identity.chair_id (and identity.site) to this chair's own, or two "
        "chairs would share one MQTT client id and throw each other off the broker"
    )
