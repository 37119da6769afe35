"""A simulated Nonin oximeter on a pseudo-terminal: the patient's vitals as DF2 bytes at 9600 baud.

Frames go out at 75 Hz, 25 to a packet, with a plethysmograph wave at the pulse rate and the
perfusion bits shown for 12 frames after each beat, as a device does. The vitals come from a
function of time (a scenario's ``VitalsScript`` in simulation, or values a test sets), and
faults are scriptable: the probe coming off, motion artifact, loss of track, the device going
silent or the cable being pulled, and a corrupted byte stream.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from chairlink.pseudo_terminal import PseudoTerminal
from edge.telemetry.errors import AlreadyStartedError
from edge.telemetry.oximeter.df2 import (
    ARTF,
    FRAME_RATE_HZ,
    FRAMES_PER_PACKET,
    MISSING_SPO2,
    OOT,
    SNSA,
    SNSD,
    encode_frame,
    encode_packet,
)
from edge.types import Perfusion, Vitals
from firmware_bridge.fault_injection import FaultInjector, FaultProfile

__all__ = ["OximeterFaults", "OximeterSimulator"]

_FRAME_NS = round(1e9 / FRAME_RATE_HZ)
_PULSE_SHOWN_FRAMES = 12


@dataclass(frozen=True)
class OximeterFaults:
    """What is wrong with the device right now."""

    probe_off: bool = False
    """Finger out: SNSD and SNSA set, missing values."""
    artifact: bool = False
    """Motion artifact on every beat: ARTF set, numbers kept."""
    out_of_track: bool = False
    """OOT set, missing values."""
    silent: bool = False
    """The device sends nothing (powered off, or hung)."""
    line: FaultProfile = field(default_factory=FaultProfile)
    """Corruption of the byte stream."""
    checksum_passing_flip: bool = False
    """Frame 3's SpO2 byte changed and its checksum with it, so the frame still checks: what
    two bit errors on the line can do to a value (hazard H-37)."""


class OximeterSimulator:
    """Encodes vitals from ``source(now_ns)`` as DF2 packets on a pty, paced as the device."""

    def __init__(
        self,
        source: Callable[[int], Vitals],
        *,
        link: str | Path | None = None,
        seed: int = 0,
        clock: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        """Set the simulator up; ``start()`` opens the pty. ``link`` is a stable path to it."""
        self._source = source
        self._pty = PseudoTerminal(link)
        self._clock = clock
        self._faults = OximeterFaults()
        self._injector = FaultInjector(FaultProfile(), seed)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._phase = 0.0
        self.packets_sent = 0

    def __enter__(self) -> OximeterSimulator:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def device_path(self) -> str:
        """The path a reader opens."""
        return self._pty.device_path

    def start(self) -> None:
        """Open the pty and start sending.

        Raises:
            AlreadyStartedError: the simulator is running.
        """
        if self._thread is not None:
            raise AlreadyStartedError("the oximeter simulator is already started")
        self._pty.open()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="oximeter-sim", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop sending and remove the pty."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None
        self._pty.close()

    def set_faults(self, faults: OximeterFaults) -> None:
        """Change what is wrong with the device, from the next packet on."""
        self._faults = faults
        self._injector.profile = faults.line

    def unplug(self) -> None:
        """Pull the cable: the port vanishes."""
        self._pty.close()

    def replug(self) -> None:
        """Plug the cable back in: a new pty behind the same link."""
        self._pty.open()

    def packet(self, now_ns: int) -> bytes:
        """The 125 bytes of the packet that starts at ``now_ns``, before line faults."""
        vitals = self._source(now_ns)
        faults = self._faults
        status = 0
        spo2: int | None = None
        pulse: int | None = None
        usable = math.isfinite(vitals.spo2_pct) and math.isfinite(vitals.pulse_bpm)
        if faults.probe_off or vitals.probe_off:
            status |= SNSD | SNSA
        elif faults.out_of_track or not usable:
            status |= OOT
        else:
            spo2 = round(min(100.0, max(0.0, vitals.spo2_pct)))
            pulse = round(min(510.0, max(0.0, vitals.pulse_bpm)))
        if faults.artifact:
            status |= ARTF
        beats_per_frame = (vitals.pulse_bpm if usable else 0.0) / 60.0 / FRAME_RATE_HZ
        pleth: list[int] = []
        shown: list[int] = []
        for i in range(FRAMES_PER_PACKET):
            self._phase += beats_per_frame
            if self._phase >= 1.0:
                self._phase -= 1.0
                shown.extend(range(i, min(FRAMES_PER_PACKET, i + _PULSE_SHOWN_FRAMES)))
            wave = math.exp(-(((self._phase - 0.2) / 0.1) ** 2)) if usable else 0.0
            pleth.append(round(100 + 120 * wave))
        perfusion = vitals.perfusion if spo2 is not None else Perfusion.LOW
        data = encode_packet(
            spo2,
            pulse,
            pleth=pleth,
            status=status,
            perfusion=perfusion,
            pulse_frames=shown,
        )
        if not faults.checksum_passing_flip:
            return data
        flipped = bytearray(data)
        status_byte, pleth_byte, value = data[11:14]  # frame 3: bytes 10-14
        # Another SpO2 the device could send; never the "missing" sentinel.
        wrong = value ^ 0x20 if value ^ 0x20 != MISSING_SPO2 else value ^ 0x40
        flipped[10:15] = encode_frame(status_byte, pleth_byte, wrong)
        return bytes(flipped)

    def _run(self) -> None:
        next_packet = self._clock()
        while not self._stop.is_set():
            data = self.packet(next_packet)
            for i in range(FRAMES_PER_PACKET):
                due = next_packet + i * _FRAME_NS
                delay = due - self._clock()
                if delay > 0 and self._stop.wait(delay / 1e9):
                    return
                if self._faults.silent or not self._pty.is_open:
                    continue
                self._pty.write(self._injector.apply(data[i * 5 : i * 5 + 5]))
            self.packets_sent += 1
            next_packet += FRAMES_PER_PACKET * _FRAME_NS
            # After a stall (a loaded machine), carry on from now rather than burst to catch up.
            next_packet = max(next_packet, self._clock() - _FRAME_NS)
