"""Evaluating the exported models as the chair runs them: through edge/perception on ONNX."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from edge.perception.detector import Detector
from edge.perception.segmenter import Segmenter
from models.evaluation import DetectionTally, FrameTruth, segmentation_iou, truth_boxes
from models.training.dataset import CameraSample, ScanSample, stock_scan

__all__ = [
    "DetectorMetrics",
    "choose_threshold",
    "detector_metrics",
    "segmenter_iou",
    "tally_detections",
]

NEAR_RECALL = 0.95
"""Near-person recall the shipped threshold must reach on the validation seeds."""
FLOOR_THRESHOLD = 0.05
"""Detections below this score are not kept for the precision-recall curves."""


def frame_truth(frame: CameraSample) -> FrameTruth:
    """The evaluation truth of a labelled frame."""
    return FrameTruth(
        truth_boxes(frame.boxes), frame.classes, frame.ranges, frame.visible, frame.difficult
    )


def tally_detections(detector: Detector, frames: Sequence[CameraSample]) -> DetectionTally:
    """Run the detector over frames and match every detection to the truth."""
    tally = DetectionTally(len(detector.classes))
    person = detector.classes.index("person")
    for frame in frames:
        found = detector.detect(frame.image, score_threshold=FLOOR_THRESHOLD)
        tally.add(
            frame_truth(frame),
            np.array([d.box for d in found], dtype=np.float64).reshape(-1, 4),
            np.array([d.score for d in found]),
            np.array([d.class_id for d in found], dtype=np.int64),
            person=person,
        )
    return tally


def choose_threshold(
    tally: DetectionTally, near_recall: float = NEAR_RECALL, candidates: Sequence[float] = ()
) -> float:
    """The shipped score threshold: safety first, then balance.

    Of the thresholds that find at least ``near_recall`` of the near, half-visible people (or,
    if none does, as many as any threshold finds), the one with the best mean F1 over the
    classes present.
    """
    grid = list(candidates) or [round(t, 2) for t in np.arange(0.1, 0.71, 0.05)]

    def mean_f1(threshold: float) -> float:
        f1 = []
        for cls in tally.present():
            precision, recall = tally.at_threshold(cls, threshold)
            f1.append(2 * precision * recall / max(precision + recall, 1e-12))
        return float(np.mean(f1)) if f1 else 0.0

    floor = min(near_recall, max(tally.near_person_recall(t) for t in grid))
    return max((t for t in grid if tally.near_person_recall(t) >= floor), key=mean_f1)


@dataclass(frozen=True)
class DetectorMetrics:
    """A detector's measured quality on a labelled set."""

    map50: float
    per_class: dict[str, dict[str, float]]
    """Per class: ap50, precision and recall at the shipped threshold, and the object count."""
    person_recall_5m: float
    near_people: int
    frames: int
    threshold: float


def detector_metrics(
    detector: Detector, frames: Sequence[CameraSample], threshold: float
) -> DetectorMetrics:
    """mAP@0.5, per-class figures at ``threshold``, and near-person recall."""
    tally = tally_detections(detector, frames)
    per_class = {}
    for cls, name in enumerate(detector.classes):
        precision, recall = tally.at_threshold(cls, threshold)
        per_class[name] = {
            "ap50": tally.ap(cls),
            "precision": precision,
            "recall": recall,
            "objects": float(tally.positives[cls]),
        }
    return DetectorMetrics(
        tally.map50(),
        per_class,
        tally.near_person_recall(threshold),
        tally.near_people,
        len(frames),
        threshold,
    )


def segmenter_iou(segmenter: Segmenter, scans: Sequence[ScanSample]) -> dict[str, float]:
    """Per-class IoU of the segmenter over stock scans."""
    predicted = [segmenter.segment(stock_scan(s.ranges)) for s in scans]
    iou = segmentation_iou([s.labels for s in scans], predicted, len(segmenter.classes))
    return {name: float(v) for name, v in zip(segmenter.classes, iou, strict=True)}
