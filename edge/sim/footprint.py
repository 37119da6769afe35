"""The chair's footprint in the world: collisions and clearance against walls and shapes.

The footprint is chair.yaml's polygon (chairlink.geometry.FootprintConfig), whatever its shape.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from chairlink.geometry import FootprintConfig, point_in_polygon
from chairlink.site import OccupancyMap
from edge.sim.shapes import Box, Circle, Shape
from edge.types import Pose2D

__all__ = ["Contact", "Footprint"]

SPACING_M = 0.05
"""Outlines are sampled this finely: a wall cell and the thinnest pole are wider."""


@dataclass(frozen=True, slots=True)
class Contact:
    """What the footprint touches (id 0 is the walls) and the clearance to the nearest thing."""

    touching: tuple[int, ...]
    clearance_m: float


@dataclass(frozen=True)
class Footprint:
    """The chair's outline in the world: chair.yaml's footprint polygon around base_link.

    Any simple polygon: the outline is sampled every ``spacing_m`` for walls and clearance, and
    points are tested against the polygon itself (even-odd rule) for overlaps.
    """

    config: FootprintConfig = field(default_factory=FootprintConfig)
    """The chair's footprint, from chair.yaml; the default is the stock chair's 1.2 m x 0.7 m."""
    spacing_m: float = SPACING_M
    """Distance between the outline's sample points, m."""

    @property
    def circumradius_m(self) -> float:
        """Distance from base_link to the farthest corner."""
        return self.config.circumradius_m

    def outline(self, pose: Pose2D) -> NDArray[np.float64]:
        """Points every ``spacing_m`` along the outline, in the world frame, shape (N, 2)."""
        return _placed(_local_outline(self.config.polygon, self.spacing_m), pose)

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
        polygon = _polygon(self.config.polygon)
        for shape in shapes:
            bound = (
                shape.radius
                if isinstance(shape, Circle)
                else math.hypot(shape.length, shape.width) / 2
            )
            # Farther than the nearest thing so far, whatever the footprint's heading: skip.
            if math.hypot(shape.x - pose.x, shape.y - pose.y) - bound - reach > nearest:
                continue
            distance = _distance(outline, pose, self.config.polygon, polygon, shape)
            if distance <= 0.0:
                touching.append(shape.id)
            nearest = min(nearest, max(0.0, distance))
        return Contact(tuple(touching), nearest)


class _Polygon(NamedTuple):
    """A polygon's edges, ready for the even-odd test: each from (x0, y0) to (x1, y1)."""

    x0: NDArray[np.float64]
    y0: NDArray[np.float64]
    y1: NDArray[np.float64]
    slope: NDArray[np.float64]
    """dx/dy of each edge; 0 for a level edge, which no horizontal ray crosses."""
    low: tuple[float, float]
    high: tuple[float, float]


@functools.lru_cache(maxsize=64)
def _polygon(polygon: tuple[tuple[float, float], ...]) -> _Polygon:
    corners = np.array(polygon, dtype=np.float64)
    x0, y0 = corners[:, 0], corners[:, 1]
    x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
    dy = y1 - y0
    slope = np.divide(x1 - x0, dy, out=np.zeros_like(dy), where=dy != 0.0)
    low, high = corners.min(axis=0), corners.max(axis=0)
    return _Polygon(
        x0, y0, y1, slope, (float(low[0]), float(low[1])), (float(high[0]), float(high[1]))
    )


def _in_polygon(points: NDArray[np.float64], pose: Pose2D, polygon: _Polygon) -> NDArray[np.bool_]:
    """Which world points lie inside ``polygon`` (in its own frame) placed at ``pose``.

    The even-odd rule of chairlink.geometry.point_in_polygon, for many points at once.
    """
    c, s = math.cos(pose.yaw), math.sin(pose.yaw)
    dx, dy = points[:, 0] - pose.x, points[:, 1] - pose.y
    lx, ly = c * dx + s * dy, -s * dx + c * dy
    near = (lx >= polygon.low[0]) & (lx <= polygon.high[0])
    near &= (ly >= polygon.low[1]) & (ly <= polygon.high[1])
    if not near.any():
        return near
    lx, ly = lx[near, None], ly[near, None]
    crossing = polygon.x0 + (ly - polygon.y0) * polygon.slope
    straddles = (polygon.y0 > ly) != (polygon.y1 > ly)
    near[near] = (straddles & (lx < crossing)).sum(axis=1) % 2 == 1
    return near


def _distance(
    outline: NDArray[np.float64],
    pose: Pose2D,
    corners: tuple[tuple[float, float], ...],
    polygon: _Polygon,
    shape: Shape,
) -> float:
    """Distance from the footprint to a shape; zero or less when they overlap."""
    if isinstance(shape, Circle):
        # One point: plain Python beats numpy's per-call overhead several times over.
        c, s = math.cos(pose.yaw), math.sin(pose.yaw)
        dx, dy = shape.x - pose.x, shape.y - pose.y
        if point_in_polygon(c * dx + s * dy, -s * dx + c * dy, corners):
            return 0.0
        return float(
            np.hypot(outline[:, 0] - shape.x, outline[:, 1] - shape.y).min() - shape.radius
        )
    box_outline = _box_outline(shape)
    if _in_polygon(box_outline, pose, polygon).any() or _in_box(outline, shape).any():
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


def _placed(local: NDArray[np.float64], pose: Pose2D) -> NDArray[np.float64]:
    c, s = math.cos(pose.yaw), math.sin(pose.yaw)
    return np.column_stack(
        (pose.x + c * local[:, 0] - s * local[:, 1], pose.y + s * local[:, 0] + c * local[:, 1])
    )


@functools.lru_cache(maxsize=64)
def _local_outline(polygon: tuple[tuple[float, float], ...], spacing: float) -> NDArray[np.float64]:
    corners = np.array(polygon, dtype=np.float64)
    points = []
    for a, b in zip(corners, np.roll(corners, -1, axis=0), strict=True):
        count = max(2, math.ceil(float(np.hypot(*(b - a))) / spacing))
        points.append(a + np.linspace(0.0, 1.0, count, endpoint=False)[:, None] * (b - a))
    outline = np.vstack(points)
    outline.setflags(write=False)
    return outline


@functools.lru_cache(maxsize=1024)
def _box_outline(box: Box) -> NDArray[np.float64]:
    half_length, half_width = box.length / 2, box.width / 2
    rectangle = (
        (half_length, half_width),
        (-half_length, half_width),
        (-half_length, -half_width),
        (half_length, -half_width),
    )
    return _placed(_local_outline(rectangle, SPACING_M), Pose2D(box.x, box.y, box.yaw))
