"""The simulated forward camera: a pinhole view of the floor, walls, people and objects.

A level camera sees vertical walls and upright solids as vertical spans per image column, so
each column is one ray: the walls come from the same compiled grid walk as the lidar, the
solids from the same analytic hits, each solid painted over its height band where it is nearer
than what is already there (a per-pixel depth buffer gives occlusion). Walls are shaded by
distance, the floor is tiled in world coordinates, people wear seeded colours, and each frame
gets a lighting gain and pixel noise.

The camera's mount and calibration are the chair's (chair.yaml's camera section,
chairlink.geometry.CameraConfig): columns and rows are projected with the calibration's fx, fy,
cx and cy, from the mount's x, y, yaw and height. The renderer draws a level, undistorted
pinhole, so a mount with roll or pitch, or a calibration with distortion, is refused by name.
Only what a real camera would not declare lives here: noise, gain, how far it renders, and the
walls' height.

Every frame comes with its ground truth: per object in view, its bounding box, class, range and
visible fraction: visible pixels over the pixels it would cover unoccluded on a sensor without
edges, so that a person cut off by the frame (the torso of someone a step in front of the
lens) counts as mostly hidden, as KITTI counts truncation.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from chairlink.geometry import CameraConfig
from chairlink.site import OccupancyMap
from edge.sim.errors import SimError
from edge.sim.raycast import cast_grid
from edge.sim.render import finish, paint_room, paint_solid
from edge.sim.shapes import Box, Circle, ObjectClass, Shape, hits
from edge.types import CameraFrame, CameraIntrinsics, Pose2D

__all__ = ["CameraSimulator", "CameraSpec", "ObjectTruth"]

WALL_HEIGHT_M = 2.6
# Ceiling, wall, floor tile A, floor tile B.
_ROOM_COLOURS = np.array(
    [[236, 236, 232], [214, 204, 182], [150, 156, 160], [128, 134, 140]], dtype=np.float32
)
NOISE_POOL = 8
_OBJECT_COLOURS = {
    ObjectClass.BED: np.array([225, 230, 240], dtype=np.float32),
    ObjectClass.CART: np.array([120, 124, 130], dtype=np.float32),
    ObjectClass.POLE: np.array([190, 192, 196], dtype=np.float32),
    ObjectClass.WHEELCHAIR: np.array([40, 60, 110], dtype=np.float32),
    ObjectClass.OTHER: np.array([150, 110, 70], dtype=np.float32),
}


@dataclass(frozen=True)
class CameraSpec:
    """A simulated camera: the chair's camera (mount, calibration, rate) and its errors.

    Raises:
        SimError: the camera is tilted (roll or pitch) or distorts: the renderer draws a level,
            undistorted pinhole.
    """

    config: CameraConfig = field(default_factory=CameraConfig)
    """The chair's camera, from chair.yaml; the default is the stock chair's."""
    range_max_m: float = 30.0
    """Nothing farther than this is drawn, m."""
    noise_sigma: float = 3.0
    """Standard deviation of the pixel noise, in 0-255 levels."""
    gain_sigma: float = 0.05
    """Standard deviation of each frame's lighting gain around 1."""

    def __post_init__(self) -> None:
        mount = self.config.mount
        for name, value in (("roll_rad", mount.roll_rad), ("pitch_rad", mount.pitch_rad)):
            if value != 0.0:
                raise SimError(
                    f"camera.mount.{name} is {value}: the simulator renders a level camera "
                    "(roll_rad and pitch_rad 0)"
                )
        calibration = self.config.calibration
        if any(calibration.distortion):
            raise SimError(
                f"camera.calibration.distortion is {list(calibration.distortion)}: the "
                "simulator renders an undistorted camera (every coefficient 0)"
            )

    @property
    def intrinsics(self) -> CameraIntrinsics:
        """The pinhole model of the chair's calibration."""
        return CameraIntrinsics.from_calibration(self.config.calibration)

    @property
    def mount(self) -> Pose2D:
        """The camera's position and heading on base_link."""
        mount = self.config.mount
        return Pose2D(mount.x_m, mount.y_m, mount.yaw_rad)


