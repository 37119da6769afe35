"""The chair's geometry sections of chair.yaml: stock defaults, validation, ROS parameters."""

from __future__ import annotations

import array
import math
from pathlib import Path

import pytest

from chairlink.config import ChairConfig, load_chair_config
from chairlink.errors import ConfigError
from chairlink.geometry import CameraCalibration, FootprintConfig, point_in_polygon
from chairlink.ros_params import flatten, validate_parameters

REPO = Path(__file__).resolve().parents[2]


def test_shipped_chair_yaml_spells_out_the_stock_geometry() -> None:
    shipped = load_chair_config(REPO / "configs" / "chair.yaml")
    stock = ChairConfig()
    assert (shipped.footprint, shipped.lidar, shipped.camera) == (
        stock.footprint,
        stock.lidar,
        stock.camera,
    )


def test_stock_geometry_is_the_simulated_chair() -> None:
    config = ChairConfig()
    assert config.footprint.circumradius_m == pytest.approx(math.hypot(0.85, 0.35))
    assert config.lidar.beams == 720
    assert config.lidar.angle_increment_rad == pytest.approx(math.radians(0.5))
    assert config.camera.calibration.horizontal_fov_rad == pytest.approx(math.radians(90))


@pytest.mark.parametrize(
    ("polygon", "reason"),
    [
        ([[0, 0], [1, 0]], "at least 3 corners"),
        ([[1, 1], [-1, -1], [1, -1], [-1, 1]], "not simple"),
        ([[1, 1], [2, 1], [2, 2]], "base_link (0, 0) must lie inside"),
        ([[1, 1], [1, 1], [-1, -1], [1, -1]], "coincide"),
        ("[[1, 1], [oops", "Nav2"),
    ],
)
def test_a_bad_footprint_is_refused_with_the_reason(polygon: object, reason: str) -> None:
    with pytest.raises(ConfigError, match="footprint") as caught:
        load_chair_config(None, footprint={"polygon": polygon})
    assert reason in str(caught.value)


def test_nav2_footprint_string_is_the_same_polygon() -> None:
    given = FootprintConfig.model_validate({"polygon": "[[0.5, 0.3], [-0.3, 0.3], [-0.3, -0.3]]"})
    assert given.polygon == ((0.5, 0.3), (-0.3, 0.3), (-0.3, -0.3))


def test_point_in_polygon_either_winding() -> None:
    square = ((1.0, 1.0), (-1.0, 1.0), (-1.0, -1.0), (1.0, -1.0))
    assert point_in_polygon(0.0, 0.0, square)
    assert point_in_polygon(0.0, 0.0, square[::-1])
    assert not point_in_polygon(1.5, 0.0, square)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"cx": 400.0}, "outside"),
        ({"distortion": (0.1, 0.0)}, "plumb_bob takes 5"),
        ({"distortion_model": "equidistant"}, "equidistant takes 4"),
    ],
)
def test_a_bad_calibration_is_refused(changes: dict[str, object], reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        CameraCalibration.model_validate(changes)


def test_a_tilted_lidar_and_crossed_ranges_are_refused() -> None:
    with pytest.raises(ConfigError, match="mounted level"):
        load_chair_config(None, lidar={"mount": {"pitch_rad": 0.1}})
    with pytest.raises(ConfigError, match="range_min_m"):
        load_chair_config(None, lidar={"range_min_m": 5.0, "range_max_m": 4.0})


def test_geometry_round_trips_through_ros_parameters() -> None:
    config = ChairConfig.model_validate(
        {
            "footprint": {"polygon": [[0.9, 0.4], [-0.4, 0.4], [-0.4, -0.4], [0.9, -0.4]]},
            "camera": {"calibration": {"distortion": [0.1, -0.2, 0.0, 0.0, 0.01]}},
        }
    )
    values = flatten(config)
    assert isinstance(values["footprint.polygon"], str)
    distortion = values["camera.calibration.distortion"]
    assert isinstance(distortion, list)
    # rclpy hands double arrays back as array.array.
    given: dict[str, object] = {
        **values,
        "camera.calibration.distortion": array.array("d", distortion),
    }
    assert validate_parameters(given) == config  # type: ignore[arg-type]
