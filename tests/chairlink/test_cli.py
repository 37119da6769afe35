"""The ``chairlink`` command as a user runs it: a real process on a real pty."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.wait import WAIT_S, wait_until

REPO = Path(__file__).resolve().parents[2]
CHAIRLINK = [sys.executable, "-m", "chairlink"]


def run(
    *args: str, timeout: float = 30, data: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the command line; ``data`` points CHAIRLINK_DATA at a folder of the test's own."""
    env = {**os.environ, "CHAIRLINK_DATA": str(data)} if data is not None else None
    return subprocess.run(
        [*CHAIRLINK, *args], capture_output=True, text=True, timeout=timeout, check=False, env=env
    )


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["config"],
        ["edge"],
        ["edge", "agent"],
        ["firmware"],
        ["firmware", "sim"],
        ["firmware", "probe"],
        ["ros"],
        ["site"],
        ["sim"],
        ["model"],
        ["model", "check"],
    ],
)
def test_every_noun_and_verb_has_help(args: list[str]) -> None:
    result = run(*args, "--help")
    assert result.returncode == 0, result.stderr
    assert "usage: chairlink" in result.stdout


def test_config_check_accepts_the_shipped_file_and_names_what_is_wrong(tmp_path: Path) -> None:
    ok = run("config", "check", str(REPO / "configs" / "chair.yaml"))
    assert ok.returncode == 0, ok.stderr
    assert "valid chair config for chair-01" in ok.stdout
    bad = tmp_path / "chair.yaml"
    bad.write_text("firmware:\n  baud: 12\n", encoding="utf-8")
    result = run("config", "check", str(bad))
    assert result.returncode == 1
    assert "firmware.baud" in result.stderr


def test_config_show_prints_every_default() -> None:
    result = run("config", "show")
    assert result.returncode == 0
    assert "drive_timeout_s: 0.2" in result.stdout


