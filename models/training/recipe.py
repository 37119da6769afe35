"""What a training run is made from: seeds, rates, epochs.

No torch here, so that the benchmarks and tests can rebuild the held-out set without the
training extra.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["QUICK", "RECIPE", "Recipe"]


@dataclass(frozen=True)
class Recipe:
    """Everything a training run is made from; the cards print it."""

    train_seeds: tuple[int, int] = (1000, 1060)
    """Scenario seeds [first, last) for training."""
    validation_seeds: tuple[int, int] = (1060, 1066)
    """Seeds for choosing the detector's score threshold."""
    heldout_seeds: tuple[int, int] = (9000, 9010)
    """Seeds never trained or tuned on, for the reported metrics."""
    duration_s: float = 40.0
    frame_hz: float = 2.5
    """Camera frames per simulated second (the stock camera runs at 15)."""
    scan_hz: float = 5.0
    """Scans per simulated second (the stock lidar runs at 10)."""
    detector_epochs: int = 10
    segmenter_epochs: int = 5
    seed: int = 0
    """Seed of weight initialisation and batch order."""
    workers: int = 2


RECIPE = Recipe()
QUICK = Recipe(
    train_seeds=(1, 3),
    validation_seeds=(3, 4),
    heldout_seeds=(4, 5),
    duration_s=6.0,
    frame_hz=5.0,
    detector_epochs=1,
    segmenter_epochs=1,
)
