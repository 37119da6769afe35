"""The simulated camera: pinhole geometry, occlusion, what only the camera sees, ground truth."""

from __future__ import annotations

import math

import numpy as np
import pytest

from chairlink.geometry import CameraConfig, LidarConfig
from chairlink.site import FREE, OCCUPIED, OccupancyMap
from edge.sim.camera import WALL_HEIGHT_M, CameraSimulator, CameraSpec
from edge.sim.errors import SimError
from edge.sim.lidar import LidarSimulator, LidarSpec
from edge.sim.shapes import Box, Circle, ObjectClass
from edge.types import Pose2D

RES = 0.05


@pytest.fixture(scope="module")
def hall() -> OccupancyMap:
    """A 20 m x 10 m hall, walls on its outer ring of cells."""
    cells = np.full((round(10 / RES), round(20 / RES)), FREE, dtype=np.int8)
    cells[0, :] = cells[-1, :] = OCCUPIED
    cells[:, 0] = cells[:, -1] = OCCUPIED
    return OccupancyMap(cells, RES)


def at_base_link(**camera: object) -> CameraConfig:
    """A camera at base_link, 1.0 m up; ``camera`` changes chair.yaml's section."""
    return CameraConfig.model_validate({"mount": {"z_m": 1.0}, **camera})


def camera(hall: OccupancyMap, seed: int = 0, **config: object) -> CameraSimulator:
    spec = CameraSpec(at_base_link(**config), noise_sigma=0.0, gain_sigma=0.0)
    return CameraSimulator(spec, hall, np.random.default_rng(seed))


def test_a_person_ahead_projects_where_the_pinhole_model_says(hall: OccupancyMap) -> None:
    cam = camera(hall)
    k = cam.spec.intrinsics
    person = Circle(1, ObjectClass.PERSON, 9.0, 5.0, 0.25, 0.0, 1.7)
    frame, truth = cam.render(0, Pose2D(4.0, 5.0, 0.0), [person])
    assert frame.image.shape == (240, 320, 3)
    assert frame.image.dtype == np.uint8
    (t,) = truth
    assert (t.id, t.cls, t.visible_fraction) == (1, ObjectClass.PERSON, 1.0)
    assert t.range_m == pytest.approx(5.0)
    near = 5.0 - 0.25
    half_width = k.fx * math.tan(math.asin(0.25 / 5.0))
    u0, v0, u1, v1 = t.box
    assert (u0 + u1) / 2 == pytest.approx(k.cx, abs=1.0)
    assert u1 - u0 == pytest.approx(2 * half_width, abs=2.0)
    assert v0 == pytest.approx(k.cy - k.fy * (1.7 - 1.0) / near, abs=1.5)
    assert v1 == pytest.approx(k.cy + k.fy * 1.0 / near, abs=1.5)


def test_the_far_wall_spans_floor_to_wall_top(hall: OccupancyMap) -> None:
    cam = camera(hall)
    k = cam.spec.intrinsics
    frame, _ = cam.render(0, Pose2D(12.0, 5.0, 0.0), [])
    column = frame.image[:, round(k.cx)].astype(int)
    distance = 20.0 - RES - 12.0
    top = k.cy - k.fy * (WALL_HEIGHT_M - 1.0) / distance
    bottom = k.cy + k.fy * 1.0 / distance
    wall_rows = np.flatnonzero(np.abs(column - column[round(k.cy)]).sum(axis=1) < 6)
    assert wall_rows.min() == pytest.approx(top, abs=1.5)
    assert wall_rows.max() == pytest.approx(bottom, abs=1.5)


def test_a_person_behind_another_is_partly_hidden(hall: OccupancyMap) -> None:
    cam = camera(hall)
    near = Circle(1, ObjectClass.PERSON, 7.0, 5.0, 0.25, 0.0, 1.7)
    far = Circle(2, ObjectClass.PERSON, 10.0, 5.45, 0.25, 0.0, 1.7)
    _, truth = cam.render(0, Pose2D(4.0, 5.0, 0.0), [near, far])
    by_id = {t.id: t for t in truth}
    assert by_id[1].visible_fraction == 1.0
    assert 0.0 < by_id[2].visible_fraction < 0.6
    alone = {t.id: t for t in cam.render(0, Pose2D(4.0, 5.0, 0.0), [near])[1]}
    assert alone[1].box == by_id[1].box


