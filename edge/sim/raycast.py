"""Ray casting against an occupancy grid, compiled with numba.

One call casts every beam of a scan: an Amanatides-Woo grid walk per beam, which visits each
cell the ray crosses once and stops at the first occupied one, so the range is exact to the
cell boundary. Compiled code is cached beside this module.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from numpy.typing import NDArray

__all__ = ["cast_grid"]


# numba compiles positional arguments only, hence the long signatures of the two kernels.
@njit(cache=True)
def _walk(  # noqa: PLR0917
    occupied: NDArray[np.uint8],
    resolution: float,
    x0: float,
    y0: float,
    angle: float,
    max_range: float,
) -> float:
    rows, cols = occupied.shape
    gx = x0 / resolution
    gy = y0 / resolution
    ix = math.floor(gx)
    iy = math.floor(gy)
    if ix < 0 or iy < 0 or ix >= cols or iy >= rows:
        return 0.0
    if occupied[iy, ix]:
        return 0.0
    dx = math.cos(angle)
    dy = math.sin(angle)
    step_x = 1 if dx > 0 else -1
    step_y = 1 if dy > 0 else -1
    inf = 1e30
    t_delta_x = abs(1.0 / dx) if dx != 0.0 else inf
    t_delta_y = abs(1.0 / dy) if dy != 0.0 else inf
    if dx > 0:
        t_max_x = (ix + 1 - gx) / dx
    elif dx < 0:
        t_max_x = (gx - ix) / -dx
    else:
        t_max_x = inf
    if dy > 0:
        t_max_y = (iy + 1 - gy) / dy
    elif dy < 0:
        t_max_y = (gy - iy) / -dy
    else:
        t_max_y = inf
    limit = max_range / resolution
    t = 0.0
    while t <= limit:
        if t_max_x < t_max_y:
            t = t_max_x
            t_max_x += t_delta_x
            ix += step_x
        else:
            t = t_max_y
            t_max_y += t_delta_y
            iy += step_y
        if ix < 0 or iy < 0 or ix >= cols or iy >= rows:
            return t * resolution
        if occupied[iy, ix]:
            return t * resolution
    return math.inf


@njit(cache=True)
def _cast_all(  # noqa: PLR0917
    occupied: NDArray[np.uint8],
    resolution: float,
    x0: float,
    y0: float,
    angles: NDArray[np.float64],
    max_range: float,
) -> NDArray[np.float64]:
    out = np.empty(angles.shape[0], dtype=np.float64)
    for i in range(angles.shape[0]):
        out[i] = _walk(occupied, resolution, x0, y0, angles[i], max_range)
    return out


def cast_grid(
    occupied: NDArray[np.uint8],
    resolution: float,
    origin_xy: tuple[float, float],
    position: tuple[float, float],
    angles: NDArray[np.float64],
    *,
    max_range: float,
) -> NDArray[np.float64]:
    """Distance (m) along each world-frame angle from ``position`` to the first occupied cell.

    ``occupied[iy, ix]`` is non-zero for obstacles, row 0 at the lowest y; leaving the grid
    counts as a hit at its edge. Beams that reach ``max_range`` unobstructed give +inf.
    """
    return _cast_all(
        occupied,
        resolution,
        position[0] - origin_xy[0],
        position[1] - origin_xy[1],
        np.ascontiguousarray(angles, dtype=np.float64),
        max_range,
    )
