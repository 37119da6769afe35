"""The lidar segmenter: a class per beam (free, static, person) from one scan, on onnxruntime.

The model sees the beam layout its description declares (the stock lidar's 720 beams over 360
degrees). A scan of another length or field of view is resampled to that layout by nearest
beam, beams the scan does not cover are marked as unmeasured, and the classes come back to
the scan's own beams the same way.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from edge.perception.description import ScanInput, SegmenterDescription, load_description_of
from edge.perception.session import EMBEDDED, RuntimeOptions, check_tensor, open_session
from edge.types import Scan

__all__ = ["Segmenter", "scan_input"]


def _nearest(
    angles: NDArray[np.float64], angle_min: float, increment: float, count: int, wraps: bool
) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """Index of the beam nearest each angle in a layout, and whether the layout covers it."""
    index = np.round((angles - angle_min) / increment).astype(np.int64)
    if wraps:
        return index % count, np.ones(len(index), dtype=np.bool_)
    covered = (index >= 0) & (index < count)
    return np.clip(index, 0, count - 1), covered


def _wraps(fov: float, increment: float) -> bool:
    return fov >= 2 * math.pi - abs(increment) / 2


def scan_input(scan: Scan, spec: ScanInput) -> NDArray[np.float32]:
    """The (1, 2, beams) tensor for a scan: scaled range, and 1 where the beam measured.

    +inf (nothing within range) reads as range 1.0, measured; NaN, out-of-range readings and
    angles the scan does not cover read as 0.0, unmeasured.
    """
    count = len(scan.ranges)
    if count == 0 or not math.isfinite(scan.angle_increment) or scan.angle_increment == 0:
        raise ValueError(f"a scan needs beams and a non-zero angle increment, got {count} beams")
    model_increment = spec.fov / spec.beams
    model_angles = spec.angle_min + model_increment * np.arange(spec.beams, dtype=np.float64)
    index, covered = _nearest(
        model_angles,
        scan.angle_min,
        scan.angle_increment,
        count,
        _wraps(abs(scan.angle_increment) * count, scan.angle_increment),
    )
    ranges = scan.ranges.astype(np.float64)[index]
    no_return = np.isposinf(ranges)
    measured = covered & (no_return | (np.isfinite(ranges) & (ranges >= scan.range_min)))
    scaled = np.where(no_return, 1.0, np.clip(np.nan_to_num(ranges) / spec.range_max, 0.0, 1.0))
    scaled = np.where(measured, scaled, 0.0)
    return np.stack([scaled, measured.astype(np.float64)])[None].astype(np.float32)


class Segmenter:
    """A segmenter model and its description, ready to run on scans."""

    def __init__(self, description_path: str | Path, options: RuntimeOptions = EMBEDDED):
        """Load the description, then its model, and check they agree.

        Raises:
            ModelError: the description is invalid or not a segmenter's, the model file is
                missing or corrupt, or its tensors differ from what the description declares.
        """
        path = Path(description_path)
        description = load_description_of(path, SegmenterDescription)
        self.description = description
        self.model_path = path.parent / description.model
        self._session = open_session(self.model_path, description.sha256, options)
        spec = description.input
        check_tensor(
            self.model_path, "input", self._session.get_inputs(), spec.name, [1, 2, spec.beams]
        )
        check_tensor(
            self.model_path,
            "output",
            self._session.get_outputs(),
            description.output,
            [1, len(description.classes), spec.beams],
        )

    @property
    def classes(self) -> list[str]:
        """Class names, by class index."""
        return self.description.classes

    def logits(self, scan: Scan) -> NDArray[np.float32]:
        """Class logits (C, beams) over the model's own beam layout."""
        d = self.description
        (output,) = self._session.run([d.output], {d.input.name: scan_input(scan, d.input)})
        return np.asarray(output[0], dtype=np.float32)

    def segment(self, scan: Scan) -> NDArray[np.int64]:
        """A class index for each of the scan's beams."""
        spec = self.description.input
        labels = np.argmax(self.logits(scan), axis=0)
        increment = spec.fov / spec.beams
        index, _ = _nearest(
            scan.angles, spec.angle_min, increment, spec.beams, _wraps(spec.fov, increment)
        )
        per_beam: NDArray[np.int64] = labels[index].astype(np.int64)
        return per_beam
