"""Training the camera detector: CenterNet targets, focal loss, and the loop.

Targets follow CenterNet (Zhou et al., 2019, "Objects as Points"): a Gaussian peak per object
at its centre cell in its class's heatmap, the centre's offset within that cell, and the box
size, learnt in log space. Difficult objects are masked out of the heatmap loss, so the network
is neither taught to find them nor punished when it does.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from numpy.typing import NDArray
from torch import Tensor

from models.training.dataset import CameraSample
from models.training.networks import DETECTOR_STRIDE, Detector

__all__ = ["DetectorTargets", "encode_targets", "focal_loss", "train_detector"]


@dataclass(frozen=True)
class DetectorTargets:
    """Training targets of a batch of frames, on the stride-8 grid."""

    heat: NDArray[np.float32]
    """(N, C, H, W): Gaussian peaks, 1 at object centres."""
    weight: NDArray[np.float32]
    """(N, 1, H, W): 0 over difficult objects, else 1."""
    offset: NDArray[np.float32]
    """(N, 2, H, W): centre offset within the cell, at centre cells."""
    log_size: NDArray[np.float32]
    """(N, 2, H, W): log of width and height in cells, at centre cells."""
    centre: NDArray[np.float32]
    """(N, 1, H, W): 1 at centre cells (where offset and size are learnt)."""


def encode_targets(
    frames: Sequence[CameraSample], classes: int, *, width: int, height: int
) -> DetectorTargets:
    """Targets of frames of ``width`` x ``height`` pixels (the camera's calibration); boxes are
    inclusive pixel boxes as the data set stores them."""
    gw, gh = width // DETECTOR_STRIDE, height // DETECTOR_STRIDE
    n = len(frames)
    heat = np.zeros((n, classes, gh, gw), np.float32)
    weight = np.ones((n, 1, gh, gw), np.float32)
    offset = np.zeros((n, 2, gh, gw), np.float32)
    log_size = np.zeros((n, 2, gh, gw), np.float32)
    centre = np.zeros((n, 1, gh, gw), np.float32)
    xs = np.arange(gw, dtype=np.float32)[None, :]
    ys = np.arange(gh, dtype=np.float32)[:, None]
    for i, frame in enumerate(frames):
        for box, cls, difficult in zip(frame.boxes, frame.classes, frame.difficult, strict=True):
            x0, y0 = box[0] / DETECTOR_STRIDE, box[1] / DETECTOR_STRIDE
            x1, y1 = (box[2] + 1) / DETECTOR_STRIDE, (box[3] + 1) / DETECTOR_STRIDE
            if difficult:
                weight[i, 0, int(y0) : math.ceil(y1), int(x0) : math.ceil(x1)] = 0.0
                continue
            cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
            cell_x, cell_y = min(int(cx), gw - 1), min(int(cy), gh - 1)
            sx, sy = max(0.4, 0.15 * (x1 - x0)), max(0.4, 0.15 * (y1 - y0))
            peak = np.exp(
                -((xs - cell_x) ** 2) / (2 * sx * sx) - ((ys - cell_y) ** 2) / (2 * sy * sy)
            )
            np.maximum(heat[i, cls], peak, out=heat[i, cls])
            heat[i, cls, cell_y, cell_x] = 1.0
            offset[i, :, cell_y, cell_x] = (cx - cell_x, cy - cell_y)
            log_size[i, :, cell_y, cell_x] = (math.log(x1 - x0), math.log(y1 - y0))
            centre[i, 0, cell_y, cell_x] = 1.0
    # A difficult object's mask must not hide a labelled centre that falls inside it.
    weight = np.maximum(weight, heat.max(axis=1, keepdims=True) >= 1.0).astype(np.float32)
    return DetectorTargets(heat, weight, offset, log_size, centre)


def focal_loss(logits: Tensor, target: Tensor, weight: Tensor) -> Tensor:
    """CenterNet's penalty-reduced focal loss, summed and divided by the number of centres."""
    p = torch.sigmoid(logits).clamp(1e-4, 1 - 1e-4)
    positive = target.eq(1.0).float()
    pos = -torch.log(p) * (1 - p) ** 2 * positive
    neg = -torch.log(1 - p) * p**2 * (1 - target) ** 4 * (1 - positive)
    return ((pos + neg) * weight).sum() / positive.sum().clamp(min=1.0)


def _flipped(frame: CameraSample, width: int) -> CameraSample:
    boxes = frame.boxes.copy()
    boxes[:, 0], boxes[:, 2] = width - 1 - frame.boxes[:, 2], width - 1 - frame.boxes[:, 0]
    return CameraSample(
        frame.image[:, ::-1], boxes, frame.classes, frame.ranges, frame.visible, frame.difficult
    )


def train_detector(
    frames: Sequence[CameraSample],
    classes: int,
    *,
    epochs: int,
    batch_size: int = 32,
    learning_rate: float = 2e-3,
    seed: int = 0,
    progress: Callable[[int, int, float], None] | None = None,
) -> Detector:
    """Train a detector from scratch on frames, with horizontal flips; returns it in eval mode.

    ``progress(step, steps, loss)`` is called after every step.
    """
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    height, width = frames[0].image.shape[:2]
    images = torch.from_numpy(np.stack([f.image for f in frames]))
    plain = encode_targets(frames, classes, width=width, height=height)
    mirrored = encode_targets(
        [_flipped(f, width) for f in frames], classes, width=width, height=height
    )
    model = Detector(classes)
    optimiser = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=1e-4)
    steps = epochs * math.ceil(len(frames) / batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimiser, max_lr=learning_rate, total_steps=steps, pct_start=0.1
    )
    model.train()
    step = 0
    for _ in range(epochs):
        for batch in np.array_split(rng.permutation(len(frames)), steps // epochs):
            flip = rng.random(len(batch)) < 0.5
            x = images[batch].permute(0, 3, 1, 2).float() / 255.0
            x[torch.from_numpy(flip)] = x[torch.from_numpy(flip)].flip(-1)
            t = {
                name: torch.from_numpy(
                    np.where(
                        flip[:, None, None, None],
                        getattr(mirrored, name)[batch],
                        getattr(plain, name)[batch],
                    )
                )
                for name in ("heat", "weight", "offset", "log_size", "centre")
            }
            heat, offset, log_size = model.raw(x)
            centres = t["centre"].sum().clamp(min=1.0)
            loss = (
                focal_loss(heat, t["heat"], t["weight"])
                + (torch.abs(torch.sigmoid(offset) - t["offset"]) * t["centre"]).sum() / centres
                + (torch.abs(log_size - t["log_size"]) * t["centre"]).sum() / centres
            )
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            step += 1
            if progress is not None:
                progress(step, steps, loss.item())
    model.eval()
    return model
