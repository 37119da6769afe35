"""The stale-sensor watchdog: stale scans stop, a stale or frozen camera means lidar only."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.safety.arbiter import StopSource
from edge.safety.sensor_watchdog import (
    CameraStatus,
    LidarStatus,
    SensorWatchdog,
    WatchdogConfig,
)
from edge.stack import CONTROL_PERIOD_NS
from edge.types import CameraFrame, CameraIntrinsics, Pose2D, Scan

MS = 1_000_000
T0 = 10_000_000_000
INTRINSICS = CameraIntrinsics.from_fov(32, 24, 1.2)


def scan(stamp_ns: int, scan_time_s: float = 0.1) -> Scan:
    """A small scan stamped ``stamp_ns``."""
    ranges = np.full(8, 3.0, dtype=np.float32)
    return Scan(stamp_ns, -1.0, 0.25, 0.1, 10.0, ranges, scan_time_s=scan_time_s)


def frame(stamp_ns: int, seed: int) -> CameraFrame:
    """A small frame whose pixels depend on ``seed`` only."""
    image = np.random.default_rng(seed).integers(0, 256, (24, 32, 3), dtype=np.uint8)
    return CameraFrame(stamp_ns, image, INTRINSICS, Pose2D(0.3, 0.0, 0.0), 0.8)


def fed(until_ns: int, *, scans: bool = True, frames: bool = True) -> SensorWatchdog:
    """A watchdog fed a 10 Hz lidar and a 20 fps camera, fresh and changing, up to ``until_ns``."""
    watchdog = SensorWatchdog()
    for k, t in enumerate(range(T0 - 1_000 * MS, until_ns + 1, 50 * MS)):
        if scans and k % 2 == 0:
            watchdog.on_scan(scan(t), t + 5 * MS)
        if frames:
            watchdog.on_frame(frame(t, k), t + 5 * MS)
    return watchdog


def test_fresh_sensors_give_no_stop_and_no_limit() -> None:
    verdict = fed(T0).verdict(T0 + 10 * MS)
    assert (verdict.lidar, verdict.camera) == (LidarStatus.OK, CameraStatus.OK)
    assert verdict.stop is None
    assert verdict.limits is None


def test_a_stale_scan_stops_the_chair_within_one_control_period_of_its_timeout() -> None:
    watchdog = fed(T0)
    last_scan = T0  # fed() sends a scan every 100 ms from T0 - 1 s, so the last at T0
    timeout = watchdog.verdict(T0).scan_timeout_ns
    assert timeout == 300 * MS
    now = T0
    while (verdict := watchdog.verdict(now)).stop is None:
        watchdog.on_frame(frame(now, now // MS), now)
        now += CONTROL_PERIOD_NS
    assert now <= last_scan + timeout + CONTROL_PERIOD_NS
    assert now - last_scan > timeout
    assert verdict.lidar is LidarStatus.STALE
    assert verdict.stop.source is StopSource.SAFETY
    assert verdict.stop.reason == f"scan stale: none for {(now - last_scan) // MS} ms"


def test_no_scan_yet_is_a_stop() -> None:
    verdict = SensorWatchdog().verdict(T0)
    assert verdict.stop is not None
    assert verdict.stop.reason == "scan stale: none received"


def test_scans_resuming_clear_the_stop() -> None:
    watchdog = fed(T0)
    assert watchdog.verdict(T0 + 2_000 * MS).stop is not None
    assert watchdog.on_scan(scan(T0 + 2_000 * MS), T0 + 2_005 * MS)
    verdict = watchdog.verdict(T0 + 2_010 * MS)
    assert verdict.stop is None
    assert verdict.lidar is LidarStatus.OK


@pytest.mark.parametrize(
    ("scan_time_s", "timeout_ms"),
    [(0.1, 300), (0.025, 300), (0.2, 600), (0.0, 300), (float("nan"), 300), (5.0, 1_000)],
)
def test_the_scan_timeout_follows_the_lidar_s_own_period(
    scan_time_s: float, timeout_ms: int
) -> None:
    watchdog = SensorWatchdog()
    watchdog.on_scan(scan(T0, scan_time_s), T0)
    assert watchdog.verdict(T0).scan_timeout_ns == timeout_ms * MS
    assert watchdog.verdict(T0 + timeout_ms * MS).stop is None
    assert watchdog.verdict(T0 + timeout_ms * MS + 1).stop is not None


def test_a_fixed_scan_timeout_overrides_the_period() -> None:
    watchdog = SensorWatchdog(WatchdogConfig(scan_timeout_ns=150 * MS))
    watchdog.on_scan(scan(T0, 0.2), T0)
    assert watchdog.verdict(T0 + 151 * MS).stop is not None


def test_future_and_backwards_scans_are_not_fresh_and_are_counted() -> None:
    watchdog = SensorWatchdog()
    assert watchdog.on_scan(scan(T0), T0)
    assert not watchdog.on_scan(scan(T0 + 10_000 * MS), T0 + 50 * MS)
    assert not watchdog.on_scan(scan(T0 - 50 * MS), T0 + 100 * MS)
    assert not watchdog.on_scan(scan(T0), T0 + 150 * MS)
    assert not watchdog.on_scan(scan(T0 + 1 * MS), T0 + 500 * MS)
    assert watchdog.rejected == {"scan future": 1, "scan backwards": 2, "scan late": 1}
    verdict = watchdog.verdict(T0 + 400 * MS)
    assert verdict.stop is not None
    assert verdict.stop.reason == "scan stale: none for 400 ms"


def test_a_clock_gone_back_before_the_last_scan_is_a_stop() -> None:
    watchdog = SensorWatchdog()
    watchdog.on_scan(scan(T0), T0)
    verdict = watchdog.verdict(T0 - 20 * MS)
    assert verdict.stop is not None
    assert verdict.stop.reason == "scan stale: stamped 20 ms after now"


def test_a_frozen_camera_means_lidar_only_at_the_lower_limit() -> None:
    watchdog = fed(T0)
    still = frame(T0, 999).image
    config = watchdog.config
    # The first still frame is new; each of the next ``frozen_frames`` repeats it.
    for k in range(1, config.frozen_frames + 2):
        t = T0 + k * 50 * MS
        watchdog.on_scan(scan(t), t)
        watchdog.on_frame(CameraFrame(t, still, INTRINSICS, Pose2D(), 0.8), t)
        verdict = watchdog.verdict(t)
        frozen = k > config.frozen_frames
        assert verdict.camera is (CameraStatus.FROZEN if frozen else CameraStatus.OK)
    assert verdict.stop is None
    assert verdict.limits is not None
    assert verdict.limits.max_linear_mps == config.lidar_only_linear_mps
    assert verdict.limits.max_angular_radps == config.lidar_only_angular_radps
    assert verdict.limits.reason == "camera frozen: 5 identical frames in a row"
    # A frame that changes clears it at once.
    t = T0 + 400 * MS
    watchdog.on_scan(scan(t), t)
    watchdog.on_frame(frame(t, 7), t)
    assert watchdog.verdict(t).camera is CameraStatus.OK


def test_a_camera_whose_stamp_does_not_increase_is_frozen() -> None:
    watchdog = fed(T0)
    for k in range(watchdog.config.frozen_frames):
        watchdog.on_frame(frame(T0, 100 + k), T0 + (k + 1) * 50 * MS)
    verdict = watchdog.verdict(T0 + 260 * MS)
    assert verdict.camera is CameraStatus.FROZEN
    assert verdict.limits is not None
    assert verdict.limits.reason == "camera frozen: 5 stamp not increasing in a row"
    assert watchdog.rejected["camera repeated"] == 5


def test_a_stale_camera_means_lidar_only_with_its_reason() -> None:
    watchdog = fed(T0 + 500 * MS, frames=False)
    verdict = watchdog.verdict(T0)
    assert verdict.camera is CameraStatus.STALE
    assert verdict.limits is not None
    assert verdict.limits.reason == "camera stale: none received"
    watchdog.on_frame(frame(T0, 1), T0)
    assert watchdog.verdict(T0).camera is CameraStatus.OK
    assert watchdog.verdict(T0 + 500 * MS).limits is None
    later = watchdog.verdict(T0 + 501 * MS)
    assert later.camera is CameraStatus.STALE
    assert later.stop is None
    assert later.limits is not None
    assert later.limits.reason == "camera stale: none for 501 ms"
    assert later.limits.max_linear_mps == watchdog.config.lidar_only_linear_mps


def test_a_camera_frame_from_the_future_is_refused_and_counted() -> None:
    watchdog = SensorWatchdog()
    assert not watchdog.on_frame(frame(T0 + 1 * MS, 1), T0)
    assert watchdog.rejected["camera future"] == 1
    assert watchdog.verdict(T0).camera is CameraStatus.STALE


@pytest.mark.parametrize(
    "kwargs",
    [
        {"scan_periods": 0},
        {"camera_timeout_ns": -1},
        {"lidar_only_linear_mps": float("nan")},
        {"min_scan_timeout_ns": 2_000_000_000},
        {"scan_timeout_ns": 0},
    ],
)
def test_a_bad_config_is_refused_naming_the_field(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="WatchdogConfig"):
        WatchdogConfig(**kwargs)  # type: ignore[arg-type]


_EVENTS = st.lists(
    st.tuples(
        st.integers(0, 3_000),  # arrival, ms after T0
        st.integers(-1_500, 3_500),  # stamp, ms after T0
        st.sampled_from([0.025, 0.1, 0.2, 0.0, float("nan"), 5.0]),
    ),
    max_size=30,
)


@settings(max_examples=300, deadline=None)
@given(events=_EVENTS, now_ms=st.integers(0, 4_000))
def test_the_verdict_is_never_clear_when_the_last_scan_is_older_than_its_timeout(
    events: list[tuple[int, int, float]], now_ms: int
) -> None:
    watchdog = SensorWatchdog()
    now = T0 + now_ms * MS
    arrived = sorted((T0 + a * MS, T0 + s * MS, p) for a, s, p in events if T0 + a * MS <= now)
    for arrival, stamp, period in arrived:
        watchdog.on_scan(scan(stamp, period), arrival)
    verdict = watchdog.verdict(now)
    # Whatever came, a scan counts only when stamped no later than it arrived and within the
    # longest timeout any period could give of now.
    longest = watchdog.config.max_scan_timeout_ns
    fresh = [s for a, s, _ in arrived if s <= a and 0 <= now - s <= longest]
    if not fresh:
        assert verdict.stop is not None
        assert verdict.lidar is LidarStatus.STALE
    if verdict.stop is None:
        # Not a stop: some scan that really arrived, stamped no later than it arrived, is within
        # the timeout its own period gives.
        assert verdict.scan_age_ns is not None
        assert 0 <= verdict.scan_age_ns <= verdict.scan_timeout_ns
        config = watchdog.config
        assert any(
            s == now - verdict.scan_age_ns and s <= a and now - s <= config.scan_timeout_for(p)
            for a, s, p in arrived
        )
