"""The host driver and the MCU simulator over a real pseudo-terminal with pyserial at 115200."""

from __future__ import annotations

import itertools
import statistics
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
from tests.firmware_bridge.mcu_clock import let_mcu_run
from tests.firmware_bridge.raw_host import BAUD, RawHost
from tests.wait import WAIT_S, wait_until

pytestmark = pytest.mark.pty

HOST_CONTROL_PERIOD_S = 0.05
LOADED = Configure(drive_timeout_ms=1000, link_timeout_ms=2000)
"""Watchdogs that a host loop standing still on a loaded machine does not trip by accident."""
LATE_S = 0.5
"""How much later than the MCU acts a host may see it on a loaded machine: the exact timing
is tested on simulated time (test_plant.py), the pty adds only scheduling."""


def arm(host: RawHost, configure: Configure = LOADED) -> None:
    """Configure and arm the MCU by hand, as the driver's rearm() does."""
    for message in (configure, Rearm()):
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
        assert driver.wait_for_link(WAIT_S)
        assert driver.rearm().error == ErrorCode.OK
        keep_driving(driver, 0.5, 0.0, 2.0)
        estimate = odometry.estimate
        assert estimate is not None
        assert estimate.linear_mps == pytest.approx(0.5, abs=0.03)
        s = status(driver)
        assert s.flag & StatusFlag.ARMED
        assert s.flag & StatusFlag.CONFIGURED
        assert 23.0 < s.battery_v < 25.6
        assert s.current_a > 1.2
        # Compared standing, once the odometry of the standstill is in: while moving, the
        # frames on their way lag the plant by as long as the machine keeps them waiting.
        driver.command(0.0, 0.0)
        assert wait_until(lambda: not sim.snapshot().moving, WAIT_S)
        assert wait_until(lambda: getattr(odometry.estimate, "linear_mps", None) == 0.0, WAIT_S)
        estimate = odometry.estimate
        assert estimate is not None
        assert estimate.x_m == pytest.approx(sim.snapshot().left_m, abs=0.01)
        assert estimate.x_m > 0.6
        assert abs(estimate.y_m) < 0.01
        stats = driver.stats()
        assert stats.crc_errors == 0
        assert stats.drops == 0
        assert stats.acks == {"OK": stats.acks["OK"]}


def test_silence_on_drive_brakes_within_the_timeout_while_heartbeats_go_on(
    sim: McuSimulator, raw_host: RawHost
) -> None:
    arm(raw_host)
    timeout_s = sim.plant.settings.drive_timeout_ms / 1000
    end = time.monotonic() + 1.5
    last_drive_ns = 0
    while time.monotonic() < end:
        _, last_drive_ns = raw_host.send(Drive(0.6, 0.0))
        time.sleep(HOST_CONTROL_PERIOD_S)
    assert sim.snapshot().linear_mps > 0.5

    def tripped() -> list[Received[McuMessage]]:
        return [
            r
            for r in raw_host.messages(Status)
            if isinstance(r.message, Status) and r.message.fault & Fault.DRIVE_TIMEOUT
        ]

    # Heartbeats all along, until the MCU brakes: they keep the link, not the drive.
    heartbeat_seqs = []
    deadline = time.monotonic() + WAIT_S
    while not tripped() and time.monotonic() < deadline:
        seq, _ = raw_host.send(Heartbeat(1))
        heartbeat_seqs.append(seq)
        time.sleep(HOST_CONTROL_PERIOD_S)
    assert tripped()
    delay_s = (tripped()[0].stamp_ns - last_drive_ns) / 1e9
    assert timeout_s < delay_s <= timeout_s + LATE_S
    assert all(raw_host.ack_for(s).error == ErrorCode.OK for s in heartbeat_seqs)
    assert wait_until(lambda: not sim.snapshot().moving, WAIT_S)
    seq, _ = raw_host.send(Drive(0.6, 0.0))
    assert raw_host.ack_for(seq).error == ErrorCode.NOT_ARMED


