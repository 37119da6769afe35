"""The smoother: comfort limits on simulated time, stops at the emergency deceleration."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chairlink.config import DriveLimits
from edge.safety.arbiter import ArbitratedCommand, CommandSource
from edge.safety.smoother import SmoothedCommand, Smoother, SmootherConfig
from edge.stack import CONTROL_PERIOD_NS

CFG = SmootherConfig()
# Slack for floating-point rounding in the checks, far below any limit.
EPS = 1e-9


def drive(linear: float, angular: float = 0.0) -> ArbitratedCommand:
    return ArbitratedCommand(linear, angular, CommandSource.AUTONOMY, "autonomy", False)


def stop(reason: str = "remote stop: test") -> ArbitratedCommand:
    return ArbitratedCommand(0.0, 0.0, CommandSource.STOP, reason, True)


def run(smoother: Smoother, command: ArbitratedCommand, periods: int, t0: int = 0) -> list[float]:
    return [smoother.step(t0 + k * CONTROL_PERIOD_NS, command).linear_mps for k in range(periods)]


def test_defaults_are_the_chairs_drive_limits() -> None:
    limits = DriveLimits()
    assert CFG.max_linear_mps == limits.max_linear_mps
    assert CFG.max_linear_accel_mps2 == limits.max_linear_accel_mps2
    assert CFG.emergency_decel_mps2 == limits.emergency_decel_mps2
    assert SmootherConfig.from_limits(limits) == CFG


def test_bad_config_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="max_linear_jerk_mps3"):
        SmootherConfig(max_linear_jerk_mps3=math.nan)


def test_reaches_the_target_without_overshoot_within_accel_and_jerk() -> None:
    speeds = run(Smoother(), drive(1.0), 200)
    assert speeds[-1] == pytest.approx(1.0, abs=1e-9)
    assert max(speeds) <= 1.0 + EPS
    dt = CONTROL_PERIOD_NS / 1e9
    accels = [(b - a) / dt for a, b in zip([0.0, *speeds], speeds, strict=False)]
    assert max(abs(a) for a in accels) <= CFG.max_linear_accel_mps2 + EPS
    jerks = [(b - a) / dt for a, b in zip([0.0, *accels], accels, strict=False)]
    assert max(abs(j) for j in jerks) <= CFG.max_linear_jerk_mps3 + EPS
    # 1.0 m/s at 0.5 m/s^2 takes 2 s plus the jerk ramps (0.5 s each end): about 2.5 s.
    first = next(k for k, v in enumerate(speeds) if v >= 1.0 - 1e-6)
    assert 2.4 <= first * dt <= 2.8


def test_indoor_cap_holds_whatever_is_asked() -> None:
    speeds = run(Smoother(), drive(50.0, -50.0), 200)
    assert max(speeds) <= CFG.max_linear_mps + EPS
    assert speeds[-1] == pytest.approx(CFG.max_linear_mps)


def test_a_stop_bypasses_the_smoother_at_the_emergency_deceleration() -> None:
    smoother = Smoother()
    run(smoother, drive(1.0, 0.5), 200)
    t0 = 200 * CONTROL_PERIOD_NS
    before = smoother.linear_mps
    out = smoother.step(t0, stop())
    assert out.stop
    assert out.reason == "remote stop: test"
    dt = CONTROL_PERIOD_NS / 1e9
    # Exactly the emergency rate at once, not the comfort ramp.
    assert before - out.linear_mps == pytest.approx(CFG.emergency_decel_mps2 * dt)
    speeds = run(smoother, stop(), 30, t0 + CONTROL_PERIOD_NS)
    assert speeds[-1] == 0.0
    assert smoother.angular_radps == 0.0
    # 1.0 m/s at 1.2 m/s^2 (0.06 m/s a period): 0.83 s, 17 periods, the first one above.
    assert next(k for k, v in enumerate(speeds) if v == 0.0) == 15


def test_dt_comes_from_the_passed_in_time() -> None:
    slow, fast = Smoother(), Smoother()
    for k in range(20):
        slow.step(k * CONTROL_PERIOD_NS, drive(1.0))
        fast.step(k * 2 * CONTROL_PERIOD_NS, drive(1.0))
    assert fast.linear_mps > slow.linear_mps


def test_time_that_does_not_advance_changes_nothing_and_is_counted() -> None:
    smoother = Smoother()
    run(smoother, drive(1.0), 10)
    before = smoother.linear_mps
    out = smoother.step(5 * CONTROL_PERIOD_NS, drive(1.0))
    assert out.linear_mps == before
    assert smoother.time_not_advancing == 1


def test_non_finite_command_is_a_stop_with_a_reason() -> None:
    out = Smoother().step(0, drive(math.nan))
    assert out.stop
    assert "non-finite" in out.reason
    assert math.isfinite(out.linear_mps)


targets = st.floats(-5.0, 5.0, allow_nan=False)
steps = st.lists(
    st.tuples(
        # dt to the next call, ns: jittered periods and long gaps. (Far shorter periods
        # make speed differences over dt pure rounding noise, not a measure.)
        st.integers(5_000_000, 1_000_000_000),
        targets,
        targets,
        st.booleans(),  # stop
    ),
    min_size=1,
    max_size=120,
)


def _commands(plan: list[tuple[int, float, float, bool]]) -> list[tuple[int, ArbitratedCommand]]:
    now, out = 0, []
    for dt_ns, linear, angular, is_stop in plan:
        now += dt_ns
        out.append((now, stop() if is_stop else drive(linear, angular)))
    return out


@settings(max_examples=300, deadline=None)
@given(plan=steps)
def test_never_exceeds_accel_or_jerk_except_on_a_stop(
    plan: list[tuple[int, float, float, bool]],
) -> None:
    smoother = Smoother()
    prev_t: int | None = None
    prev: SmoothedCommand | None = None
    prev_accel = (0.0, 0.0)
    prev_stop = True  # the first step has no previous acceleration to compare
    for now, command in _commands(plan):
        out = smoother.step(now, command)
        assert math.isfinite(out.linear_mps)
        assert math.isfinite(out.angular_radps)
        assert abs(out.linear_mps) <= CFG.max_linear_mps + EPS
        assert abs(out.angular_radps) <= CFG.max_angular_radps + EPS
        dt = (now - prev_t) / 1e9 if prev_t is not None else CONTROL_PERIOD_NS / 1e9
        v0 = (prev.linear_mps, prev.angular_radps) if prev else (0.0, 0.0)
        accel = ((out.linear_mps - v0[0]) / dt, (out.angular_radps - v0[1]) / dt)
        if not command.stop:
            assert abs(accel[0]) <= CFG.max_linear_accel_mps2 + 1e-6
            assert abs(accel[1]) <= CFG.max_angular_accel_radps2 + 1e-6
            if not prev_stop:
                assert abs(accel[0] - prev_accel[0]) / dt <= CFG.max_linear_jerk_mps3 + 1e-6
                assert abs(accel[1] - prev_accel[1]) / dt <= CFG.max_angular_jerk_radps3 + 1e-6
        prev_t, prev, prev_accel, prev_stop = now, out, accel, command.stop


@settings(max_examples=300, deadline=None)
@given(plan=steps, stop_periods=st.integers(1, 60))
def test_a_stop_always_decelerates_at_least_at_the_emergency_rate_until_zero(
    plan: list[tuple[int, float, float, bool]], stop_periods: int
) -> None:
    smoother = Smoother()
    now = 0
    for now, command in _commands(plan):
        smoother.step(now, command)
    speed, turn = abs(smoother.linear_mps), abs(smoother.angular_radps)
    dt = CONTROL_PERIOD_NS / 1e9
    for _ in range(stop_periods):
        now += CONTROL_PERIOD_NS
        out = smoother.step(now, stop())
        assert out.stop
        assert abs(out.linear_mps) <= max(speed - CFG.emergency_decel_mps2 * dt, 0.0) + EPS
        assert (
            abs(out.angular_radps) <= max(turn - CFG.emergency_angular_decel_radps2 * dt, 0.0) + EPS
        )
        speed, turn = abs(out.linear_mps), abs(out.angular_radps)
    if stop_periods >= 30:  # 1.1 m/s / 1.2 m/s^2 < 1 s = 20 periods
        assert (speed, turn) == (0.0, 0.0)


@settings(max_examples=300, deadline=None)
@given(
    times=st.lists(st.integers(-(10**12), 10**12), min_size=1, max_size=40),
    values=st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=2, max_size=2),
    is_stop=st.booleans(),
)
def test_no_nan_out_for_any_input(times: list[int], values: list[float], is_stop: bool) -> None:
    smoother = Smoother()
    command = ArbitratedCommand(values[0], values[1], CommandSource.TELEOP, "t", is_stop)
    for now in times:
        out = smoother.step(now, command)
        assert math.isfinite(out.linear_mps)
        assert math.isfinite(out.angular_radps)
