"""Simulator figures: sensors and world without any stack."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from bench.figures import Figure
from chairlink.config import ChairConfig
from chairlink.site import stock_site
from edge.sim.lidar import LidarSimulator, LidarSpec
from edge.sim.runner import SimRunner
from edge.sim.scenario import load_scenario
from edge.sim.shapes import Box, Circle, ObjectClass, Shape
from edge.types import Pose2D

__all__ = ["realtime_factor", "scans_per_s"]


def scans_per_s(scans: int = 3000) -> Figure:
    """[sim.scans_per_s]: stock lidar scans (720 beams) ray-cast per second in the stock site.

    The stock chair's lidar is chair.yaml's defaults (chairlink/geometry.py).

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
    lidar = LidarSimulator(LidarSpec(ChairConfig().lidar), site.map, np.random.default_rng(0))
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


def realtime_factor() -> Figure:
    """[sim.realtime_factor]: simulated seconds per wall second, stock scenario, one core.

    The stock chair (chair.yaml's defaults): lidar (10 Hz) and camera (15 Hz, 320 x 240) on,
    nine people, three objects; the scripted route follower stands in for a stack (it costs
    microseconds a step).
    """
    scenario = load_scenario(
        Path(__file__).resolve().parents[1] / "scenarios" / "corridor-walk.yaml"
    )
    SimRunner(scenario.changed(duration_s=1.0)).run()  # compile the kernels
    result = SimRunner(scenario).run()
    return Figure(
        "sim.realtime_factor",
        result.realtime_factor,
        "x",
        ">=",
        10,
        f"{result.sim_time_s:.0f} s simulated in {result.wall_time_s:.1f} s, lidar + camera",
    )
