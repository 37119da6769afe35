"""Training data from the simulator: camera frames with boxes, scans with per-beam classes.

Each sample comes from a seeded scenario built here: the chair drives a route across the stock
floor among walking and standing people and randomly placed beds, carts, poles, wheelchairs and
overhanging objects. Labels are the simulator's ground truth, so a data set is reproducible
from its seeds alone. Everything here is simulated, and the model cards say so.
"""

from __future__ import annotations

import hashlib
import json
import math
import multiprocessing
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

from chairlink.config import ChairConfig
from chairlink.geometry import CameraConfig, LidarConfig
from chairlink.site import Site, WaypointKind, stock_site
from edge.nav.route_planner import plan_route
from edge.sim.camera import ObjectTruth
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
    "build_split",
    "camera_sample",
    "load_split",
    "read_shard",
    "samples",
    "stock_scan",
    "training_scenario",
    "write_shard",
]

_Sensor = TypeVar("_Sensor", LidarConfig, CameraConfig)

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
DATA_VERSION = 3
"""Bumped whenever what a seed produces changes, so that cached shards are remade."""
MIN_VISIBLE = 0.25
"""Objects less visible than this are marked difficult: nobody could tell what they are."""
MIN_BOX_HEIGHT_PX = 8
MIN_BOX_WIDTH_PX = 4
"""Boxes smaller than this are marked difficult, as PASCAL VOC marks its hardest objects."""

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
    """A frame and its objects: boxes (u0, v0, u1, v1, pixels, inclusive) and class indices.

    A difficult object (mostly hidden, or a few pixels across) is neither required of a
    detector nor held against it: evaluation ignores it and training does not penalise it.
    """

    image: NDArray[np.uint8]
    boxes: NDArray[np.float32]
    classes: NDArray[np.int64]
    ranges: NDArray[np.float32]
    visible: NDArray[np.float32]
    difficult: NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class ScanSample:
    """A scan's ranges and a segmenter class per beam."""

    ranges: NDArray[np.float32]
    labels: NDArray[np.int64]


def stock_scan(ranges: NDArray[np.float32]) -> Scan:
    """A scan of the stock chair's lidar (chair.yaml's defaults) with these ranges."""
    lidar = LidarConfig()
    return Scan(
        0,
        lidar.angle_min_rad,
        lidar.angle_increment_rad,
        lidar.range_min_m,
        lidar.range_max_m,
        ranges,
        lidar.frame_id,
        1.0 / lidar.rate_hz,
    )


def beam_labels(classes: NDArray[np.int8]) -> NDArray[np.int64]:
    """Per-beam segmenter classes from the lidar's ground-truth object classes."""
    labels = np.zeros(classes.shape, dtype=np.int64)
    labels[classes >= ObjectClass.WALL] = 1
    labels[classes == ObjectClass.PERSON] = 2
    return labels


def training_scenario(site: Site, seed: int, duration_s: float = 40.0) -> Scenario:
    """A seeded scenario: a route between two rooms among people and objects parked beside it.

    Objects stand along the route's legs, off its centre line, as beds and carts wait along a
    corridor's walls, so the camera passes them at every range.
    """
    rng = np.random.default_rng(seed)
    rooms = [w.name for w in site.graph.of_kind(WaypointKind.ROOM)]
    start, goal = (str(name) for name in rng.choice(rooms, size=2, replace=False))
    legs = list(pairwise(plan_route(site.graph, start, goal).waypoints))
    objects = []
    for _ in range(int(rng.integers(8, 16))):
        cls, length, width, z_min, z_max = _OBJECTS[int(rng.integers(len(_OBJECTS)))]
        a, b = legs[int(rng.integers(len(legs)))]
        along = float(rng.uniform(0.0, 1.0))
        heading = math.atan2(b.y - a.y, b.x - a.x)
        side = float(rng.choice([-1.0, 1.0])) * float(rng.uniform(0.6, 1.2))
        x = a.x + along * (b.x - a.x) - side * math.sin(heading)
        y = a.y + along * (b.y - a.y) + side * math.cos(heading)
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
            "chair": {"start": start, "goal": goal},
            "random_people": int(rng.integers(8, 20)),
            "objects": objects,
        }
    )


