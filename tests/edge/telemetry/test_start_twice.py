"""A resource started twice refuses the second start, and keeps running as it was: the
telemetry agent, the oximeter reader and simulator, and the serial host over them."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from chairlink.config import ChairConfig, FirmwareConfig, IdentityConfig, OximeterConfig
from edge.telemetry.agent import TelemetryAgent
from edge.telemetry.errors import AlreadyStartedError, TelemetryError
from edge.telemetry.oximeter.reader import OximeterReader
from edge.telemetry.oximeter.simulator import OximeterSimulator
from edge.telemetry.serial_host import SerialTelemetryHost
from edge.types import Perfusion, Vitals
from firmware_bridge.mcu_sim import McuSimulator
from tests.monitor import CHAIR, IDENTITY, SITE, telemetry_config
from tests.mosquitto import Mosquitto
from tests.wait import wait_until


def _threads(name: str) -> int:
    return sum(1 for t in threading.enumerate() if t.name == name)


def _vitals(now_ns: int) -> Vitals:
    return Vitals(now_ns, "", 96.0, 70.0, Perfusion.GOOD, False)


def test_the_agent_refuses_a_second_start_and_a_start_after_its_stop(
    broker: Mosquitto, tmp_path: Path
) -> None:
    agent = TelemetryAgent(IDENTITY, telemetry_config(broker, tmp_path))
    agent.start()
    try:
        assert wait_until(lambda: agent.connected, 10)
        senders, links = _threads("telemetry-send"), _threads("telemetry-link")
        with pytest.raises(AlreadyStartedError, match="already started"):
            agent.start()
        assert (_threads("telemetry-send"), _threads("telemetry-link")) == (senders, links)
        assert agent.connected
        assert agent.stats().connects == 1
    finally:
        agent.stop()
    agent.stop()  # a second stop does nothing
    with pytest.raises(TelemetryError, match="was stopped"):
        agent.start()


def test_the_oximeter_reader_refuses_a_second_start_and_starts_again_after_a_stop(
    tmp_path: Path,
) -> None:
    with OximeterSimulator(_vitals, link=tmp_path / "ttyOXI") as device:
        reader = OximeterReader(device.device_path, "pt-4e1b2c9d")
        reader.start()
        try:
            assert wait_until(lambda: reader.stats().readings > 0, 10)
            running = _threads("oximeter")
            with pytest.raises(AlreadyStartedError, match="already started"):
                reader.start()
            assert _threads("oximeter") == running
        finally:
            reader.stop()
        reader.start()
        try:
            readings = reader.stats().readings
            assert wait_until(lambda: reader.stats().readings > readings, 10)
        finally:
            reader.stop()


def test_the_oximeter_simulator_refuses_a_second_start(tmp_path: Path) -> None:
    with OximeterSimulator(_vitals, link=tmp_path / "ttyOXI") as device:
        path = device.device_path
        running = _threads("oximeter-sim")
        with pytest.raises(AlreadyStartedError, match="already started"):
            device.start()
        assert _threads("oximeter-sim") == running
        assert device.device_path == path
        sent = device.packets_sent
        assert wait_until(lambda: device.packets_sent > sent, 10)


def test_the_serial_host_refuses_a_second_start(broker: Mosquitto, tmp_path: Path) -> None:
    with (
        McuSimulator(baud=115200, link=tmp_path / "ttyMCU") as mcu,
        OximeterSimulator(_vitals, link=tmp_path / "ttyOXI") as oximeter,
    ):
        config = ChairConfig(
            identity=IdentityConfig(chair_id=CHAIR, site=SITE),
            firmware=FirmwareConfig(port=mcu.device_path, baud=115200),
            telemetry=telemetry_config(broker, tmp_path),
            oximeter=OximeterConfig(port=oximeter.device_path),
        )
        host = SerialTelemetryHost(config)
        host.start()
        try:
            assert wait_until(lambda: host.agent.connected, 10)
            running = _threads("telemetry-host")
            with pytest.raises(AlreadyStartedError, match="already started"):
                host.start()
            assert _threads("telemetry-host") == running
            assert host.agent.connected
        finally:
            host.stop()