def test_estop_stops_the_chair_and_motion_needs_clear_and_rearm(
    sim: McuSimulator, driver: SerialDriver
) -> None:
    assert driver.rearm().error == ErrorCode.OK
    keep_driving(driver, 0.8, 0.0, 2.0)
    estop_ns = sim.snapshot().time_ns
    assert driver.estop().error == ErrorCode.OK
    stopped: list[int] = []

    def standing() -> bool:
        state = sim.snapshot()
        stopped.append(state.time_ns)
        return not state.moving

    # From 0.8 m/s at the emergency deceleration of 1.2 m/s², on the MCU's own clock.
    assert wait_until(standing, WAIT_S)
    assert (stopped[-1] - estop_ns) / 1e9 <= 0.8 / 1.2 + LATE_S
    assert status(driver).flag & StatusFlag.ESTOP
    assert driver.request(Drive(0.5, 0.0)).error == ErrorCode.ESTOP_ACTIVE
    assert driver.rearm().error == ErrorCode.ESTOP_ACTIVE
    assert driver.clear_estop().error == ErrorCode.OK
    assert driver.request(Drive(0.5, 0.0)).error == ErrorCode.NOT_ARMED
    let_mcu_run(sim, 0.3)
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
    let_mcu_run(sim, 0.3)
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
    assert wait_until(lambda: not driver.link_up, WAIT_S)
    # The MCU is still powered: with its host gone it brakes and latches.
    assert wait_until(lambda: not sim.snapshot().moving, WAIT_S)
    latched = Fault.DRIVE_TIMEOUT | Fault.LINK_LOST
    assert wait_until(lambda: bool(sim.snapshot().faults & latched), WAIT_S)
    sim.replug()
    assert wait_until(lambda: driver.link_up and driver.latest_status is not None, WAIT_S)
    assert wait_until(lambda: bool(status(driver).fault & latched), WAIT_S)
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
    assert wait_until(lambda: driver.stats().command_timeouts >= 1, WAIT_S)
    assert wait_until(lambda: not sim.snapshot().moving, WAIT_S)
    # Refreshes of the zero command go on: a second timeout would be counted among them.
    sent = driver.stats().frames_tx
    assert wait_until(lambda: driver.stats().frames_tx >= sent + 10, WAIT_S)
    assert sim.snapshot().faults == Fault.NONE
    assert driver.stats().command_timeouts == 1


def test_silent_mcu_is_declared_dead_and_the_link_comes_back(
    sim: McuSimulator, driver: SerialDriver
) -> None:
    sim.set_faults(tx=FaultProfile(drop_rate=1.0))
    assert wait_until(lambda: driver.stats().link_timeouts >= 1, WAIT_S)
    assert not driver.link_up
    sim.set_faults(tx=FaultProfile())
    assert wait_until(lambda: driver.stats().reconnects >= 1 and driver.link_up, WAIT_S)
    assert driver.stats().link_timeouts >= 1


def test_nan_command_is_refused_by_the_driver(driver: SerialDriver) -> None:
    with pytest.raises(ValueError, match="finite"):
        driver.command(float("nan"), 0.0)


def test_a_command_goes_out_at_once_not_at_the_next_refresh(
    sim: McuSimulator, firmware_config: FirmwareConfig
) -> None:
    # The slowest refresh, so that one falling inside a command() call is all but ruled out.
    config = firmware_config.model_copy(
        update={"drive_refresh_hz": 5.0, "drive_timeout_s": 1.0, "command_timeout_s": 2.0}
    )
    with SerialDriver(config) as driver:
        assert driver.wait_for_link(WAIT_S)
        assert driver.rearm().error == ErrorCode.OK
        _check_immediate_sends(sim, driver)


def _check_immediate_sends(sim: McuSimulator, driver: SerialDriver) -> None:
    # Counted, not timed: the frame is out before command() returns, however slow the machine.
    for target in (0.3, 0.0, 0.2):

        def applied(target: float = target) -> bool:
            return bool(sim.snapshot().target_linear_mps == pytest.approx(target))

        sent = driver.stats().frames_tx
        driver.command(target, 0.0)
        assert driver.stats().frames_tx == sent + 1
        assert wait_until(applied, WAIT_S)


