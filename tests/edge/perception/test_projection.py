"""Camera geometry for fusion: points into the image (REP-103), boxes back onto the floor."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from chairlink.geometry import CameraConfig
from chairlink.site import FREE, OCCUPIED, OccupancyMap
from edge.perception.projection import box_ground_point, camera_rotation, points_in_box, project
from edge.rosbag.transforms import OPTICAL_ROTATION, quaternion_from_rpy
from edge.sim.camera import CameraSimulator, CameraSpec
from edge.sim.shapes import Circle, ObjectClass
from edge.types import Pose2D

STOCK = CameraConfig()  # x 0.80, z 1.0, level; 320 x 240, fx = fy = 160, (159.5, 119.5)


def camera(**mount: float) -> CameraConfig:
    """The stock calibration at ``mount`` (chair.yaml's camera.mount fields)."""
    return CameraConfig.model_validate({"mount": {"x_m": 0.8, "z_m": 1.0, **mount}})


def test_a_point_on_the_optical_axis_lands_on_the_principal_point() -> None:
    p = project([[5.8, 0.0, 1.0]], STOCK)
    assert p.uv[0] == pytest.approx([159.5, 119.5])
    assert p.depth[0] == pytest.approx(5.0)
    assert p.in_view[0]


@pytest.mark.parametrize(
    ("point", "du", "dv"),
    [
        ((4.8, 1.0, 1.0), -40.0, 0.0),  # left (+y) is left in the image (u smaller)
        ((4.8, -1.0, 1.0), 40.0, 0.0),  # right
        ((4.8, 0.0, 2.0), 0.0, -40.0),  # up (+z) is up in the image (v smaller)
        ((4.8, 0.0, 0.0), 0.0, 40.0),  # down
    ],
)
def test_rep103_signs(point: tuple[float, float, float], du: float, dv: float) -> None:
    # 4 m ahead of the lens, 1 m aside: 160 px * 1 / 4 = 40 px from the centre.
    p = project([point], STOCK)
    assert p.uv[0] == pytest.approx([159.5 + du, 119.5 + dv])
    assert p.in_view[0]


def test_points_behind_at_and_outside_the_frame_are_out_of_view() -> None:
    p = project(
        [
            [0.0, 0.0, 1.0],  # behind the lens (the lens is at x 0.8)
            [0.8, 0.0, 1.0],  # at the lens
            [1.8, 5.0, 1.0],  # 1 m ahead, 5 m left: far outside 90 degrees
            [1.8, 0.0, -5.0],  # far below the frame
            [math.nan, 0.0, 1.0],
        ],
        STOCK,
    )
    assert not p.in_view.any()
    assert np.isnan(p.uv[:2]).all()


def test_a_yawed_and_pitched_mount_turns_the_view() -> None:
    left = camera(yaw_rad=math.pi / 2)  # looking along +y
    assert project([[0.8, 5.0, 1.0]], left).uv[0] == pytest.approx([159.5, 119.5])
    down = camera(pitch_rad=math.atan2(1.0, 2.0))  # axis meets the floor 2 m ahead of the lens
    assert project([[2.8, 0.0, 0.0]], down).uv[0] == pytest.approx([159.5, 119.5])


def _matrix(q: tuple[float, float, float, float]) -> NDArray[np.float64]:
    x, y, z, w = q
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


def test_the_rotation_is_the_one_tf_static_publishes() -> None:
    mount = camera(roll_rad=0.1, pitch_rad=0.3, yaw_rad=-0.4).mount
    body = _matrix(quaternion_from_rpy(mount.roll_rad, mount.pitch_rad, mount.yaw_rad))
    o = OPTICAL_ROTATION
    optical = _matrix(quaternion_from_rpy(o.roll_rad, o.pitch_rad, o.yaw_rad))
    config = CameraConfig(mount=mount)
    assert camera_rotation(config) == pytest.approx(body @ optical, abs=1e-12)


def test_distortion_is_refused_by_name() -> None:
    distorted = CameraConfig.model_validate(
        {"calibration": {"distortion": [0.1, 0.0, 0.0, 0.0, 0.0]}}
    )
    with pytest.raises(ValueError, match="distortion"):
        project([[5.0, 0.0, 1.0]], distorted)
    with pytest.raises(ValueError, match="distortion"):
        box_ground_point((150.0, 100.0, 170.0, 200.0), distorted)


def test_bad_shapes_and_boxes_are_refused() -> None:
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        project([[1.0, 2.0]], STOCK)
    p = project([[5.8, 0.0, 1.0]], STOCK)
    with pytest.raises(ValueError, match="box"):
        points_in_box(p.uv, p.in_view, (10.0, 10.0, 5.0, 20.0))


def test_points_in_box_picks_the_points_inside() -> None:
    p = project(
        [
            [5.8, 0.0, 1.0],  # centre
            [4.8, 1.0, 1.0],  # u 119.5
            [4.8, -1.0, 1.0],  # u 199.5
            [0.0, 0.0, 1.0],  # behind: NaN pixel, never inside
        ],
        STOCK,
    )
    mask = points_in_box(p.uv, p.in_view, (100.0, 100.0, 170.0, 140.0))
    assert mask.tolist() == [True, True, False, False]


@pytest.mark.parametrize(
    "mount",
    [{}, {"pitch_rad": 0.2}, {"yaw_rad": 0.3, "y_m": -0.2}, {"roll_rad": 0.05, "pitch_rad": 0.1}],
)
@pytest.mark.parametrize("floor", [(3.0, 0.0), (4.5, 0.8), (2.6, -0.4)])
def test_a_floor_point_comes_back_from_its_pixel(
    mount: dict[str, float], floor: tuple[float, float]
) -> None:
    config = camera(**mount)
    p = project([[floor[0], floor[1], 0.0]], config)
    assert p.in_view[0]
    u, v = p.uv[0]
    ground = box_ground_point((u - 10.0, v - 50.0, u + 10.0, v), config)
    assert ground.xy == pytest.approx(floor, abs=0.01)
    assert ground.range_m == pytest.approx(math.hypot(*floor), abs=0.01)
    assert not ground.clipped


def test_a_level_camera_sees_the_floor_only_from_a_distance() -> None:
    # The bottom row's lower edge, 120 px below the centre: 1 / (120 / 160) ahead of the lens.
    ground = box_ground_point((149.5, 150.0, 169.5, 239.5), STOCK)
    assert ground.clipped
    assert ground.xy == pytest.approx((0.8 + 1 / 0.75, 0.0))


@pytest.mark.parametrize("bottom", [119.5, 100.0])
def test_a_box_that_does_not_come_down_to_the_floor_gives_the_lens(bottom: float) -> None:
    ground = box_ground_point((150.0, 20.0, 170.0, bottom), STOCK)
    assert ground.xy is None
    assert ground.range_m == pytest.approx(0.8)  # nothing rules out the object at the lens


def test_an_overhang_is_placed_no_farther_than_it_is() -> None:
    # A shelf's underside 0.7 m up, 3 m ahead of the lens: the ray under it meets the floor
    # beyond it, so the camera-only range errs near, never far.
    shelf = project([[3.8, 0.0, 0.7]], STOCK).uv[0]
    ground = box_ground_point((shelf[0] - 20, shelf[1] - 30, shelf[0] + 20, shelf[1]), STOCK)
    assert ground.xy is not None
    assert ground.range_m > 3.8


def test_the_simulator_draws_where_projection_puts_it() -> None:
    res = 0.05
    cells = np.full((round(10 / res), round(20 / res)), FREE, dtype=np.int8)
    cells[0, :] = cells[-1, :] = OCCUPIED
    cells[:, 0] = cells[:, -1] = OCCUPIED
    spec = CameraSpec(STOCK, noise_sigma=0.0, gain_sigma=0.0)
    sim = CameraSimulator(spec, OccupancyMap(cells, res), np.random.default_rng(0))
    chair = Pose2D(4.0, 5.0, 0.0)
    # A pole 4 m ahead of base_link, 0.3 m left; its near face is at x 3.95.
    pole = Circle(1, ObjectClass.POLE, 8.0, 5.3, 0.05, 0.0, 1.5)
    _, (truth,) = sim.render(0, chair, [pole])
    u0, v0, u1, v1 = truth.box
    near = project([[3.95, 0.3, 1.5], [3.95, 0.3, 0.0]], STOCK)
    assert near.in_view.all()
    assert near.uv[0, 0] == pytest.approx((u0 + u1) / 2, abs=1.0)
    assert near.uv[0, 1] == pytest.approx(v0, abs=1.0)
    assert near.uv[1, 1] == pytest.approx(v1, abs=1.0)
    # The simulator's box (inclusive pixel indices) back onto the floor: the pole's near face.
    ground = box_ground_point((u0 - 0.5, v0 - 0.5, u1 + 0.5, v1 + 0.5), STOCK)
    assert ground.xy is not None
    assert ground.xy[0] == pytest.approx(3.95, abs=0.1)
    assert ground.xy[1] == pytest.approx(0.3, abs=0.05)


coordinate = st.floats(-50.0, 50.0, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(coordinate, coordinate, coordinate), min_size=1, max_size=20),
    st.floats(-0.5, 0.5),
    st.floats(-math.pi, math.pi),
)
def test_in_view_points_have_finite_pixels_inside_the_image(
    points: list[tuple[float, float, float]], pitch: float, yaw: float
) -> None:
    config = camera(pitch_rad=pitch, yaw_rad=yaw)
    p = project(points, config)
    uv = p.uv[p.in_view]
    assert np.isfinite(uv).all()
    assert (uv[:, 0] >= -0.5).all()
    assert (uv[:, 0] < 319.5).all()
    assert (uv[:, 1] >= -0.5).all()
    assert (uv[:, 1] < 239.5).all()
    assert (p.depth[p.in_view] > 0).all()
