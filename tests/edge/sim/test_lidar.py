"""The simulated lidar: exact ranges against the map and the shapes, noise, and ground truth."""

from __future__ import annotations

import math

import numpy as np
import pytest

from chairlink.geometry import LidarConfig
from chairlink.site import FREE, OCCUPIED, OccupancyMap
from edge.sim.lidar import LidarSimulator, LidarSpec
from edge.sim.shapes import Box, Circle, ObjectClass
from edge.types import Pose2D

RES = 0.05
ROOM_W, ROOM_H = 10.0, 6.0


@pytest.fixture(scope="module")
def room() -> OccupancyMap:
    """A 10 m x 6 m room whose walls fill the outermost ring of cells."""
    cells = np.full((round(ROOM_H / RES), round(ROOM_W / RES)), FREE, dtype=np.int8)
    cells[0, :] = cells[-1, :] = OCCUPIED
    cells[:, 0] = cells[:, -1] = OCCUPIED
    return OccupancyMap(cells, RES)


def analytic_room_ranges(x: float, y: float, angles: np.ndarray) -> np.ndarray:
    """Distance from (x, y) to the inside faces of the room's walls along each angle."""
    lo_x, hi_x, lo_y, hi_y = RES, ROOM_W - RES, RES, ROOM_H - RES
    dx, dy = np.cos(angles), np.sin(angles)
    with np.errstate(divide="ignore"):
        tx = np.where(dx > 0, (hi_x - x) / dx, np.where(dx < 0, (lo_x - x) / dx, np.inf))
        ty = np.where(dy > 0, (hi_y - y) / dy, np.where(dy < 0, (lo_y - y) / dy, np.inf))
    return np.minimum(tx, ty)


def exact(dropout_rate: float = 0.0, noise_sigma_m: float = 0.0, **lidar: object) -> LidarSpec:
    """A noise-free lidar at base_link, 0.30 m up; ``lidar`` changes chair.yaml's section."""
    config = LidarConfig.model_validate({"mount": {"z_m": 0.30}, **lidar})
    return LidarSpec(config, noise_sigma_m=noise_sigma_m, dropout_rate=dropout_rate)


@pytest.mark.parametrize(("x", "y", "yaw"), [(3.0, 2.0, 0.0), (7.3, 4.1, 1.0), (0.5, 5.2, -2.5)])
def test_noise_free_ranges_equal_the_analytic_distance_to_the_walls(
    room: OccupancyMap, x: float, y: float, yaw: float
) -> None:
    lidar = LidarSimulator(exact(), room, np.random.default_rng(0))
    scan, truth = lidar.scan(0, Pose2D(x, y, yaw))
    expected = analytic_room_ranges(x, y, yaw + scan.angles)
    np.testing.assert_allclose(scan.ranges, expected, atol=1e-4)
    assert (truth.ids == 0).all()
    assert (truth.classes == ObjectClass.WALL).all()


def test_range_noise_has_the_configured_spread(room: OccupancyMap) -> None:
    lidar = LidarSimulator(exact(noise_sigma_m=0.01), room, np.random.default_rng(1))
    errors = []
    for _ in range(20):
        scan, truth = lidar.scan(0, Pose2D(5.0, 3.0, 0.0))
        errors.append(scan.ranges - truth.ranges)
    spread = np.concatenate(errors)
    assert abs(spread.mean()) < 0.001
    assert spread.std() == pytest.approx(0.01, rel=0.05)