def test_the_camera_sees_what_the_lidar_plane_misses(hall: OccupancyMap) -> None:
    shelf = Box(3, ObjectClass.OTHER, 7.0, 5.0, 0.0, 0.6, 1.2, 0.9, 1.3)
    cart_base = Box(4, ObjectClass.CART, 6.0, 4.0, 0.0, 0.5, 0.5, 0.0, 0.15)
    _, truth = camera(hall).render(0, Pose2D(4.0, 5.0, 0.0), [shelf, cart_base])
    assert {t.id for t in truth} == {3, 4}
    at_base = LidarConfig.model_validate({"mount": {"z_m": 0.30}})
    lidar = LidarSimulator(LidarSpec(at_base), hall, np.random.default_rng(0))
    _, beams = lidar.scan(0, Pose2D(4.0, 5.0, 0.0), [shelf, cart_base])
    assert not np.isin(beams.ids, [3, 4]).any()


def test_objects_out_of_view_have_no_truth(hall: OccupancyMap) -> None:
    behind = Circle(5, ObjectClass.PERSON, 2.0, 5.0, 0.25)
    beside = Circle(6, ObjectClass.PERSON, 4.0, 8.0, 0.25)
    _, truth = camera(hall).render(0, Pose2D(4.0, 5.0, 0.0), [behind, beside])
    assert truth == []


def test_frames_are_seeded(hall: OccupancyMap) -> None:
    spec = CameraSpec(at_base_link())
    people = [Circle(1, ObjectClass.PERSON, 8.0, 5.5, 0.25)]
    a = CameraSimulator(spec, hall, np.random.default_rng(9)).render(
        0, Pose2D(4.0, 5.0, 0.2), people
    )
    b = CameraSimulator(spec, hall, np.random.default_rng(9)).render(
        0, Pose2D(4.0, 5.0, 0.2), people
    )
    c = CameraSimulator(spec, hall, np.random.default_rng(8)).render(
        0, Pose2D(4.0, 5.0, 0.2), people
    )
    np.testing.assert_array_equal(a[0].image, b[0].image)
    assert not np.array_equal(a[0].image, c[0].image)
    assert a[1] == b[1]


def test_the_stock_intrinsics_are_a_90_degree_pinhole() -> None:
    k = CameraSpec().intrinsics
    assert (k.width, k.height) == (320, 240)
    assert (k.fx, k.fy) == (160.0, 160.0)
    assert math.degrees(CameraSpec().config.calibration.horizontal_fov_rad) == pytest.approx(90.0)
    assert (k.cx, k.cy) == (159.5, 119.5)


def test_the_renderer_projects_with_the_calibration(hall: OccupancyMap) -> None:
    # A longer lens off centre: a person 5 m ahead lands at cx, as wide and tall as fx and fy
    # say, not where a field of view recomputed from the width would put them.
    calibration = {"width": 320, "height": 240, "fx": 240.0, "fy": 200.0, "cx": 120.0, "cy": 100.0}
    cam = camera(hall, calibration=calibration)
    k = cam.spec.intrinsics
    assert (k.fx, k.fy, k.cx, k.cy) == (240.0, 200.0, 120.0, 100.0)
    person = Circle(1, ObjectClass.PERSON, 9.0, 5.0, 0.25, 0.0, 1.7)
    frame, (t,) = cam.render(0, Pose2D(4.0, 5.0, 0.0), [person])
    assert frame.intrinsics == k
    u0, v0, u1, v1 = t.box
    near = 5.0 - 0.25
    assert (u0 + u1) / 2 == pytest.approx(120.0, abs=1.0)
    assert u1 - u0 == pytest.approx(2 * 240.0 * math.tan(math.asin(0.25 / 5.0)), abs=2.0)
    assert v0 == pytest.approx(100.0 - 200.0 * (1.7 - 1.0) / near, abs=1.5)
    assert v1 == pytest.approx(100.0 + 200.0 * 1.0 / near, abs=1.5)


