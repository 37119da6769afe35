"""Camera geometry for fusion: base_link points into the image, detection boxes onto the floor.

Frames follow edge/rosbag/transforms.py: the camera body sits at its mount in base_link (x, y,
z, then roll, pitch and yaw as tf2's setRPY), and the image lives in the optical frame under it
(REP-103: z forward, x right, y down). The lens is an undistorted pinhole with the
calibration's fx, fy, cx and cy, as edge/sim/camera.py renders it; a calibration with non-zero
distortion is refused by name (undistort the image, or publish a rectified camera_info, first).

Pixel coordinates are the calibration's: pixel centres at whole numbers, so a ``width`` x
``height`` image spans [-0.5, width - 0.5) x [-0.5, height - 0.5) (cx 159.5 is the centre of a
320 px row). Boxes are (x1, y1, x2, y2) in those coordinates, their edges on pixel edges.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

if TYPE_CHECKING:
    from chairlink.geometry import CameraConfig, Mount

__all__ = [
    "GroundPoint",
    "Projection",
    "box_ground_point",
    "camera_rotation",
    "points_in_box",
    "project",
]

# Below this depth (m, along the optical axis) a point is at the lens or behind it: it has no
# image, and dividing by its depth would blow up.
_MIN_DEPTH_M = 1e-6

# The optical frame's axes in the camera body's (REP-103): columns are optical x (right = -y),
# optical y (down = -z) and optical z (forward = x). transforms.OPTICAL_ROTATION is the same
# rotation as a tf; the tests hold the two together.
_OPTICAL_IN_BODY = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])


@dataclass(frozen=True, eq=False)
class Projection:
    """Points projected into one camera's image (arrays of the same length N as the input)."""

    uv: NDArray[np.float64]
    """(N, 2) pixel coordinates (u right, v down); NaN for a point at or behind the lens."""
    depth: NDArray[np.float64]
    """(N,) distance along the optical axis, m (negative behind the camera)."""
    in_view: NDArray[np.bool_]
    """(N,) the point is in front of the lens and its pixel lies inside the image."""


@dataclass(frozen=True)
class GroundPoint:
    """Where the camera alone places a box on the floor (base_link, m).

    ``xy`` is where the ray through the middle of the box's bottom edge meets the floor, or None
    where that edge is at or above the horizon (the ray never comes down). ``range_m`` is the
    distance fusion should take from base_link, always on the safe (near) side:
    the foot's range where there is one; where there is none, the lens's own distance from
    base_link, since the box then allows the object anywhere from the lens outward.
    """

    xy: tuple[float, float] | None
    """The foot (x forward, y left) in base_link, m; None if the box does not reach the floor."""
    range_m: float
    """Distance from base_link in the floor plane, m: the foot's, else the nearest allowed."""
    clipped: bool
    """The box reaches the image's bottom edge: its real foot is out of view, nearer than xy."""


def _check(camera: CameraConfig) -> None:
    distortion = camera.calibration.distortion
    if any(distortion):
        raise ValueError(
            f"camera.calibration.distortion is {list(distortion)} "
            f"({camera.calibration.distortion_model}): projection models an undistorted "
            "pinhole (every coefficient 0); rectify the image first"
        )


def _rpy_matrix(mount: Mount) -> NDArray[np.float64]:
    """Rotation of the mount's frame in its parent: Rz(yaw) Ry(pitch) Rx(roll), as setRPY."""
    cr, sr = math.cos(mount.roll_rad), math.sin(mount.roll_rad)
    cp, sp = math.cos(mount.pitch_rad), math.sin(mount.pitch_rad)
    cy, sy = math.cos(mount.yaw_rad), math.sin(mount.yaw_rad)
    rz = np.array([[cy, -sy, 0.0], [sy, cy, 0.0], [0.0, 0.0, 1.0]])
    ry = np.array([[cp, 0.0, sp], [0.0, 1.0, 0.0], [-sp, 0.0, cp]])
    rx = np.array([[1.0, 0.0, 0.0], [0.0, cr, -sr], [0.0, sr, cr]])
    return np.asarray(rz @ ry @ rx, dtype=np.float64)


def camera_rotation(camera: CameraConfig) -> NDArray[np.float64]:
    """(3, 3) rotation of the optical frame in base_link: its columns are the optical x
    (right), y (down) and z (forward) axes written in base_link."""
    return np.asarray(_rpy_matrix(camera.mount) @ _OPTICAL_IN_BODY, dtype=np.float64)


