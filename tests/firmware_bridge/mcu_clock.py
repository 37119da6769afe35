"""Waiting on the MCU simulator's own clock rather than the test's."""

from __future__ import annotations

from firmware_bridge.mcu_sim import McuSimulator
from tests.wait import WAIT_S, wait_until

__all__ = ["let_mcu_run"]


def let_mcu_run(sim: McuSimulator, seconds: float) -> None:
    """Wait until the MCU's own loop has run ``seconds`` past now: what it would have done in
    that time, it has done (a sleep of that long proves nothing on a loaded machine, where the
    simulator's thread may not have run at all meanwhile)."""
    start_ns = sim.snapshot().time_ns
    assert wait_until(lambda: sim.snapshot().time_ns >= start_ns + seconds * 1e9, WAIT_S)
