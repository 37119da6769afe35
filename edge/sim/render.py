"""The camera's pixel loops, compiled with numba: walls, floor and ceiling; then the finish."""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from numpy.typing import NDArray

__all__ = ["finish", "paint_room", "paint_solid"]


# numba compiles positional arguments only, hence the long signatures.
@njit(cache=True)
def paint_room(  # noqa: PLR0917
    image: NDArray[np.float32],
    depth: NDArray[np.float32],
    wall_depth: NDArray[np.float64],
    tan_left: NDArray[np.float64],
    fy: float,
    cy: float,
    camera_height: float,
    wall_height: float,
    cam_x: float,
    cam_y: float,
    cam_yaw: float,
    colours: NDArray[np.float32],
) -> None:
    """Fill ``image`` and ``depth`` with walls, floor and ceiling, column by column.

    ``colours`` rows: ceiling, wall, floor tile A, floor tile B.
    """
    height, width = depth.shape
    c, s = math.cos(cam_yaw), math.sin(cam_yaw)
    for u in range(width):
        d = wall_depth[u]
        if math.isfinite(d) and d > 1e-3:
            top = cy - fy * (wall_height - camera_height) / d
            bottom = cy + fy * camera_height / d
            shade = min(1.0, max(0.35, 1.0 - d / 25.0))
        else:
            top, bottom, shade = 1e9, -1e9, 1.0
        for v in range(height):
            if top <= v <= bottom:
                for ch in range(3):
                    image[v, u, ch] = colours[1, ch] * shade
                depth[v, u] = d
            elif v > cy:
                forward = fy * camera_height / (v - cy)
                left = forward * tan_left[u]
                wx = cam_x + c * forward - s * left
                wy = cam_y + s * forward + c * left
                tile = 2 if (math.floor(wx / 0.6) + math.floor(wy / 0.6)) % 2 == 0 else 3
                floor_shade = min(1.0, max(0.4, 1.0 - forward / 30.0))
                for ch in range(3):
                    image[v, u, ch] = colours[tile, ch] * floor_shade
                depth[v, u] = forward
            else:
                for ch in range(3):
                    image[v, u, ch] = colours[0, ch]
                depth[v, u] = np.inf


@njit(cache=True)
def finish(image: NDArray[np.float32], gain: float, noise: NDArray[np.int8]) -> NDArray[np.uint8]:
    """Apply a lighting gain and pixel noise, clip, and convert to 8 bits."""
    flat = image.reshape(-1)
    jitter = noise.reshape(-1)
    out = np.empty(flat.shape[0], dtype=np.uint8)
    for i in range(flat.shape[0]):
        value = int(flat[i] * gain) + jitter[i]
        out[i] = min(255, max(0, value))
    return out.reshape(image.shape)


@njit(cache=True)
def paint_solid(  # noqa: PLR0917
    image: NDArray[np.float32],
    depth: NDArray[np.float32],
    ids: NDArray[np.int32],
    columns: NDArray[np.int64],
    along: NDArray[np.float64],
    z_min: float,
    z_max: float,
    bands: NDArray[np.float32],
    solid_id: int,
    fy: float,
    cy: float,
    camera_height: float,
) -> NDArray[np.int64]:
    """Paint an upright solid over its height band where it is nearer than what is there.

    ``bands`` rows are the colours below 0.85 m, below 1.45 m, and above (the same three for a
    one-coloured object). Returns [visible pixels, covered pixels, u0, v0, u1, v1, unclipped
    pixels] where the box bounds the visible pixels, or the covered ones when none is visible,
    and the unclipped count is what the columns would cover on a sensor with no top or bottom.
    """
    height = depth.shape[0]
    visible = 0
    covered = 0
    unclipped = 0
    vis_box = np.array([1 << 30, 1 << 30, -1, -1])
    all_box = np.array([1 << 30, 1 << 30, -1, -1])
    for i in range(columns.shape[0]):
        u = columns[i]
        d = along[i]
        top = cy - fy * (z_max - camera_height) / d
        bottom = cy - fy * (z_min - camera_height) / d
        unclipped += max(0, math.floor(bottom) - math.ceil(top) + 1)
        first = max(0, math.ceil(top))
        last = min(height - 1, math.floor(bottom))
        if first > last:
            continue
        shade = min(1.0, max(0.4, 1.0 - d / 25.0))
        all_box[0] = min(all_box[0], u)
        all_box[2] = max(all_box[2], u)
        all_box[1] = min(all_box[1], first)
        all_box[3] = max(all_box[3], last)
        for v in range(first, last + 1):
            covered += 1
            if d >= depth[v, u]:
                continue
            z = camera_height - (v - cy) * d / fy
            band = 0 if z < 0.85 else (1 if z < 1.45 else 2)
            for ch in range(3):
                image[v, u, ch] = bands[band, ch] * shade
            depth[v, u] = d
            ids[v, u] = solid_id
            visible += 1
            vis_box[0] = min(vis_box[0], u)
            vis_box[2] = max(vis_box[2], u)
            vis_box[1] = min(vis_box[1], v)
            vis_box[3] = max(vis_box[3], v)
    box = vis_box if visible > 0 else all_box
    return np.array([visible, covered, box[0], box[1], box[2], box[3], unclipped])