class _Canvas(NamedTuple):
    image: NDArray[np.float32]
    depth: NDArray[np.float32]
    ids: NDArray[np.int32]


@dataclass(frozen=True, slots=True)
class ObjectTruth:
    """One object in a frame: box (u0, v0, u1, v1, pixels, inclusive), class, range, visibility."""

    id: int
    cls: ObjectClass
    box: tuple[int, int, int, int]
    range_m: float
    visible_fraction: float


class CameraSimulator:
    """Renders frames of one camera in one map; seeded."""

    def __init__(self, spec: CameraSpec, grid: OccupancyMap, rng: np.random.Generator) -> None:
        self.spec = spec
        self._grid = grid
        self._occupied = np.ascontiguousarray(grid.occupied, dtype=np.uint8)
        self._rng = rng
        k = spec.intrinsics
        self._k = k
        self._mount = spec.mount
        self._height_m = spec.config.mount.z_m
        u = np.arange(k.width, dtype=np.float64)
        self._tan = (k.cx - u) / k.fx  # left of centre is positive (ROS yaw convention)
        self._column_angles = np.arctan(self._tan)
        self._cos = np.cos(self._column_angles)
        # Half the field of view on the wider side (the principal point may be off centre),
        # to the outer edges of the outermost pixels.
        self._half_fov = max(
            math.atan((k.cx + 0.5) / k.fx), math.atan((k.width - 0.5 - k.cx) / k.fx)
        )
        # Pixel noise comes from a seeded pool, one picked per frame: drawing 230,000 normals
        # every frame would cost more than rendering it.
        pool = rng.normal(0.0, spec.noise_sigma, (NOISE_POOL, k.height, k.width, 3))
        self._noise = np.clip(np.round(pool), -127, 127).astype(np.int8)

    def render(
        self, stamp_ns: int, chair: Pose2D, shapes: Sequence[Shape] = ()
    ) -> tuple[CameraFrame, list[ObjectTruth]]:
        """One frame from the chair's pose, and the ground truth of the objects in it."""
        spec, k = self.spec, self._k
        camera = chair.compose(self._mount)
        angles = np.asarray(camera.yaw + self._column_angles, dtype=np.float64)
        grid = self._grid
        walls = cast_grid(
            self._occupied,
            grid.resolution,
            (grid.origin[0], grid.origin[1]),
            (camera.x, camera.y),
            angles,
            max_range=spec.range_max_m,
        )
        wall_depth = walls * self._cos  # distance along the optical axis

        image = np.empty((k.height, k.width, 3), dtype=np.float32)
        depth = np.full((k.height, k.width), np.inf, dtype=np.float32)
        ids = np.full((k.height, k.width), -1, dtype=np.int32)
        self._paint_room(image, depth, camera, wall_depth)

        truths: list[ObjectTruth] = []
        canvas = _Canvas(image, depth, ids)
        for shape in shapes:
            truth = self._paint(canvas, camera, angles, shape)
            if truth is not None:
                truths.append(truth)

        gain = 1.0 + self._rng.normal(0.0, spec.gain_sigma)
        pixels = finish(image, gain, self._noise[self._rng.integers(NOISE_POOL)])
        frame = CameraFrame(
            stamp_ns, pixels, k, self._mount, self._height_m, spec.config.optical_frame_id
        )
        return frame, truths

    def _paint_room(
        self,
        image: NDArray[np.float32],
        depth: NDArray[np.float32],
        camera: Pose2D,
        wall_depth: NDArray[np.float64],
    ) -> None:
        k = self._k
        paint_room(
            image,
            depth,
            wall_depth,
            self._tan,
            k.fy,
            k.cy,
            self._height_m,
            WALL_HEIGHT_M,
            camera.x,
            camera.y,
            camera.yaw,
            _ROOM_COLOURS,
        )

    def _may_see(self, camera: Pose2D, shape: Shape) -> bool:
        """Cheap culling: whether any part of the shape can lie in the field of view."""
        dx, dy = shape.x - camera.x, shape.y - camera.y
        distance = math.hypot(dx, dy)
        radius = (
            shape.radius if isinstance(shape, Circle) else math.hypot(shape.length, shape.width) / 2
        )
        if distance <= radius:
            return True
        if distance - radius > self.spec.range_max_m:
            return False
        bearing = math.atan2(dy, dx) - camera.yaw
        bearing = math.atan2(math.sin(bearing), math.cos(bearing))
        return abs(bearing) <= self._half_fov + math.asin(min(1.0, radius / distance))

    def _paint(
        self, canvas: _Canvas, camera: Pose2D, angles: NDArray[np.float64], shape: Shape
    ) -> ObjectTruth | None:
        k = self._k
        if not self._may_see(camera, shape):
            return None
        ranges, _ = hits((camera.x, camera.y), angles, [_tall(shape)], height=0.0)
        columns = np.flatnonzero(np.isfinite(ranges) & (ranges > 0.05))
        if columns.size == 0:
            return None
        along = ranges[columns] * self._cos[columns]
        visible, covered, u0, v0, u1, v1, unclipped = paint_solid(
            canvas.image,
            canvas.depth,
            canvas.ids,
            columns.astype(np.int64),
            along,
            shape.z_min,
            shape.z_max,
            _bands(shape.cls, shape.id),
            shape.id,
            k.fy,
            k.cy,
            self._height_m,
        )
        if covered == 0:
            return None
        distance = math.hypot(shape.x - camera.x, shape.y - camera.y)
        whole = float(max(unclipped, covered))
        touches_edge = columns[0] == 0 or columns[-1] == k.width - 1
        if touches_edge:
            whole += self._columns_outside(camera, shape) * whole / columns.size
        return ObjectTruth(
            shape.id,
            shape.cls,
            (int(u0), int(v0), int(u1), int(v1)),
            distance,
            int(visible) / whole,
        )

    def _columns_outside(self, camera: Pose2D, shape: Shape) -> float:
        """How many pixel columns of the shape's silhouette fall left or right of the frame.

        From the bearings of its outline (a circle's tangents, a box's corners), each held
        within 80 degrees of the axis, where a pinhole's columns run off to infinity.
        """
        dx, dy = shape.x - camera.x, shape.y - camera.y
        if isinstance(shape, Circle):
            distance = math.hypot(dx, dy)
            if distance <= shape.radius:
                return 0.0
            centre = math.atan2(dy, dx) - camera.yaw
            spread = math.asin(shape.radius / distance)
            bearings = [centre - spread, centre + spread]
        else:
            c, s = math.cos(shape.yaw), math.sin(shape.yaw)
            bearings = [
                math.atan2(dy + a * s + b * c, dx + a * c - b * s) - camera.yaw
                for a in (-shape.length / 2, shape.length / 2)
                for b in (-shape.width / 2, shape.width / 2)
            ]
        limit = math.radians(80)
        wrapped = [max(-limit, min(limit, math.atan2(math.sin(b), math.cos(b)))) for b in bearings]
        k = self._k
        left = k.cx - k.fx * math.tan(max(wrapped))
        right = k.cx - k.fx * math.tan(min(wrapped))
        return max(0.0, -left) + max(0.0, right - (k.width - 1))


def _tall(shape: Shape) -> Shape:
    """The shape's footprint, extended to every height, for the per-column ray test."""
    if isinstance(shape, Circle):
        return Circle(shape.id, shape.cls, shape.x, shape.y, shape.radius, -1e9, 1e9)
    return Box(
        shape.id, shape.cls, shape.x, shape.y, shape.yaw, shape.length, shape.width, -1e9, 1e9
    )


@functools.lru_cache(maxsize=4096)
def _bands(cls: ObjectClass, solid_id: int) -> NDArray[np.float32]:
    """Three colours by height (legs, torso, head for a person; one colour otherwise)."""
    if cls != ObjectClass.PERSON:
        base = _OBJECT_COLOURS.get(cls, _OBJECT_COLOURS[ObjectClass.OTHER])
        return np.stack([base, base, base])
    palette = np.random.default_rng(solid_id)
    shirt = palette.integers(40, 220, 3).astype(np.float32)
    trousers = palette.integers(20, 120, 3).astype(np.float32)
    skin = np.array([200, 160, 130], dtype=np.float32) * palette.uniform(0.6, 1.1)
    return np.stack([trousers, shirt, skin]).astype(np.float32)