def test_the_mount_places_the_camera(hall: OccupancyMap) -> None:
    # 1 m ahead of base_link, 1.5 m up, turned a quarter left: the person 4 m to the chair's
    # left and 1 m ahead is 4 m straight ahead of the lens, seen from higher up.
    mount = {"x_m": 1.0, "z_m": 1.5, "yaw_rad": math.pi / 2}
    cam = camera(hall, mount=mount)
    k = cam.spec.intrinsics
    person = Circle(1, ObjectClass.PERSON, 5.0, 5.0, 0.25, 0.0, 1.7)
    frame, (t,) = cam.render(0, Pose2D(4.0, 1.0, 0.0), [person])
    assert (frame.mount, frame.height_m) == (Pose2D(1.0, 0.0, math.pi / 2), 1.5)
    assert t.range_m == pytest.approx(4.0)
    u0, v0, u1, v1 = t.box
    near = 4.0 - 0.25
    assert (u0 + u1) / 2 == pytest.approx(k.cx, abs=1.0)
    assert v0 == pytest.approx(k.cy - k.fy * (1.7 - 1.5) / near, abs=1.5)
    assert v1 == pytest.approx(k.cy + k.fy * 1.5 / near, abs=1.5)


@pytest.mark.parametrize(
    ("camera_section", "field"),
    [
        ({"mount": {"pitch_rad": 0.1}}, "camera.mount.pitch_rad"),
        ({"mount": {"roll_rad": -0.05}}, "camera.mount.roll_rad"),
        (
            {"calibration": {"distortion": [0.1, 0.0, 0.0, 0.0, 0.0]}},
            "camera.calibration.distortion",
        ),
    ],
)
def test_a_camera_the_renderer_cannot_draw_is_refused_by_name(
    camera_section: dict[str, object], field: str
) -> None:
    config = CameraConfig.model_validate(camera_section)
    with pytest.raises(SimError, match=field):
        CameraSpec(config)


def test_left_in_the_world_is_left_in_the_image(hall: OccupancyMap) -> None:
    cam = camera(hall)
    left = Circle(1, ObjectClass.PERSON, 8.0, 6.5, 0.25)  # +y is the chair's left
    right = Circle(2, ObjectClass.PERSON, 8.0, 3.5, 0.25)
    _, truth = cam.render(0, Pose2D(4.0, 5.0, 0.0), [left, right])
    by_id = {t.id: t for t in truth}
    centre = cam.spec.intrinsics.cx
    assert (by_id[1].box[0] + by_id[1].box[2]) / 2 < centre
    assert (by_id[2].box[0] + by_id[2].box[2]) / 2 > centre


def test_a_person_cut_off_by_the_frame_counts_as_mostly_hidden(hall: OccupancyMap) -> None:
    cam = camera(hall)
    at = Pose2D(4.0, 5.0, 0.0)
    # 1 m ahead the feet fall below the frame; 0.5 m ahead only the middle of the body is in it.
    (one_m,) = cam.render(0, at, [Circle(1, ObjectClass.PERSON, 5.25, 5.0, 0.25, 0.0, 1.7)])[1]
    (half_m,) = cam.render(0, at, [Circle(1, ObjectClass.PERSON, 4.75, 5.0, 0.25, 0.0, 1.7)])[1]
    k = cam.spec.intrinsics
    in_frame_1m = (240 - (k.cy - k.fy * 0.7 / 1.0)) / (k.fy * 1.7 / 1.0)
    assert one_m.visible_fraction == pytest.approx(in_frame_1m, abs=0.03)
    assert half_m.visible_fraction < 0.5
    assert one_m.box[3] == 239


def test_a_person_half_out_at_the_side_counts_as_half_hidden(hall: OccupancyMap) -> None:
    cam = camera(hall)
    # At 45 degrees to the left, the frame's edge, 5 m away: half of the body is out of view.
    person = Circle(
        1,
        ObjectClass.PERSON,
        4.0 + 5 * math.cos(math.pi / 4),
        5.0 + 5 * math.sin(math.pi / 4),
        0.25,
        0.0,
        1.7,
    )
    (t,) = cam.render(0, Pose2D(4.0, 5.0, 0.0), [person])[1]
    assert t.box[0] == 0
    assert t.visible_fraction == pytest.approx(0.5, abs=0.1)
