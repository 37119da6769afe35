"""The host driver and the MCU simulator over a real pseudo-terminal with pyserial at 115200."""

from __future__ import annotations

import time

import pytest

from chairlink.config import FirmwareConfig
from firmware_bridge.driver import Received, SerialDriver
from firmware_bridge.errors import LinkError
from firmware_bridge.fault_injection import FaultProfile
from firmware_bridge.framing import encode_frame
from firmware_bridge.mcu_sim import McuSimulator
from firmware_bridge.messages import (
    Ack,
    Configure,
    Drive,
    ErrorCode,
    Fault,
    Heartbeat,
    McuMessage,
    Odometry,
    Rearm,
    Status,
    StatusFlag,
)
from firmware_bridge.odometry import OdometryIntegrator
from tests.firmware_bridge.raw_host import BAUD, RawHost
from tests.wait import wait_until

pytestmark = pytest.mark.pty

HOST_CONTROL_PERIOD_S = 0.05


def arm(host: RawHost) -> None:
    """Configure and arm the MCU by hand, as the driver's rearm() does."""
    for message in (Configure(), Rearm()):
        seq, _ = host.send(message)
        assert host.ack_for(seq).error == ErrorCode.OK


def keep_driving(driver: SerialDriver, linear: float, angular: float, seconds: float) -> None:
    """Renew a command at the host's 20 Hz control rate, as a node would."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        driver.command(linear, angular)
        time.sleep(HOST_CONTROL_PERIOD_S)


def status(driver: SerialDriver) -> Status:
    latest = driver.latest_status
    assert latest is not None
    return latest.message


def test_drive_command_moves_the_chair_and_odometry_comes_back(
    sim: McuSimulator, firmware_config: FirmwareConfig
) -> None:
    wheels = firmware_config.wheels
    odometry = OdometryIntegrator(wheels.radius_m, wheels.separation_m, wheels.ticks_per_rev)

    def on_frame(received: Received[Odometry | Status | Ack]) -> None:
        if isinstance(received.message, Odometry):
            odometry.update(received.message, received.stamp_ns)

    with SerialDriver(firmware_config, on_frame=on_frame) as driver:
        assert driver.wait_for_link(3.0)
        assert driver.rearm().error == ErrorCode.OK
        keep_driving(driver, 0.5, 0.0, 2.0)
        estimate = odometry.estimate
        assert estimate is not None
        assert estimate.linear_mps == pytest.approx(0.5, abs=0.03)
        assert estimate.x_m == pytest.approx(sim.snapshot().left_m, abs=0.1)
        assert estimate.x_m > 0.6
        assert abs(estimate.y_m) < 0.01
        s = status(driver)
        assert s.flag & StatusFlag.ARMED
        assert s.flag & StatusFlag.CONFIGURED
        assert 23.0 < s.battery_v < 25.6
        assert s.current_a > 1.2
        stats = driver.stats()
        assert stats.crc_errors == 0
        assert stats.drops == 0
        assert stats.acks == {"OK": stats.acks["OK"]}


def test_silence_on_drive_brakes_within_the_timeout_while_heartbeats_go_on(
    sim: McuSimulator, raw_host: RawHost
) -> None:
    timeout_s = sim.plant.settings.drive_timeout_ms / 1000
    arm(raw_host)
    end = time.monotonic() + 1.5
    last_drive_ns = 0
    while time.monotonic() < end:
        _, last_drive_ns = raw_host.send(Drive(0.6, 0.0))
        time.sleep(HOST_CONTROL_PERIOD_S)
    assert sim.snapshot().linear_mps > 0.5
    heartbeat_seqs = []
    for _ in range(12):
        seq, _ = raw_host.send(Heartbeat(1))
        heartbeat_seqs.append(seq)
        time.sleep(HOST_CONTROL_PERIOD_S)

    def tripped() -> list[Received[McuMessage]]:
        return [
            r
            for r in raw_host.messages(Status)
            if isinstance(r.message, Status) and r.message.fault & Fault.DRIVE_TIMEOUT
        ]

    assert wait_until(lambda: bool(tripped()), 1.0)
    delay_s = (tripped()[0].stamp_ns - last_drive_ns) / 1e9
    assert timeout_s < delay_s <= timeout_s + HOST_CONTROL_PERIOD_S
    assert all(raw_host.ack_for(s).error == ErrorCode.OK for s in heartbeat_seqs)
    assert wait_until(lambda: not sim.snapshot().moving, 1.0)
    seq, _ = raw_host.send(Drive(0.6, 0.0))
    assert raw_host.ack_for(seq).error == ErrorCode.NOT_ARMED


def test_estop_stops_the_chair_and_motion_needs_clear_and_rearm(
    sim: McuSimulator, driver: SerialDriver
) -> None:
    assert driver.rearm().error == ErrorCode.OK
    keep_driving(driver, 0.8, 0.0, 2.0)
    assert driver.estop().error == ErrorCode.OK
    assert wait_until(lambda: not sim.snapshot().moving, 0.8 / 1.2 + 0.3)
    assert status(driver).flag & StatusFlag.ESTOP
    assert driver.request(Drive(0.5, 0.0)).error == ErrorCode.ESTOP_ACTIVE
    assert driver.rearm().error == ErrorCode.ESTOP_ACTIVE
    assert driver.clear_estop().error == ErrorCode.OK
    assert driver.request(Drive(0.5, 0.0)).error == ErrorCode.NOT_ARMED
    time.sleep(0.3)
    assert not sim.snapshot().moving
    assert driver.rearm().error == ErrorCode.OK
    keep_driving(driver, 0.5, 0.0, 0.5)
    assert sim.snapshot().linear_mps > 0.1


def test_attendant_joystick_overrides_the_host(sim: McuSimulator, driver: SerialDriver) -> None:
    assert driver.rearm().error == ErrorCode.OK
    keep_driving(driver, 0.5, 0.0, 1.0)
    sim.set_joystick(0.0, -0.5, engaged=True)
    assert driver.request(Drive(0.5, 0.0)).error == ErrorCode.JOYSTICK_OVERRIDE
    keep_driving(driver, 0.5, 0.0, 2.5)
    assert sim.snapshot().linear_mps == pytest.approx(-0.4, abs=0.01)
    assert status(driver).flag & StatusFlag.JOYSTICK_OVERRIDE
    assert status(driver).joystick_y_pct == -50
    assert driver.stats().acks.get("JOYSTICK_OVERRIDE", 0) > 10


def test_occupied_seat_with_open_belt_refuses_autonomous_motion(
    sim: McuSimulator, driver: SerialDriver
) -> None:
    sim.set_seat(80.0, belt_closed=False)
    assert driver.rearm().error == ErrorCode.OK
    assert driver.request(Drive(0.5, 0.0)).error == ErrorCode.MOTION_REFUSED
    keep_driving(driver, 0.5, 0.0, 1.0)
    assert not sim.snapshot().moving
    s = status(driver)
    assert s.flag & StatusFlag.MOTION_REFUSED
    assert s.seat_load_kg == pytest.approx(80.0)
    sim.set_seat(80.0, belt_closed=True)
    keep_driving(driver, 0.5, 0.0, 0.5)
    assert sim.snapshot().moving


def test_frame_of_another_major_version_is_refused_with_its_error(
    sim: McuSimulator, raw_host: RawHost
) -> None:
    arm(raw_host)
    seq, _ = raw_host.send(Drive(0.5, 0.0), version=0x20)
    ack = raw_host.ack_for(seq)
    assert ack.error == ErrorCode.VERSION_MISMATCH
    assert ack.acked_type == Drive.TYPE
    time.sleep(0.3)
    state = sim.snapshot()
    # Had the frame been acted on, the wheels would have turned before the watchdog caught it.
    assert (state.left_m, state.right_m) == (0.0, 0.0)
    assert state.faults == Fault.NONE


def test_driver_survives_the_port_vanishing_and_reconnects(
    sim: McuSimulator, driver: SerialDriver
) -> None:
    assert driver.rearm().error == ErrorCode.OK
    keep_driving(driver, 0.4, 0.0, 1.0)
    sim.unplug()
    assert wait_until(lambda: not driver.link_up, 1.0)
    # The MCU is still powered: with its host gone it brakes and latches.
    assert wait_until(lambda: not sim.snapshot().moving, 1.5)
    time.sleep(0.3)
    sim.replug()
    assert wait_until(lambda: driver.link_up and driver.latest_status is not None, 5.0)
    assert wait_until(
        lambda: bool(status(driver).fault & (Fault.DRIVE_TIMEOUT | Fault.LINK_LOST)), 1.0
    )
    stats = driver.stats()
    assert stats.reconnects >= 1
    assert driver.rearm().error == ErrorCode.OK
    keep_driving(driver, 0.4, 0.0, 0.6)
    assert sim.snapshot().moving


def test_corrupted_telemetry_is_counted_and_dropped_and_the_link_holds(
    sim: McuSimulator, driver: SerialDriver
) -> None:
    assert driver.rearm().error == ErrorCode.OK
    sim.set_faults(
        tx=FaultProfile(
            bit_flip_rate=0.002,
            drop_rate=0.001,
            insert_rate=0.001,
            truncate_rate=0.02,
            garbage_burst_rate=0.03,
        )
    )
    keep_driving(driver, 0.5, 0.0, 3.0)
    stats = driver.stats()
    assert stats.link_up
    assert stats.crc_errors + sum(stats.decode_faults.values()) > 0
    assert stats.resyncs > 0
    assert stats.drops > 0
    assert sim.snapshot().linear_mps == pytest.approx(0.5, abs=0.01)


def test_corrupted_commands_are_never_acted_on(sim: McuSimulator, driver: SerialDriver) -> None:
    assert driver.rearm().error == ErrorCode.OK
    sim.set_faults(rx=FaultProfile(bit_flip_rate=0.01, insert_rate=0.005, drop_rate=0.005))
    targets = set()
    end = time.monotonic() + 3.0
    while time.monotonic() < end:
        driver.command(0.3, 0.1)
        time.sleep(0.02)
        targets.add(round(sim.snapshot().target_linear_mps, 6))
    assert sim.stats.faults_in
    assert all(t == 0.0 or t == pytest.approx(0.3) for t in targets)
    assert any(t == pytest.approx(0.3) for t in targets)


def test_driver_commands_zero_when_its_command_is_not_renewed(
    sim: McuSimulator, driver: SerialDriver, firmware_config: FirmwareConfig
) -> None:
    assert driver.rearm().error == ErrorCode.OK
    keep_driving(driver, 0.5, 0.0, 1.0)
    time.sleep(firmware_config.command_timeout_s + 1.2)
    state = sim.snapshot()
    assert not state.moving
    assert state.faults == Fault.NONE
    assert driver.stats().command_timeouts == 1


def test_silent_mcu_is_declared_dead_and_the_link_comes_back(
    sim: McuSimulator, driver: SerialDriver
) -> None:
    sim.set_faults(tx=FaultProfile(drop_rate=1.0))
    assert wait_until(lambda: driver.stats().link_timeouts >= 1, 1.0)
    assert not driver.link_up
    sim.set_faults(tx=FaultProfile())
    assert wait_until(lambda: driver.stats().reconnects >= 1 and driver.link_up, 5.0)
    assert driver.stats().link_timeouts >= 1


def test_nan_command_is_refused_by_the_driver(driver: SerialDriver) -> None:
    with pytest.raises(ValueError, match="finite"):
        driver.command(float("nan"), 0.0)


def test_a_command_goes_out_at_once_not_at_the_next_refresh(
    sim: McuSimulator, firmware_config: FirmwareConfig
) -> None:
    # A slow refresh, so a command that waited for it could not pass for an immediate one.
    config = firmware_config.model_copy(
        update={"drive_refresh_hz": 6.0, "drive_timeout_s": 0.5, "command_timeout_s": 2.0}
    )
    with SerialDriver(config) as driver:
        assert driver.wait_for_link(3.0)
        assert driver.rearm().error == ErrorCode.OK
        _check_immediate_sends(sim, driver, 1.0 / config.drive_refresh_hz)


def _check_immediate_sends(sim: McuSimulator, driver: SerialDriver, refresh_s: float) -> None:
    for target in (0.3, 0.0, 0.2):

        def applied(target: float = target) -> bool:
            return bool(sim.snapshot().target_linear_mps == pytest.approx(target))

        start = time.monotonic()
        driver.command(target, 0.0)
        assert wait_until(applied, 1.0)
        assert time.monotonic() - start < refresh_s / 3


def test_bytes_are_paced_at_the_baud_rate(raw_host: RawHost) -> None:
    frame_bytes = len(encode_frame(Configure(), 0)) + len(encode_frame(Ack(0, 0), 0))
    wire_s = frame_bytes * 10 / BAUD
    for _ in range(5):
        seq, sent_ns = raw_host.send(Configure())
        raw_host.ack_for(seq)
        ack = next(r for r in raw_host.messages(Ack) if r.message.acked_seq == seq)  # type: ignore[union-attr]
        assert (ack.stamp_ns - sent_ns) / 1e9 >= wire_s


def test_telemetry_arrives_at_its_rates(raw_host: RawHost) -> None:
    time.sleep(1.0)
    odometry = raw_host.messages(Odometry)
    status = raw_host.messages(Status)
    span_s = (odometry[-1].stamp_ns - odometry[0].stamp_ns) / 1e9
    assert (len(odometry) - 1) / span_s == pytest.approx(50, rel=0.1)
    assert 8 <= len(status) <= 14


def test_link_up_needs_a_frame_from_the_mcu(
    sim: McuSimulator, firmware_config: FirmwareConfig
) -> None:
    sim.set_faults(tx=FaultProfile(drop_rate=1.0))
    time.sleep(0.1)  # let frames already on their way out drain into the pty's buffer
    with SerialDriver(firmware_config) as driver:
        assert not driver.wait_for_link(1.0)
        samples = []
        for _ in range(50):
            samples.append(driver.link_up)
            time.sleep(0.01)
        assert not any(samples)


def test_reopening_a_silent_port_backs_off_to_the_cap(
    sim: McuSimulator, firmware_config: FirmwareConfig
) -> None:
    sim.set_faults(tx=FaultProfile(drop_rate=1.0))
    time.sleep(0.1)
    config = firmware_config.model_copy(
        update={"host_link_timeout_s": 0.05, "reconnect_min_s": 0.05, "reconnect_max_s": 0.4}
    )
    with SerialDriver(config) as driver:
        time.sleep(3.0)
        reopened = driver.stats().reconnects
    # Without backoff: one reopen per ~60 ms. With it: 0.05, 0.1, 0.2, then 0.4 s apart.
    assert 4 <= reopened <= 10


def test_rearm_configures_an_mcu_that_rebooted(sim: McuSimulator, driver: SerialDriver) -> None:
    assert driver.rearm().error == ErrorCode.OK
    keep_driving(driver, 0.3, 0.0, 0.5)
    sim.reboot()
    time.sleep(0.05)
    assert driver.rearm().error == ErrorCode.OK
    assert sim.snapshot().flags & StatusFlag.CONFIGURED
    keep_driving(driver, 0.3, 0.0, 0.8)
    assert sim.snapshot().moving


def test_estop_without_a_link_fails_loudly(sim: McuSimulator, driver: SerialDriver) -> None:
    sim.unplug()
    assert wait_until(lambda: not driver.connected, 2.0)
    with pytest.raises(LinkError, match="not connected"):
        driver.estop()


def test_a_huge_command_is_clamped_and_the_driver_keeps_running(
    sim: McuSimulator, driver: SerialDriver, firmware_config: FirmwareConfig
) -> None:
    assert driver.rearm().error == ErrorCode.OK
    driver.command(1e300, -1e300)
    time.sleep(0.3)
    state = sim.snapshot()
    assert state.target_linear_mps == pytest.approx(firmware_config.limits.max_linear_mps, rel=1e-6)
    assert state.target_angular_radps == pytest.approx(
        -firmware_config.limits.max_angular_radps, rel=1e-6
    )
    keep_driving(driver, 0.2, 0.0, 0.3)
    assert driver.stats().internal_errors == 0
    assert driver.link_up


def test_an_exception_in_the_frame_callback_does_not_end_the_link(
    sim: McuSimulator, firmware_config: FirmwareConfig
) -> None:
    def broken(received: Received[Odometry | Status | Ack]) -> None:
        raise RuntimeError("callback bug")

    with SerialDriver(firmware_config, on_frame=broken) as driver:
        assert driver.wait_for_link(3.0)
        time.sleep(0.3)
        stats = driver.stats()
        assert stats.internal_errors > 5
        assert stats.link_up
