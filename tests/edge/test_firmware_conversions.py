"""The MCU's STATUS, the simulated MCU's state, the link counters and the host's odometry
estimate as edge types: the one firmware -> edge mapping every host uses."""

from __future__ import annotations

import dataclasses

import pytest

from edge.firmware_conversions import (
    chair_status_from_mcu,
    chair_status_from_plant,
    motor_link_from_stats,
    odometry_from_estimate,
)
from edge.telemetry.vehicle_state import mode_of
from edge.types import ChairStatus, MotorLink, Odometry, Pose2D
from firmware_bridge.driver import LinkStats
from firmware_bridge.mcu_sim import status_from_state
from firmware_bridge.messages import Configure, Drive, Fault, Rearm, Status, StatusFlag
from firmware_bridge.odometry import OdometryEstimate
from firmware_bridge.plant import Plant


def mcu_status(flags: StatusFlag, faults: Fault = Fault.NONE, current_ma: int = 2500) -> Status:
    return Status(
        battery_mv=25120,
        current_ma=current_ma,
        soc_pct=76,
        motor_temp_left_dc=312,
        motor_temp_right_dc=305,
        faults=int(faults),
        flags=int(flags),
        joystick_x_pct=0,
        joystick_y_pct=0,
        seat_load_dkg=780,
    )


def test_status_fields_and_flags_map_to_the_chair_status() -> None:
    flags = StatusFlag.ARMED | StatusFlag.SEAT_OCCUPIED | StatusFlag.BELT_CLOSED
    status = chair_status_from_mcu(mcu_status(flags), 123)
    assert status.stamp_ns == 123
    assert status.battery_v == pytest.approx(25.12)
    assert status.current_a == pytest.approx(2.5)
    assert status.soc == pytest.approx(0.76)
    assert status.armed
    assert status.seat_occupied
    assert status.belt_closed
    assert not status.estop
    assert not status.motion_refused
    assert not status.joystick_override
    assert status.faults == 0


@pytest.mark.parametrize(
    ("flags", "faults", "current_ma", "mode"),
    [
        (StatusFlag.ESTOP | StatusFlag.JOYSTICK_OVERRIDE, Fault.NONE, 100, "estop"),
        (StatusFlag.ARMED, Fault.LINK_LOST, 100, "fault"),
        (StatusFlag.NONE, Fault.NONE, -3000, "charging"),
        (StatusFlag.JOYSTICK_OVERRIDE, Fault.NONE, 100, "manual"),
        (StatusFlag.ARMED | StatusFlag.MOTION_REFUSED, Fault.NONE, 100, "idle"),
    ],
)
def test_the_monitor_sees_the_mcus_state_as_the_right_mode(
    flags: StatusFlag, faults: Fault, current_ma: int, mode: str
) -> None:
    status = chair_status_from_mcu(mcu_status(flags, faults, current_ma), 0)
    assert status.faults == int(faults)
    assert status.motion_refused == bool(flags & StatusFlag.MOTION_REFUSED)
    assert mode_of(status, Odometry(0, Pose2D(), 0.0, 0.0)) == mode


def test_an_odometry_estimate_becomes_odometry() -> None:
    estimate = OdometryEstimate(7, 1.5, -2.0, 0.3, 0.4, -0.1, 12.0)
    assert odometry_from_estimate(estimate) == Odometry(7, Pose2D(1.5, -2.0, 0.3), 0.4, -0.1)


def test_status_carries_temperatures_joystick_seat_and_the_other_flags() -> None:
    flags = StatusFlag.ARMED | StatusFlag.CONFIGURED | StatusFlag.BRAKING
    raw = dataclasses.replace(mcu_status(flags), joystick_x_pct=25, joystick_y_pct=-50)
    status = chair_status_from_mcu(raw, 0)
    assert (status.configured, status.braking) == (True, True)
    assert status.motor_temperature_left_c == pytest.approx(31.2)
    assert status.motor_temperature_right_c == pytest.approx(30.5)
    assert (status.joystick_x, status.joystick_y) == pytest.approx((0.25, -0.5))
    assert status.seat_load_kg == pytest.approx(78.0)
    assert not chair_status_from_mcu(mcu_status(StatusFlag.ARMED), 0).configured


def test_the_simulators_mcu_state_maps_like_the_status_it_would_send() -> None:
    plant = Plant(Configure())
    plant.step(0, Configure())
    plant.step(0, Rearm())
    state = plant.step(10_000_000, Drive(0.4, 0.1))
    exact = chair_status_from_plant(state, 42)
    sent = chair_status_from_mcu(status_from_state(state), 42)
    bools = [f for f in ChairStatus.__slots__ if isinstance(getattr(exact, f), bool)]
    assert [getattr(exact, f) for f in bools] == [getattr(sent, f) for f in bools]
    assert (exact.stamp_ns, exact.faults) == (sent.stamp_ns, sent.faults)
    assert exact.configured
    # The wire rounds to mV, mA, % and tenths; the simulator keeps the plant's own numbers.
    assert exact.battery_v == pytest.approx(sent.battery_v, abs=1e-3)
    assert exact.soc == pytest.approx(sent.soc, abs=0.01)
    assert exact.motor_temperature_left_c == pytest.approx(sent.motor_temperature_left_c, abs=0.1)


def test_the_drivers_counters_become_the_motor_link() -> None:
    stats = LinkStats(
        connected=True,
        link_up=False,
        frames_rx=100,
        frames_tx=40,
        crc_errors=2,
        decode_faults={},
        resyncs=1,
        drops=3,
        reconnects=4,
        link_timeouts=5,
        command_timeouts=0,
        ack_timeouts=6,
        acks={},
        rtt_ms=(2.0, 3.0, 9.0),
        last_error="timeout",
    )
    assert motor_link_from_stats(stats) == MotorLink(
        connected=True,
        link_up=False,
        frames_received=100,
        frames_sent=40,
        crc_errors=2,
        resyncs=1,
        frames_dropped=3,
        reconnects=4,
        link_timeouts=5,
        ack_timeouts=6,
        rtt_p99_ms=9.0,
        last_error="timeout",
    )
