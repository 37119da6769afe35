"""How a monitor decides whether a chair is online: one rule over the chair's state messages.

State messages are not ordered by ``seq``. A chair's last will is made before its connection
and held by the broker, so its ``seq`` is lower than the ``online`` of its own connection, and
it may arrive late or never; state messages of an earlier connection may also come late, as
backlog. What orders them is the ``incarnation`` each one carries: the connection it is about
(docs/mqtt-contract.md, "The chair's state").

The rule is a maximum under one total order (``state_order``), so the current state is the
same whatever order the messages arrive in and however often each one does: a monitor can fold
them as they come (``Presence.update``), a test or a late subscriber all at once
(``current_state``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from chairlink.wire.payloads import StateMessage

__all__ = ["Presence", "current_state", "newer", "state_order"]


def state_order(message: StateMessage) -> tuple[int, int, int, int]:
    """The key that orders one chair's state messages: the current state has the largest.

    1. ``incarnation``: a later connection supersedes everything said about an earlier one
       (its backlog states, its will firing late);
    2. within an incarnation, ``offline`` ends it, whatever the ``seq``: the will's number
       was given out before the connection's ``online``;
    3. then ``seq`` (an ``online`` with ``drained`` follows the connection's first ``online``),
       and ``stamp_ns`` last, so that even a malformed history orders the same every time.

    Messages without an incarnation (0: senders that predate it) order by ``seq`` alone, as
    the contract's first version said, and below every message that has one.
    """
    offline = int(message.status == "offline" and message.incarnation > 0)
    return (message.incarnation, offline, message.seq, message.stamp_ns)


def newer(current: StateMessage | None, message: StateMessage) -> StateMessage:
    """Whichever of ``current`` and ``message`` is the chair's state (the later under
    ``state_order``); a duplicate leaves ``current`` as it was."""
    if current is None or state_order(message) > state_order(current):
        return message
    return current


def current_state(messages: Iterable[StateMessage]) -> StateMessage | None:
    """The chair's state after ``messages`` (one chair's, in any order, duplicates allowed);
    None when there are none."""
    state: StateMessage | None = None
    for message in messages:
        state = newer(state, message)
    return state


class Presence:
    """Every chair's current state, updated message by message as they arrive."""

    def __init__(self) -> None:
        """No chair known yet."""
        self._states: dict[str, StateMessage] = {}

    def update(self, message: StateMessage) -> bool:
        """Take one state message; True if it changed its chair's current state (False for a
        duplicate, or a message that an earlier one already superseded)."""
        before = self._states.get(message.chair)
        after = newer(before, message)
        self._states[message.chair] = after
        return after is not before

    def state(self, chair: str) -> StateMessage | None:
        """The chair's current state message, None before any."""
        return self._states.get(chair)

    def status(self, chair: str) -> Literal["online", "offline", "unknown"]:
        """Whether the chair is online, offline, or not heard of yet."""
        state = self._states.get(chair)
        return "unknown" if state is None else state.status