def test_sim_prints_its_device_and_probe_drives_through_it(tmp_path: Path) -> None:
    link = tmp_path / "ttyMCU"
    sim = subprocess.Popen(
        [*CHAIRLINK, "firmware", "sim", "--link", str(link)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert sim.stdout is not None
        assert sim.stdout.readline().strip() == str(link)
        assert os.path.realpath(link).startswith("/dev/pts/")
        # Watchdogs a probe that a loaded machine holds up does not trip (the MCU would brake).
        config = tmp_path / "chair.yaml"
        config.write_text(
            "firmware:\n  drive_timeout_s: 1.0\n  mcu_link_timeout_s: 2.0\n"
            "  host_link_timeout_s: 2.0\n",
            encoding="utf-8",
        )
        probe = run(
            "firmware",
            "probe",
            "--config",
            str(config),
            "--port",
            str(link),
            "--arm",
            "--drive",
            "0.4",
            "0.0",
            "--duration",
            "2.5",
            "--plain",
        )
        assert probe.returncode == 0, probe.stderr
        assert "re-arm: OK" in probe.stdout, probe.stdout
        assert "ARMED" in probe.stdout, probe.stdout
        last = [line for line in probe.stdout.splitlines() if line.startswith("x=")][-1]
        # One 20 ms odometry sample at 0.4 m/s is about 31 ticks, so +-1 tick is +-3 %.
        match = re.search(r"v=([-+][0-9.]+)", last)
        assert match, probe.stdout
        speed = float(match.group(1))
        assert speed == pytest.approx(0.4, abs=0.03), probe.stdout
        assert "ack errors none" in probe.stdout, probe.stdout
        assert sim.stdin is not None
        sim.stdin.write("seat 80 open\nstate\n")
        sim.stdin.flush()
        assert sim.stdout.readline().strip() == "ok"
        assert "seat_load_kg=80.0" in sim.stdout.readline()
    finally:
        sim.terminate()
        sim.wait(timeout=5)
    assert sim.returncode == 0
    assert wait_until(lambda: not link.exists(), WAIT_S)


def test_probe_on_a_missing_port_fails_with_a_clear_message(tmp_path: Path) -> None:
    result = run(
        "firmware", "probe", "--port", str(tmp_path / "nothing"), "--duration", "1", timeout=30
    )
    assert result.returncode == 1
    assert "no MCU answered" in result.stderr


def test_sim_run_prints_the_ground_truth(tmp_path: Path) -> None:
    scenario = tmp_path / "short.yaml"
    scenario.write_text(
        "name: short\nseed: 2\nduration_s: 45\nchair: {start: lobby-a, goal: a-100}\n"
    )
    result = run("sim", "run", str(scenario), timeout=120, data=tmp_path / "data")
    assert result.returncode == 0, result.stderr
    assert "reached goal" in result.stdout
    assert "yes, at" in result.stdout
    # Nobody else is on this floor: the scripted route follower must touch nothing.
    assert re.search(r"collisions\s*│\s*0\s*│", result.stdout), result.stdout


def test_sim_run_names_what_is_wrong_with_a_scenario(tmp_path: Path) -> None:
    scenario = tmp_path / "bad.yaml"
    scenario.write_text("name: bad\nchair: {start: nowhere}\n")
    result = run("sim", "run", str(scenario), timeout=120, data=tmp_path / "data")
    assert result.returncode == 1
    assert "unknown waypoint 'nowhere'" in result.stderr


def test_sim_record_writes_a_bag_that_bag_info_summarises(tmp_path: Path) -> None:
    scenario = tmp_path / "short.yaml"
    scenario.write_text(
        "name: short\nseed: 2\nduration_s: 3\nchair: {start: lobby-a, goal: a-100}\n"
    )
    bag = tmp_path / "sample"
    recorded = run(
        "sim",
        "record",
        str(scenario),
        "-o",
        str(bag),
        "--storage",
        "sqlite3",
        timeout=120,
        data=tmp_path / "data",
    )
    assert recorded.returncode == 0, recorded.stderr
    assert "recorded" in recorded.stdout
    info = run("bag", "info", str(bag))
    assert info.returncode == 0, info.stderr
    for topic in ("/scan", "/camera/image_raw", "/camera/camera_info", "/odom", "/patient/vitals"):
        assert topic in info.stdout
    assert "sqlite3" in info.stdout
    missing = run("bag", "info", str(tmp_path / "nothing"))
    assert missing.returncode == 1
    assert "no such bag" in missing.stderr


def test_sim_run_simulates_the_chair_its_config_describes(tmp_path: Path) -> None:
    scenario = tmp_path / "short.yaml"
    scenario.write_text(
        "name: short\nseed: 2\nduration_s: 45\nchair: {start: lobby-a, goal: a-100}\n"
    )
    # 1.6 m wide: the scripted driver, which passes 1.1 m doors with the stock chair, cannot.
    wide = tmp_path / "wide.yaml"
    wide.write_text(
        "footprint: {polygon: [[0.85, 0.8], [-0.35, 0.8], [-0.35, -0.8], [0.85, -0.8]]}\n"
    )
    result = run(
        "sim", "run", str(scenario), "--config", str(wide), timeout=120, data=tmp_path / "data"
    )
    assert result.returncode == 0, result.stderr
    assert re.search(r"collisions\s*│\s*[1-9]", result.stdout), result.stdout
    assert "wall #0" in result.stdout
    tilted = tmp_path / "tilted.yaml"
    tilted.write_text("camera: {mount: {x_m: 0.8, z_m: 1.0, pitch_rad: 0.3}}\n")
    refused = run(
        "sim", "run", str(scenario), "--config", str(tilted), timeout=120, data=tmp_path / "data"
    )
    assert refused.returncode == 1
    assert "camera.mount.pitch_rad" in refused.stderr
    assert "Traceback" not in refused.stderr


@pytest.mark.parametrize("name", ["detector", "segmenter"])
def test_model_check_loads_runs_and_times_the_shipped_models(name: str, tmp_path: Path) -> None:
    result = run(
        "model",
        "check",
        str(REPO / "models" / f"{name}.yaml"),
        "--runs",
        "20",
        data=tmp_path,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "matches its model" in result.stdout
    assert "p99 ms" in result.stdout
    if name == "detector":
        found = re.search(r"(\d+) detections in (\d+) frames", result.stdout)
        assert found is not None
        assert int(found[1]) > 0


def test_model_check_names_what_is_wrong_with_a_model(tmp_path: Path) -> None:
    description = (REPO / "models" / "detector.yaml").read_text(encoding="utf-8")
    (tmp_path / "d.yaml").write_text(description, encoding="utf-8")
    (tmp_path / "detector.onnx").write_bytes(b"not a model")
    result = run("model", "check", str(tmp_path / "d.yaml"), data=tmp_path)
    assert result.returncode == 1
    assert "detector.onnx: corrupt or replaced: SHA-256" in result.stderr
