"""SerialTelemetryHost: the MCU simulator and the oximeter simulator on ptys, a real Mosquitto."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from chairlink.config import ChairConfig, FirmwareConfig, IdentityConfig, OximeterConfig
from chairlink.wire.payloads import (
    CancelCommand,
    CommandAck,
    ConfigCommand,
    EventMessage,
    PatientMessage,
    StopCommand,
    TripCommand,
    TripMessage,
    VehicleMessage,
    VehicleSample,
)
from chairlink.wire.topics import Channel, CommandKind
from edge.telemetry.oximeter.simulator import OximeterSimulator
from edge.telemetry.serial_host import SerialTelemetryHost
from edge.types import Perfusion, Vitals
from firmware_bridge.mcu_sim import McuSimulator
from firmware_bridge.messages import ErrorCode, StatusFlag
from tests.monitor import CHAIR, SITE, Monitor, telemetry_config
from tests.mosquitto import Mosquitto
from tests.wait import WAIT_S, wait_until

pytestmark = pytest.mark.pty

PATIENT = "pt-4e1b2c9d"
BAUD = 115200


def patient_vitals(now_ns: int) -> Vitals:
    """What the simulated oximeter measures; the token is the host's to set, not the device's."""
    return Vitals(now_ns, "", 96.0, 70.0, Perfusion.GOOD, False)


@pytest.fixture
def mcu(tmp_path: Path) -> Iterator[McuSimulator]:
    with McuSimulator(baud=BAUD, link=tmp_path / "ttyMCU") as simulator:
        yield simulator


@pytest.fixture
def oximeter(tmp_path: Path) -> Iterator[OximeterSimulator]:
    with OximeterSimulator(patient_vitals, link=tmp_path / "ttyOXI") as simulator:
        yield simulator


def chair_config(
    broker: Mosquitto, tmp_path: Path, mcu: McuSimulator, oximeter: OximeterSimulator
) -> ChairConfig:
    return ChairConfig(
        identity=IdentityConfig(chair_id=CHAIR, site=SITE),
        firmware=FirmwareConfig(port=mcu.device_path, baud=BAUD),
        telemetry=telemetry_config(broker, tmp_path, vehicle_hz=10.0),
        oximeter=OximeterConfig(port=oximeter.device_path, publish_hz=2.0),
    )


@pytest.fixture
def host(
    broker: Mosquitto, tmp_path: Path, mcu: McuSimulator, oximeter: OximeterSimulator
) -> Iterator[SerialTelemetryHost]:
    serial_host = SerialTelemetryHost(chair_config(broker, tmp_path, mcu, oximeter))
    serial_host.start()
    yield serial_host
    serial_host.stop()


def samples(monitor: Monitor) -> list[VehicleSample]:
    return [
        s for m in monitor.of(Channel.VEHICLE) if isinstance(m, VehicleMessage) for s in m.samples
    ]


def patients(monitor: Monitor) -> list[PatientMessage]:
    return [m for m in monitor.of(Channel.PATIENT) if isinstance(m, PatientMessage)]


def answer(monitor: Monitor, command_id: str, timeout: float = WAIT_S) -> CommandAck:
    """The chair's acknowledgement of a command, from an event or a trip message."""
    found: list[CommandAck] = []

    def arrived() -> bool:
        for m in [*monitor.of(Channel.EVENT), *monitor.of(Channel.TRIP)]:
            ack = m.ack if isinstance(m, EventMessage | TripMessage) else None
            if ack is not None and ack.command_id == command_id:
                found.append(ack)
                return True
        return False

    assert wait_until(arrived, timeout), f"no answer to {command_id}"
    return found[0]


def trip(command_id: str, trip_id: str, patient: str | None = PATIENT) -> TripCommand:
    return TripCommand(
        v=1,
        command_id=command_id,
        chair=CHAIR,
        issued_ns=time.time_ns(),
        kind=CommandKind.TRIP,
        trip_id=trip_id,
        origin="ward-a",
        destination="x-ray",
        patient=patient,
    )


def config_command(command_id: str, changes: dict[str, float | int | bool | str]) -> ConfigCommand:
    return ConfigCommand(
        v=1,
        command_id=command_id,
        chair=CHAIR,
        issued_ns=time.time_ns(),
        kind=CommandKind.CONFIG,
        changes=changes,
    )


