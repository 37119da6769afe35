"""Raw detector outputs to candidate boxes, one function per output layout.

Each decoder returns boxes (N, 4) as (x0, y0, x1, y1) in model-input pixels, scores (N,) and
class indices (N,), for every candidate at or above the score threshold; suppression comes after.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["Candidates", "decode_centernet", "decode_yolov8"]

Candidates = tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.int64]]


def decode_centernet(
    output: NDArray[np.float32], classes: int, stride: int, threshold: float, top_k: int
) -> Candidates:
    """Peaks of a (C + 4, H, W) centre heatmap with their offsets and sizes.

    A peak is a cell whose score is the largest in its 3 x 3 neighbourhood, as CenterNet
    reads its heatmap; at most ``top_k`` peaks, best first.
    """
    heat = output[:classes]
    padded = np.pad(heat, ((0, 0), (1, 1), (1, 1)), constant_values=-np.inf)
    h, w = heat.shape[1:]
    neighbourhood = np.max(
        [padded[:, dy : dy + h, dx : dx + w] for dy in range(3) for dx in range(3)], axis=0
    )
    cls, ys, xs = np.nonzero((heat >= neighbourhood) & (heat >= threshold))
    scores = heat[cls, ys, xs]
    if len(scores) > top_k:
        best = np.argpartition(-scores, top_k)[:top_k]
        cls, ys, xs, scores = cls[best], ys[best], xs[best], scores[best]
    cx = (xs + output[classes, ys, xs]) * stride
    cy = (ys + output[classes + 1, ys, xs]) * stride
    half_w = output[classes + 2, ys, xs] / 2
    half_h = output[classes + 3, ys, xs] / 2
    boxes = np.stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h], axis=1)
    return boxes.astype(np.float32), scores.astype(np.float32), cls.astype(np.int64)


def decode_yolov8(output: NDArray[np.float32], classes: int, threshold: float) -> Candidates:
    """Candidates of a (4 + C, N) YOLOv8 / YOLO11 head: centre, size, then class scores.

    Each anchor proposes its best class only, as Ultralytics' own non-multi-label decoding does.
    """
    scores_all = output[4 : 4 + classes]
    cls = np.argmax(scores_all, axis=0)
    scores = np.take_along_axis(scores_all, cls[None], axis=0)[0]
    keep = scores >= threshold
    cx, cy, w, h = output[:4, keep]
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
    return boxes.astype(np.float32), scores[keep].astype(np.float32), cls[keep].astype(np.int64)