def camera_sample(image: NDArray[np.uint8], truth: list[ObjectTruth]) -> CameraSample:
    """A frame labelled from the simulator's ground truth of the objects in it."""
    boxes = np.array([t.box for t in truth], dtype=np.float32).reshape(-1, 4)
    visible = np.array([t.visible_fraction for t in truth], dtype=np.float32)
    heights = boxes[:, 3] - boxes[:, 1] + 1
    widths = boxes[:, 2] - boxes[:, 0] + 1
    return CameraSample(
        image,
        boxes,
        np.array([_DETECTOR_INDEX[t.cls] for t in truth], dtype=np.int64),
        np.array([t.range_m for t in truth], dtype=np.float32),
        visible,
        (visible < MIN_VISIBLE) | (heights < MIN_BOX_HEIGHT_PX) | (widths < MIN_BOX_WIDTH_PX),
    )


def samples(
    seed: int,
    *,
    frame_hz: float = 5.0,
    scan_hz: float = 5.0,
    duration_s: float = 40.0,
    chair: ChairConfig | None = None,
) -> Iterator[CameraSample | ScanSample]:
    """Labelled samples of one seeded training scenario, in time order.

    The camera and lidar run at ``frame_hz`` and ``scan_hz`` rather than their stock 15 and
    10 Hz: neighbouring frames are near copies, and rendering only the kept ones makes a data
    set several times faster. Everything else about them is ``chair``'s (None: the stock
    chair's).
    """
    chair = chair or ChairConfig()
    site = stock_site()
    runner = SimRunner(
        training_scenario(site, seed, duration_s),
        chair=chair.model_copy(
            update={
                "camera": _at_rate(chair.camera, frame_hz),
                "lidar": _at_rate(chair.lidar, scan_hz),
            }
        ),
    )
    pending: list[CameraSample | ScanSample] = []

    def collect(topic: str, value: object) -> None:
        if isinstance(value, CameraFrame):
            truth = [t for t in runner.frame_truths[-1][1] if t.visible_fraction > 0.0]
            pending.append(camera_sample(value.image, truth))
        elif isinstance(value, Scan):
            _, beams = runner.scans[-1]
            pending.append(ScanSample(value.ranges.copy(), beam_labels(beams.classes)))

    runner.start(on_message=collect)
    while not runner.step():
        yield from pending
        pending.clear()
    yield from pending


def _at_rate(section: _Sensor, rate_hz: float) -> _Sensor:
    """A lidar or camera section at another rate, validated like chair.yaml."""
    return section.model_validate({**section.model_dump(), "rate_hz": rate_hz})


def write_shard(
    path: str | Path,
    items: Iterable[CameraSample | ScanSample],
    *,
    chair: ChairConfig | None = None,
) -> Path:
    """Write samples as one compressed .npz shard: frames and scans in stacked arrays.

    ``chair`` (None: the stock chair) gives the image size and beam count of an empty shard.
    """
    chair = chair or ChairConfig()
    calibration, beams = chair.camera.calibration, chair.lidar.beams
    frames = [s for s in items if isinstance(s, CameraSample)]
    scans = [s for s in items if isinstance(s, ScanSample)]
    path = Path(path)
    np.savez_compressed(
        path,
        images=np.array([f.image for f in frames], np.uint8).reshape(
            -1, calibration.height, calibration.width, 3
        ),
        boxes=np.concatenate([f.boxes for f in frames] or [np.zeros((0, 4), np.float32)]),
        box_classes=np.concatenate([f.classes for f in frames] or [np.zeros(0, np.int64)]),
        box_ranges=np.concatenate([f.ranges for f in frames] or [np.zeros(0, np.float32)]),
        box_visible=np.concatenate([f.visible for f in frames] or [np.zeros(0, np.float32)]),
        box_difficult=np.concatenate([f.difficult for f in frames] or [np.zeros(0, np.bool_)]),
        box_offsets=np.cumsum([0, *(len(f.classes) for f in frames)]),
        scan_ranges=np.array([s.ranges for s in scans], np.float32).reshape(-1, beams),
        scan_labels=np.array([s.labels for s in scans], np.int64).reshape(-1, beams),
    )
    return path


