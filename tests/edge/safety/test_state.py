"""The safety state of a control period: mode, reason and limits from the watchdog and stops."""

from __future__ import annotations

import math
import typing

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from chairlink.wire.payloads import SafetyMessage
from edge.safety.arbiter import SafetyLimits, StopRequest, StopSource, arbitrate
from edge.safety.sensor_watchdog import CameraStatus, LidarStatus, SensorWatchdog
from edge.safety.state import ClosestObstacle, SafetyMode, combine
from edge.types import CameraFrame, CameraIntrinsics, DriveCommand, Pose2D, Scan

MS = 1_000_000
T0 = 10_000_000_000
OWN = SafetyLimits(1.1, 0.8)


def _watchdog(*, scan_at: int | None = T0, frames: int = 1) -> SensorWatchdog:
    watchdog = SensorWatchdog()
    if scan_at is not None:
        ranges = np.full(4, 2.0, dtype=np.float32)
        watchdog.on_scan(Scan(scan_at, 0.0, 0.1, 0.1, 10.0, ranges), scan_at)
    intrinsics = CameraIntrinsics.from_fov(8, 6, 1.0)
    for k in range(frames):
        image = np.full((6, 8, 3), k, dtype=np.uint8)
        watchdog.on_frame(CameraFrame(T0 + k, image, intrinsics, Pose2D(), 0.8), T0 + k)
    return watchdog


def test_modes_are_the_safety_message_s_states() -> None:
    field = SafetyMessage.model_fields["state"].annotation
    assert {m.value for m in SafetyMode} == set(typing.get_args(field))


def test_fresh_sensors_are_clear_under_the_chair_s_own_limits() -> None:
    closest = ClosestObstacle(4, "person", 2.5)
    state = combine(T0, _watchdog().verdict(T0), OWN, closest=closest)
    assert state.mode is SafetyMode.CLEAR
    assert state.reason == ""
    assert (state.limits.max_linear_mps, state.limits.max_angular_radps) == (1.1, 0.8)
    assert (state.lidar, state.camera) == (LidarStatus.OK, CameraStatus.OK)
    assert state.stops == ()
    assert state.active_zone is None
    assert state.clearance_m == 2.5
    assert state.closest == closest


def test_a_stale_scan_is_a_stop_with_its_reason_and_the_arbiter_stops() -> None:
    now = T0 + 400 * MS
    state = combine(now, _watchdog().verdict(now), OWN)
    assert state.mode is SafetyMode.STOP
    assert state.lidar is LidarStatus.STALE
    assert state.reason.startswith("safety stop: scan stale: none for 400 ms")
    command = arbitrate(now, state.stops, None, DriveCommand(now, 0.5, 0.0), limits=state.limits)
    assert command.stop
    assert (command.linear, command.angular) == (0.0, 0.0)
    assert "scan stale" in command.reason


def test_a_frozen_camera_is_slow_at_the_lidar_only_limit() -> None:
    watchdog = _watchdog(frames=0)
    intrinsics = CameraIntrinsics.from_fov(8, 6, 1.0)
    image = np.zeros((6, 8, 3), dtype=np.uint8)
    for k in range(watchdog.config.frozen_frames + 1):
        watchdog.on_frame(CameraFrame(T0 + k, image, intrinsics, Pose2D(), 0.8), T0 + k)
    state = combine(T0 + 10, watchdog.verdict(T0 + 10), OWN)
    assert state.mode is SafetyMode.SLOW
    assert state.camera is CameraStatus.FROZEN
    assert state.reason.startswith("camera frozen: ")
    assert state.limits.max_linear_mps == watchdog.config.lidar_only_linear_mps
    command = arbitrate(T0 + 10, state.stops, None, DriveCommand(T0, 1.0, 0.0), limits=state.limits)
    assert command.linear == watchdog.config.lidar_only_linear_mps
    assert "camera frozen" in command.reason


def test_a_stale_camera_is_slow_and_a_tighter_zone_binds_with_its_own_reason() -> None:
    verdict = _watchdog(frames=0).verdict(T0)
    state = combine(T0, verdict, OWN)
    assert state.mode is SafetyMode.SLOW
    assert state.reason == "camera stale: none received"
    zone = SafetyLimits(0.3, 0.8, "slowdown zone")
    state = combine(T0, verdict, OWN, zone_limits=zone, active_zone="slowdown")
    assert (state.limits.max_linear_mps, state.limits.max_angular_radps) == (0.3, 0.5)
    assert state.limits.reason == "camera stale: none received; slowdown zone"
    assert state.active_zone == "slowdown"


def test_a_hardware_stop_is_an_estop_and_a_remote_one_a_stop() -> None:
    verdict = _watchdog().verdict(T0)
    hardware = StopRequest(StopSource.HARDWARE, "e-stop button")
    remote = StopRequest(StopSource.REMOTE, "operator")
    assert combine(T0, verdict, OWN, [remote, hardware]).mode is SafetyMode.ESTOP
    state = combine(T0, verdict, OWN, [remote])
    assert state.mode is SafetyMode.STOP
    assert state.reason == "remote stop: operator"


def test_zone_limits_of_zero_are_a_stop() -> None:
    zone = SafetyLimits(0.0, 0.0, "stop zone")
    state = combine(T0, _watchdog().verdict(T0), OWN, zone_limits=zone, active_zone="stop")
    assert state.mode is SafetyMode.STOP
    assert state.reason == "stop zone"


_LIMIT = st.floats(-2.0, 5.0) | st.sampled_from([math.nan, math.inf, -math.inf])


@given(
    scan_age_ms=st.integers(-100, 2_000),
    frames=st.integers(0, 8),
    zone=st.none() | st.builds(SafetyLimits, _LIMIT, _LIMIT, st.just("zone")),
)
def test_the_state_is_never_clear_with_a_stale_sensor_and_its_limits_never_exceed_any(
    scan_age_ms: int, frames: int, zone: SafetyLimits | None
) -> None:
    now = T0 + 10
    watchdog = _watchdog(scan_at=now - scan_age_ms * MS, frames=frames)
    verdict = watchdog.verdict(now)
    state = combine(now, verdict, OWN, zone_limits=zone)
    if verdict.lidar is LidarStatus.STALE:
        assert state.mode is SafetyMode.STOP
        assert state.stops
    if verdict.camera is not CameraStatus.OK:
        assert state.mode is not SafetyMode.CLEAR
    for limits in (OWN, verdict.limits, zone):
        if limits is not None:
            for mine, theirs in (
                (state.limits.max_linear_mps, limits.max_linear_mps),
                (state.limits.max_angular_radps, limits.max_angular_radps),
            ):
                assert math.isfinite(mine)
                assert mine >= 0.0
                assert mine <= (theirs if math.isfinite(theirs) and theirs > 0 else 0.0)