def project(points_base: ArrayLike, camera: CameraConfig) -> Projection:
    """Project base_link points (N, 3; x forward, y left, z up, m) into ``camera``'s image.

    A point is in view when it lies in front of the lens and its pixel falls inside the image;
    points at or behind the lens get NaN pixels. Non-finite input points are never in view.

    Raises:
        ValueError: ``points_base`` is not (N, 3), or the calibration has non-zero distortion.
    """
    _check(camera)
    points = np.asarray(points_base, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 3:
        raise ValueError(f"points_base has shape {points.shape}: expected (N, 3)")
    mount, k = camera.mount, camera.calibration
    origin = np.array([mount.x_m, mount.y_m, mount.z_m])
    # Row vectors: p_optical = R^T (p - t), i.e. (p - t) @ R.
    optical = (points - origin) @ camera_rotation(camera)
    depth = optical[:, 2]
    with np.errstate(invalid="ignore", divide="ignore"):
        front = depth > _MIN_DEPTH_M
        safe = np.where(front, depth, np.nan)
        u = k.cx + k.fx * optical[:, 0] / safe
        v = k.cy + k.fy * optical[:, 1] / safe
        in_view = front & (u >= -0.5) & (u < k.width - 0.5) & (v >= -0.5) & (v < k.height - 0.5)
    return Projection(np.column_stack((u, v)), depth, np.asarray(in_view, dtype=np.bool_))


def points_in_box(
    uv: NDArray[np.float64],
    in_view: NDArray[np.bool_],
    box: tuple[float, float, float, float],
) -> NDArray[np.bool_]:
    """Mask of the in-view points whose pixel lies in ``box`` (x1, y1, x2, y2; edges included).

    Raises:
        ValueError: the box is not finite or has x2 < x1 or y2 < y1.
    """
    x1, y1, x2, y2 = (float(c) for c in box)
    if not all(math.isfinite(c) for c in (x1, y1, x2, y2)) or x2 < x1 or y2 < y1:
        raise ValueError(f"box {box} is not (x1, y1, x2, y2) with x1 <= x2 and y1 <= y2")
    u, v = uv[:, 0], uv[:, 1]
    with np.errstate(invalid="ignore"):
        inside = (u >= x1) & (u <= x2) & (v >= y1) & (v <= y2)
    return np.asarray(in_view & inside, dtype=np.bool_)


def box_ground_point(box: tuple[float, float, float, float], camera: CameraConfig) -> GroundPoint:
    """Where the ray through the middle of the box's bottom edge meets the floor (z = 0).

    The rule, one for every box: the object's lowest visible point lies on that ray, at or
    above the floor, so it is never farther than where the ray meets the floor. For something
    standing on the floor with its foot in view this is the foot; for an overhang (a table top,
    a shelf) the ray passes under it and the floor point is farther than the overhang, so it
    bounds the distance from above; for a box cut off by the image's bottom (``clipped``) the
    real foot is out of view and nearer still. Where the bottom edge is at or above the horizon
    the ray never reaches the floor and the box bounds nothing: ``xy`` is None and ``range_m``
    is the nearest the box allows, the lens itself.

    The floor is seen only from a distance: a level camera 1 m up with fy 160 and a 240-row
    image sees its bottom row, 120 px below the centre, meet the floor at 1 / (120 / 160) =
    1.33 m ahead of the lens (about 2.1 m from base_link on the stock chair); anything nearer
    is out of view below.

    Raises:
        ValueError: the box is malformed, or the calibration has non-zero distortion.
    """
    _check(camera)
    x1, y1, x2, y2 = (float(c) for c in box)
    if not all(math.isfinite(c) for c in (x1, y1, x2, y2)) or x2 < x1 or y2 < y1:
        raise ValueError(f"box {box} is not (x1, y1, x2, y2) with x1 <= x2 and y1 <= y2")
    mount, k = camera.mount, camera.calibration
    clipped = y2 >= k.height - 0.5
    bottom = min(y2, k.height - 0.5)
    ray = camera_rotation(camera) @ np.array(
        [((x1 + x2) / 2 - k.cx) / k.fx, (bottom - k.cy) / k.fy, 1.0]
    )
    down = -float(ray[2])
    if down <= 1e-9 or mount.z_m <= 0.0:
        return GroundPoint(None, math.hypot(mount.x_m, mount.y_m), clipped)
    s = mount.z_m / down
    x, y = mount.x_m + s * float(ray[0]), mount.y_m + s * float(ray[1])
    return GroundPoint((x, y), math.hypot(x, y), clipped)
