"""The stale-sensor watchdog: is the lidar and the camera each still telling the truth, now?

Safety never trusts a sensor that has gone quiet or stuck (docs/safety.md, docs/hazards.md
H-40). Every control period ``SensorWatchdog.verdict(now_ns)`` answers:

- no fresh scan within the scan timeout -> a stop (``StopRequest``, source ``safety``,
  reason ``"scan stale: none for X ms"``): without the lidar the collision monitor is blind;
- the camera stale (no frame within its timeout) or frozen (frames keep coming, but with the
  same pixels, or a stamp that does not increase, for ``frozen_frames`` frames in a row) ->
  lidar only, at a lower speed limit (``SafetyLimits`` with the reason ``"camera frozen: ..."``
  or ``"camera stale: ..."``): objects only the camera sees (low ones, below the scan plane) are
  missed, so the chair drives slowly enough to stop short of them at close range.

A scan stamped in the future, or not later than the last accepted one, or already older than its
timeout on arrival, is not fresh: it refreshes nothing and is counted by kind. A camera frame
stamped in the future is likewise refused and counted. Time is passed in; the stamps must be on
the clock of ``now_ns``.
"""

from __future__ import annotations

import math
import zlib
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from edge.safety.arbiter import SafetyLimits, StopRequest, StopSource
from edge.types import CameraFrame, Scan

__all__ = [
    "CameraStatus",
    "LidarStatus",
    "SensorVerdict",
    "SensorWatchdog",
    "WatchdogConfig",
    "frame_digest",
]


class LidarStatus(StrEnum):
    """Whether the safety layer has a fresh scan."""

    OK = "ok"
    STALE = "stale"


class CameraStatus(StrEnum):
    """Whether the camera's frames can be trusted."""

    OK = "ok"
    STALE = "stale"
    FROZEN = "frozen"


@dataclass(frozen=True, slots=True)
class WatchdogConfig:
    """Timeouts and the lidar-only limits; all durations in ns.

    The scan timeout is ``max(scan_periods x scan period, min_scan_timeout_ns)``, capped at
    ``max_scan_timeout_ns``, where the scan period is the last scan's own ``scan_time_s`` (or
    ``scan_period_ns`` before any scan, or when a scan gives none usable). Why:

    - it follows the lidar's own rate, so a fast lidar is not held to a slow one's slack and a
      slow one is not stopped between two of its normal scans;
    - 3 periods let one or two scans be lost (a USB hiccup, a busy core) without a stop;
    - the 0.3 s floor (six 50 ms control periods) keeps a 40 Hz lidar's jitter from stopping the
      chair on every scheduling delay; at 1.1 m/s the chair covers 0.33 m blind, within the
      collision monitor's stop zone margin;
    - the 1 s cap keeps a scan that claims a long ``scan_time_s`` from buying itself a long
      blind drive.

    ``scan_timeout_ns``, when set, replaces all of that with a fixed figure.

    The camera timeout is 0.5 s: a camera's 15-30 fps give 7-15 frames in it, and losing the
    camera only lowers the speed limit. ``frozen_frames`` (5) identical frames in a row are a
    stuck driver, not a still scene: a real sensor's pixel noise changes some byte in every
    frame (the simulator adds noise too, edge/sim/camera.py).

    The lidar-only limits, 0.5 m/s and 0.5 rad/s, are an **unsourced** pick, under half the
    1.1 m/s indoor cap: without the camera, objects below the scan plane go unseen until late
    (if at all), so the chair drives at a pace where it stops in about 0.13 m (0.5^2 / (2 x
    1.2 m/s^2) plus one 50 ms period) and where a contact carries about a fifth of the energy of
    one at 1.1 m/s; the attendant walking beside it keeps up with ease.
    """

    scan_period_ns: int = 100_000_000
    """Scan period assumed before any scan arrives, or when one gives no usable scan_time_s."""
    scan_periods: float = 3.0
    """How many scan periods may pass without a fresh scan."""
    min_scan_timeout_ns: int = 300_000_000
    """The scan timeout's floor."""
    max_scan_timeout_ns: int = 1_000_000_000
    """The scan timeout's ceiling, whatever period a scan claims."""
    scan_timeout_ns: int | None = None
    """A fixed scan timeout overriding the figure derived from the scan period."""
    camera_timeout_ns: int = 500_000_000
    """How long without a camera frame before the camera counts as stale."""
    frozen_frames: int = 5
    """Frames in a row with unchanged pixels or a non-increasing stamp that mean frozen."""
    lidar_only_linear_mps: float = 0.5
    """Speed limit while the camera is stale or frozen, m/s."""
    lidar_only_angular_radps: float = 0.5
    """Turn-rate limit while the camera is stale or frozen, rad/s."""

    def __post_init__(self) -> None:
        positive = {
            "scan_period_ns": self.scan_period_ns,
            "scan_periods": self.scan_periods,
            "min_scan_timeout_ns": self.min_scan_timeout_ns,
            "max_scan_timeout_ns": self.max_scan_timeout_ns,
            "camera_timeout_ns": self.camera_timeout_ns,
            "frozen_frames": self.frozen_frames,
            "lidar_only_linear_mps": self.lidar_only_linear_mps,
            "lidar_only_angular_radps": self.lidar_only_angular_radps,
        }
        if self.scan_timeout_ns is not None:
            positive["scan_timeout_ns"] = self.scan_timeout_ns
        for name, value in positive.items():
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"WatchdogConfig.{name} must be finite and > 0, got {value!r}")
        if self.min_scan_timeout_ns > self.max_scan_timeout_ns:
            raise ValueError(
                f"WatchdogConfig.min_scan_timeout_ns ({self.min_scan_timeout_ns}) exceeds "
                f"max_scan_timeout_ns ({self.max_scan_timeout_ns})"
            )

    def scan_timeout_for(self, scan_time_s: float | None) -> int:
        """The scan timeout, ns, for a lidar whose period is ``scan_time_s`` (None: unknown)."""
        if self.scan_timeout_ns is not None:
            return self.scan_timeout_ns
        usable = scan_time_s is not None and math.isfinite(scan_time_s) and scan_time_s > 0
        period_ns = scan_time_s * 1e9 if scan_time_s is not None and usable else self.scan_period_ns
        derived = max(self.scan_periods * period_ns, self.min_scan_timeout_ns)
        return int(min(derived, self.max_scan_timeout_ns))

    def lidar_only_limits(self, reason: str) -> SafetyLimits:
        """The lower limits of lidar-only driving, with ``reason``."""
        return SafetyLimits(self.lidar_only_linear_mps, self.lidar_only_angular_radps, reason)