def test_bytes_are_paced_at_the_baud_rate(raw_host: RawHost) -> None:
    frame_bytes = len(encode_frame(Configure(), 0)) + len(encode_frame(Ack(0, 0), 0))
    wire_s = frame_bytes * 10 / BAUD
    for _ in range(5):
        seq, sent_ns = raw_host.send(Configure())
        raw_host.ack_for(seq)
        ack = next(r for r in raw_host.messages(Ack) if r.message.acked_seq == seq)  # type: ignore[union-attr]
        assert (ack.stamp_ns - sent_ns) / 1e9 >= wire_s


def test_telemetry_arrives_at_its_rates(raw_host: RawHost) -> None:
    assert wait_until(lambda: len(raw_host.messages(Status)) >= 21, WAIT_S)
    odometry = raw_host.messages(Odometry)
    status = raw_host.messages(Status)
    # Typical spacing, not a count over an assumed window: a loaded machine that stalls the
    # simulator now and then stretches a few intervals, not the median. Odometry on the MCU's
    # own clock (the interval each frame carries), status as the host received it.
    intervals_ms = [r.message.interval_us / 1000 for r in odometry[1:]]  # type: ignore[union-attr]
    assert statistics.median(intervals_ms) == pytest.approx(20, abs=2)
    gaps_ms = [(b.stamp_ns - a.stamp_ns) / 1e6 for a, b in itertools.pairwise(status)]
    assert statistics.median(gaps_ms) == pytest.approx(100, abs=20)
    # Over the whole span, five odometry frames to a status, give or take the stalls.
    span_odometry = [r for r in odometry if status[0].stamp_ns <= r.stamp_ns <= status[-1].stamp_ns]
    assert len(span_odometry) / (len(status) - 1) == pytest.approx(5, rel=0.2)


def silence(sim: McuSimulator) -> None:
    """Make the MCU drop every frame it sends, and wait until it has gone through two frames:
    the one on its way out at the change is in the pty's buffer by then, the next dropped."""
    before = sim.stats.frames_out
    sim.set_faults(tx=FaultProfile(drop_rate=1.0))
    assert wait_until(lambda: sim.stats.frames_out >= before + 2, WAIT_S)


def test_link_up_needs_a_frame_from_the_mcu(
    sim: McuSimulator, firmware_config: FirmwareConfig
) -> None:
    silence(sim)
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
    silence(sim)
    config = firmware_config.model_copy(
        update={"host_link_timeout_s": 0.05, "reconnect_min_s": 0.05, "reconnect_max_s": 0.4}
    )
    reopened_at: list[float] = []
    with SerialDriver(config) as driver:

        def reopened(count: int) -> bool:
            if driver.stats().reconnects > len(reopened_at):
                reopened_at.append(time.monotonic())
            return len(reopened_at) >= count

        assert wait_until(lambda: reopened(8), WAIT_S, interval=0.002)
    gaps = [b - a for a, b in itertools.pairwise(reopened_at)]
    # Without backoff: one reopen per ~0.1 s. With it the waits are 0.05, 0.1, 0.2, then the
    # cap, 0.4 s: a lower bound whatever the load.
    assert sum(gaps) >= 0.05 + 0.1 + 0.2 + 4 * 0.4
    # The cap: uncapped, the last gaps would be 0.8, 1.6 and 3.2 s. The median of three, so
    # one gap a loaded machine stretched does not decide.
    assert statistics.median(gaps[-3:]) < 0.8


def test_rearm_configures_an_mcu_that_rebooted(sim: McuSimulator, driver: SerialDriver) -> None:
    assert driver.rearm().error == ErrorCode.OK
    keep_driving(driver, 0.3, 0.0, 0.5)
    sim.reboot()
    # The driver has seen the reboot: the MCU reports itself unconfigured.
    assert wait_until(lambda: not status(driver).flag & StatusFlag.CONFIGURED, WAIT_S)
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
    assert wait_until(lambda: sim.snapshot().target_linear_mps > 0, WAIT_S)
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
        assert driver.wait_for_link(WAIT_S)
        assert wait_until(lambda: driver.stats().internal_errors > 5, WAIT_S)
        stats = driver.stats()
        assert stats.link_up
