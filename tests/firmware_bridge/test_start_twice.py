"""The MCU simulator and the driver refuse a second start and keep running as they were."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from firmware_bridge.driver import SerialDriver
from firmware_bridge.errors import AlreadyStartedError
from firmware_bridge.mcu_sim import McuSimulator
from tests.wait import wait_until


def _threads(name: str) -> int:
    return sum(1 for t in threading.enumerate() if t.name == name)


def test_the_mcu_simulator_refuses_a_second_start(sim: McuSimulator) -> None:
    running = (_threads("mcu-sim-rx"), _threads("mcu-sim-tx"))
    path = sim.device_path
    with pytest.raises(AlreadyStartedError, match="already started"):
        sim.start()
    assert (_threads("mcu-sim-rx"), _threads("mcu-sim-tx")) == running
    assert sim.plugged
    assert sim.device_path == path


def test_a_stopped_mcu_simulator_refuses_to_start_again(tmp_path: Path) -> None:
    sim = McuSimulator(link=str(tmp_path / "ttyMCU"))
    sim.start()
    sim.stop()
    with pytest.raises(AlreadyStartedError, match="stopped and cannot start again"):
        sim.start()
    assert not sim.plugged  # nothing was reopened


def test_the_driver_refuses_a_second_start_and_keeps_its_link(driver: SerialDriver) -> None:
    running = (_threads("bridge-io"), _threads("bridge-tick"))
    with pytest.raises(AlreadyStartedError, match=f"driver on {driver.port} is already started"):
        driver.start()
    assert (_threads("bridge-io"), _threads("bridge-tick")) == running
    frames = driver.stats().frames_rx
    assert wait_until(lambda: driver.stats().frames_rx > frames, 5)
    assert driver.link_up
