"""Greedy non-maximum suppression and box overlap, in numpy.

Boxes are (x0, y0, x1, y1) in continuous pixel coordinates: a box covering pixel columns
u0..u1 inclusive spans x0 = u0 to x1 = u1 + 1.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["box_iou", "nms"]


def box_iou(a: NDArray[np.floating], b: NDArray[np.floating]) -> NDArray[np.float64]:
    """Intersection over union of every box in ``a`` (N, 4) with every box in ``b`` (M, 4)."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    width = np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0])
    height = np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1])
    inter = np.clip(width, 0, None) * np.clip(height, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    iou: NDArray[np.float64] = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    return iou


def nms(
    boxes: NDArray[np.floating],
    scores: NDArray[np.floating],
    classes: NDArray[np.integer],
    iou_threshold: float,
    max_keep: int,
) -> NDArray[np.int64]:
    """Indices of the boxes to keep, best score first, suppressing within each class.

    A box is dropped when it overlaps a better box of its own class by more than
    ``iou_threshold``; boxes of different classes never suppress each other.
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    if len(boxes) == 0:
        return np.zeros(0, dtype=np.int64)
    # Shifting each class to its own region of the plane keeps classes apart in one pass.
    span = float(boxes.max() - boxes.min()) + 1.0
    shifted = boxes + (np.asarray(classes, dtype=np.float64) * span)[:, None]
    order = np.argsort(-np.asarray(scores), kind="stable")
    keep: list[int] = []
    while order.size and len(keep) < max_keep:
        best = int(order[0])
        keep.append(best)
        rest = order[1:]
        overlap = box_iou(shifted[best], shifted[rest])[0]
        order = rest[overlap <= iou_threshold]
    return np.array(keep, dtype=np.int64)
