"""What the reader needs of an oximeter's serial format, and the formats it knows.

A format is a decoder from bytes to readings with the line settings it needs; adding a device
means adding one class here, next to Nonin DF2.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import ClassVar, Protocol

from edge.telemetry.oximeter.df2 import Df2Decoder, Df2Packet
from edge.types import Perfusion

__all__ = ["PROTOCOLS", "Df2Protocol", "OximeterProtocol", "OximeterReading"]


@dataclass(frozen=True, slots=True)
class OximeterReading:
    """One reading as a device reports it; numbers are None when the device has none usable."""

    spo2_pct: int | None
    pulse_bpm: int | None
    perfusion: Perfusion
    probe_off: bool
    """The sensor is disconnected, or the finger is out of it."""
    artifact: bool
    """A doubtful beat: the numbers stand, but may be off."""
    out_of_track: bool
    """No consecutive good pulses: the device gives no numbers."""
    doubtful: bool = False
    """The packet's copies of one value disagreed (corrupted in transit): no numbers."""


class OximeterProtocol(Protocol):
    """A device's serial format."""

    name: ClassVar[str]
    baud: ClassVar[int]
    readings_per_s: ClassVar[float]

    def feed(self, data: bytes) -> list[OximeterReading]:
        """Readings that ``data`` completes."""
        ...

    def counters(self) -> dict[str, int]:
        """What the decoder has seen and dropped."""
        ...


class Df2Protocol:
    """Nonin Serial Data Format #2 at 9600 8N1: a reading per 25-frame packet, 3 per second."""

    name: ClassVar[str] = "nonin-df2"
    baud: ClassVar[int] = 9600
    readings_per_s: ClassVar[float] = 3.0

    def __init__(self) -> None:
        self._decoder = Df2Decoder()

    def feed(self, data: bytes) -> list[OximeterReading]:
        """Readings of the packets ``data`` completes."""
        return [self._reading(p) for p in self._decoder.feed(data)]

    def counters(self) -> dict[str, int]:
        """The DF2 decoder's counters."""
        return asdict(self._decoder.stats)

    @staticmethod
    def _reading(packet: Df2Packet) -> OximeterReading:
        s = packet.status
        # Recording-format values drop to the sentinels at once when the finger comes out,
        # where display-format ones hold the last value for seconds: alarms need the former.
        usable = packet.usable
        return OximeterReading(
            spo2_pct=packet.spo2_pct if usable else None,
            pulse_bpm=packet.pulse_bpm if usable else None,
            perfusion=s.perfusion,
            probe_off=s.sensor_disconnected or s.sensor_alarm,
            artifact=s.artifact,
            out_of_track=s.out_of_track,
            doubtful=packet.doubtful,
        )


PROTOCOLS: dict[str, type[OximeterProtocol]] = {Df2Protocol.name: Df2Protocol}
"""The formats the reader knows, by the name a chair's configuration uses."""
