"""Lidar points grouped into obstacles by scan segmentation (a breakpoint detector).

Neighbouring returns in angular order belong to one obstacle while the gap between them is
small for their range: the adaptive breakpoint rule of Borges and Aldon (2004). Two returns
``dphi`` apart at range ``r`` on one flat surface seen no more obliquely than ``lambda`` lie at
most ``r * sin(dphi) / sin(lambda - dphi)`` apart, so a larger gap is a break. A floor
``join_distance_m`` stands in for the range noise at short range, where that bound gets small.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from edge.perception.lidar_points import LidarPoints

__all__ = ["Cluster", "ClusterConfig", "cluster_points", "join_threshold_m"]


@dataclass(frozen=True, slots=True)
class ClusterConfig:
    """How close neighbouring returns must be to join one obstacle.

    The defaults suit a 720-beam, 0.5 degree hospital scan: 0.10 m keeps a person's two legs
    (about 0.1 to 0.3 m apart) close enough to merge when side by side, yet a 0.7 m doorway or
    the gap between a bed and a wall stays open; 10 degrees of incidence is the usual choice for
    the breakpoint detector (walls seen more obliquely than that break into pieces, which errs
    toward more obstacles, never fewer); two missing beams (1 degree) bridge a dark patch on a
    surface without joining things across a real opening.
    """

    join_distance_m: float = 0.10
    """Neighbours at most this far apart always join, m (the range-noise floor)."""
    max_incidence_rad: float = math.radians(10.0)
    """The most oblique a surface may be seen and still join as one, rad (lambda)."""
    max_missing_beams: int = 2
    """No-return beams that may lie between two neighbours that still join."""

    def __post_init__(self) -> None:
        if not (math.isfinite(self.join_distance_m) and self.join_distance_m >= 0.0):
            raise ValueError(f"join_distance_m must be finite and >= 0, got {self.join_distance_m}")
        if not (0.0 < self.max_incidence_rad < math.pi / 2):
            raise ValueError(
                f"max_incidence_rad must lie in (0, pi/2), got {self.max_incidence_rad}"
            )
        if self.max_missing_beams < 0:
            raise ValueError(f"max_missing_beams must be >= 0, got {self.max_missing_beams}")


@dataclass(frozen=True, slots=True)
class Cluster:
    """One obstacle: a run of neighbouring returns, in base_link (x forward, y left, m)."""

    centroid: tuple[float, float]
    """Mean of its points, m."""
    min_xy: tuple[float, float]
    """Lower corner of its axis-aligned extent, m."""
    max_xy: tuple[float, float]
    """Upper corner of its axis-aligned extent, m."""
    nearest_m: float
    """Distance from base_link to its nearest point, m."""
    beams: tuple[int, ...]
    """Its beam indices in angular order (across the seam of a 360 degree scan: last beams
    first)."""

    @property
    def count(self) -> int:
        """Points in the cluster."""
        return len(self.beams)

    @property
    def size(self) -> tuple[float, float]:
        """Axis-aligned extent along x and y, m (0 for a single point)."""
        return (self.max_xy[0] - self.min_xy[0], self.max_xy[1] - self.min_xy[1])


def join_threshold_m(
    range_m: NDArray[np.floating], gap_rad: NDArray[np.floating], config: ClusterConfig
) -> NDArray[np.float64]:
    """The largest gap at which neighbours ``gap_rad`` apart at ``range_m`` still join, m.

    ``max(join_distance_m, r * sin(dphi) / sin(lambda - dphi))``; where ``dphi`` reaches
    ``lambda`` the bound is unbounded, so only the floor applies there.
    """
    r = np.asarray(range_m, dtype=np.float64)
    dphi = np.abs(np.asarray(gap_rad, dtype=np.float64))
    room = config.max_incidence_rad - dphi
    adaptive = np.divide(
        r * np.sin(dphi),
        np.sin(room),
        out=np.zeros(np.broadcast(r, dphi).shape),
        where=room > 0,
    )
    return np.maximum(config.join_distance_m, adaptive)


def _joins(
    points: LidarPoints,
    a: NDArray[np.intp],
    b: NDArray[np.intp],
    gap_beams: NDArray[np.intp],
    config: ClusterConfig,
) -> NDArray[np.bool_]:
    """Whether point ``a[i]`` joins point ``b[i]``, ``gap_beams[i]`` beams on from it."""
    distance = np.hypot(*(points.xy[b] - points.xy[a]).T)
    # The nearer range sets the bound: symmetric, and the stricter of the two (more breaks).
    r = np.minimum(points.range_m[a], points.range_m[b])
    threshold = join_threshold_m(r, gap_beams * points.angle_increment_rad, config)
    close_in_angle = gap_beams <= config.max_missing_beams + 1
    joined: NDArray[np.bool_] = close_in_angle & (distance <= threshold)
    return joined


def cluster_points(points: LidarPoints, config: ClusterConfig | None = None) -> list[Cluster]:
    """Group ``points`` into obstacles: neighbours in angular order join while close enough.

    Every point lands in exactly one cluster; a single return is a cluster of its own (a thin
    table leg at range is one beam). On a 360 degree scan the last beams neighbour the first, so
    an obstacle across the seam is one cluster. Clusters come in beam order of their first
    point (a cluster across the seam comes first).
    """
    config = config if config is not None else ClusterConfig()
    n = len(points)
    if n == 0:
        return []
    index = np.arange(n, dtype=np.intp)
    links = _joins(points, index[:-1], index[1:], np.diff(points.beam).astype(np.intp), config)
    label = np.concatenate(([0], np.cumsum(~links))).astype(np.intp)
    seam_joined = False
    if points.full_circle and n > 1:
        seam_gap = np.array([points.beam[0] + points.beams - points.beam[-1]], dtype=np.intp)
        last, first = np.array([n - 1], dtype=np.intp), np.array([0], dtype=np.intp)
        seam_joined = bool(_joins(points, last, first, seam_gap, config)[0])
        if seam_joined:
            label[label == label[-1]] = label[0]
    clusters: list[Cluster] = []
    for value in np.unique(label):
        members = np.flatnonzero(label == value)
        if seam_joined and value == label[0]:
            # Across the seam, angular order starts just after the cluster's one break (none
            # when it closes a full ring).
            breaks = np.flatnonzero(~links[members[:-1]])
            if len(breaks):
                start = int(breaks[0]) + 1
                members = np.concatenate((members[start:], members[:start]))
        clusters.append(_cluster(points, members))
    return clusters


def _cluster(points: LidarPoints, members: NDArray[np.intp]) -> Cluster:
    xy = points.xy[members]
    low, high, mean = xy.min(axis=0), xy.max(axis=0), xy.mean(axis=0)
    return Cluster(
        centroid=(float(mean[0]), float(mean[1])),
        min_xy=(float(low[0]), float(low[1])),
        max_xy=(float(high[0]), float(high[1])),
        nearest_m=float(np.hypot(xy[:, 0], xy[:, 1]).min()),
        beams=tuple(int(b) for b in points.beam[members]),
    )
