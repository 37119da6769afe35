"""The metrics on hand-made detections, with answers worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from models.evaluation import (
    DetectionTally,
    FrameTruth,
    average_precision,
    segmentation_iou,
    truth_boxes,
)
from models.training.evaluate import choose_threshold


def _truth(boxes: list[list[float]], classes: list[int], **columns: list[float]) -> FrameTruth:
    n = len(boxes)
    return FrameTruth(
        np.array(boxes, dtype=np.float64).reshape(-1, 4),
        np.array(classes, dtype=np.int64),
        np.array(columns.get("ranges", [3.0] * n), dtype=np.float32),
        np.array(columns.get("visible", [1.0] * n), dtype=np.float32),
        np.array(columns.get("difficult", [False] * n), dtype=np.bool_),
    )


def test_inclusive_pixel_boxes_become_continuous() -> None:
    np.testing.assert_array_equal(truth_boxes(np.array([[2, 3, 4, 9]])), [[2, 3, 5, 10]])


def test_average_precision_of_known_curves() -> None:
    assert average_precision(np.array([0.5, 1.0]), np.array([1.0, 1.0])) == pytest.approx(1.0)
    # Half found at precision 1, the next quarter at 0.6 at best, the last at 0.5.
    recall = np.array([0.25, 0.5, 0.5, 0.75, 1.0])
    precision = np.array([1.0, 1.0, 2 / 3, 0.6, 0.5])
    assert average_precision(recall, precision) == pytest.approx(0.5 + 0.25 * 0.6 + 0.25 * 0.5)


def test_matching_counts_duplicates_and_wrong_classes_as_false_and_ignores_difficult() -> None:
    tally = DetectionTally(2)
    truth = _truth(
        [[0, 0, 10, 10], [20, 0, 30, 10], [40, 0, 50, 10]],
        [0, 0, 1],
        difficult=[False, False, True],
    )
    detections = np.array(
        [
            [0, 0, 10, 10],  # hit
            [0, 0, 10, 11],  # duplicate of the same object: false
            [20, 0, 30, 10],  # right place, wrong class: false
            [40, 0, 50, 10],  # the difficult object: counts neither way
        ],
        dtype=np.float64,
    )
    tally.add(truth, detections, np.array([0.9, 0.8, 0.7, 0.6]), np.array([0, 0, 1, 1]))
    assert list(tally.positives) == [2, 0]
    assert tally.hits == [True, False, False]
    assert tally.at_threshold(0, 0.85) == (1.0, 0.5)
    assert tally.at_threshold(0, 0.5) == (0.5, 0.5)
    assert tally.present() == [0]
    assert tally.map50() == pytest.approx(0.5)


def test_near_person_recall_counts_only_near_visible_people_at_the_threshold() -> None:
    tally = DetectionTally(1)
    truth = _truth(
        [[0, 0, 10, 40], [20, 0, 30, 40], [40, 0, 50, 40], [60, 0, 70, 40]],
        [0, 0, 0, 0],
        ranges=[2.0, 4.0, 8.0, 3.0],
        visible=[1.0, 1.0, 1.0, 0.3],
    )
    detections = np.array([[0, 0, 10, 40], [20, 0, 30, 40], [40, 0, 50, 40]], np.float64)
    tally.add(truth, detections, np.array([0.9, 0.2, 0.9]), np.array([0, 0, 0]))
    assert tally.near_people == 2  # the far one and the mostly hidden one do not count
    assert tally.near_person_recall(0.5) == pytest.approx(0.5)  # the 0.2 one is under 0.5
    assert tally.near_person_recall(0.1) == pytest.approx(1.0)


def test_segmentation_iou_per_class() -> None:
    truth = [np.array([0, 0, 1, 1, 2, 2])]
    predicted = [np.array([0, 1, 1, 1, 2, 0])]
    np.testing.assert_allclose(segmentation_iou(truth, predicted, 3), [1 / 3, 2 / 3, 1 / 2])


def test_the_shipped_threshold_puts_near_people_first() -> None:
    tally = DetectionTally(1)
    truth = _truth([[0, 0, 10, 40], [20, 0, 30, 40]], [0, 0], ranges=[2.0, 3.0])
    # Two near people, one found only at 0.3; false alarms at 0.6, 0.5, 0.45, 0.4 and 0.25.
    boxes = np.array(
        [[0, 0, 10, 40], [20, 0, 30, 40]] + [[50 + 20 * i, 0, 60 + 20 * i, 40] for i in range(5)]
    )
    scores = np.array([0.9, 0.3, 0.6, 0.5, 0.45, 0.4, 0.25])
    tally.add(truth, boxes.astype(np.float64), scores, np.zeros(7, np.int64))
    # Best F1 alone would take 0.65 (precision 1, recall 0.5); the near person at 0.3 wins.
    assert choose_threshold(tally, near_recall=0.95, candidates=[0.2, 0.3, 0.65]) == 0.3
    assert choose_threshold(tally, near_recall=0.5, candidates=[0.2, 0.3, 0.65]) == 0.65
    # No threshold finds both: those that find as many as any does, best F1 among them.
    assert choose_threshold(tally, near_recall=1.0, candidates=[0.4, 0.5, 0.65]) == 0.65
