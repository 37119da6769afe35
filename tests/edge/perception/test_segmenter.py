"""The segmenter runtime's input: scaling, validity, and resampling scans of other layouts."""

from __future__ import annotations

import math

import numpy as np
import pytest

from edge.perception.description import ScanInput
from edge.perception.segmenter import scan_input
from edge.types import Scan

SPEC = ScanInput(name="scan", beams=720, angle_min=-math.pi, fov=2 * math.pi, range_max=12.0)


def _stock(ranges: np.ndarray) -> Scan:
    return Scan(0, -math.pi, 2 * math.pi / 720, 0.15, 12.0, ranges.astype(np.float32))


def test_a_stock_scan_maps_beam_for_beam() -> None:
    ranges = np.linspace(0.2, 11.0, 720)
    tensor = scan_input(_stock(ranges), SPEC)
    assert tensor.shape == (1, 2, 720)
    assert tensor.dtype == np.float32
    np.testing.assert_allclose(tensor[0, 0], ranges / 12.0, rtol=1e-6)
    assert (tensor[0, 1] == 1.0).all()


def test_no_return_reads_as_far_and_measured_nan_and_short_as_unmeasured() -> None:
    ranges = np.full(720, 5.0)
    ranges[[0, 1, 2]] = (np.inf, np.nan, 0.05)
    ranges[3] = 40.0  # beyond the model's range_max: clipped
    tensor = scan_input(_stock(ranges), SPEC)[0]
    assert list(tensor[0, :4]) == [1.0, 0.0, 0.0, 1.0]
    assert list(tensor[1, :4]) == [1.0, 0.0, 0.0, 1.0]


def test_a_denser_scan_is_sampled_at_the_nearest_beam() -> None:
    # 1440 beams at 0.25 degrees: every other beam lines up with a model beam.
    ranges = 0.5 + np.arange(1440, dtype=np.float64) / 1440 * 10
    scan = Scan(0, -math.pi, 2 * math.pi / 1440, 0.15, 12.0, ranges.astype(np.float32))
    tensor = scan_input(scan, SPEC)[0]
    np.testing.assert_allclose(tensor[0] * 12.0, ranges[::2], rtol=1e-5)


def test_a_narrow_scan_leaves_the_beams_it_does_not_cover_unmeasured() -> None:
    # A 270-degree scanner, as many safety lidars are, from -135 to +135 degrees.
    beams = 541
    scan = Scan(
        0,
        -math.radians(135),
        math.radians(270) / (beams - 1),
        0.05,
        25.0,
        np.full(beams, 3.0, np.float32),
    )
    tensor = scan_input(scan, SPEC)[0]
    angles = -math.pi + np.arange(720) * (2 * math.pi / 720)
    inside = np.abs(angles) <= math.radians(135.2)
    assert (tensor[1, inside] == 1.0).all()
    assert (tensor[1, ~inside] == 0.0).all()
    np.testing.assert_allclose(tensor[0, inside], 3.0 / 12.0)


def test_a_scan_without_beams_is_refused() -> None:
    with pytest.raises(ValueError, match="a scan needs beams"):
        scan_input(Scan(0, 0.0, 0.01, 0.1, 10.0, np.zeros(0, np.float32)), SPEC)
