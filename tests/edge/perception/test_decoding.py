"""Decoding both output layouts from hand-made tensors."""

from __future__ import annotations

import numpy as np

from edge.perception.decoding import decode_centernet, decode_yolov8


def _centernet(classes: int = 3, h: int = 30, w: int = 40) -> np.ndarray:
    return np.zeros((classes + 4, h, w), np.float32)


def test_a_centernet_peak_becomes_a_box_at_its_cell_offset_and_size() -> None:
    out = _centernet()
    out[1, 10, 20] = 0.9  # class 1 at row 10, column 20
    out[1, 10, 21] = 0.5  # a weaker neighbour: not a peak
    out[3:5, 10, 20] = (0.25, 0.5)
    out[5:7, 10, 20] = (16.0, 40.0)
    boxes, scores, classes = decode_centernet(out, 3, 8, threshold=0.3, top_k=10)
    assert list(classes) == [1]
    np.testing.assert_allclose(scores, [0.9])
    cx, cy = (20 + 0.25) * 8, (10 + 0.5) * 8
    np.testing.assert_allclose(boxes[0], [cx - 8, cy - 20, cx + 8, cy + 20])


def test_centernet_keeps_peaks_of_each_class_above_the_threshold_best_k() -> None:
    out = _centernet()
    for i, score in enumerate((0.2, 0.4, 0.6, 0.8)):
        out[i % 3, 5, 5 + 5 * i] = score
    out[0, 20, 30] = 0.95
    out[2, 20, 30] = 0.7  # the same cell may peak in two classes
    _, scores, classes = decode_centernet(out, 3, 8, threshold=0.3, top_k=10)
    assert sorted(
        zip(np.round(scores.astype(np.float64), 2).tolist(), classes.tolist(), strict=True)
    ) == [
        (0.4, 1),
        (0.6, 2),
        (0.7, 2),
        (0.8, 0),
        (0.95, 0),
    ]
    _, scores, _ = decode_centernet(out, 3, 8, threshold=0.3, top_k=2)
    assert sorted(np.round(scores.astype(np.float64), 2).tolist()) == [0.8, 0.95]


def test_a_yolo_anchor_gives_its_best_class_in_corner_form() -> None:
    out = np.zeros((4 + 2, 3), np.float32)
    out[:, 0] = (100, 50, 20, 40, 0.1, 0.8)
    out[:, 1] = (10, 10, 4, 4, 0.2, 0.1)  # below the threshold
    out[:, 2] = (200, 100, 10, 10, 0.6, 0.3)
    boxes, scores, classes = decode_yolov8(out, 2, threshold=0.25)
    np.testing.assert_allclose(boxes, [[90, 30, 110, 70], [195, 95, 205, 105]])
    np.testing.assert_allclose(scores, [0.8, 0.6])
    assert list(classes) == [1, 0]
