"""Fixtures for tests over a real pseudo-terminal: the MCU simulator, the driver, a raw host."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import serial

from chairlink.config import FirmwareConfig
from firmware_bridge.driver import Received, SerialDriver
from firmware_bridge.framing import PROTOCOL_VERSION, Frame, FrameDecoder, encode_frame
from firmware_bridge.mcu_sim import McuSimulator
from firmware_bridge.messages import Ack, HostMessage, McuMessage, Odometry, Status

BAUD = 115200


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.005) -> bool:
    """Poll until the predicate holds or the timeout passes; return whether it held."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


class RawHost:
    """A minimal host on pyserial that sends exactly the frames a test writes.

    The driver always refreshes and heartbeats; tests of the MCU's own rules need a host that
    does only what it is told, so this one writes frames by hand and records what comes back.
    """

    def __init__(self, port: str) -> None:
        self.serial = serial.Serial(port, BAUD, timeout=0.01)
        self.received: list[Received[McuMessage]] = []
        self._seq = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def send(self, message: HostMessage, version: int = PROTOCOL_VERSION) -> tuple[int, int]:
        """Write one frame; return its sequence number and the steady-clock time just before."""
        seq = self._seq
        self._seq = (self._seq + 1) & 0xFFFF
        frame = encode_frame(message, seq, version)
        sent_ns = time.monotonic_ns()
        self.serial.write(frame)
        return seq, sent_ns

    def ack_for(self, seq: int, timeout: float = 1.0) -> Ack:
        """Wait for the ACK of a sequence number."""
        found: list[Ack] = []

        def arrived() -> bool:
            with self._lock:
                found[:] = [
                    r.message
                    for r in self.received
                    if isinstance(r.message, Ack) and r.message.acked_seq == seq
                ]
            return bool(found)

        assert wait_until(arrived, timeout), f"no ACK for seq {seq} within {timeout} s"
        return found[0]

    def messages(self, kind: type[McuMessage]) -> list[Received[McuMessage]]:
        """What arrived of one message type, oldest first."""
        with self._lock:
            return [r for r in self.received if isinstance(r.message, kind)]

    def close(self) -> None:
        self._stop.set()
        self._reader.join(timeout=1.0)
        self.serial.close()

    def _read(self) -> None:
        decoder = FrameDecoder()
        while not self._stop.is_set():
            data = self.serial.read(256)
            now = time.monotonic_ns()
            for item in decoder.feed(data):
                if isinstance(item, Frame):
                    message = item.message
                    assert isinstance(message, (Odometry, Status, Ack))
                    with self._lock:
                        self.received.append(Received(now, item.seq, message))


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[McuSimulator]:
    """The MCU simulator on a pty, reachable through a stable link in tmp_path."""
    with McuSimulator(baud=BAUD, link=tmp_path / "ttyMCU") as simulator:
        yield simulator


@pytest.fixture
def firmware_config(sim: McuSimulator) -> FirmwareConfig:
    """The default firmware config pointed at the simulator."""
    return FirmwareConfig(port=sim.device_path, baud=BAUD)


@pytest.fixture
def driver(firmware_config: FirmwareConfig) -> Iterator[SerialDriver]:
    """The host driver, connected and configured."""
    with SerialDriver(firmware_config) as bridge:
        assert bridge.wait_for_link(3.0), bridge.stats().last_error
        yield bridge


@pytest.fixture
def raw_host(sim: McuSimulator) -> Iterator[RawHost]:
    """A hand-driven host on the simulator's port."""
    host = RawHost(sim.device_path)
    yield host
    host.close()
