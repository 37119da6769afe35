"""The core value types every part of the chair speaks: SI units, time in integer nanoseconds.

ROS conversions map each to its message; the simulator, bag replay and the nodes all produce
and consume these.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from chairlink.geometry import CameraCalibration

__all__ = [
    "CameraFrame",
    "CameraIntrinsics",
    "ChairStatus",
    "DriveCommand",
    "MotorLink",
    "Odometry",
    "Perfusion",
    "Pose2D",
    "Scan",
    "Tilt",
    "Vitals",
]


@dataclass(frozen=True, slots=True)
class Pose2D:
    """A pose in the plane: metres and radians, counter-clockwise from +x."""

    x: float = 0.0
    y: float = 0.0
    yaw: float = 0.0

    def compose(self, other: Pose2D) -> Pose2D:
        """This pose followed by ``other`` expressed in this pose's frame."""
        c, s = math.cos(self.yaw), math.sin(self.yaw)
        return Pose2D(
            self.x + c * other.x - s * other.y,
            self.y + s * other.x + c * other.y,
            math.atan2(math.sin(self.yaw + other.yaw), math.cos(self.yaw + other.yaw)),
        )


@dataclass(frozen=True, eq=False)
class Scan:
    """A planar range scan, as sensor_msgs/LaserScan carries it (REP 117 for special values).

    ``ranges[i]`` is the range along ``angle_min + i * angle_increment`` in the sensor frame:
    +inf when nothing is within ``range_max``, NaN for a beam that returned nothing usable.
    """

    stamp_ns: int
    angle_min: float
    angle_increment: float
    range_min: float
    range_max: float
    ranges: NDArray[np.float32]
    frame_id: str = "laser"
    scan_time_s: float = 0.1

    @property
    def angles(self) -> NDArray[np.float64]:
        """The angle of each beam, radians."""
        return np.asarray(
            self.angle_min + self.angle_increment * np.arange(len(self.ranges)), dtype=np.float64
        )

    def points(self) -> NDArray[np.float64]:
        """The valid returns as (N, 2) x, y in the sensor frame."""
        ranges = self.ranges.astype(np.float64)
        valid = np.isfinite(ranges) & (ranges >= self.range_min) & (ranges <= self.range_max)
        angles = self.angles[valid]
        return np.column_stack((ranges[valid] * np.cos(angles), ranges[valid] * np.sin(angles)))


@dataclass(frozen=True, slots=True)
class Odometry:
    """Dead-reckoned pose in the odometry frame and body velocity, as nav_msgs/Odometry."""

    stamp_ns: int
    pose: Pose2D
    linear_mps: float
    angular_radps: float


@dataclass(frozen=True, slots=True)
class DriveCommand:
    """A body velocity to drive at, as geometry_msgs/TwistStamped on /cmd_vel."""

    stamp_ns: int
    linear_mps: float
    angular_radps: float

    @staticmethod
    def stop(stamp_ns: int) -> DriveCommand:
        """Zero velocity."""
        return DriveCommand(stamp_ns, 0.0, 0.0)


@dataclass(frozen=True, slots=True)
class CameraIntrinsics:
    """A pinhole camera without distortion, as sensor_msgs/CameraInfo's K (pixels)."""

    width: int
    height: int
    fx: float
    fy: float
    cx: float
    cy: float

    @staticmethod
    def from_fov(width: int, height: int, horizontal_fov_rad: float) -> CameraIntrinsics:
        """Square pixels, principal point at the centre, the given horizontal field of view."""
        f = (width / 2.0) / math.tan(horizontal_fov_rad / 2.0)
        return CameraIntrinsics(width, height, f, f, (width - 1) / 2.0, (height - 1) / 2.0)

    @staticmethod
    def from_calibration(calibration: CameraCalibration) -> CameraIntrinsics:
        """The pinhole part of a chair.yaml calibration (its distortion is not carried)."""
        c = calibration
        return CameraIntrinsics(c.width, c.height, c.fx, c.fy, c.cx, c.cy)


@dataclass(frozen=True, eq=False)
class CameraFrame:
    """An RGB image (H x W x 3, uint8) with its intrinsics and where the camera sits on the chair.

    ``mount`` is the camera's pose on the chair's base_link (x forward, y left, yaw), at
    ``height_m`` above the floor, looking level along its yaw.
    """

    stamp_ns: int
    image: NDArray[np.uint8]
    intrinsics: CameraIntrinsics
    mount: Pose2D
    height_m: float
    frame_id: str = "camera"


@dataclass(frozen=True, slots=True)
class ChairStatus:
    """The chair's own state as its MCU reports it (battery, arming, seat, faults).

    ``current_a`` is positive while discharging; ``faults`` holds the MCU's fault bits
    (docs/firmware-protocol.md). Values the simulator or a bag may lack default to unknown.
    """

    stamp_ns: int
    battery_v: float
    current_a: float
    soc: float
    armed: bool
    estop: bool
    faults: int
    seat_occupied: bool
    belt_closed: bool
    motion_refused: bool
    joystick_override: bool
    configured: bool = True
    """The MCU holds its configuration from the host (limits, wheels, timeouts)."""
    braking: bool = False
    motor_temperature_left_c: float = math.nan
    motor_temperature_right_c: float = math.nan
    joystick_x: float = 0.0
    """The attendant's joystick, -1 to 1 (right positive)."""
    joystick_y: float = 0.0
    """The attendant's joystick, -1 to 1 (forward positive)."""
    seat_load_kg: float = math.nan


@dataclass(frozen=True, slots=True)
class MotorLink:
    """The host's counters of its serial link to the motor MCU (ChairStatus, /diagnostics)."""

    connected: bool
    link_up: bool
    frames_received: int = 0
    frames_sent: int = 0
    crc_errors: int = 0
    resyncs: int = 0
    frames_dropped: int = 0
    reconnects: int = 0
    link_timeouts: int = 0
    ack_timeouts: int = 0
    rtt_p99_ms: float = math.nan
    last_error: str = ""


class Perfusion(IntEnum):
    """Pulse oximeter perfusion, as the DF2 status byte reports it."""

    UNKNOWN = 0
    GOOD = 1
    MARGINAL = 2
    LOW = 3


@dataclass(frozen=True, slots=True)
class Vitals:
    """The patient's vitals from the chair's pulse oximeter; NaN where no valid reading.

    The patient is a pseudonymous token, never a name or record number.
    """

    stamp_ns: int
    patient_token: str
    spo2_pct: float
    pulse_bpm: float
    perfusion: Perfusion
    probe_off: bool
    """The sensor is disconnected or the finger is out of it."""
    artifact: bool = False
    """A doubtful beat: the numbers stand, but may be off."""
    out_of_track: bool = False
    """No consecutive good pulses: the device gives no numbers."""
    stale: bool = False
    """Nothing valid has come from the device for too long: cable pulled, device off."""
    doubtful: bool = False
    """The device's last reading arrived corrupted (its copies disagreed): no numbers."""


@dataclass(frozen=True, slots=True)
class Tilt:
    """The chair's tilt from its IMU: roll and pitch (radians, nose-up pitch positive)."""

    stamp_ns: int
    roll_rad: float
    pitch_rad: float
