"""Metrics of the two models against the simulator's ground truth, in numpy.

Detection follows PASCAL VOC: a detection is a true positive when it overlaps a not yet matched
object of its class by IoU >= 0.5, taking detections best score first; one that matches a
difficult object counts neither way; average precision is the area under the interpolated
precision-recall curve over all points. Segmentation is scored by per-class IoU over beams.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from edge.perception.nms import box_iou

__all__ = [
    "DetectionTally",
    "FrameTruth",
    "average_precision",
    "segmentation_iou",
    "truth_boxes",
]

IOU_MATCH = 0.5
Curve = tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]


def truth_boxes(pixel_boxes: NDArray[np.floating]) -> NDArray[np.float64]:
    """Inclusive pixel boxes (u0, v0, u1, v1) as continuous boxes (x0, y0, x1, y1)."""
    boxes = np.asarray(pixel_boxes, dtype=np.float64).reshape(-1, 4).copy()
    boxes[:, 2:] += 1.0
    return boxes


@dataclass(frozen=True)
class FrameTruth:
    """The labelled objects of one frame: continuous boxes, classes, ranges and flags."""

    boxes: NDArray[np.float64]
    classes: NDArray[np.int64]
    ranges: NDArray[np.float32]
    visible: NDArray[np.float32]
    difficult: NDArray[np.bool_]


def average_precision(recall: NDArray[np.floating], precision: NDArray[np.floating]) -> float:
    """Area under the precision-recall curve, precision made monotone (VOC 2010 onwards)."""
    r = np.concatenate([[0.0], np.asarray(recall, dtype=np.float64), [1.0]])
    p = np.concatenate([[0.0], np.asarray(precision, dtype=np.float64), [0.0]])
    p = np.maximum.accumulate(p[::-1])[::-1]
    steps = np.nonzero(r[1:] != r[:-1])[0]
    return float(np.sum((r[steps + 1] - r[steps]) * p[steps + 1]))


@dataclass
class DetectionTally:
    """Detections of many frames matched to their truth, for AP, precision and recall."""

    classes: int
    scores: list[float] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    hits: list[bool] = field(default_factory=list)
    positives: NDArray[np.int64] = field(init=False)
    near_scores: list[float] = field(default_factory=list)
    """Per near, half-visible person: the score of the detection that found them, 0 if none."""

    def __post_init__(self) -> None:
        self.positives = np.zeros(self.classes, dtype=np.int64)

    def add(
        self,
        truth: FrameTruth,
        boxes: NDArray[np.floating],
        scores: NDArray[np.floating],
        classes: NDArray[np.integer],
        *,
        person: int = 0,
        near_m: float = 5.0,
    ) -> None:
        """Match one frame's detections to its truth.

        People within ``near_m`` and at least half visible count towards the near-person
        recall, found at the score of the person detection that matched them.
        """
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        order = np.argsort(-np.asarray(scores), kind="stable")
        iou = box_iou(boxes, truth.boxes)
        taken = np.zeros(len(truth.boxes), dtype=np.bool_)
        near = (
            (truth.classes == person)
            & (truth.ranges <= near_m)
            & (truth.visible >= 0.5)
            & ~truth.difficult
        )
        found = np.zeros(len(truth.boxes), dtype=np.float64)
        np.add.at(self.positives, truth.classes[~truth.difficult], 1)
        for i in order:
            same = truth.classes == classes[i]
            overlaps = np.where(same, iou[i], -1.0)
            j = int(np.argmax(overlaps)) if len(overlaps) else -1
            if j >= 0 and overlaps[j] >= IOU_MATCH:
                if truth.difficult[j]:
                    continue
                hit = not taken[j]
                taken[j] = True
                if hit and classes[i] == person:
                    found[j] = scores[i]
            else:
                hit = False
            self.scores.append(float(scores[i]))
            self.labels.append(int(classes[i]))
            self.hits.append(hit)
        self.near_scores += found[near].tolist()

    def curve(
        self, cls: int
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """Scores, recall and precision of one class, over thresholds from high to low."""
        labels = np.asarray(self.labels)
        mine = labels == cls
        scores = np.asarray(self.scores)[mine]
        order = np.argsort(-scores, kind="stable")
        hits = np.asarray(self.hits, dtype=np.float64)[mine][order]
        tp = np.cumsum(hits)
        fp = np.cumsum(1.0 - hits)
        recall = tp / max(int(self.positives[cls]), 1)
        precision = tp / np.maximum(tp + fp, 1e-12)
        return scores[order], recall, precision

    def ap(self, cls: int) -> float:
        """Average precision of one class at IoU 0.5."""
        _, recall, precision = self.curve(cls)
        return average_precision(recall, precision)

    def present(self) -> list[int]:
        """Classes with at least one object to find."""
        return [c for c in range(self.classes) if self.positives[c] > 0]

    def map50(self) -> float:
        """Mean of the per-class APs over the classes present in the truth."""
        present = self.present()
        return float(np.mean([self.ap(c) for c in present])) if present else 0.0

    def at_threshold(self, cls: int, threshold: float) -> tuple[float, float]:
        """Precision and recall of one class counting detections scoring ``threshold`` or more."""
        scores, recall, precision = self.curve(cls)
        kept = int(np.sum(scores >= threshold))
        if kept == 0:
            return 1.0, 0.0
        return float(precision[kept - 1]), float(recall[kept - 1])

    @property
    def near_people(self) -> int:
        """How many near, half-visible people the frames held."""
        return len(self.near_scores)

    def near_person_recall(self, threshold: float) -> float:
        """Share of near, half-visible people found by a detection scoring ``threshold`` or more."""
        if not self.near_scores:
            return 0.0
        return float(np.mean(np.asarray(self.near_scores) >= threshold))


def segmentation_iou(
    truth: Sequence[NDArray[np.integer]], predicted: Sequence[NDArray[np.integer]], classes: int
) -> NDArray[np.float64]:
    """Per-class intersection over union across all beams of all scans."""
    t = np.concatenate([np.asarray(x).ravel() for x in truth])
    p = np.concatenate([np.asarray(x).ravel() for x in predicted])
    confusion = np.bincount(t * classes + p, minlength=classes * classes).reshape(classes, classes)
    inter = np.diag(confusion).astype(np.float64)
    union = confusion.sum(0) + confusion.sum(1) - inter
    iou: NDArray[np.float64] = np.divide(inter, union, out=np.zeros(classes), where=union > 0)
    return iou
