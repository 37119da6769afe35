"""The chair's vehicle state for telemetry, gathered from odometry and the MCU's status.

Hosts feed what they have (ROS messages converted to edge types, the firmware bridge's frames,
or the simulator's messages) and take a ``VehicleSample`` at the telemetry rate. The mode is
derived in one place, most severe first, so the monitor sees an e-stop as an e-stop whatever
else is true.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from chairlink.wire.payloads import VehicleMode, VehicleSample
from edge.types import ChairStatus, Odometry
from firmware_bridge.messages import Fault

__all__ = ["FAULT_NAMES", "VehicleState", "mode_of"]

FAULT_NAMES: dict[int, str] = {int(f): str(f.name).lower() for f in Fault if f != Fault.NONE}
"""The MCU's STATUS fault bits (docs/firmware-protocol.md) by their names on the wire."""

_MOVING_MPS = 0.02
_MOVING_RADPS = 0.05


def mode_of(status: ChairStatus, odometry: Odometry | None) -> VehicleMode:
    """The chair's mode for the monitor: estop, fault, charging, manual, autonomous or idle."""
    if status.estop:
        return "estop"
    if status.faults:
        return "fault"
    if status.current_a < 0:
        return "charging"
    if status.joystick_override:
        return "manual"
    moving = odometry is not None and (
        abs(odometry.linear_mps) > _MOVING_MPS or abs(odometry.angular_radps) > _MOVING_RADPS
    )
    return "autonomous" if status.armed and moving else "idle"


@dataclass
class VehicleState:
    """The latest odometry and MCU status; a sample of both on demand."""

    odometry: Odometry | None = None
    status: ChairStatus | None = None

    def sample(self, stamp_ns: int, *, stale: bool = False) -> VehicleSample | None:
        """The chair now, or None until both odometry and a status have arrived.

        ``stale``: the host has heard nothing from the MCU for too long; the sample says so
        (fault ``state_stale``, mode ``fault``) rather than repeat old values as if current.

        Raises:
            pydantic.ValidationError: the odometry holds NaN or infinity (no sample can say
                where the chair is); an unknown state of charge goes out as None instead.
        """
        if self.odometry is None or self.status is None:
            return None
        odometry, status = self.odometry, self.status
        faults = [name for bit, name in FAULT_NAMES.items() if status.faults & bit]
        unknown = status.faults & ~sum(FAULT_NAMES)
        if unknown:
            faults.append(f"fault_0x{unknown:04x}")
        if stale:
            faults.append("state_stale")
        return VehicleSample(
            stamp_ns=stamp_ns,
            x_m=odometry.pose.x,
            y_m=odometry.pose.y,
            yaw_rad=odometry.pose.yaw,
            speed_mps=odometry.linear_mps,
            turn_radps=odometry.angular_radps,
            battery_pct=(
                round(min(max(status.soc, 0.0), 1.0) * 100.0, 1)
                if math.isfinite(status.soc)
                else None
            ),
            mode="fault" if stale and not status.estop else mode_of(status, odometry),
            faults=faults,
        )
