"""A host on the MCU simulator's pty that sends exactly the frames a test writes."""

from __future__ import annotations

import threading
import time

import serial

from firmware_bridge.driver import Received
from firmware_bridge.framing import PROTOCOL_VERSION, Frame, FrameDecoder, encode_frame
from firmware_bridge.messages import Ack, HostMessage, McuMessage, Odometry, Status
from tests.wait import WAIT_S, wait_until

__all__ = ["BAUD", "RawHost"]

BAUD = 115200


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

    def ack_for(self, seq: int, timeout: float = WAIT_S) -> Ack:
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
