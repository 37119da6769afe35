"""Box overlap and non-maximum suppression on hand-made boxes."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from edge.perception.nms import box_iou, nms


def test_iou_of_known_boxes() -> None:
    a = np.array([[0, 0, 10, 10]])
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [10, 10, 20, 20], [2, 2, 4, 4]])
    np.testing.assert_allclose(box_iou(a, b)[0], [1.0, 50 / 150, 0.0, 4 / 100])


def test_nms_keeps_the_best_of_overlapping_boxes_and_separate_ones() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [50, 50, 60, 60], [0, 0, 10, 9]])
    scores = np.array([0.6, 0.9, 0.5, 0.3])
    keep = nms(boxes, scores, np.zeros(4, np.int64), iou_threshold=0.5, max_keep=10)
    assert list(keep) == [1, 2]


def test_nms_never_suppresses_across_classes() -> None:
    boxes = np.array([[0, 0, 10, 10], [0, 0, 10, 10]])
    keep = nms(boxes, np.array([0.9, 0.8]), np.array([0, 1]), iou_threshold=0.5, max_keep=10)
    assert list(keep) == [0, 1]


def test_nms_stops_at_max_keep_and_takes_no_boxes() -> None:
    boxes = np.array([[i * 20, 0, i * 20 + 10, 10] for i in range(5)], dtype=np.float64)
    assert len(nms(boxes, np.linspace(1, 0.5, 5), np.zeros(5, np.int64), 0.5, 3)) == 3
    assert len(nms(np.zeros((0, 4)), np.zeros(0), np.zeros(0, np.int64), 0.5, 3)) == 0


_boxes = arrays(np.float64, (12, 4), elements=st.floats(0, 300)).map(
    lambda a: np.column_stack(
        [
            np.minimum(a[:, 0], a[:, 2]),
            np.minimum(a[:, 1], a[:, 3]),
            np.maximum(a[:, 0], a[:, 2]) + 1,
            np.maximum(a[:, 1], a[:, 3]) + 1,
        ]
    )
)


@given(
    _boxes,
    arrays(np.float64, 12, elements=st.floats(0, 1)),
    st.lists(st.integers(0, 2), min_size=12, max_size=12),
)
def test_kept_boxes_of_a_class_never_overlap_past_the_threshold(
    boxes: np.ndarray, scores: np.ndarray, classes: list[int]
) -> None:
    labels = np.array(classes)
    keep = nms(boxes, scores, labels, 0.5, 100)
    assert len(set(keep.tolist())) == len(keep)
    for i in keep:
        for j in keep:
            if i != j and labels[i] == labels[j]:
                assert box_iou(boxes[i], boxes[j])[0, 0] <= 0.5
    # Every dropped box overlaps a kept, better-scoring box of its class.
    for d in set(range(12)) - set(keep.tolist()):
        assert any(
            labels[k] == labels[d]
            and scores[k] >= scores[d]
            and box_iou(boxes[k], boxes[d])[0, 0] > 0.5
            for k in keep
        )
