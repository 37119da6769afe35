"""Fixtures for tests over a real pseudo-terminal: the MCU simulator, the driver, a raw host."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from chairlink.config import FirmwareConfig
from firmware_bridge.driver import SerialDriver
from firmware_bridge.mcu_sim import McuSimulator
from tests.firmware_bridge.raw_host import BAUD, RawHost
from tests.wait import WAIT_S


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[McuSimulator]:
    """The MCU simulator on a pty, reachable through a stable link in tmp_path."""
    with McuSimulator(baud=BAUD, link=tmp_path / "ttyMCU") as simulator:
        yield simulator


@pytest.fixture
def firmware_config(sim: McuSimulator) -> FirmwareConfig:
    """The default firmware config pointed at the simulator, with watchdogs for a loaded machine.

    There a host thread can stand still for longer than the chair's 0.2 s drive timeout, and
    the MCU would rightly brake a chair that a test is driving. The watchdogs' timing itself is
    tested on simulated time (test_plant.py) and with the raw host's own timeouts.
    """
    return FirmwareConfig(
        port=sim.device_path,
        baud=BAUD,
        drive_timeout_s=1.0,
        mcu_link_timeout_s=2.0,
        host_link_timeout_s=2.0,
    )


@pytest.fixture
def driver(firmware_config: FirmwareConfig) -> Iterator[SerialDriver]:
    """The host driver, connected and configured."""
    with SerialDriver(firmware_config) as bridge:
        assert bridge.wait_for_link(WAIT_S), bridge.stats().last_error
        yield bridge


@pytest.fixture
def raw_host(sim: McuSimulator) -> Iterator[RawHost]:
    """A hand-driven host on the simulator's port."""
    host = RawHost(sim.device_path)
    yield host
    host.close()
