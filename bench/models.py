"""Model figures: latency of the shipped ONNX models on one thread, and their quality.

Quality is measured on the held-out seeds of the training recipe, through the same runtime
(edge/perception) the chair uses, at the score threshold the detector's description ships.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np

from bench.figures import Figure
from edge.perception.detector import Detector
from edge.perception.segmenter import Segmenter
from edge.perception.session import RuntimeOptions
from models.training.dataset import (
    CameraSample,
    ScanSample,
    build_split,
    load_split,
    stock_scan,
)
from models.training.evaluate import detector_metrics
from models.training.recipe import RECIPE

__all__ = ["detector_map50", "detector_p99_ms", "person_recall_5m", "segmenter_p99_ms"]

MODELS = Path(__file__).resolve().parent.parent / "models"
ONE_THREAD = RuntimeOptions(threads=1)
T = TypeVar("T")


@functools.cache
def _heldout() -> tuple[list[CameraSample], list[ScanSample]]:
    data = Path(os.environ.get("CHAIRLINK_DATA", Path.home() / ".cache" / "chairlink"))
    paths = build_split(
        data / "training" / "heldout",
        range(*RECIPE.heldout_seeds),
        frame_hz=RECIPE.frame_hz,
        scan_hz=RECIPE.scan_hz,
        duration_s=RECIPE.duration_s,
        workers=RECIPE.workers,
    )
    return load_split(paths)


def _latency_ms(run: Callable[[T], object], inputs: list[T], count: int) -> tuple[float, float]:
    """p99 and p50 of ``run`` over ``count`` calls cycling through ``inputs``, after a warm-up."""
    for item in inputs[:20]:
        run(item)
    times = []
    for i in range(count):
        start = time.perf_counter()
        run(inputs[i % len(inputs)])
        times.append(time.perf_counter() - start)
    ms = np.asarray(times) * 1e3
    return float(np.percentile(ms, 99)), float(np.median(ms))


def detector_p99_ms(frames: int = 500) -> Figure:
    """[models.detector_p99_ms]: one 320 x 240 frame through the detector, one thread, p99.

    Pre-processing, inference, decoding and suppression, as Detector.detect runs them.
    """
    detector = Detector(MODELS / "detector.yaml", ONE_THREAD)
    p99, p50 = _latency_ms(detector.detect, [f.image for f in _heldout()[0]], frames)
    return Figure(
        "models.detector_p99_ms", p99, "ms", "<=", 15, f"{frames} held-out frames, p50 {p50:.1f} ms"
    )


def segmenter_p99_ms(scans: int = 2000) -> Figure:
    """[models.segmenter_p99_ms]: one 720-beam scan through the segmenter, one thread, p99."""
    segmenter = Segmenter(MODELS / "segmenter.yaml", ONE_THREAD)
    p99, p50 = _latency_ms(segmenter.segment, [stock_scan(s.ranges) for s in _heldout()[1]], scans)
    return Figure(
        "models.segmenter_p99_ms", p99, "ms", "<=", 2, f"{scans} held-out scans, p50 {p50:.2f} ms"
    )


@functools.cache
def _quality() -> tuple[float, float, str]:
    detector = Detector(MODELS / "detector.yaml")
    frames = _heldout()[0]
    result = detector_metrics(detector, frames, detector.description.score_threshold)
    detail = f"{len(frames)} held-out frames, threshold {result.threshold:.2f}"
    return result.map50, result.person_recall_5m, f"{detail}, {result.near_people} near people"


def detector_map50() -> Figure:
    """[models.detector_map50]: mAP at IoU 0.5 on the held-out simulated set."""
    map50, _, detail = _quality()
    return Figure("models.detector_map50", map50, "mAP", ">=", 0.6, detail)


def person_recall_5m() -> Figure:
    """[models.person_recall_5m]: people within 5 m, at least half visible, found."""
    _, recall, detail = _quality()
    return Figure("models.person_recall_5m", recall, "recall", ">=", 0.9, detail)
