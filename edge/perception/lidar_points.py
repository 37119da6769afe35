"""A planar scan's returns as points on the chair's base_link, each keeping its beam index.

Real lidars report "no return" in several ways, and every one of them reaches us: 0.0 (many
drivers, e.g. rplidar and sllidar), +inf (REP 117: nothing within range_max), NaN (REP 117: no
usable return), -inf, and ranges outside the scan's own [range_min, range_max]. All of them are
dropped here and counted, so nothing downstream sees a point at the sensor's origin or at
infinity.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from chairlink.geometry import Mount
    from edge.types import Scan

__all__ = ["LidarPoints", "is_full_circle", "scan_points"]


@dataclass(frozen=True, eq=False)
class LidarPoints:
    """The valid returns of one scan in base_link, in beam order.

    ``xy[i]`` is the i-th valid return (x forward, y left, metres) and ``beam[i]`` its index in
    the scan's ``ranges`` (so a per-beam class from the segmenter attaches by indexing);
    ``range_m[i]`` is its range from the sensor. ``beams`` is the scan's length and
    ``full_circle`` says its beams close a full turn, so beam ``beams - 1`` neighbours beam 0.
    """

    stamp_ns: int
    xy: NDArray[np.float64]
    """(N, 2) positions in base_link, m."""
    beam: NDArray[np.intp]
    """(N,) beam indices, strictly increasing."""
    range_m: NDArray[np.float64]
    """(N,) range of each return from the sensor, m."""
    beams: int
    """Beams in the scan, valid or not."""
    angle_increment_rad: float
    """Angle between neighbouring beams, rad (as the scan gives it; may be negative)."""
    full_circle: bool
    """The scan spans 360 degrees: its last beam neighbours its first."""
    no_return: int
    """Beams dropped as no return (0.0, inf, NaN, or outside [range_min, range_max])."""

    def __len__(self) -> int:
        return len(self.beam)


def is_full_circle(beams: int, angle_increment_rad: float) -> bool:
    """Whether ``beams`` beams ``angle_increment_rad`` apart close a full turn.

    Half a beam of slack: 720 beams of 2 pi / 720 computed in float32 by a driver still count.
    """
    step = abs(angle_increment_rad)
    return beams > 1 and beams * step >= 2 * math.pi - step / 2


def scan_points(scan: Scan, mount: Mount) -> LidarPoints:
    """The valid returns of ``scan`` in base_link, given the lidar's ``mount`` (chair.yaml).

    The scan plane is level (LidarConfig refuses a tilted mount), so the mount's x, y and yaw
    place each point; its height does not change a point's x, y. A return counts only if it is
    finite, above zero, and within the scan's [range_min, range_max].

    Raises:
        ValueError: the mount is tilted (roll or pitch), which a planar projection cannot honour.
    """
    if mount.roll_rad != 0.0 or mount.pitch_rad != 0.0:
        raise ValueError(
            f"lidar mount is tilted (roll_rad {mount.roll_rad}, pitch_rad {mount.pitch_rad}): "
            "a planar scan needs a level mount"
        )
    ranges = np.asarray(scan.ranges, dtype=np.float64).reshape(-1)
    with np.errstate(invalid="ignore"):
        # NaN compares False everywhere, so it drops out with the rest.
        valid = (
            np.isfinite(ranges)
            & (ranges > 0.0)
            & (ranges >= scan.range_min)
            & (ranges <= scan.range_max)
        )
    beam = np.flatnonzero(valid).astype(np.intp)
    r = ranges[beam]
    sensor_angle = scan.angle_min + scan.angle_increment * beam.astype(np.float64)
    angle = sensor_angle + mount.yaw_rad
    xy = np.column_stack((mount.x_m + r * np.cos(angle), mount.y_m + r * np.sin(angle)))
    return LidarPoints(
        stamp_ns=scan.stamp_ns,
        xy=xy.astype(np.float64).reshape(-1, 2),
        beam=beam,
        range_m=r,
        beams=len(ranges),
        angle_increment_rad=float(scan.angle_increment),
        full_circle=is_full_circle(len(ranges), scan.angle_increment),
        no_return=int(len(ranges) - len(beam)),
    )
