"""Simulator figures: sensors and world without any stack."""

from __future__ import annotations

import time

import numpy as np

from bench.figures import Figure
from chairlink.site import stock_site
from edge.sim.lidar import LidarSimulator, LidarSpec
from edge.sim.shapes import Box, Circle, ObjectClass, Shape
from edge.types import Pose2D

__all__ = ["scans_per_s"]


def scans_per_s(scans: int = 3000) -> Figure:
    """[sim.scans_per_s]: stock lidar scans (720 beams) ray-cast per second in the stock site.

    One core; the chair drives the length of corridor A past ten people and five beds.
    """
    site = stock_site()
    shapes: list[Shape] = [
        Circle(i + 1, ObjectClass.PERSON, 20.0 + 5.0 * i, 10.2 + 0.6 * (i % 3 - 1), 0.25)
        for i in range(10)
    ]
    shapes += [
        Box(20 + i, ObjectClass.BED, 22.0 + 10.0 * i, 9.5, 0.0, 2.0, 0.9, 0.0, 0.6)
        for i in range(5)
    ]
    lidar = LidarSimulator(LidarSpec(), site.map, np.random.default_rng(0))
    lidar.scan(0, Pose2D(18.0, 10.2, 0.0), shapes)  # compile the kernel outside the clock
    start = time.perf_counter()
    for i in range(scans):
        x = 18.0 + 55.0 * i / scans
        lidar.scan(i, Pose2D(x, 10.2 + 0.3 * np.sin(i / 50), 0.05 * np.sin(i / 30)), shapes)
    elapsed = time.perf_counter() - start
    return Figure(
        "sim.scans_per_s",
        scans / elapsed,
        "scans/s",
        ">=",
        500,
        f"{scans} scans, 15 shapes, numba grid walk",
    )
