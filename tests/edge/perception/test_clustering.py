"""Scan segmentation: neighbouring returns join while close for their range, across the seam."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from chairlink.geometry import Mount
from edge.perception.clustering import Cluster, ClusterConfig, cluster_points, join_threshold_m
from edge.perception.lidar_points import LidarPoints, scan_points
from edge.types import Scan

BEAMS = 720
STEP = 2 * math.pi / BEAMS


def points_of(ranges: np.ndarray, mount: Mount | None = None, beams: int = BEAMS) -> LidarPoints:
    """A scan from -pi of ``ranges`` (``beams`` of them over 360 degrees) placed on base_link."""
    scan = Scan(0, -math.pi, 2 * math.pi / beams, 0.15, 12.0, ranges.astype(np.float32))
    return scan_points(scan, mount if mount is not None else Mount())


def silent() -> np.ndarray:
    return np.full(BEAMS, np.inf)


def test_a_wall_is_one_cluster_with_its_extent_and_nearest_point() -> None:
    ranges = silent()
    beams = np.arange(330, 391)
    ranges[beams] = 1.0 / np.cos(-math.pi + STEP * beams)  # the line x_sensor = 1
    (wall,) = cluster_points(points_of(ranges, Mount(x_m=0.25)))
    assert wall.count == 61
    assert wall.beams == tuple(range(330, 391))
    np.testing.assert_allclose(wall.min_xy[0], 1.25, atol=1e-6)
    np.testing.assert_allclose(wall.max_xy[0], 1.25, atol=1e-6)
    np.testing.assert_allclose(wall.max_xy[1], math.tan(30 * STEP), atol=1e-6)
    np.testing.assert_allclose(wall.centroid, (1.25, 0.0), atol=1e-6)
    np.testing.assert_allclose(wall.nearest_m, 1.25, atol=1e-6)
    np.testing.assert_allclose(wall.size, (0.0, 2 * math.tan(30 * STEP)), atol=1e-6)


def test_two_objects_apart_in_angle_are_two_clusters() -> None:
    ranges = silent()
    ranges[100:111] = 2.0
    ranges[120:131] = 2.0  # 9 silent beams between: an opening, not a dark patch
    clusters = cluster_points(points_of(ranges))
    assert [c.beams for c in clusters] == [tuple(range(100, 111)), tuple(range(120, 131))]


def test_a_step_in_range_between_neighbouring_beams_breaks() -> None:
    ranges = silent()
    ranges[100:111] = 2.0
    ranges[111:121] = 3.0  # a person 2 m off, the wall 1 m behind them
    assert [c.count for c in cluster_points(points_of(ranges))] == [11, 10]


def test_a_short_dropout_inside_a_surface_is_bridged_a_longer_one_is_not() -> None:
    ranges = silent()
    ranges[100:131] = 2.0
    ranges[114:116] = np.nan  # two missing beams: a dark patch on the same surface
    assert len(cluster_points(points_of(ranges))) == 1
    ranges[116] = np.nan  # three: more than max_missing_beams
    assert len(cluster_points(points_of(ranges))) == 2


def test_a_single_return_is_an_obstacle_of_its_own() -> None:
    ranges = silent()
    ranges[500] = 5.0  # a thin table leg at range
    (leg,) = cluster_points(points_of(ranges))
    assert leg.count == 1
    assert leg.beams == (500,)
    assert leg.size == (0.0, 0.0)
    assert leg.nearest_m == pytest.approx(5.0, abs=1e-6)


def test_an_obstacle_across_the_seam_is_one_cluster_in_angular_order() -> None:
    ranges = silent()
    ranges[:5] = 2.0
    ranges[715:] = 2.0  # straight behind the chair, where -pi meets +pi
    ranges[300] = 4.0
    clusters = cluster_points(points_of(ranges))
    assert [c.beams for c in clusters] == [(715, 716, 717, 718, 719, 0, 1, 2, 3, 4), (300,)]
    angles = -math.pi + STEP * np.array(clusters[0].beams)
    expected = (2.0 * np.cos(angles).mean(), 2.0 * np.sin(angles).mean())
    np.testing.assert_allclose(clusters[0].centroid, expected, atol=1e-6)


def test_the_seam_is_bridged_over_missing_beams_too() -> None:
    ranges = silent()
    ranges[1:5] = 2.0
    ranges[715:719] = 2.0  # beams 719 and 0 silent: two missing, still one surface
    assert len(cluster_points(points_of(ranges))) == 1


def test_a_scan_short_of_a_full_turn_has_no_seam() -> None:
    # 540 beams of 0.5 degrees: a 270 degree scanner; its first and last beams are 90 degrees
    # apart, whatever their ranges.
    ranges = np.full(540, np.inf)
    ranges[:3] = 2.0
    ranges[537:] = 2.0
    scan = Scan(0, -0.75 * math.pi, STEP, 0.15, 12.0, ranges.astype(np.float32))
    assert len(cluster_points(scan_points(scan, Mount()))) == 2


def test_a_ring_all_round_is_one_cluster_from_beam_zero() -> None:
    (ring,) = cluster_points(points_of(np.full(BEAMS, 1.0)))
    assert ring.beams == tuple(range(BEAMS))


def test_a_spiral_all_round_starts_after_its_one_break() -> None:
    # Range grows slowly from beam 400 all the way round to beam 399: the only break is the
    # step back from 399 to 400, so the one cluster runs 400..719, 0..399.
    ranges = 1.0 + 0.5 * ((np.arange(BEAMS) - 400) % BEAMS) / BEAMS
    (spiral,) = cluster_points(points_of(ranges))
    assert spiral.beams == tuple(range(400, BEAMS)) + tuple(range(400))


def test_the_threshold_grows_with_range_above_its_floor() -> None:
    config = ClusterConfig()
    one_beam = np.array([STEP])
    near = join_threshold_m(np.array([0.5]), one_beam, config)
    far = join_threshold_m(np.array([10.0]), one_beam, config)
    assert near[0] == config.join_distance_m
    expected = 10.0 * math.sin(STEP) / math.sin(config.max_incidence_rad - STEP)
    assert far[0] == pytest.approx(expected)
    assert far[0] > 0.5
    # At or past the incidence limit the bound is unbounded: only the floor applies.
    wide = join_threshold_m(np.array([10.0]), np.array([config.max_incidence_rad]), config)
    assert wide[0] == config.join_distance_m


def test_neighbours_at_range_on_a_wall_join_where_a_fixed_threshold_would_split() -> None:
    ranges = silent()
    ranges[350:371] = 10.0  # 10 m off, beams 8.7 cm apart
    fixed = ClusterConfig(join_distance_m=0.05, max_incidence_rad=STEP / 2)
    assert len(cluster_points(points_of(ranges))) == 1
    assert len(cluster_points(points_of(ranges), fixed)) == 21


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("join_distance_m", -0.1),
        ("join_distance_m", math.nan),
        ("max_incidence_rad", 0.0),
        ("max_incidence_rad", math.pi / 2),
        ("max_missing_beams", -1),
    ],
)
def test_a_bad_config_is_refused_by_name(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=field):
        ClusterConfig(**{field: value})  # type: ignore[arg-type]


def test_no_points_no_clusters() -> None:
    assert cluster_points(points_of(silent())) == []


_scans = st.integers(2, 96).flatmap(
    lambda n: st.tuples(
        st.just(n),
        arrays(
            np.float32,
            n,
            elements=st.one_of(
                st.floats(0.125, 13, width=32),
                st.sampled_from([0.0, math.inf, math.nan, 1.0, 1.01, 2.0]),
            ),
        ),
        st.booleans(),
    )
)


@given(_scans, st.floats(0.0, 0.5), st.integers(0, 3))
def test_every_valid_point_lands_in_exactly_one_cluster(
    scan: tuple[int, np.ndarray, bool], join_distance_m: float, max_missing: int
) -> None:
    n, ranges, full = scan
    step = 2 * math.pi / n if full else math.pi / n
    points = scan_points(Scan(0, -math.pi, step, 0.15, 12.0, ranges), Mount(x_m=0.25))
    config = ClusterConfig(join_distance_m=join_distance_m, max_missing_beams=max_missing)
    clusters = cluster_points(points, config)
    beams = [b for c in clusters for b in c.beams]
    assert sorted(beams) == points.beam.tolist()  # each exactly once
    assert len(clusters) <= len(points)
    for c in clusters:
        _check_cluster(c, points)


def _check_cluster(c: Cluster, points: LidarPoints) -> None:
    values = (*c.centroid, *c.min_xy, *c.max_xy, c.nearest_m)
    assert all(math.isfinite(v) for v in values)
    assert c.count >= 1
    for axis in (0, 1):
        assert c.min_xy[axis] - 1e-9 <= c.centroid[axis] <= c.max_xy[axis] + 1e-9
    mine = np.isin(points.beam, c.beams)
    assert c.nearest_m == pytest.approx(float(np.hypot(*points.xy[mine].T).min()))
    # Angular order: each beam follows the one before it, wrapping once at most.
    steps = np.diff(c.beams)
    assert (steps < 0).sum() <= (1 if points.full_circle else 0)
