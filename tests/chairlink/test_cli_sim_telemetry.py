"""``chairlink sim run --telemetry``: a simulated chair on a real Mosquitto, as monitors see it."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

import yaml

from chairlink.wire.payloads import PatientMessage, VehicleMessage
from chairlink.wire.topics import Channel
from tests.monitor import CHAIR, SITE, USERS, Monitor
from tests.mosquitto import Mosquitto
from tests.wait import wait_until

SCENARIO = "name: short\nseed: 2\nduration_s: 45\nchair: {start: lobby-a, goal: a-100}\n"
SCENARIO_TOKEN = "pt-0000"  # the scenario format's default patient


def chair_yaml(tmp_path: Path, broker: Mosquitto) -> Path:
    """A chair.yaml for chair-07 at site-1 on the test's broker."""
    (tmp_path / "chair.pw").write_text(USERS[CHAIR], encoding="utf-8")
    config = {
        "identity": {"chair_id": CHAIR, "site": SITE},
        "telemetry": {
            "broker_host": "127.0.0.1",
            "broker_port": broker.port,
            "password_file": str(tmp_path / "chair.pw"),
            "outbox_path": str(tmp_path / "outbox.db"),
            "vehicle_hz": 10.0,
        },
        "oximeter": {"publish_hz": 1.0},
    }
    path = tmp_path / "chair.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def sim_run(*args: str, data: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chairlink", "sim", "run", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "CHAIRLINK_DATA": str(data)},
    )


def test_a_short_run_reaches_the_monitor_at_the_simulated_rates(tmp_path: Path) -> None:
    broker = Mosquitto(tmp_path / "broker", USERS)
    broker.start()
    monitor = Monitor(broker)
    try:
        scenario = tmp_path / "short.yaml"
        scenario.write_text(SCENARIO, encoding="utf-8")
        result = sim_run(
            str(scenario),
            "--duration",
            "3",
            "--telemetry",
            str(chair_yaml(tmp_path, broker)),
            data=tmp_path / "data",
        )
        assert result.returncode == 0, result.stderr
        # 3 s simulated: samples at 0.0 .. 3.0 s, vitals at 0, 1, 2 and 3 s.
        assert "31 vehicle samples, 4 vitals readings" in result.stdout, result.stdout
        assert "0 left in the outbox" in result.stdout
        assert wait_until(lambda: len(monitor.of(Channel.PATIENT)) == 4, 5)
        assert wait_until(lambda: sum(len(m.samples) for m in vehicle(monitor)) == 31, 5)
    finally:
        monitor.close()
        broker.stop()
    samples = [s for m in vehicle(monitor) for s in m.samples]
    spacing = {b.stamp_ns - a.stamp_ns for a, b in itertools.pairwise(samples)}
    assert spacing == {100_000_000}  # 10 Hz of simulated time, whatever the wall clock did
    assert samples[-1].x_m != samples[0].x_m  # the chair drove
    patients = [m for m in monitor.of(Channel.PATIENT) if isinstance(m, PatientMessage)]
    assert {p.patient for p in patients} == {SCENARIO_TOKEN}
    assert all(p.spo2_pct is not None for p in patients)
    assert monitor.seqs(Channel.PATIENT) == [0, 1, 2, 3]
    assert monitor.seqs(Channel.VEHICLE) == list(range(len(vehicle(monitor))))
    assert monitor.rejected == []


def test_a_bad_chair_yaml_is_named(tmp_path: Path) -> None:
    scenario = tmp_path / "short.yaml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    bad = tmp_path / "chair.yaml"
    bad.write_text("telemetry:\n  vehicle_hz: 0\n", encoding="utf-8")
    result = sim_run(str(scenario), "--duration", "1", "--telemetry", str(bad), data=tmp_path)
    assert result.returncode == 1
    assert "telemetry.vehicle_hz" in result.stderr


def vehicle(monitor: Monitor) -> list[VehicleMessage]:
    return [m for m in monitor.of(Channel.VEHICLE) if isinstance(m, VehicleMessage)]