def test_vehicle_goes_out_and_vitals_only_with_a_trips_patient(
    host: SerialTelemetryHost, monitor: Monitor
) -> None:
    assert wait_until(lambda: len(samples(monitor)) >= 10, WAIT_S), host.driver.stats()
    first = samples(monitor)[0]
    assert first.mode == "idle"  # the MCU boots disarmed
    assert abs(first.stamp_ns - time.time_ns()) < 10 * 10**9  # wall time on the wire
    assert patients(monitor) == []  # nobody on the chair yet

    monitor.command(trip("c-trip-1", "trip-1"))
    ack = answer(monitor, "c-trip-1")
    assert ack.accepted, ack.reason
    assert ack.reason == f"trip trip-1 assigned; vitals as {PATIENT}"
    # Right after the start the reader may not have a whole packet yet: those go as stale.
    assert wait_until(lambda: any(not r.stale for r in patients(monitor)), WAIT_S)
    assert {r.patient for r in patients(monitor)} == {PATIENT}
    assert all(r.stale or (r.spo2_pct, r.pulse_bpm) == (96.0, 70.0) for r in patients(monitor))

    monitor.command(trip("c-trip-2", "trip-2", patient="pt-99999999"))
    busy = answer(monitor, "c-trip-2")
    assert not busy.accepted
    assert busy.reason == "busy with trip trip-1: cancel it first"

    cancel = CancelCommand(
        v=1,
        command_id="c-cancel-1",
        chair=CHAIR,
        issued_ns=time.time_ns(),
        kind=CommandKind.CANCEL,
        trip_id="trip-1",
    )
    monitor.command(cancel)
    assert answer(monitor, "c-cancel-1").accepted
    # Readings come due twice a second. One held back for want of a patient was polled after
    # the cancel, and so after any polled before it (one thread polls): what was sent is known.
    held = host.feed.stats().vitals_without_patient
    assert wait_until(lambda: host.feed.stats().vitals_without_patient > held, WAIT_S)
    count = host.feed.stats().vitals
    assert wait_until(lambda: len(patients(monitor)) == count, WAIT_S)
    # Three more due and held back, none sent.
    assert wait_until(lambda: host.feed.stats().vitals_without_patient > held + 3, WAIT_S)
    assert host.feed.stats().vitals == count
    assert len(patients(monitor)) == count
    assert host.patient is None
    assert monitor.seqs(Channel.PATIENT) == list(range(count))

    summary = host.stop()
    assert summary.feed.vitals == count
    assert summary.feed.vitals_without_patient > 0
    assert summary.feed.vehicle_samples >= 10
    assert summary.trip is None
    assert summary.braked
    assert summary.mcu_frames > 0


def test_a_remote_stop_sets_the_mcus_estop_and_is_accepted_on_its_ack(
    host: SerialTelemetryHost, monitor: Monitor, mcu: McuSimulator
) -> None:
    assert host.driver.wait_for_link(WAIT_S)
    monitor.wait_chair_listening()
    assert not mcu.snapshot().flags & StatusFlag.ESTOP
    stop = StopCommand(
        v=1,
        command_id="c-stop-1",
        chair=CHAIR,
        issued_ns=time.time_ns(),
        kind=CommandKind.STOP,
        reason="nurse pressed stop",
    )
    monitor.command(stop)
    ack = answer(monitor, "c-stop-1")
    assert ack.accepted, ack.reason
    assert ack.reason == "e-stop set"
    assert mcu.snapshot().flags & StatusFlag.ESTOP
    assert wait_until(lambda: any(s.mode == "estop" for s in samples(monitor)), WAIT_S)


def test_a_stop_the_mcu_cannot_take_is_refused_with_the_reason(
    host: SerialTelemetryHost, monitor: Monitor, mcu: McuSimulator
) -> None:
    assert host.driver.wait_for_link(WAIT_S)
    monitor.wait_chair_listening()
    mcu.unplug()
    assert wait_until(lambda: not host.driver.connected, WAIT_S)
    monitor.command(
        StopCommand(v=1, command_id="c-stop-2", chair=CHAIR, issued_ns=time.time_ns(), kind="stop")
    )
    ack = answer(monitor, "c-stop-2")
    assert not ack.accepted
    assert ack.reason.startswith("e-stop not delivered:")
    assert "not connected" in ack.reason
    assert not host.stop().braked  # no port to send the brake on: the MCU's own timeout acts


def test_config_changes_only_limits_and_says_why_not(
    host: SerialTelemetryHost, monitor: Monitor
) -> None:
    assert host.driver.wait_for_link(WAIT_S)
    monitor.wait_chair_listening()
    monitor.command(
        config_command("c-cfg-1", {"firmware.limits.warp_factor": 9, "firmware.baud": 9600})
    )
    refused = answer(monitor, "c-cfg-1")
    assert not refused.accepted
    assert refused.reason == (
        "unknown parameter firmware.limits.warp_factor; firmware.baud cannot change while the "
        "chair runs"
    )
    monitor.command(config_command("c-cfg-2", {"firmware.limits.max_linear_mps": "fast"}))
    assert answer(monitor, "c-cfg-2").reason == (
        "firmware.limits.max_linear_mps: expected a number, got 'fast'"
    )
    monitor.command(config_command("c-cfg-3", {"firmware.limits.max_linear_mps": 9}))
    out_of_range = answer(monitor, "c-cfg-3")
    assert not out_of_range.accepted
    assert "firmware.limits.max_linear_mps: Input should be less than or equal to 4.17" in (
        out_of_range.reason
    )
    monitor.command(config_command("c-cfg-4", {"firmware.limits.max_linear_mps": 0.9}))
    applied = answer(monitor, "c-cfg-4")
    assert applied.accepted, applied.reason
    assert applied.reason == "applied"


def test_limits_do_not_change_while_the_chair_moves(
    host: SerialTelemetryHost, monitor: Monitor, mcu: McuSimulator
) -> None:
    assert host.driver.wait_for_link(WAIT_S)
    monitor.wait_chair_listening()
    assert host.driver.rearm().error == ErrorCode.OK
    driving = threading.Event()

    def drive() -> None:
        # The attendant's stand-in: a command renewed well within the driver's timeout.
        while not driving.wait(0.05):
            host.driver.command(0.4, 0.0)

    driver_thread = threading.Thread(target=drive, daemon=True)
    driver_thread.start()
    try:
        assert wait_until(lambda: mcu.snapshot().moving, WAIT_S)
        monitor.command(config_command("c-cfg-5", {"firmware.limits.max_linear_mps": 0.9}))
        busy = answer(monitor, "c-cfg-5")
    finally:
        driving.set()
        driver_thread.join(timeout=1)
        host.driver.command(0.0, 0.0)
    assert not busy.accepted
    assert busy.reason == "MCU refused: BUSY (limits change only while the chair stands still)"
