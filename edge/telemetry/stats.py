"""The telemetry agent's counters, kept by its parts under the agent's one lock."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["AgentStats"]


@dataclass
class AgentStats:
    """What the agent has done since it started."""

    connected: bool = False
    connects: int = 0
    published: int = 0
    acked: int = 0
    refused_by_broker: int = 0
    refused_inputs: int = 0
    """Values from the host that no message could carry (a malformed token, SpO2 over 100)."""
    window: int = 0
    """Unacknowledged messages allowed out at once: at most the broker's Receive Maximum."""
    backlog: int = 0
    draining: bool = False
    commands: int = 0
    commands_rejected: int = 0
    commands_unreadable: int = 0
    """Command payloads that could not be read (those on cmd/stop were carried out as stops)."""
    commands_duplicate: int = 0
    local_alarms: int = 0
    outbox_messages: int = 0
    outbox_bytes: int = 0
    outbox_thinned: int = 0
    outbox_overflowing: bool = False
    last_error: str = ""
