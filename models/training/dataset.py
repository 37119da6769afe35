"""Training data from the simulator: camera frames with boxes, scans with per-beam classes.

Each sample comes from a seeded scenario built here: the chair drives a route across the stock
floor among walking and standing people and randomly placed beds, carts, poles, wheelchairs and
overhanging objects. Labels are the simulator's ground truth, so a data set is reproducible
from its seeds alone. Everything here is simulated, and the model cards say so.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from chairlink.site import Site, WaypointKind, stock_site
from edge.sim.runner import SimRunner
from edge.sim.scenario import Scenario
from edge.sim.shapes import ObjectClass
from edge.types import CameraFrame, Scan

__all__ = [
    "DETECTOR_CLASSES",
    "SEGMENTER_CLASSES",
    "CameraSample",
    "ScanSample",
    "beam_labels",
    "samples",
    "training_scenario",
    "write_shard",
]

DETECTOR_CLASSES = ("person", "wheelchair", "bed", "cart", "pole", "other")
"""The detector's classes, in output order."""

SEGMENTER_CLASSES = ("free", "static", "person")
"""The segmenter's per-beam classes, in output order."""

_DETECTOR_INDEX = {
    ObjectClass.PERSON: 0,
    ObjectClass.WHEELCHAIR: 1,
    ObjectClass.BED: 2,
    ObjectClass.CART: 3,
    ObjectClass.POLE: 4,
    ObjectClass.OTHER: 5,
}
MIN_VISIBLE = 0.25
"""Objects less visible than this are not labelled: nobody could tell what they are."""

# (class, length, width, z_min, z_max); circles have width 0 and length as diameter.
_OBJECTS = [
    ("bed", 2.0, 0.9, 0.0, 0.6),
    ("cart", 0.9, 0.5, 0.0, 1.0),
    ("cart", 0.6, 0.45, 0.0, 0.15),  # a low trolley base, under the lidar plane
    ("wheelchair", 1.0, 0.65, 0.0, 0.9),
    ("pole", 0.3, 0.0, 0.0, 1.8),
    ("other", 0.8, 0.8, 0.9, 1.3),  # overhanging: a shelf or a display screen
]


@dataclass(frozen=True, eq=False)
class CameraSample:
    """A frame and its boxes (u0, v0, u1, v1, pixels) and detector class indices."""

    image: NDArray[np.uint8]
    boxes: NDArray[np.float32]
    classes: NDArray[np.int64]
    ranges: NDArray[np.float32]
    visible: NDArray[np.float32]


@dataclass(frozen=True, eq=False)
class ScanSample:
    """A scan's ranges and a segmenter class per beam."""

    ranges: NDArray[np.float32]
    labels: NDArray[np.int64]


def beam_labels(classes: NDArray[np.int8]) -> NDArray[np.int64]:
    """Per-beam segmenter classes from the lidar's ground-truth object classes."""
    labels = np.zeros(classes.shape, dtype=np.int64)
    labels[classes >= ObjectClass.WALL] = 1
    labels[classes == ObjectClass.PERSON] = 2
    return labels


def training_scenario(site: Site, seed: int, duration_s: float = 40.0) -> Scenario:
    """A seeded scenario: a route between two rooms among people and scattered objects."""
    rng = np.random.default_rng(seed)
    rooms = [w.name for w in site.graph.of_kind(WaypointKind.ROOM)]
    corridors = [
        w for w in site.graph.spec.waypoints if w.kind in (WaypointKind.DOOR, WaypointKind.CORRIDOR)
    ]
    start, goal = rng.choice(rooms, size=2, replace=False)
    objects = []
    for _ in range(int(rng.integers(4, 10))):
        cls, length, width, z_min, z_max = _OBJECTS[int(rng.integers(len(_OBJECTS)))]
        anchor = corridors[int(rng.integers(len(corridors)))]
        x = anchor.x + float(rng.uniform(-2.5, 2.5))
        y = anchor.y + float(rng.uniform(-0.9, 0.9))
        if not site.map.is_free(x, y):
            continue
        shape: dict[str, object] = {"cls": cls, "x": x, "y": y, "z_min": z_min, "z_max": z_max}
        if width == 0.0:
            shape["radius"] = length / 2
        else:
            shape.update(
                {"length": length, "width": width, "yaw": float(rng.uniform(-math.pi, math.pi))}
            )
        objects.append(shape)
    return Scenario.model_validate(
        {
            "name": f"train-{seed}",
            "seed": seed,
            "duration_s": duration_s,
            "chair": {"start": str(start), "goal": str(goal)},
            "random_people": int(rng.integers(8, 20)),
            "objects": objects,
        }
    )


def samples(
    seed: int, *, frame_every: int = 3, scan_every: int = 2, duration_s: float = 40.0
) -> Iterator[CameraSample | ScanSample]:
    """Labelled samples of one seeded training scenario, in time order."""
    site = stock_site()
    runner = SimRunner(training_scenario(site, seed, duration_s))
    pending: list[CameraSample | ScanSample] = []
    counts = {"frame": 0, "scan": 0}

    def collect(topic: str, value: object) -> None:
        if isinstance(value, CameraFrame):
            counts["frame"] += 1
            if counts["frame"] % frame_every == 0:
                truth = runner.frame_truths[-1][1]
                kept = [t for t in truth if t.visible_fraction >= MIN_VISIBLE]
                pending.append(
                    CameraSample(
                        value.image,
                        np.array([t.box for t in kept], dtype=np.float32).reshape(-1, 4),
                        np.array([_DETECTOR_INDEX[t.cls] for t in kept], dtype=np.int64),
                        np.array([t.range_m for t in kept], dtype=np.float32),
                        np.array([t.visible_fraction for t in kept], dtype=np.float32),
                    )
                )
        elif isinstance(value, Scan):
            counts["scan"] += 1
            if counts["scan"] % scan_every == 0:
                _, beams = runner.scans[-1]
                pending.append(ScanSample(value.ranges.copy(), beam_labels(beams.classes)))

    runner.start(on_message=collect)
    while not runner.step():
        yield from pending
        pending.clear()
    yield from pending


def write_shard(path: str | Path, items: list[CameraSample | ScanSample]) -> Path:
    """Write samples as one compressed .npz shard: frames and scans in stacked arrays."""
    frames = [s for s in items if isinstance(s, CameraSample)]
    scans = [s for s in items if isinstance(s, ScanSample)]
    offsets = np.cumsum([0, *(len(f.classes) for f in frames)])
    path = Path(path)
    np.savez_compressed(
        path,
        images=np.stack([f.image for f in frames])
        if frames
        else np.zeros((0, 240, 320, 3), np.uint8),
        boxes=np.concatenate([f.boxes for f in frames]) if frames else np.zeros((0, 4), np.float32),
        box_classes=np.concatenate([f.classes for f in frames])
        if frames
        else np.zeros(0, np.int64),
        box_ranges=np.concatenate([f.ranges for f in frames])
        if frames
        else np.zeros(0, np.float32),
        box_visible=np.concatenate([f.visible for f in frames])
        if frames
        else np.zeros(0, np.float32),
        box_offsets=offsets,
        scan_ranges=np.stack([s.ranges for s in scans])
        if scans
        else np.zeros((0, 720), np.float32),
        scan_labels=np.stack([s.labels for s in scans]) if scans else np.zeros((0, 720), np.int64),
    )
    return path
