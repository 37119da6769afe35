"""The chair's body and sensors in chair.yaml: footprint, lidar and camera, around base_link.

Frames follow REP-103 and REP-105: base_link at the centre of the drive axle on the floor, x
forward, y left, z up; angles in radians. These sections are the one home of the chair's
geometry: the simulator renders with them, the models' data set is made with them, the ROS
nodes publish them as tf_static and camera_info, and replay falls back on them where a bag has
no /tf_static or camera_info. The stock values are the simulated chair's (docs/simulation.md):
a 1.2 m x 0.7 m chair, a 360-degree lidar at 0.5 degrees 0.30 m up (the RPLidar class on a
TurtleBot 4, low enough to see legs) and a 90-degree camera 1.0 m up at the front.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "CameraCalibration",
    "CameraConfig",
    "FootprintConfig",
    "LidarConfig",
    "Mount",
    "point_in_polygon",
]

Finite = Annotated[float, Field(allow_inf_nan=False)]
Angle = Annotated[float, Field(ge=-math.pi, le=math.pi, allow_inf_nan=False)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)


def point_in_polygon(x: float, y: float, polygon: tuple[tuple[float, float], ...]) -> bool:
    """Whether (x, y) lies strictly inside a simple polygon (even-odd rule)."""
    inside = False
    for (x0, y0), (x1, y1) in zip(polygon, polygon[1:] + polygon[:1], strict=True):
        if (y0 > y) != (y1 > y) and x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
            inside = not inside
    return inside


def _cross(o: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def _segments_cross(
    p: tuple[float, float], q: tuple[float, float], r: tuple[float, float], s: tuple[float, float]
) -> bool:
    d1, d2 = _cross(r, s, p), _cross(r, s, q)
    d3, d4 = _cross(p, q, r), _cross(p, q, s)
    return (d1 > 0) != (d2 > 0) and (d3 > 0) != (d4 > 0) and 0 not in (d1, d2, d3, d4)


class FootprintConfig(_Frozen):
    """The chair's outline seen from above, a simple polygon around base_link (m)."""

    polygon: tuple[tuple[Finite, Finite], ...] = (
        (0.85, 0.35),
        (-0.35, 0.35),
        (-0.35, -0.35),
        (0.85, -0.35),
    )
    """Corners in base_link, in order (either direction); the stock chair is 1.2 m x 0.7 m,
    reaching 0.85 m ahead of the drive axle (footrests) and 0.35 m behind it."""

    @field_validator("polygon", mode="before")
    @classmethod
    def _parse_nav2_string(cls, value: object) -> object:
        # Nav2's footprint parameter is the polygon as a string, "[[x, y], ...]"; ROS params
        # cannot carry an array of arrays otherwise.
        if isinstance(value, str):
            try:
                return yaml.safe_load(value)
            except yaml.YAMLError as err:
                raise ValueError(
                    f"not a polygon in Nav2's '[[x, y], ...]' form: {value!r}"
                ) from err
        return value

    @model_validator(mode="after")
    def _check_polygon(self) -> FootprintConfig:
        corners = self.polygon
        if len(corners) < 3:
            raise ValueError(f"a footprint needs at least 3 corners, got {len(corners)}")
        edges = list(zip(corners, corners[1:] + corners[:1], strict=True))
        for i, (p, q) in enumerate(edges):
            if math.dist(p, q) < 1e-3:
                raise ValueError(f"corners {i} and {(i + 1) % len(corners)} coincide")
            for j in range(i + 2, len(edges)):
                if i == 0 and j == len(edges) - 1:
                    continue  # neighbours through the closing edge
                if _segments_cross(p, q, *edges[j]):
                    raise ValueError(f"edges {i} and {j} cross: the polygon is not simple")
        if not point_in_polygon(0.0, 0.0, corners):
            raise ValueError("base_link (0, 0) must lie inside the footprint")
        return self

    @property
    def circumradius_m(self) -> float:
        """Distance from base_link to the farthest corner."""
        return max(math.hypot(x, y) for x, y in self.polygon)


class Mount(_Frozen):
    """Where a sensor sits on the chair: its frame's pose in base_link (m, rad; roll, pitch and
    yaw about x, y and z, applied as in tf2's setRPY)."""

    x_m: Annotated[float, Field(ge=-2, le=2, allow_inf_nan=False)] = 0.0
    """Forward of base_link, m."""

    y_m: Annotated[float, Field(ge=-2, le=2, allow_inf_nan=False)] = 0.0
    """Left of base_link, m."""

    z_m: Annotated[float, Field(ge=0, le=3, allow_inf_nan=False)] = 0.0
    """Above the floor, m."""

    roll_rad: Angle = 0.0
    """Roll about x, rad."""

    pitch_rad: Angle = 0.0
    """Pitch about y, rad (positive tilts the sensor's x axis down, toward the floor)."""

    yaw_rad: Angle = 0.0
    """Yaw about z, rad (positive turns the sensor to the left)."""


