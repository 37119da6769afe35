"""Fitting a frame into a model's input: scale to fit, pad the rest, normalise, planarise."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from edge.perception.description import ImageInput

__all__ = ["Letterbox", "to_input"]


@dataclass(frozen=True)
class Letterbox:
    """Where the frame landed in the model's input: a uniform scale, then an offset."""

    scale: float
    pad_x: float
    pad_y: float

    def to_frame(self, boxes: NDArray[np.floating]) -> NDArray[np.float32]:
        """Boxes (N, 4) from model-input pixels back to frame pixels."""
        out = np.asarray(boxes, dtype=np.float32).reshape(-1, 4).copy()
        out[:, [0, 2]] = (out[:, [0, 2]] - self.pad_x) / self.scale
        out[:, [1, 3]] = (out[:, [1, 3]] - self.pad_y) / self.scale
        return out


def to_input(image: NDArray[np.uint8], spec: ImageInput) -> tuple[NDArray[np.float32], Letterbox]:
    """The (1, 3, H, W) float32 tensor for an RGB frame (h, w, 3), and how it was placed.

    The frame keeps its aspect ratio and sits centred; the margins take ``spec.pad_value``.
    """
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected an RGB uint8 frame (h, w, 3), got {image.dtype} {image.shape}")
    h, w = image.shape[:2]
    scale = min(spec.width / w, spec.height / h)
    new_w, new_h = round(w * scale), round(h * scale)
    pad_x, pad_y = (spec.width - new_w) // 2, (spec.height - new_h) // 2
    if (new_w, new_h) == (spec.width, spec.height):
        canvas = image if (new_w, new_h) == (w, h) else cv2.resize(image, (new_w, new_h))
    else:
        canvas = np.full((spec.height, spec.width, 3), spec.pad_value, dtype=np.uint8)
        canvas[pad_y : pad_y + new_h, pad_x : pad_x + new_w] = cv2.resize(
            image, (new_w, new_h), interpolation=cv2.INTER_LINEAR
        )
    if spec.colour == "bgr":
        canvas = canvas[:, :, ::-1]
    tensor = canvas.astype(np.float32).transpose(2, 0, 1)
    tensor *= np.float32(spec.scale)
    if spec.mean != (0.0, 0.0, 0.0) or spec.std != (1.0, 1.0, 1.0):
        tensor -= np.asarray(spec.mean, dtype=np.float32)[:, None, None]
        tensor /= np.asarray(spec.std, dtype=np.float32)[:, None, None]
    return np.ascontiguousarray(tensor[None]), Letterbox(scale, float(pad_x), float(pad_y))
