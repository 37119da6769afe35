"""The interface every driving stack offers, so the simulator, bag replay and the ROS nodes can
run any of them: sensor messages in at their rates, a drive command out once per control
period."""

from __future__ import annotations

from typing import Protocol

from edge.types import CameraFrame, ChairStatus, DriveCommand, Odometry, Scan, Tilt, Vitals

__all__ = ["CONTROL_PERIOD_NS", "SensorMessage", "Stack"]

CONTROL_PERIOD_NS = 50_000_000
"""20 Hz."""

SensorMessage = Scan | Odometry | CameraFrame | ChairStatus | Tilt | Vitals


class Stack(Protocol):
    """A driving stack; time is given, never read."""

    def on_sensor(self, now_ns: int, message: SensorMessage) -> None:
        """Take one sensor message."""

    def step(self, now_ns: int) -> DriveCommand | None:
        """The command for the next control period; None sends nothing (the MCU then brakes)."""
