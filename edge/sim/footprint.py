"""The chair's footprint in the world: collisions and clearance against walls and shapes."""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from chairlink.site import OccupancyMap
from edge.sim.shapes import Box, Circle, Shape
from edge.types import Pose2D

__all__ = ["Contact", "Footprint"]


@dataclass(frozen=True, slots=True)
class Contact:
    """What the footprint touches (id 0 is the walls) and the clearance to the nearest thing."""

    touching: tuple[int, ...]
    clearance_m: float


@dataclass(frozen=True)
class Footprint:
    """A rectangle around base_link (the drive axle's centre): 1.2 m x 0.7 m by default."""

    front_m: float = 0.85
    rear_m: float = 0.35
    half_width_m: float = 0.35
    spacing_m: float = 0.05

    @property
    def circumradius_m(self) -> float:
        """Distance from base_link to the farthest corner."""
        return math.hypot(max(self.front_m, self.rear_m), self.half_width_m)

    def outline(self, pose: Pose2D) -> NDArray[np.float64]:
        """Points every ``spacing_m`` along the outline, in the world frame, shape (N, 2)."""
        local = _local_outline(self.front_m, self.rear_m, self.half_width_m, self.spacing_m)
        c, s = math.cos(pose.yaw), math.sin(pose.yaw)
        return np.column_stack(
            (pose.x + c * local[:, 0] - s * local[:, 1], pose.y + s * local[:, 0] + c * local[:, 1])
        )

    def contact(
        self,
        pose: Pose2D,
        grid: OccupancyMap,
        clearance: NDArray[np.float32],
        shapes: Sequence[Shape],
    ) -> Contact:
        """What the footprint at ``pose`` overlaps, and its clearance to walls and shapes."""
        outline = self.outline(pose)
        touching: list[int] = []
        ix = np.floor((outline[:, 0] - grid.origin[0]) / grid.resolution).astype(int)
        iy = np.floor((outline[:, 1] - grid.origin[1]) / grid.resolution).astype(int)
        rows, cols = grid.cells.shape
        inside = (ix >= 0) & (iy >= 0) & (ix < cols) & (iy < rows)
        occupied = grid.occupied
        if not inside.all() or occupied[iy[inside], ix[inside]].any():
            touching.append(0)
        wall_clearance = float(clearance[iy[inside], ix[inside]].min()) if inside.any() else 0.0
        nearest = max(0.0, wall_clearance - grid.resolution / 2)
        reach = self.circumradius_m
        for shape in shapes:
            bound = (
                shape.radius
                if isinstance(shape, Circle)
                else math.hypot(shape.length, shape.width) / 2
            )
            # Farther than the nearest thing so far, whatever the footprint's heading: skip.
            if math.hypot(shape.x - pose.x, shape.y - pose.y) - bound - reach > nearest:
                continue
            distance = _distance(outline, pose, self, shape)
            if distance <= 0.0:
                touching.append(shape.id)
            nearest = min(nearest, max(0.0, distance))
        return Contact(tuple(touching), nearest)


def _in_footprint(points: NDArray[np.float64], pose: Pose2D, fp: Footprint) -> NDArray[np.bool_]:
    c, s = math.cos(pose.yaw), math.sin(pose.yaw)
    dx, dy = points[:, 0] - pose.x, points[:, 1] - pose.y
    lx, ly = c * dx + s * dy, -s * dx + c * dy
    return np.asarray((lx <= fp.front_m) & (lx >= -fp.rear_m) & (np.abs(ly) <= fp.half_width_m))


def _distance(outline: NDArray[np.float64], pose: Pose2D, fp: Footprint, shape: Shape) -> float:
    """Distance from the footprint to a shape; zero or less when they overlap."""
    if isinstance(shape, Circle):
        centre = np.array([[shape.x, shape.y]])
        if _in_footprint(centre, pose, fp)[0]:
            return 0.0
        return float(
            np.hypot(outline[:, 0] - shape.x, outline[:, 1] - shape.y).min() - shape.radius
        )
    box_outline = _box_outline(shape)
    if _in_footprint(box_outline, pose, fp).any() or _in_box(outline, shape).any():
        return 0.0
    gaps = np.hypot(
        outline[:, None, 0] - box_outline[None, :, 0], outline[:, None, 1] - box_outline[None, :, 1]
    )
    return float(gaps.min())


def _in_box(points: NDArray[np.float64], box: Box) -> NDArray[np.bool_]:
    c, s = math.cos(box.yaw), math.sin(box.yaw)
    dx, dy = points[:, 0] - box.x, points[:, 1] - box.y
    lx, ly = c * dx + s * dy, -s * dx + c * dy
    return np.asarray((np.abs(lx) <= box.length / 2) & (np.abs(ly) <= box.width / 2))


@functools.lru_cache(maxsize=64)
def _local_outline(
    front: float, rear: float, half_width: float, spacing: float
) -> NDArray[np.float64]:
    corners = np.array(
        [(front, half_width), (-rear, half_width), (-rear, -half_width), (front, -half_width)]
    )
    points = []
    for a, b in zip(corners, np.roll(corners, -1, axis=0), strict=True):
        count = max(2, math.ceil(float(np.hypot(*(b - a))) / spacing))
        points.append(a + np.linspace(0.0, 1.0, count, endpoint=False)[:, None] * (b - a))
    outline = np.vstack(points)
    outline.setflags(write=False)
    return outline


@functools.lru_cache(maxsize=1024)
def _box_outline(box: Box) -> NDArray[np.float64]:
    return Footprint(box.length / 2, box.length / 2, box.width / 2).outline(
        Pose2D(box.x, box.y, box.yaw)
    )
