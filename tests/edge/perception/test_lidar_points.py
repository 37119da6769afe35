"""A scan's returns placed on base_link through the lidar's mount; every no-return dropped."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from chairlink.geometry import LidarConfig, Mount
from edge.perception.lidar_points import is_full_circle, scan_points
from edge.types import Scan

BEAMS = 720
STEP = 2 * math.pi / BEAMS


def full_scan(ranges: np.ndarray, range_min: float = 0.15, range_max: float = 12.0) -> Scan:
    """A 360 degree scan from -pi, as the chair's lidar sends it."""
    return Scan(0, -math.pi, STEP, range_min, range_max, np.asarray(ranges, dtype=np.float32))


def test_a_point_ahead_of_the_default_mount_lands_forward_of_it() -> None:
    ranges = np.full(BEAMS, np.inf)
    ranges[360] = 2.0  # angle 0: straight ahead of the sensor
    points = scan_points(full_scan(ranges), LidarConfig().mount)
    np.testing.assert_allclose(points.xy, [[2.25, 0.0]], atol=1e-9)
    assert list(points.beam) == [360]
    np.testing.assert_allclose(points.range_m, [2.0])


def test_mount_offset_and_yaw_turn_and_shift_the_points() -> None:
    # The sensor sits 0.3 m forward, 0.1 m left, turned 90 degrees left: its "ahead" is the
    # chair's left, so a wall 1 m ahead of the sensor is the line y = 1.1 in base_link.
    mount = Mount(x_m=0.3, y_m=0.1, z_m=0.3, yaw_rad=math.pi / 2)
    ranges = np.full(BEAMS, np.nan)
    beams = np.arange(340, 381)
    ranges[beams] = 1.0 / np.cos(-math.pi + STEP * beams)  # a straight wall at x_sensor = 1
    points = scan_points(full_scan(ranges), mount)
    np.testing.assert_allclose(points.xy[:, 1], 1.1, atol=1e-6)
    sensor_y = np.tan(-math.pi + STEP * beams)
    np.testing.assert_allclose(points.xy[:, 0], 0.3 - sensor_y, atol=1e-6)
    assert list(points.beam) == list(beams)


@pytest.mark.parametrize(
    "value", [0.0, math.inf, -math.inf, math.nan, -1.0, 0.1, 12.5], ids=lambda v: f"{v}"
)
def test_each_kind_of_no_return_is_dropped_and_counted(value: float) -> None:
    ranges = np.full(BEAMS, 3.0)
    ranges[[10, 200, 719]] = value
    points = scan_points(full_scan(ranges), Mount())
    assert len(points) == BEAMS - 3
    assert points.no_return == 3
    assert not set(points.beam.tolist()) & {10, 200, 719}
    assert np.isfinite(points.xy).all()


def test_range_limits_are_inclusive_and_zero_is_no_return_even_with_range_min_zero() -> None:
    ranges = np.array([0.0, 0.15, 12.0, 5.0], dtype=np.float32)
    scan = Scan(0, 0.0, 0.01, 0.0, 12.0, ranges)
    assert list(scan_points(scan, Mount()).beam) == [1, 2, 3]
    scan = Scan(0, 0.0, 0.01, 0.15, 12.0, ranges)
    assert list(scan_points(scan, Mount()).beam) == [1, 2, 3]


def test_an_empty_or_silent_scan_gives_no_points() -> None:
    assert len(scan_points(full_scan(np.zeros(0)), Mount())) == 0
    silent = scan_points(full_scan(np.full(BEAMS, np.inf)), Mount())
    assert len(silent) == 0
    assert silent.xy.shape == (0, 2)
    assert silent.no_return == BEAMS


def test_a_tilted_mount_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="tilted"):
        scan_points(full_scan(np.ones(BEAMS)), Mount(pitch_rad=0.1))


def test_full_circle_is_recognised_with_float32_slack() -> None:
    assert is_full_circle(720, float(np.float32(2 * math.pi / 720)))
    assert is_full_circle(720, -2 * math.pi / 720)
    assert not is_full_circle(540, 2 * math.pi / 720)  # a 270 degree scanner
    assert not is_full_circle(1, 2 * math.pi)


_ranges = arrays(
    np.float32,
    st.integers(0, 64),
    elements=st.one_of(
        st.floats(-1, 20, width=32), st.sampled_from([0.0, math.inf, -math.inf, math.nan])
    ),
)


@given(
    _ranges,
    st.floats(-2, 2),
    st.floats(-2, 2),
    st.floats(-math.pi, math.pi),
)
def test_valid_returns_keep_their_range_and_beam_and_nothing_else_passes(
    ranges: np.ndarray, x: float, y: float, yaw: float
) -> None:
    scan = Scan(0, -1.0, 0.05, 0.15, 12.0, ranges)
    points = scan_points(scan, Mount(x_m=x, y_m=y, yaw_rad=yaw))
    r = ranges.astype(np.float64)
    with np.errstate(invalid="ignore"):
        expected = np.flatnonzero(np.isfinite(r) & (r >= 0.15) & (r <= 12.0))
    assert points.beam.tolist() == expected.tolist()
    assert points.no_return == len(ranges) - len(expected)
    assert np.isfinite(points.xy).all()
    # A rigid motion keeps each point's distance from the sensor.
    np.testing.assert_allclose(np.hypot(*(points.xy - [x, y]).T), r[expected], rtol=1e-9)
