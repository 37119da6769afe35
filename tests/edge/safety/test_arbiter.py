"""The velocity arbiter: its priority table, freshness, limits, and properties over any input."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.safety.arbiter import (
    Arbiter,
    ArbiterConfig,
    CommandSource,
    SafetyLimits,
    StopRequest,
    StopSource,
    arbitrate,
)
from edge.types import DriveCommand

NOW = 10_000_000_000
OPEN = SafetyLimits(1.1, 0.8)
CONFIG = ArbiterConfig()
TELEOP = DriveCommand(NOW - 10_000_000, 0.3, 0.1)
NAV = DriveCommand(NOW - 10_000_000, 0.7, -0.2)
STALE_NS = NOW - CONFIG.teleop_timeout_ns - 1
STOP = StopRequest(StopSource.REMOTE, "operator pressed stop")


@pytest.mark.parametrize(
    ("stops", "teleop", "nav", "source", "expected"),
    [
        ([STOP], TELEOP, NAV, CommandSource.STOP, (0.0, 0.0)),
        ([StopRequest(StopSource.HARDWARE, "e-stop")], None, NAV, CommandSource.STOP, (0.0, 0.0)),
        ([StopRequest(StopSource.SAFETY, "stop zone")], TELEOP, None, CommandSource.STOP, (0, 0)),
        ([], TELEOP, NAV, CommandSource.TELEOP, (0.3, 0.1)),
        ([], TELEOP, None, CommandSource.TELEOP, (0.3, 0.1)),
        ([], None, NAV, CommandSource.AUTONOMY, (0.7, -0.2)),
        ([], None, None, CommandSource.NONE, (0.0, 0.0)),
    ],
)
def test_priority_table(
    stops: list[StopRequest],
    teleop: DriveCommand | None,
    nav: DriveCommand | None,
    source: CommandSource,
    expected: tuple[float, float],
) -> None:
    out = arbitrate(NOW, stops, teleop, nav, limits=OPEN)
    assert out.source is source
    assert (out.linear, out.angular) == expected
    assert out.stop is (source is CommandSource.STOP)
    assert out.reason


def test_stop_reason_names_every_source_and_reason() -> None:
    out = arbitrate(
        NOW, [STOP, StopRequest(StopSource.SAFETY, "scan stale")], TELEOP, NAV, limits=OPEN
    )
    assert "remote stop: operator pressed stop" in out.reason
    assert "safety stop: scan stale" in out.reason


def test_stale_teleop_falls_back_to_autonomy_and_says_why() -> None:
    stale = DriveCommand(STALE_NS, 0.3, 0.1)
    out = arbitrate(NOW, [], stale, NAV, limits=OPEN)
    assert out.source is CommandSource.AUTONOMY
    assert (out.linear, out.angular) == (0.7, -0.2)
    assert "teleop command stale" in out.reason


def test_stale_autonomy_alone_gives_zero_with_a_reason() -> None:
    out = arbitrate(NOW, [], None, DriveCommand(STALE_NS, 0.5, 0.0), limits=OPEN)
    assert (out.linear, out.angular, out.source) == (0.0, 0.0, CommandSource.NONE)
    assert "autonomy command stale" in out.reason


def test_command_exactly_at_the_timeout_is_still_fresh() -> None:
    at_timeout = DriveCommand(NOW - CONFIG.teleop_timeout_ns, 0.3, 0.0)
    assert arbitrate(NOW, [], at_timeout, NAV, limits=OPEN).source is CommandSource.TELEOP


def test_non_finite_and_future_commands_are_refused_and_counted() -> None:
    arbiter = Arbiter()
    out = arbiter.step(NOW, [], DriveCommand(NOW, math.nan, 0.0), NAV, limits=OPEN)
    assert out.source is CommandSource.AUTONOMY
    assert "teleop command not finite" in out.reason
    out = arbiter.step(NOW, [], None, DriveCommand(NOW + 1_000_000_000, 0.5, 0.0), limits=OPEN)
    assert out.source is CommandSource.NONE
    assert "in the future" in out.reason
    arbiter.step(NOW, [], DriveCommand(STALE_NS, 0.3, 0.0), None, limits=OPEN)
    assert arbiter.rejected == {"teleop not finite": 1, "autonomy future": 1, "teleop stale": 1}


def test_limits_clamp_teleop_too_and_keep_the_sign() -> None:
    out = arbitrate(
        NOW, [], DriveCommand(NOW, -1.0, 0.9), None, limits=SafetyLimits(0.4, 0.5, "slow")
    )
    assert (out.linear, out.angular) == (-0.4, 0.5)
    assert "limited to 0.40 m/s" in out.reason
    assert "slow" in out.reason


def test_chair_limits_apply_under_open_safety_limits() -> None:
    out = arbitrate(NOW, [], None, DriveCommand(NOW, 3.0, -3.0), limits=SafetyLimits(9.0, 9.0))
    assert (out.linear, out.angular) == (1.1, -0.8)


def test_zero_limits_are_a_stop_with_their_reason() -> None:
    out = arbitrate(NOW, [], TELEOP, NAV, limits=SafetyLimits(0.0, 0.0, "stop zone: person"))
    assert out.stop
    assert out.source is CommandSource.STOP
    assert "stop zone: person" in out.reason


def test_zero_linear_limit_allows_turning_only() -> None:
    out = arbitrate(NOW, [], None, NAV, limits=SafetyLimits(0.0, 0.8))
    assert (out.linear, out.angular, out.stop) == (0.0, -0.2, False)


def test_nan_limits_count_as_zero() -> None:
    out = arbitrate(NOW, [], TELEOP, NAV, limits=SafetyLimits(math.nan, -1.0))
    assert out.stop


floats = st.floats(allow_nan=True, allow_infinity=True)
finite = st.floats(-1e6, 1e6, allow_nan=False)
stamps = st.integers(NOW - 2_000_000_000, NOW + 100_000_000)
commands = st.none() | st.builds(DriveCommand, stamps, floats, floats)
stop_lists = st.lists(
    st.builds(StopRequest, st.sampled_from(list(StopSource)), st.text(max_size=10)), max_size=3
)
limits = st.builds(SafetyLimits, floats, floats, st.text(max_size=10))


@settings(max_examples=500)
@given(stops=stop_lists, teleop=commands, nav=commands, active=limits)
def test_output_never_exceeds_an_active_limit_and_a_stop_always_wins(
    stops: list[StopRequest],
    teleop: DriveCommand | None,
    nav: DriveCommand | None,
    active: SafetyLimits,
) -> None:
    out = arbitrate(NOW, stops, teleop, nav, limits=active)
    assert math.isfinite(out.linear)
    assert math.isfinite(out.angular)
    assert out.reason
    if stops:
        assert out.stop
        assert (out.linear, out.angular) == (0.0, 0.0)
        assert out.source is CommandSource.STOP
    lin_cap = active.max_linear_mps if math.isfinite(active.max_linear_mps) else 0.0
    ang_cap = active.max_angular_radps if math.isfinite(active.max_angular_radps) else 0.0
    assert abs(out.linear) <= min(max(lin_cap, 0.0), CONFIG.max_linear_mps)
    assert abs(out.angular) <= min(max(ang_cap, 0.0), CONFIG.max_angular_radps)


@settings(max_examples=300)
@given(teleop=commands, nav=commands, lin=finite, ang=finite)
def test_clamping_never_reverses_a_command(
    teleop: DriveCommand | None, nav: DriveCommand | None, lin: float, ang: float
) -> None:
    out = arbitrate(NOW, [], teleop, nav, limits=SafetyLimits(lin, ang))
    chosen = {CommandSource.TELEOP: teleop, CommandSource.AUTONOMY: nav}.get(out.source)
    if chosen is not None:
        assert out.linear * chosen.linear_mps >= 0.0
        assert out.angular * chosen.angular_radps >= 0.0
