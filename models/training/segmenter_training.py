"""Training the lidar segmenter: per-beam cross-entropy on whole scans, rotated and mirrored.

A full scan has no preferred start, so every scan is rolled by a random number of beams and
mirrored half the time: the same person at any bearing is the same person. Classes are weighted
by the inverse square root of their frequency, since people take few beams of a corridor scan.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch
from numpy.typing import NDArray

from edge.perception.description import ScanInput
from edge.perception.segmenter import scan_input
from models.training.dataset import ScanSample, stock_scan
from models.training.networks import Segmenter

__all__ = ["scan_tensor", "train_segmenter"]


def scan_tensor(ranges: NDArray[np.float32], spec: ScanInput) -> NDArray[np.float32]:
    """The model input of a stock scan's ranges, exactly as the runtime builds it."""
    tensor: NDArray[np.float32] = scan_input(stock_scan(ranges), spec)[0]
    return tensor


def train_segmenter(
    scans: Sequence[ScanSample],
    classes: int,
    spec: ScanInput,
    *,
    epochs: int,
    batch_size: int = 64,
    learning_rate: float = 3e-3,
    seed: int = 0,
    progress: Callable[[int, int, float], None] | None = None,
) -> Segmenter:
    """Train a segmenter from scratch on scans; returns it in eval mode."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    inputs = torch.from_numpy(np.stack([scan_tensor(s.ranges, spec) for s in scans]))
    labels = torch.from_numpy(np.stack([s.labels for s in scans]))
    counts = np.bincount(labels.numpy().ravel(), minlength=classes).astype(np.float64)
    weights = 1.0 / np.sqrt(np.maximum(counts, 1.0) / counts.sum())
    loss_fn = torch.nn.CrossEntropyLoss(
        weight=torch.tensor(weights / weights.mean(), dtype=torch.float32)
    )
    model = Segmenter(classes)
    optimiser = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=1e-4)
    per_epoch = math.ceil(len(scans) / batch_size)
    steps = epochs * per_epoch
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimiser, max_lr=learning_rate, total_steps=steps, pct_start=0.1
    )
    model.train()
    step = 0
    beams = inputs.shape[-1]
    for _ in range(epochs):
        for batch in np.array_split(rng.permutation(len(scans)), per_epoch):
            shift = int(rng.integers(beams))
            x = torch.roll(inputs[batch], shift, dims=-1)
            y = torch.roll(labels[batch], shift, dims=-1)
            if rng.random() < 0.5:
                x, y = x.flip(-1), y.flip(-1)
            loss = loss_fn(model(x), y)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            step += 1
            if progress is not None:
                progress(step, steps, loss.item())
    model.eval()
    return model