def read_shard(path: str | Path) -> tuple[list[CameraSample], list[ScanSample]]:
    """The frames and scans of a shard that :func:`write_shard` wrote."""
    with np.load(Path(path)) as shard:
        offsets = shard["box_offsets"]
        per_box = [
            shard[key]
            for key in ("boxes", "box_classes", "box_ranges", "box_visible", "box_difficult")
        ]
        frames = [
            CameraSample(image, *(column[a:b] for column in per_box))
            for image, a, b in zip(shard["images"], offsets[:-1], offsets[1:], strict=True)
        ]
        scans = [
            ScanSample(r, labels)
            for r, labels in zip(shard["scan_ranges"], shard["scan_labels"], strict=True)
        ]
    return frames, scans


def _write_seed(job: tuple[Path, int, float, float, float, ChairConfig]) -> Path:
    path, seed, frame_hz, scan_hz, duration_s, chair = job
    items = samples(seed, frame_hz=frame_hz, scan_hz=scan_hz, duration_s=duration_s, chair=chair)
    return write_shard(path, list(items), chair=chair)


def _geometry_tag(chair: ChairConfig) -> str:
    """A shard name's mark of a chair's geometry: empty for the stock chair, whose shards keep
    their names, else a digest of its footprint, lidar and camera."""
    sections = ("footprint", "lidar", "camera")
    geometry = chair.model_dump(mode="json", include=set(sections))
    if geometry == ChairConfig().model_dump(mode="json", include=set(sections)):
        return ""
    digest = hashlib.sha256(json.dumps(geometry, sort_keys=True).encode()).hexdigest()
    return f"-g{digest[:12]}"


def build_split(
    directory: str | Path,
    seeds: Sequence[int],
    *,
    frame_hz: float = 2.5,
    scan_hz: float = 5.0,
    duration_s: float = 40.0,
    workers: int = 2,
    chair: ChairConfig | None = None,
) -> list[Path]:
    """One shard per seed in ``directory``, made in ``workers`` processes, of ``chair``'s
    sensors (None: the stock chair's).

    A shard already there is kept: its name carries everything it was made from (a chair's
    geometry other than the stock one as a digest), and the simulator is deterministic, so it
    would come out the same.
    """
    chair = chair or ChairConfig()
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tag = _geometry_tag(chair)
    jobs = [
        (
            directory
            / f"v{DATA_VERSION}-seed{seed}-f{frame_hz:g}-s{scan_hz:g}-d{duration_s:g}{tag}.npz",
            seed,
            frame_hz,
            scan_hz,
            duration_s,
            chair,
        )
        for seed in seeds
    ]
    missing = [job for job in jobs if not job[0].exists()]
    if workers > 1 and len(missing) > 1:
        # spawn, not fork: the numba kernels and any torch threads do not survive a fork.
        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            for _ in pool.imap_unordered(_write_seed, missing):
                pass
    else:
        for job in missing:
            _write_seed(job)
    return [job[0] for job in jobs]


def load_split(paths: Iterable[Path]) -> tuple[list[CameraSample], list[ScanSample]]:
    """All frames and scans of some shards, in order."""
    frames: list[CameraSample] = []
    scans: list[ScanSample] = []
    for path in paths:
        more_frames, more_scans = read_shard(path)
        frames += more_frames
        scans += more_scans
    return frames, scans
