"""The MCU's rules on simulated time: watchdogs, e-stop, override, interlock, limits."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_bridge.kinematics import ticks_to_meters
from firmware_bridge.messages import (
    Configure,
    Drive,
    ErrorCode,
    EstopClear,
    EstopSet,
    Fault,
    Heartbeat,
    HostMessage,
    Rearm,
    StatusFlag,
)
from firmware_bridge.plant import CONTROL_PERIOD_NS, Plant, PlantState

MS = 1_000_000
SETTINGS = Configure()


def armed_plant(settings: Configure = SETTINGS) -> Plant:
    plant = Plant(settings)
    assert plant.step(0, settings).reply == ErrorCode.OK
    assert plant.step(0, Rearm()).reply == ErrorCode.OK
    return plant


def drive_for(
    plant: Plant,
    start_ns: int,
    duration_ns: int,
    linear: float,
    angular: float = 0.0,
    *,
    period_ns: int = 50 * MS,
) -> int:
    """Send DRIVE every period from start for duration; return the time of the last one."""
    t = start_ns
    last = t
    while t <= start_ns + duration_ns:
        assert plant.step(t, Drive(linear, angular)).reply == ErrorCode.OK
        last = t
        t += period_ns
    return last


def test_boots_disarmed_and_refuses_drive_until_configured_and_rearmed() -> None:
    plant = Plant(SETTINGS)
    assert plant.step(0, Drive(0.5, 0.0)).reply == ErrorCode.NOT_ARMED
    assert plant.step(10 * MS, Rearm()).reply == ErrorCode.NOT_CONFIGURED
    state = plant.step(500 * MS)
    assert state.linear_mps == 0.0
    assert not state.flags & StatusFlag.ARMED
    assert plant.step(510 * MS, SETTINGS).reply == ErrorCode.OK
    assert plant.step(520 * MS, Rearm()).reply == ErrorCode.OK
    assert plant.step(530 * MS, Drive(0.5, 0.0)).reply == ErrorCode.OK


def test_drive_accelerates_at_the_limit_and_holds_speed() -> None:
    plant = armed_plant()
    drive_for(plant, 0, 400 * MS, 0.5)
    state = plant.step(400 * MS)
    assert state.linear_mps == pytest.approx(
        min(0.5, SETTINGS.max_linear_accel_mps2 * 0.4), abs=1e-6
    )
    drive_for(plant, 450 * MS, 1_500 * MS, 0.5)
    assert plant.step(1_950 * MS).linear_mps == pytest.approx(0.5)


def test_speed_is_clamped_to_the_configured_limit() -> None:
    plant = armed_plant()
    drive_for(plant, 0, 5_000 * MS, 9.0, 9.0)
    state = plant.step(5_000 * MS)
    assert state.linear_mps == pytest.approx(SETTINGS.max_linear_mps, rel=1e-6)
    assert state.angular_radps == pytest.approx(SETTINGS.max_angular_radps, rel=1e-6)


def test_silence_brakes_within_the_drive_timeout_plus_one_control_period() -> None:
    plant = armed_plant()
    last = drive_for(plant, 0, 2_000 * MS, 0.5)
    t = last
    tripped_at = None
    while t < last + 1_000 * MS:
        t += MS
        # Heartbeats go on: they keep the link alive, never the motion.
        state = plant.step(t, Heartbeat(1) if (t - last) % (20 * MS) == 0 else None)
        if state.faults & Fault.DRIVE_TIMEOUT:
            tripped_at = t
            break
    assert tripped_at is not None
    assert tripped_at - last <= SETTINGS.drive_timeout_ms * MS + CONTROL_PERIOD_NS
    assert tripped_at - last > SETTINGS.drive_timeout_ms * MS
    assert not state.flags & StatusFlag.ARMED
    stop_by = tripped_at + int(0.5 / SETTINGS.emergency_decel_mps2 * 1e9) + CONTROL_PERIOD_NS
    assert plant.step(stop_by).linear_mps == pytest.approx(0.0, abs=1e-9)


def test_fault_stays_latched_until_rearm() -> None:
    plant = armed_plant()
    last = drive_for(plant, 0, 500 * MS, 0.5)
    plant.step(last + 2_000 * MS)
    assert plant.step(last + 2_010 * MS, Drive(0.5, 0.0)).reply == ErrorCode.NOT_ARMED
    assert plant.step(last + 3_000 * MS).faults & Fault.DRIVE_TIMEOUT
    state = plant.step(last + 3_010 * MS, Rearm())
    assert state.reply == ErrorCode.OK
    assert not state.faults & Fault.DRIVE_TIMEOUT
    assert plant.step(last + 3_020 * MS, Drive(0.2, 0.0)).reply == ErrorCode.OK


def test_standing_still_on_heartbeats_alone_trips_nothing() -> None:
    plant = armed_plant()
    plant.step(10 * MS, Drive(0.0, 0.0))
    for t in range(100 * MS, 3_000 * MS, 100 * MS):
        state = plant.step(t, Heartbeat())
    assert state.faults == Fault.NONE
    assert state.flags & StatusFlag.ARMED


def test_link_silence_latches_link_lost() -> None:
    plant = armed_plant()
    state = plant.step((SETTINGS.link_timeout_ms + 20) * MS)
    assert state.faults & Fault.LINK_LOST
    assert not state.flags & StatusFlag.ARMED


def test_estop_brakes_at_the_emergency_rate_and_needs_clear_and_rearm() -> None:
    plant = armed_plant()
    last = drive_for(plant, 0, 3_000 * MS, 1.0)
    state = plant.step(last + MS, EstopSet())
    assert state.flags & StatusFlag.ESTOP
    speed = state.linear_mps
    state = plant.step(last + 101 * MS, Heartbeat())
    assert speed - state.linear_mps == pytest.approx(SETTINGS.emergency_decel_mps2 * 0.1, rel=0.02)
    state = plant.step(last + 2_000 * MS, Drive(0.5, 0.0))
    assert state.reply == ErrorCode.ESTOP_ACTIVE
    assert state.linear_mps == 0.0
    assert plant.step(last + 2_010 * MS, Rearm()).reply == ErrorCode.ESTOP_ACTIVE
    assert plant.step(last + 2_020 * MS, EstopClear()).reply == ErrorCode.OK
    assert plant.step(last + 2_030 * MS, Drive(0.5, 0.0)).reply == ErrorCode.NOT_ARMED
    assert plant.step(last + 2_040 * MS, Rearm()).reply == ErrorCode.OK
    assert plant.step(last + 2_050 * MS, Drive(0.5, 0.0)).reply == ErrorCode.OK


def test_joystick_overrides_the_host_but_not_the_estop() -> None:
    plant = armed_plant()
    plant.set_joystick(0.0, -0.5, engaged=True)
    t = 0
    for _ in range(40):
        t += 50 * MS
        state = plant.step(t, Drive(1.0, 0.0))
        assert state.reply == ErrorCode.JOYSTICK_OVERRIDE
    assert state.linear_mps == pytest.approx(-0.5 * SETTINGS.manual_max_linear_mps, rel=1e-6)
    assert state.flags & StatusFlag.JOYSTICK_OVERRIDE
    plant.step(t + MS, EstopSet())
    assert plant.step(t + 3_000 * MS).linear_mps == 0.0


def test_override_released_does_not_resume_an_old_command() -> None:
    plant = armed_plant()
    drive_for(plant, 0, 1_000 * MS, 0.5)
    plant.set_joystick(0.0, 0.0, engaged=True)
    plant.set_joystick(0.0, 0.0, engaged=False)
    state = plant.step(3_000 * MS)
    assert state.linear_mps == 0.0


def test_occupied_seat_with_open_belt_refuses_motion() -> None:
    plant = armed_plant()
    plant.set_seat(75.0, belt_closed=False)
    state = plant.step(10 * MS, Drive(0.5, 0.0))
    assert state.reply == ErrorCode.MOTION_REFUSED
    assert state.flags & StatusFlag.MOTION_REFUSED
    for t in range(100 * MS, 1_000 * MS, 100 * MS):
        assert plant.step(t, Drive(0.5, 0.0)).linear_mps == 0.0
    plant.set_seat(75.0, belt_closed=True)
    assert plant.step(1_010 * MS, Drive(0.5, 0.0)).reply == ErrorCode.OK


def test_belt_opening_while_moving_stops_gently() -> None:
    plant = armed_plant()
    plant.set_seat(75.0, belt_closed=True)
    last = drive_for(plant, 0, 3_000 * MS, 1.0)
    plant.set_seat(75.0, belt_closed=False)
    before = plant.step(last + MS).linear_mps
    after = plant.step(last + 101 * MS, Drive(1.0, 0.0)).linear_mps
    assert before - after == pytest.approx(SETTINGS.max_linear_accel_mps2 * 0.1, rel=0.05)


def test_interlock_can_be_configured_off() -> None:
    plant = armed_plant(Configure(flags=0))
    plant.set_seat(75.0, belt_closed=False)
    assert plant.step(10 * MS, Drive(0.5, 0.0)).reply == ErrorCode.OK


def test_a_belt_that_bounces_closed_does_not_resume_the_old_command() -> None:
    plant = armed_plant()
    plant.set_seat(75.0, belt_closed=True)
    last = drive_for(plant, 0, 3_000 * MS, 1.0)
    plant.set_seat(75.0, belt_closed=False)
    plant.step(last + 20 * MS)
    plant.set_seat(75.0, belt_closed=True)
    state = plant.step(last + 40 * MS)
    assert state.target_linear_mps == 0.0
    assert plant.step(last + 60 * MS, Drive(1.0, 0.0)).target_linear_mps == 1.0


def test_nan_drive_is_refused_and_does_not_feed_the_watchdog() -> None:
    plant = armed_plant()
    last = drive_for(plant, 0, 1_000 * MS, 0.5)
    for t in range(last + 20 * MS, last + 400 * MS, 20 * MS):
        state = plant.step(t, Drive(math.nan, 0.0))
        assert state.reply == ErrorCode.BAD_VALUE
    assert state.faults & Fault.DRIVE_TIMEOUT


def test_configure_is_refused_while_moving_and_when_invalid() -> None:
    plant = armed_plant()
    drive_for(plant, 0, 1_000 * MS, 0.5)
    assert plant.step(1_010 * MS, Configure()).reply == ErrorCode.BUSY
    still = Plant(SETTINGS)
    assert still.step(0, Configure(drive_timeout_ms=5)).reply == ErrorCode.BAD_VALUE
    assert still.step(1, Configure(wheel_radius_m=-1.0)).reply == ErrorCode.BAD_VALUE
    assert still.step(1, Configure(flags=0xFE)).reply == ErrorCode.BAD_VALUE
    state = still.step(2, Configure(drive_timeout_ms=300))
    assert state.reply == ErrorCode.OK
    assert state.flags & StatusFlag.CONFIGURED
    assert still.settings.drive_timeout_ms == 300


def test_overtemperature_refuses_rearm_and_motion() -> None:
    plant = armed_plant()
    plant.set_motor_temperatures(95.0, 30.0)
    state = plant.step(10 * MS, Drive(0.5, 0.0))
    assert state.reply == ErrorCode.FAULT_ACTIVE
    assert state.faults & Fault.OVERTEMP_LEFT
    assert plant.step(20 * MS, Rearm()).reply == ErrorCode.FAULT_ACTIVE
    plant.set_joystick(0.0, 1.0, engaged=True)
    for t in range(30 * MS, 1_000 * MS, 50 * MS):
        assert plant.step(t, Heartbeat()).linear_mps == 0.0


def test_joystick_release_does_not_trip_the_drive_watchdog() -> None:
    plant = armed_plant()
    plant.set_joystick(0.0, 1.0, engaged=True)
    for t in range(0, 3_000 * MS, 100 * MS):
        plant.step(t, Heartbeat())
    plant.set_joystick(0.0, 0.0, engaged=False)
    state = plant.step(3_000 * MS)
    for t in range(3_100 * MS, 6_000 * MS, 100 * MS):
        state = plant.step(t, Heartbeat())
    assert state.faults == Fault.NONE
    assert state.linear_mps == 0.0


def test_new_wheel_geometry_does_not_make_the_tick_counters_jump() -> None:
    plant = armed_plant()
    last = drive_for(plant, 0, 2_000 * MS, 0.5)
    for t in range(last + 100 * MS, last + 2_500 * MS, 100 * MS):
        plant.step(t, Drive(0.0, 0.0))
    before = plant.step(last + 2_500 * MS)
    after = plant.step(last + 2_510 * MS, Configure(wheel_radius_m=0.2))
    assert after.reply == ErrorCode.OK
    assert (after.left_ticks, after.right_ticks) == (before.left_ticks, before.right_ticks)


def test_encoder_ticks_match_the_distance_driven() -> None:
    plant = armed_plant()
    last = drive_for(plant, 0, 4_000 * MS, 0.5)
    state = plant.step(last + 10 * MS)
    left = ticks_to_meters(state.left_ticks, SETTINGS.wheel_radius_m, SETTINGS.ticks_per_rev)
    assert left == pytest.approx(
        state.left_m, abs=2 * math.pi * SETTINGS.wheel_radius_m / SETTINGS.ticks_per_rev
    )
    assert state.left_m == pytest.approx(state.right_m)


def test_battery_drains_faster_under_load_and_motors_warm() -> None:
    idle = armed_plant()
    for t in range(0, 60_000 * MS, 100 * MS):
        idle.step(t, Drive(0.0, 0.0))
    loaded = armed_plant()
    loaded.set_seat(100.0, belt_closed=True)
    drive_for(loaded, 0, 60_000 * MS, 1.0, 0.3, period_ns=100 * MS)
    a, b = idle.step(60_000 * MS), loaded.step(60_000 * MS)
    assert b.soc < a.soc < 0.9
    assert b.current_a > a.current_a
    assert b.battery_v < a.battery_v
    assert b.motor_temp_left_c > a.motor_temp_left_c


def test_same_inputs_give_the_same_states() -> None:
    def run() -> list[PlantState]:
        plant = armed_plant()
        plant.set_seat(60.0, belt_closed=True)
        out = [plant.step(t, Drive(0.3 * (t % 7), 0.1)) for t in range(0, 2_000 * MS, 37 * MS)]
        out.append(plant.step(3_000 * MS))
        return out

    assert run() == run()


host_messages = st.one_of(
    st.builds(Drive, st.floats(-3, 3), st.floats(-3, 3)),
    st.builds(Heartbeat),
    st.builds(EstopSet),
    st.builds(EstopClear),
    st.builds(Rearm),
    st.none(),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 120), host_messages), max_size=80))
def test_no_message_sequence_breaks_the_speed_or_deceleration_limits(
    steps: list[tuple[int, HostMessage | None]],
) -> None:
    plant = Plant(SETTINGS)
    plant.step(0, SETTINGS)
    t = 0
    previous = plant.step(0)
    worst_rate = max(SETTINGS.max_linear_accel_mps2, SETTINGS.emergency_decel_mps2)
    for dt_ms, message in steps:
        t += dt_ms * MS
        state = plant.step(t, message)
        assert abs(state.linear_mps) <= SETTINGS.max_linear_mps + 1e-6
        assert abs(state.angular_radps) <= SETTINGS.max_angular_radps + 1e-6
        rate = abs(state.linear_mps - previous.linear_mps) / (dt_ms / 1000)
        assert rate <= worst_rate + 1e-6
        if state.flags & StatusFlag.ESTOP or not state.flags & StatusFlag.ARMED:
            assert state.target_linear_mps == 0.0
        previous = state
