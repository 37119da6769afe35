"""Waiting for an event in a test: poll a condition until it holds, with a generous timeout.

Tests run beside other work on a 2-core machine (CI, or six engineers' suites at once), where a
thread can stand still for seconds. So a test waits for the event it needs (a SUBACK, a
message, a state), never for a span of time, and gives it ``WAIT_S`` unless it has a reason to
give less: a wait that succeeds returns as soon as the event comes, so a long timeout costs
nothing when the code is right.
"""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["WAIT_S", "wait_until"]

WAIT_S = 30.0
"""How long a test waits for an event that must come: long enough for a loaded machine."""


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.005) -> bool:
    """Poll until the predicate holds or the timeout passes; return whether it held."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
