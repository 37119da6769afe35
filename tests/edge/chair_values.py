"""Chair values the edge tests share: a healthy chair's status, to vary with replace()."""

from __future__ import annotations

from edge.types import ChairStatus

__all__ = ["HEALTHY_STATUS"]

HEALTHY_STATUS = ChairStatus(
    stamp_ns=0,
    battery_v=25.1,
    current_a=2.3,
    soc=0.87,
    armed=True,
    estop=False,
    faults=0,
    seat_occupied=True,
    belt_closed=True,
    motion_refused=False,
    joystick_override=False,
)
"""Armed, charged, drawing current, a belted patient aboard, no fault."""
