"""Reading a pulse oximeter over a serial port (pyserial), with its failures made visible.

``OximeterReader`` owns one thread: it opens the port (reconnecting with capped doubling
backoff when the cable is pulled), decodes what arrives with the device's protocol and keeps the
latest reading with its steady-clock stamp. ``vitals()`` turns it into the chair's ``Vitals``:
NaN numbers when the probe is off, the device is out of track, its last packet was corrupted
(``doubtful``: its copies of a value disagreed), or nothing valid has arrived for
``stale_after_s`` (a pulled cable, a dead device), so a silent oximeter never looks like a
steady patient.

The reader owns the patient token (hazard H-35). ``set_patient()`` changes it and drops, in the
same step under the reader's lock, every reading taken under the previous one: the latest,
the bytes waiting in the port, and a read in progress (each read is tagged with the patient
generation it began under and kept only if that is still the current one). Every reading
carries the token it was taken under, so no reading of one patient goes out under the next
one's token.
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType

import serial

from chairlink.errors import ChairlinkError
from edge.telemetry.errors import AlreadyStartedError
from edge.telemetry.oximeter.protocol import PROTOCOLS, OximeterProtocol, OximeterReading
from edge.types import Perfusion, Vitals

__all__ = ["OximeterReader", "OximeterStats"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OximeterStats:
    """A snapshot of the reader's counters."""

    connected: bool
    readings: int
    dropped_on_change: int
    """Readings dropped because the patient changed while they were being read."""
    reconnects: int
    stale: bool
    last_error: str
    decoder: dict[str, int]


class OximeterReader:
    """The oximeter on one serial port."""

    def __init__(
        self,
        port: str,
        patient_token: str,
        *,
        protocol: str = "nonin-df2",
        stale_after_s: float = 1.0,
        reconnect_max_s: float = 2.0,
        clock: Callable[[], int] = time.monotonic_ns,
        on_reading: Callable[[int, OximeterReading], None] | None = None,
    ) -> None:
        """Set up the reader; ``start()`` opens the port.

        ``on_reading(stamp_ns, reading)`` is called from the reader's thread for every reading.

        Raises:
            ChairlinkError: the protocol is not one the reader knows.
        """
        if protocol not in PROTOCOLS:
            raise ChairlinkError(
                f"unknown oximeter protocol {protocol!r}; known: {', '.join(sorted(PROTOCOLS))}"
            )
        self.port = port
        self._patient_token = patient_token
        self._generation = 0
        self._decoder_generation = 0
        self._dropped_on_change = 0
        self._protocol_type = PROTOCOLS[protocol]
        self._protocol: OximeterProtocol = self._protocol_type()
        self._stale_ns = int(stale_after_s * 1e9)
        self._reconnect_max_s = reconnect_max_s
        self._clock = clock
        self._on_reading = on_reading
        self._lock = threading.Lock()
        self._latest: tuple[int, OximeterReading, str] | None = None
        self._readings = 0
        self._reconnects = 0
        self._opened_once = False
        self._last_error = ""
        self._serial: serial.Serial | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> OximeterReader:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Start the reader's thread.

        Raises:
            AlreadyStartedError: the reader is running.
        """
        if self._thread is not None:
            raise AlreadyStartedError(f"the oximeter reader on {self.port} is already started")
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="oximeter", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and close the port."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None
        self._close()

    @property
    def patient_token(self) -> str:
        """The token readings are taken under now; empty when no patient is on the chair."""
        with self._lock:
            return self._patient_token

    def set_patient(self, token: str) -> None:
        """Take readings under ``token`` from now on, dropping everything taken before.

        One step under the reader's lock: the latest reading, the bytes waiting in the port
        and a read in progress all belong to whoever wore the probe before, so none of them
        can go out under ``token``; vitals are stale until the device sends a new packet.
        Setting the token already in use changes nothing.
        """
        with self._lock:
            if token == self._patient_token:
                return
            port = self._serial
            if port is not None:
                with contextlib.suppress(serial.SerialException, OSError, TypeError):
                    port.reset_input_buffer()
            self._generation += 1
            self._latest = None
            self._patient_token = token

    def vitals(self, stamp_ns: int) -> Vitals:
        """The patient's vitals now, stamped ``stamp_ns``; NaN where there is no valid number.

        The token is the one the reading was taken under (the current one when there is no
        reading), read in the same step as the reading.
        """
        now = self._clock()
        with self._lock:
            latest = self._latest
            token = self._patient_token
        if latest is None or now - latest[0] > self._stale_ns:
            return Vitals(
                stamp_ns,
                token,
                math.nan,
                math.nan,
                Perfusion.UNKNOWN,
                probe_off=False,
                stale=True,
            )
        _, r, taken_under = latest
        return Vitals(
            stamp_ns,
            taken_under,
            math.nan if r.spo2_pct is None else float(r.spo2_pct),
            math.nan if r.pulse_bpm is None else float(r.pulse_bpm),
            r.perfusion,
            probe_off=r.probe_off,
            artifact=r.artifact,
            out_of_track=r.out_of_track,
            doubtful=r.doubtful,
        )

    def stats(self) -> OximeterStats:
        """The reader's counters and its decoder's."""
        with self._lock:
            latest = self._latest
            readings = self._readings
            dropped = self._dropped_on_change
        stale = latest is None or self._clock() - latest[0] > self._stale_ns
        return OximeterStats(
            connected=self._serial is not None,
            readings=readings,
            dropped_on_change=dropped,
            reconnects=self._reconnects,
            stale=stale,
            last_error=self._last_error,
            decoder=self._protocol.counters(),
        )

    def _open(self) -> bool:
        try:
            port = serial.Serial(self.port, self._protocol_type.baud, timeout=0.05)
        except (serial.SerialException, OSError, ValueError) as err:
            self._last_error = str(err)
            return False
        if self._opened_once:
            self._reconnects += 1
        self._opened_once = True
        # A fresh decoder: the bytes before the cable came back belong to no packet.
        self._protocol = self._protocol_type()
        self._serial = port
        _log.info("opened oximeter on %s at %d baud", self.port, self._protocol_type.baud)
        return True

    def _close(self) -> None:
        port, self._serial = self._serial, None
        if port is not None:
            with contextlib.suppress(serial.SerialException, OSError):
                port.close()

    def _run(self) -> None:
        backoff = 0.05
        while not self._stop.is_set():
            if self._serial is None:
                if not self._open():
                    self._stop.wait(backoff)
                    backoff = min(backoff * 2, self._reconnect_max_s)
                    continue
                backoff = 0.05
            port = self._serial
            assert port is not None
            with self._lock:
                generation = self._generation
            try:
                data = port.read(max(1, port.in_waiting))
            except (serial.SerialException, OSError, TypeError) as err:
                # pyserial raises TypeError when the pty vanishes under a read.
                self._last_error = f"read failed: {err}"
                _log.warning("oximeter on %s lost: %s", self.port, err)
                self._close()
                continue
            if data:
                self._take(data, self._clock(), generation)

    def _take(self, data: bytes, now: int, generation: int) -> None:
        """Decode bytes read under patient ``generation``; keep the readings only if it holds."""
        if generation != self._decoder_generation:
            # A packet begun before the change of patient is no packet of the new one.
            self._protocol = self._protocol_type()
            self._decoder_generation = generation
        for reading in self._protocol.feed(data):
            with self._lock:
                if generation != self._generation:
                    self._dropped_on_change += 1
                    continue
                self._latest = (now, reading, self._patient_token)
                self._readings += 1
            if self._on_reading is not None:
                self._on_reading(now, reading)
