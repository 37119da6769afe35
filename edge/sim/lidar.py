"""The simulated 2D lidar: ray casting against the map and the shapes, with noise and dropouts.

The stock sensor is a 360-degree scanner at 0.5 degrees (720 beams, 10 Hz, 0.15-12 m, about
1 cm of range noise), like the RPLidar class on a TurtleBot 4, mounted 0.30 m up, the height
from which a safety scanner still sees legs (docs/references.md). Every scan comes with its
ground truth: per beam, the id and class of what it hit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from chairlink.site import OccupancyMap
from edge.sim.raycast import cast_grid
from edge.sim.shapes import ObjectClass, Shape, hits
from edge.types import Pose2D, Scan

__all__ = ["BeamTruth", "LidarSimulator", "LidarSpec"]

WALL_ID = 0


@dataclass(frozen=True)
class LidarSpec:
    """A planar scanner's geometry, timing and errors; defaults are the stock sensor."""

    beams: int = 720
    angle_min: float = -math.pi
    fov: float = 2 * math.pi
    range_min: float = 0.15
    range_max: float = 12.0
    rate_hz: float = 10.0
    noise_sigma_m: float = 0.01
    dropout_rate: float = 0.0
    height_m: float = 0.30
    mount: Pose2D = field(default_factory=lambda: Pose2D(0.25, 0.0, 0.0))
    frame_id: str = "laser"

    @property
    def angle_increment(self) -> float:
        """Angle between neighbouring beams."""
        return self.fov / self.beams


@dataclass(frozen=True, eq=False)
class BeamTruth:
    """What each beam of a scan really hit: true range, id (0 wall, -1 nothing) and class."""

    ranges: NDArray[np.float64]
    ids: NDArray[np.int32]
    classes: NDArray[np.int8]


class LidarSimulator:
    """Casts scans of one sensor in one map; seeded, so the same inputs give the same scans."""

    def __init__(self, spec: LidarSpec, grid: OccupancyMap, rng: np.random.Generator) -> None:
        self.spec = spec
        self._grid = grid
        self._occupied = np.ascontiguousarray(grid.occupied, dtype=np.uint8)
        self._rng = rng
        self._beam_angles = spec.angle_min + spec.angle_increment * np.arange(spec.beams)

    def scan(
        self, stamp_ns: int, chair: Pose2D, shapes: Sequence[Shape] = ()
    ) -> tuple[Scan, BeamTruth]:
        """One scan from the chair's pose, and its per-beam ground truth."""
        spec = self.spec
        sensor = chair.compose(spec.mount)
        world_angles = np.asarray(sensor.yaw + self._beam_angles, dtype=np.float64)
        walls = cast_grid(
            self._occupied,
            self._grid.resolution,
            (self._grid.origin[0], self._grid.origin[1]),
            (sensor.x, sensor.y),
            world_angles,
            max_range=spec.range_max,
        )
        objects, object_ids = hits((sensor.x, sensor.y), world_angles, shapes, spec.height_m)
        true_ranges = np.minimum(walls, objects)
        ids = np.where(objects < walls, object_ids, WALL_ID).astype(np.int32)
        ids[~np.isfinite(true_ranges) | (true_ranges > spec.range_max)] = -1
        classes_by_id = {s.id: s.cls for s in shapes}
        classes = np.full(spec.beams, ObjectClass.NONE, dtype=np.int8)
        classes[ids == WALL_ID] = ObjectClass.WALL
        for object_id in np.unique(ids[ids > 0]):
            classes[ids == object_id] = classes_by_id[int(object_id)]

        measured = true_ranges + self._rng.normal(0.0, spec.noise_sigma_m, spec.beams)
        measured[(true_ranges > spec.range_max) | (measured > spec.range_max)] = np.inf
        measured[measured < spec.range_min] = -np.inf
        if spec.dropout_rate > 0.0:
            measured[self._rng.random(spec.beams) < spec.dropout_rate] = np.nan
        scan = Scan(
            stamp_ns=stamp_ns,
            angle_min=spec.angle_min,
            angle_increment=spec.angle_increment,
            range_min=spec.range_min,
            range_max=spec.range_max,
            ranges=measured.astype(np.float32),
            frame_id=spec.frame_id,
            scan_time_s=1.0 / spec.rate_hz,
        )
        return scan, BeamTruth(true_ranges, ids, classes)
