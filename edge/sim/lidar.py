"""The simulated 2D lidar: ray casting against the map and the shapes, with noise and dropouts.

The sensor's mount and beam layout are the chair's (chair.yaml's lidar section,
chairlink.geometry.LidarConfig): the scan plane lies at the mount's height, its origin and
heading at the mount's x, y and yaw. Only what a real sensor would not declare lives here: about
1 cm of range noise and the dropout rate. Every scan comes with its ground truth: per beam, the
id and class of what it hit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from chairlink.geometry import LidarConfig
from chairlink.site import OccupancyMap
from edge.sim.raycast import cast_grid
from edge.sim.shapes import ObjectClass, Shape, hits
from edge.types import Pose2D, Scan

__all__ = ["BeamTruth", "LidarSimulator", "LidarSpec"]

WALL_ID = 0


@dataclass(frozen=True)
class LidarSpec:
    """A simulated scanner: the chair's lidar (mount, beams, ranges, rate) and its errors."""

    config: LidarConfig = field(default_factory=LidarConfig)
    """The chair's lidar, from chair.yaml; the default is the stock chair's."""
    noise_sigma_m: float = 0.01
    """Standard deviation of the range noise, m."""
    dropout_rate: float = 0.0
    """Share of beams that return nothing (NaN)."""

    @property
    def mount(self) -> Pose2D:
        """The scan plane's origin and heading on base_link."""
        mount = self.config.mount
        return Pose2D(mount.x_m, mount.y_m, mount.yaw_rad)


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
        self._mount = spec.mount
        lidar = spec.config
        self._beam_angles = lidar.angle_min_rad + lidar.angle_increment_rad * np.arange(lidar.beams)

    def scan(
        self, stamp_ns: int, chair: Pose2D, shapes: Sequence[Shape] = ()
    ) -> tuple[Scan, BeamTruth]:
        """One scan from the chair's pose, and its per-beam ground truth."""
        spec, lidar = self.spec, self.spec.config
        sensor = chair.compose(self._mount)
        world_angles = np.asarray(sensor.yaw + self._beam_angles, dtype=np.float64)
        walls = cast_grid(
            self._occupied,
            self._grid.resolution,
            (self._grid.origin[0], self._grid.origin[1]),
            (sensor.x, sensor.y),
            world_angles,
            max_range=lidar.range_max_m,
        )
        objects, object_ids = hits((sensor.x, sensor.y), world_angles, shapes, lidar.mount.z_m)
        true_ranges = np.minimum(walls, objects)
        ids = np.where(objects < walls, object_ids, WALL_ID).astype(np.int32)
        ids[~np.isfinite(true_ranges) | (true_ranges > lidar.range_max_m)] = -1
        classes_by_id = {s.id: s.cls for s in shapes}
        classes = np.full(lidar.beams, ObjectClass.NONE, dtype=np.int8)
        classes[ids == WALL_ID] = ObjectClass.WALL
        for object_id in np.unique(ids[ids > 0]):
            classes[ids == object_id] = classes_by_id[int(object_id)]

        measured = true_ranges + self._rng.normal(0.0, spec.noise_sigma_m, lidar.beams)
        measured[(true_ranges > lidar.range_max_m) | (measured > lidar.range_max_m)] = np.inf
        measured[measured < lidar.range_min_m] = -np.inf
        if spec.dropout_rate > 0.0:
            measured[self._rng.random(lidar.beams) < spec.dropout_rate] = np.nan
        scan = Scan(
            stamp_ns=stamp_ns,
            angle_min=lidar.angle_min_rad,
            angle_increment=lidar.angle_increment_rad,
            range_min=lidar.range_min_m,
            range_max=lidar.range_max_m,
            ranges=measured.astype(np.float32),
            frame_id=lidar.frame_id,
            scan_time_s=1.0 / lidar.rate_hz,
        )
        return scan, BeamTruth(true_ranges, ids, classes)
