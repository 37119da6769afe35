"""``chairlink edge agent`` as a chair without ROS runs it: a real process, simulators on ptys."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from chairlink.wire.payloads import (
    CommandAck,
    EventMessage,
    PatientMessage,
    TripCommand,
    TripMessage,
    UplinkMessage,
    VehicleMessage,
)
from chairlink.wire.topics import Channel, CommandKind
from edge.telemetry.oximeter.simulator import OximeterSimulator
from edge.types import Perfusion, Vitals
from firmware_bridge.framing import Frame
from firmware_bridge.mcu_sim import McuSimulator
from firmware_bridge.messages import Drive
from tests.monitor import CHAIR, SITE, USERS, Monitor
from tests.mosquitto import Mosquitto
from tests.wait import WAIT_S, wait_until

pytestmark = pytest.mark.pty

PATIENT = "pt-5d6e7f80"


def _trip_9() -> TripCommand:
    """Trip 9 with PATIENT aboard, issued now."""
    return TripCommand(
        v=1,
        command_id="c-trip-9",
        chair=CHAIR,
        issued_ns=time.time_ns(),
        kind=CommandKind.TRIP,
        trip_id="trip-9",
        origin="ward-b",
        destination="theatre-2",
        patient=PATIENT,
    )


def chair_yaml(tmp_path: Path, broker: Mosquitto, mcu: str, oximeter: str) -> Path:
    (tmp_path / "chair.pw").write_text(USERS[CHAIR], encoding="utf-8")
    config = {
        "identity": {"chair_id": CHAIR, "site": SITE},
        "firmware": {"port": mcu, "baud": 115200},
        "telemetry": {
            "broker_host": "127.0.0.1",
            "broker_port": broker.port,
            "password_file": str(tmp_path / "chair.pw"),
            "outbox_path": str(tmp_path / "outbox.db"),
            "vehicle_batch_s": 0.0,
        },
        "oximeter": {"port": oximeter, "publish_hz": 2.0},
    }
    path = tmp_path / "chair.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def test_the_agent_runs_on_the_serial_ports_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    broker = Mosquitto(tmp_path / "broker", USERS)
    broker.start()
    monitor = Monitor(broker)
    frames: list[Frame] = []
    mcu = McuSimulator(
        baud=115200, link=tmp_path / "ttyMCU", frame_observer=lambda _t, f: frames.append(f)
    )
    oximeter = OximeterSimulator(
        lambda now: Vitals(now, "", 95.0, 81.0, Perfusion.GOOD, False), link=tmp_path / "ttyOXI"
    )
    agent: subprocess.Popen[str] | None = None
    try:
        mcu.start()
        oximeter.start()
        config = chair_yaml(tmp_path, broker, mcu.device_path, oximeter.device_path)
        agent = subprocess.Popen(
            [sys.executable, "-m", "chairlink", "edge", "agent", "--config", str(config)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

        def vehicle_samples() -> int:
            return sum(
                len(m.samples) for m in monitor.of(Channel.VEHICLE) if isinstance(m, VehicleMessage)
            )

        assert wait_until(lambda: vehicle_samples() >= 5, 10)
        monitor.command(_trip_9())

        def readings() -> list[PatientMessage]:
            return [m for m in monitor.of(Channel.PATIENT) if isinstance(m, PatientMessage)]

        # Right after the start the reader may not have a whole packet yet: those go as stale.
        assert wait_until(lambda: any(r.pulse_bpm == 81.0 for r in readings()), 5)
        assert {r.patient for r in readings()} == {PATIENT}
        assert all(r.stale or (r.spo2_pct, r.pulse_bpm) == (95.0, 81.0) for r in readings())
        agent.send_signal(signal.SIGTERM)
        out, err = agent.communicate(timeout=15)
    finally:
        if agent is not None and agent.poll() is None:
            agent.kill()
            agent.wait(timeout=5)
        monitor.close()
        oximeter.stop()
        mcu.stop()
        broker.stop()
    assert agent.returncode == 0, err
    # The last frame the MCU got was the brake: a zero DRIVE after the threads stopped.
    assert frames[-1].message == Drive(0.0, 0.0)
    assert "stopped after" in out
    assert "chair braked" in out
    assert "trip trip-9 was still assigned" in out
    assert "no patient token: vitals are not sent" in err  # said once, before the trip
    assert err.count("no patient token") == 1


def _start_agent(config: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "chairlink", "edge", "agent", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _kill(agent: subprocess.Popen[str]) -> None:
    """SIGKILL: what a power cut or the OOM killer does to the chair's process."""
    agent.kill()
    agent.communicate(timeout=15)