@dataclass(frozen=True, slots=True)
class SensorVerdict:
    """The watchdog's answer for one control period.

    ``stop`` is set when the lidar is stale; ``limits`` when the camera is stale or frozen
    (lidar only). Both None means both sensors are fresh.
    """

    lidar: LidarStatus
    camera: CameraStatus
    stop: StopRequest | None
    limits: SafetyLimits | None
    scan_timeout_ns: int
    """The scan timeout in force."""
    scan_age_ns: int | None
    """Now minus the last fresh scan's stamp; None before any."""
    camera_age_ns: int | None
    """Now minus the arrival of the last camera frame; None before any."""


def frame_digest(image: np.ndarray) -> int:
    """A cheap digest of an image's pixels and shape (CRC-32: ~0.1 ms for 320x240x3)."""
    pixels = np.ascontiguousarray(image)
    return zlib.crc32(pixels.data, zlib.crc32(repr(pixels.shape).encode()))


def _ms(ns: int) -> str:
    return f"{ns / 1e6:.0f} ms"


class SensorWatchdog:
    """Tracks the last scan and camera frame and judges them each control period.

    Feed it every scan (``on_scan``) and frame (``on_frame``) with the time it arrived, and ask
    ``verdict(now_ns)`` each period. ``rejected`` counts what was refused, by kind: ``"scan
    future"``, ``"scan backwards"`` (stamp not after the last accepted one), ``"scan late"``
    (older than its timeout on arrival), ``"camera future"``, ``"camera repeated"`` (same
    pixels or a non-increasing stamp).
    """

    def __init__(self, config: WatchdogConfig = WatchdogConfig()) -> None:
        """A watchdog that has seen nothing yet: its first verdict is a stop."""
        self.config = config
        self.rejected: Counter[str] = Counter()
        self._scan_stamp_ns: int | None = None
        self._scan_arrival_ns: int | None = None
        self._scan_time_s: float | None = None
        self._frame_stamp_ns: int | None = None
        self._frame_arrival_ns: int | None = None
        self._frame_digest: int | None = None
        self._repeats = 0
        self._repeat_why = ""

    def on_scan(self, scan: Scan, now_ns: int) -> bool:
        """Take ``scan``, arrived at ``now_ns``; True when it counts as fresh."""
        timeout_ns = self.config.scan_timeout_for(scan.scan_time_s)
        if scan.stamp_ns > now_ns:
            # A stamp from the future would keep the lidar "fresh" for as long as it is ahead.
            self.rejected["scan future"] += 1
            return False
        if self._scan_stamp_ns is not None and scan.stamp_ns <= self._scan_stamp_ns:
            self.rejected["scan backwards"] += 1
            return False
        if now_ns - scan.stamp_ns > timeout_ns:
            self.rejected["scan late"] += 1
            return False
        self._scan_stamp_ns = scan.stamp_ns
        self._scan_arrival_ns = now_ns
        self._scan_time_s = scan.scan_time_s
        return True

    def on_frame(self, frame: CameraFrame, now_ns: int) -> bool:
        """Take ``frame``, arrived at ``now_ns``; True when it shows something new."""
        if frame.stamp_ns > now_ns:
            self.rejected["camera future"] += 1
            return False
        digest = frame_digest(frame.image)
        # A frame arriving at all keeps the camera from being stale; whether it is frozen is
        # a separate question, answered by the run of repeats.
        self._frame_arrival_ns = now_ns
        stamp_stuck = self._frame_stamp_ns is not None and frame.stamp_ns <= self._frame_stamp_ns
        same_pixels = digest == self._frame_digest
        self._frame_digest = digest
        if stamp_stuck or same_pixels:
            self.rejected["camera repeated"] += 1
            self._repeats += 1
            self._repeat_why = "identical frames" if same_pixels else "stamp not increasing"
            return False
        self._frame_stamp_ns = frame.stamp_ns
        self._repeats = 0
        return True

    def verdict(self, now_ns: int) -> SensorVerdict:
        """The sensors' state for the control period at ``now_ns``."""
        config = self.config
        scan_timeout_ns = config.scan_timeout_for(self._scan_time_s)
        stop: StopRequest | None = None
        scan_age_ns: int | None = None
        if self._scan_stamp_ns is None:
            stop = StopRequest(StopSource.SAFETY, "scan stale: none received")
        else:
            scan_age_ns = now_ns - self._scan_stamp_ns
            if scan_age_ns < 0:
                # now went back before the scan: a clock fault, and no ground for trust.
                stop = StopRequest(
                    StopSource.SAFETY, f"scan stale: stamped {_ms(-scan_age_ns)} after now"
                )
            elif scan_age_ns > scan_timeout_ns:
                stop = StopRequest(StopSource.SAFETY, f"scan stale: none for {_ms(scan_age_ns)}")
        camera, limits, camera_age_ns = self._camera(now_ns)
        return SensorVerdict(
            lidar=LidarStatus.OK if stop is None else LidarStatus.STALE,
            camera=camera,
            stop=stop,
            limits=limits,
            scan_timeout_ns=scan_timeout_ns,
            scan_age_ns=scan_age_ns,
            camera_age_ns=camera_age_ns,
        )

    def _camera(self, now_ns: int) -> tuple[CameraStatus, SafetyLimits | None, int | None]:
        config = self.config
        if self._frame_arrival_ns is None:
            reason = "camera stale: none received"
            return CameraStatus.STALE, config.lidar_only_limits(reason), None
        age_ns = now_ns - self._frame_arrival_ns
        if age_ns < 0:
            reason = f"camera stale: last frame arrived {_ms(-age_ns)} after now"
            return CameraStatus.STALE, config.lidar_only_limits(reason), age_ns
        if age_ns > config.camera_timeout_ns:
            reason = f"camera stale: none for {_ms(age_ns)}"
            return CameraStatus.STALE, config.lidar_only_limits(reason), age_ns
        if self._repeats >= config.frozen_frames:
            reason = f"camera frozen: {self._repeats} {self._repeat_why} in a row"
            return CameraStatus.FROZEN, config.lidar_only_limits(reason), age_ns
        return CameraStatus.OK, None, age_ns