def test_the_mount_offsets_the_sensor_from_the_chair(room: OccupancyMap) -> None:
    lidar = LidarSimulator(exact(mount={"x_m": 0.25, "z_m": 0.30}), room, np.random.default_rng(0))
    scan, _ = lidar.scan(0, Pose2D(3.0, 3.0, 0.0))
    ahead = scan.ranges[len(scan.ranges) // 2]  # the beam at angle 0
    assert ahead == pytest.approx(ROOM_W - RES - 3.25, abs=1e-4)


def test_the_mount_yaw_turns_the_scan_and_its_height_picks_what_it_sees(
    room: OccupancyMap,
) -> None:
    # Turned a quarter left, the beam at angle 0 looks along the chair's +y: the wall 3 m away.
    turned = LidarSimulator(
        exact(mount={"z_m": 0.30, "yaw_rad": math.pi / 2}), room, np.random.default_rng(0)
    )
    scan, _ = turned.scan(0, Pose2D(3.0, 2.0, 0.0))
    assert scan.ranges[len(scan.ranges) // 2] == pytest.approx(ROOM_H - RES - 2.0, abs=1e-4)
    # A low cart (up to 0.2 m) is under a scan plane 0.30 m up and in one 0.10 m up.
    low_cart = Box(5, ObjectClass.CART, 4.5, 3.0, 0.0, 0.5, 0.5, 0.0, 0.2)
    for z_m, seen in ((0.30, False), (0.10, True)):
        lidar = LidarSimulator(exact(mount={"z_m": z_m}), room, np.random.default_rng(0))
        _, truth = lidar.scan(0, Pose2D(3.0, 3.0, 0.0), [low_cart])
        assert (truth.ids == 5).any() == seen


def test_a_person_is_hit_at_the_analytic_range_with_its_id_and_class(room: OccupancyMap) -> None:
    person = Circle(7, ObjectClass.PERSON, 6.0, 3.0, 0.25)
    lidar = LidarSimulator(exact(), room, np.random.default_rng(0))
    scan, truth = lidar.scan(0, Pose2D(3.0, 3.0, 0.0), [person])
    ahead = len(scan.ranges) // 2
    assert scan.ranges[ahead] == pytest.approx(6.0 - 0.25 - 3.0, abs=1e-6)
    assert truth.ids[ahead] == 7
    assert truth.classes[ahead] == ObjectClass.PERSON
    # The person subtends 2 * asin(0.25 / 3) of the scan; every beam inside it sees them.
    half = math.asin(0.25 / 3.0)
    inside = np.abs(scan.angles) < half - scan.angle_increment
    assert (truth.ids[inside] == 7).all()
    assert (truth.ids[np.abs(scan.angles) > half + scan.angle_increment] != 7).all()


def test_a_box_is_hit_on_its_near_face(room: OccupancyMap) -> None:
    bed = Box(3, ObjectClass.BED, 6.0, 3.0, math.pi / 2, 2.0, 0.9, 0.0, 0.6)
    lidar = LidarSimulator(exact(), room, np.random.default_rng(0))
    scan, truth = lidar.scan(0, Pose2D(3.0, 3.0, 0.0), [bed])
    ahead = len(scan.ranges) // 2
    assert scan.ranges[ahead] == pytest.approx(6.0 - 0.45 - 3.0, abs=1e-6)
    assert truth.classes[ahead] == ObjectClass.BED


def test_objects_above_or_below_the_scan_plane_are_not_seen(room: OccupancyMap) -> None:
    table_top = Box(4, ObjectClass.OTHER, 6.0, 3.0, 0.0, 1.0, 1.0, 0.7, 0.75)
    low_cart = Box(5, ObjectClass.CART, 4.5, 3.0, 0.0, 0.5, 0.5, 0.0, 0.2)
    lidar = LidarSimulator(exact(), room, np.random.default_rng(0))
    scan, truth = lidar.scan(0, Pose2D(3.0, 3.0, 0.0), [table_top, low_cart])
    assert (truth.ids == 0).all()
    assert scan.ranges[len(scan.ranges) // 2] == pytest.approx(ROOM_W - RES - 3.0, abs=1e-4)


def test_out_of_range_too_close_and_dropped_beams_follow_rep_117(room: OccupancyMap) -> None:
    short = LidarSimulator(exact(range_max_m=2.0), room, np.random.default_rng(0))
    scan, truth = short.scan(0, Pose2D(5.0, 3.0, 0.0))
    assert np.isposinf(scan.ranges).sum() > 0
    assert (truth.ids[np.isposinf(scan.ranges)] == -1).all()
    hugging = Circle(9, ObjectClass.POLE, 5.1, 3.0, 0.03)
    scan, _ = short.scan(0, Pose2D(5.0, 3.0, 0.0), [hugging])
    assert np.isneginf(scan.ranges[len(scan.ranges) // 2])
    dropping = LidarSimulator(exact(dropout_rate=0.2), room, np.random.default_rng(0))
    scan, _ = dropping.scan(0, Pose2D(5.0, 3.0, 0.0))
    assert np.isnan(scan.ranges).mean() == pytest.approx(0.2, abs=0.05)


def test_the_same_seed_gives_the_same_scans(room: OccupancyMap) -> None:
    def run(seed: int) -> list[np.ndarray]:
        lidar = LidarSimulator(LidarSpec(dropout_rate=0.05), room, np.random.default_rng(seed))
        return [lidar.scan(i, Pose2D(2.0 + 0.1 * i, 3.0, 0.1 * i))[0].ranges for i in range(10)]

    for a, b in zip(run(42), run(42), strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(run(42)[0], run(43)[0])


def test_scan_points_are_the_valid_returns_in_the_sensor_frame(room: OccupancyMap) -> None:
    lidar = LidarSimulator(exact(range_max_m=3.0), room, np.random.default_rng(0))
    scan, _ = lidar.scan(0, Pose2D(5.0, 3.0, 0.0))
    points = scan.points()
    assert len(points) == np.isfinite(scan.ranges).sum()
    assert np.hypot(points[:, 0], points[:, 1]).max() <= 3.0


def test_pose_composition() -> None:
    chair = Pose2D(1.0, 2.0, math.pi / 2)
    sensor = chair.compose(Pose2D(0.25, 0.0, 0.0))
    assert (sensor.x, sensor.y) == pytest.approx((1.0, 2.25))
    assert sensor.yaw == pytest.approx(math.pi / 2)