def test_a_chair_killed_mid_trip_takes_it_up_again_or_ends_it_with_an_event(
    tmp_path: Path,
) -> None:
    broker = Mosquitto(tmp_path / "broker", USERS)
    broker.start()
    monitor = Monitor(broker)
    mcu = McuSimulator(baud=115200, link=tmp_path / "ttyMCU")
    oximeter = OximeterSimulator(
        lambda now: Vitals(now, "", 95.0, 81.0, Perfusion.GOOD, False), link=tmp_path / "ttyOXI"
    )
    trip = _trip_9()
    first = f"trip trip-9 assigned; vitals as {PATIENT}"

    def since(start_ns: int, channel: Channel) -> list[UplinkMessage]:
        return [m for m in monitor.of(channel) if m.stamp_ns >= start_ns]

    def readings(start_ns: int) -> list[PatientMessage]:
        return [m for m in since(start_ns, Channel.PATIENT) if isinstance(m, PatientMessage)]

    def events(start_ns: int, code: str) -> list[EventMessage]:
        found = since(start_ns, Channel.EVENT)
        return [m for m in found if isinstance(m, EventMessage) and m.code == code]

    def repeat_answer(start_ns: int) -> CommandAck:
        """The answer to the trip's command sent again."""
        monitor.command(trip)

        def acks() -> list[CommandAck]:
            found = since(start_ns, Channel.TRIP)
            return [m.ack for m in found if isinstance(m, TripMessage) and m.ack is not None]

        assert wait_until(lambda: bool(acks()), WAIT_S), "no answer to the repeated trip"
        return acks()[0]

    agent: subprocess.Popen[str] | None = None
    try:
        mcu.start()
        oximeter.start()
        config = chair_yaml(tmp_path, broker, mcu.device_path, oximeter.device_path)
        agent = _start_agent(config)
        monitor.command(trip)
        assert wait_until(lambda: any(r.pulse_bpm == 81.0 for r in readings(0)), WAIT_S)
        _kill(agent)

        # Back: the trip is taken up again before any command, its patient's vitals go out
        # at once (the old process's backlog aside: stamped before the restart), and the
        # monitor is told.
        restarted_ns = time.time_ns()
        agent = _start_agent(config)
        assert wait_until(lambda: bool(events(restarted_ns, "trip_restored")), WAIT_S)
        restored = events(restarted_ns, "trip_restored")[0]
        assert (restored.kind, restored.priority, restored.patient) == (
            "incident",
            "medium",
            PATIENT,
        )
        assert restored.message.startswith("trip trip-9 restored after a restart (assigned ")
        assert wait_until(lambda: any(r.pulse_bpm == 81.0 for r in readings(restarted_ns)), 10), (
            "no vitals under the trip's patient within 10 s of the restart"
        )
        assert {r.patient for r in readings(restarted_ns)} == {PATIENT}
        again = repeat_answer(restarted_ns)
        assert (again.accepted, again.duplicate) == (True, True)
        assert again.reason == f"first answer: {first}. Now: on trip trip-9, vitals as {PATIENT}"
        _kill(agent)

        # Killed again, and the trip file damaged meanwhile: no vitals under a patient the
        # chair cannot name, and the monitor is told the trip ended, and why.
        trip_file = tmp_path / "outbox.trip.json"
        trip_file.write_bytes(trip_file.read_bytes().replace(PATIENT.encode(), b"Jane Doe"))
        restarted_ns = time.time_ns()
        agent = _start_agent(config)
        assert wait_until(lambda: bool(events(restarted_ns, "trip_not_restored")), WAIT_S)
        ended = events(restarted_ns, "trip_not_restored")[0]
        assert (ended.kind, ended.priority, ended.patient) == ("incident", "high", None)
        assert ended.message.startswith("trip trip-9 ended: not restored after a restart (")
        assert "the trip is not valid" in ended.message

        def failed() -> list[TripMessage]:
            found = since(restarted_ns, Channel.TRIP)
            return [m for m in found if isinstance(m, TripMessage) and m.event == "failed"]

        assert wait_until(lambda: bool(failed()), WAIT_S)
        assert [(m.trip_id, m.detail) for m in failed()] == [("trip-9", ended.message)]
        again = repeat_answer(restarted_ns)
        assert (again.accepted, again.duplicate) == (True, True)
        assert again.reason == f"first answer: {first}. Now: no trip assigned"
        # Vehicle samples for three vitals periods since the restart, and not one reading.
        assert wait_until(
            lambda: any(m.stamp_ns > restarted_ns + 1.5e9 for m in since(0, Channel.VEHICLE)),
            WAIT_S,
        )
        monitor.barrier()
        assert readings(restarted_ns) == []
        agent.send_signal(signal.SIGTERM)
        agent.communicate(timeout=15)
    finally:
        if agent is not None and agent.poll() is None:
            agent.kill()
            agent.wait(timeout=5)
        monitor.close()
        oximeter.stop()
        mcu.stop()
        broker.stop()


def test_a_missing_config_is_named(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "chairlink", "edge", "agent", "--config", str(tmp_path / "no.yaml")],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 1
    assert "no.yaml: cannot read chair config" in result.stderr
