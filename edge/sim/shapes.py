"""What stands in the simulated world besides the walls: people and objects as simple solids.

A shape is a circle (people, poles) or an oriented box (beds, carts, chairs), with the height
band it occupies, so a 2D lidar at 0.30 m misses a table top or a low trolley base that the
camera still sees.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

import numpy as np
from numpy.typing import NDArray

__all__ = ["Box", "Circle", "ObjectClass", "Shape", "hits"]


class ObjectClass(IntEnum):
    """Ground-truth classes, shared by the lidar's per-beam and the camera's per-frame truth."""

    NONE = -1
    WALL = 0
    PERSON = 1
    WHEELCHAIR = 2
    BED = 3
    CART = 4
    POLE = 5
    OTHER = 6


@dataclass(frozen=True, slots=True)
class Circle:
    """An upright cylinder: centre, radius, and the height band it fills (m)."""

    id: int
    cls: ObjectClass
    x: float
    y: float
    radius: float
    z_min: float = 0.0
    z_max: float = 1.7


@dataclass(frozen=True, slots=True)
class Box:
    """An upright box: centre, heading, length along the heading, width across, height band."""

    id: int
    cls: ObjectClass
    x: float
    y: float
    yaw: float
    length: float
    width: float
    z_min: float = 0.0
    z_max: float = 1.0


Shape = Circle | Box


def _circle_hits(
    ox: float, oy: float, dx: NDArray[np.float64], dy: NDArray[np.float64], c: Circle
) -> NDArray[np.float64]:
    fx, fy = ox - c.x, oy - c.y
    b = fx * dx + fy * dy
    cc = fx * fx + fy * fy - c.radius * c.radius
    if cc <= 0.0:
        return np.zeros_like(dx)
    disc = b * b - cc
    t = -b - np.sqrt(np.maximum(disc, 0.0))
    return np.where((disc >= 0.0) & (t >= 0.0), t, np.inf)


def _box_hits(
    ox: float, oy: float, dx: NDArray[np.float64], dy: NDArray[np.float64], box: Box
) -> NDArray[np.float64]:
    c, s = np.cos(box.yaw), np.sin(box.yaw)
    # The ray in the box's frame, then the slab test.
    px, py = c * (ox - box.x) + s * (oy - box.y), -s * (ox - box.x) + c * (oy - box.y)
    hx, hy = box.length / 2.0, box.width / 2.0
    if abs(px) <= hx and abs(py) <= hy:
        return np.zeros_like(dx)
    # A direction component of exactly zero becomes a tiny one: its slab's entry and exit go
    # to -/+ infinity when the ray runs inside the slab, and both to one side when outside.
    ux = c * dx + s * dy
    uy = -s * dx + c * dy
    ux = np.where(ux == 0.0, 1e-300, ux)
    uy = np.where(uy == 0.0, 1e-300, uy)
    tx1, tx2 = (-hx - px) / ux, (hx - px) / ux
    ty1, ty2 = (-hy - py) / uy, (hy - py) / uy
    t_near = np.maximum(np.minimum(tx1, tx2), np.minimum(ty1, ty2))
    t_far = np.minimum(np.maximum(tx1, tx2), np.maximum(ty1, ty2))
    return np.where((t_near <= t_far) & (t_near >= 0.0), t_near, np.inf)


def hits(
    origin: tuple[float, float],
    angles: NDArray[np.float64],
    shapes: Sequence[Shape],
    height: float,
) -> tuple[NDArray[np.float64], NDArray[np.int32]]:
    """Per ray, the distance to the nearest shape crossing ``height`` and that shape's id.

    Rays that hit nothing give +inf and id -1.
    """
    dx, dy = np.cos(angles), np.sin(angles)
    best = np.full(angles.shape, np.inf)
    ids = np.full(angles.shape, -1, dtype=np.int32)
    for shape in shapes:
        if not shape.z_min <= height <= shape.z_max:
            continue
        if isinstance(shape, Circle):
            t = _circle_hits(origin[0], origin[1], dx, dy, shape)
        else:
            t = _box_hits(origin[0], origin[1], dx, dy, shape)
        closer = t < best
        best = np.where(closer, t, best)
        ids = np.where(closer, shape.id, ids)
    return best, ids