class LidarConfig(_Frozen):
    """The planar lidar: its mount and beam layout (sensor_msgs/LaserScan's fields)."""

    frame_id: str = Field(default="laser", min_length=1)
    """Frame of the scans (the LaserScan's header.frame_id, child of base_link on tf_static)."""

    mount: Mount = Mount(x_m=0.25, z_m=0.30)
    """Pose of the scan plane's origin in base_link; a planar scanner is mounted level."""

    beams: Annotated[int, Field(ge=16, le=8192)] = 720
    """Beams per scan."""

    angle_min_rad: Angle = -math.pi
    """Angle of the first beam in the lidar's frame, rad."""

    fov_rad: Annotated[float, Field(gt=0, le=2 * math.pi, allow_inf_nan=False)] = 2 * math.pi
    """Angle the beams span (beams times the angle increment), rad."""

    range_min_m: Annotated[float, Field(ge=0, le=5, allow_inf_nan=False)] = 0.15
    """Nearest range the sensor measures, m."""

    range_max_m: Annotated[float, Field(gt=0, le=100, allow_inf_nan=False)] = 12.0
    """Farthest range the sensor measures, m."""

    rate_hz: Annotated[float, Field(ge=1, le=50)] = 10.0
    """Scans per second."""

    @model_validator(mode="after")
    def _check(self) -> LidarConfig:
        if self.mount.roll_rad != 0.0 or self.mount.pitch_rad != 0.0:
            raise ValueError("mount: a planar lidar is mounted level (roll_rad and pitch_rad 0)")
        if self.range_min_m >= self.range_max_m:
            raise ValueError(
                f"range_min_m {self.range_min_m} must be below range_max_m {self.range_max_m}"
            )
        return self

    @property
    def angle_increment_rad(self) -> float:
        """Angle between neighbouring beams, rad."""
        return self.fov_rad / self.beams


_DISTORTION_COEFFICIENTS = {"plumb_bob": 5, "rational_polynomial": 8, "equidistant": 4}


class CameraCalibration(_Frozen):
    """A camera's intrinsic calibration, as sensor_msgs/CameraInfo carries it (pixels)."""

    width: Annotated[int, Field(ge=16, le=8192)] = 320
    """Image width, px."""

    height: Annotated[int, Field(ge=16, le=8192)] = 240
    """Image height, px."""

    fx: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 160.0
    """Focal length along x, px (160 gives 320 px a 90-degree field of view)."""

    fy: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 160.0
    """Focal length along y, px."""

    cx: Finite = 159.5
    """Principal point, x, px (the centre of a 320 px row)."""

    cy: Finite = 119.5
    """Principal point, y, px."""

    distortion_model: Literal["plumb_bob", "rational_polynomial", "equidistant"] = "plumb_bob"
    """Distortion model, as CameraInfo's distortion_model."""

    distortion: tuple[Finite, ...] = (0.0, 0.0, 0.0, 0.0, 0.0)
    """Distortion coefficients (CameraInfo's D): 5 for plumb_bob, 8 for rational_polynomial,
    4 for equidistant."""

    @model_validator(mode="after")
    def _check(self) -> CameraCalibration:
        if not (0 <= self.cx <= self.width and 0 <= self.cy <= self.height):
            raise ValueError(
                f"principal point ({self.cx}, {self.cy}) lies outside the "
                f"{self.width} x {self.height} image"
            )
        expected = _DISTORTION_COEFFICIENTS[self.distortion_model]
        if len(self.distortion) != expected:
            raise ValueError(
                f"distortion: {self.distortion_model} takes {expected} coefficients, "
                f"got {len(self.distortion)}"
            )
        return self

    @property
    def horizontal_fov_rad(self) -> float:
        """Horizontal field of view of the pinhole model, rad."""
        return 2.0 * math.atan2(self.width / 2.0, self.fx)


class CameraConfig(_Frozen):
    """The forward camera: its mount and calibration (a chair's driver may publish its own
    camera_info, which perception then prefers; this one is the fallback and the simulator's)."""

    frame_id: str = Field(default="camera", min_length=1)
    """The camera body's frame, child of base_link on tf_static (x forward, as the mount)."""

    optical_frame_id: str = Field(default="camera_optical", min_length=1)
    """Frame of the images and camera_info: z forward, x right, y down (REP-103's optical
    frame), child of frame_id by a fixed rotation."""

    mount: Mount = Mount(x_m=0.80, z_m=1.0)
    """Pose of the camera in base_link (the simulator renders a level camera: pitch 0 there)."""

    calibration: CameraCalibration = CameraCalibration()
    """Intrinsic calibration."""

    rate_hz: Annotated[float, Field(ge=1, le=120)] = 15.0
    """Frames per second."""
