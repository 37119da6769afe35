"""Nonin Serial Data Format #2 (DF2): 5-byte frames at 75 Hz, 25 frames to a packet.

A frame is START (0x01), STATUS (bit 7 set), PLETH, a value byte whose meaning depends on the
frame's place in the packet, and an 8-bit checksum of the first four bytes. Frame 1 of a packet
carries the SYNC bit. The layout, the sentinels for a missing reading (SpO2 127, pulse 511) and
the resynchronisation rules follow Nonin's OEM specification and the open readers that agree
with it (docs/references.md), restated in docs/telemetry.md.

The decoder hunts byte by byte and never splits the stream on 0x01 alone (0x01 is a legal
pleth or checksum byte). It takes a packet only from a SYNC frame through 24 more good frames
in a row, which is stricter than the reference's two good frames before trusting sync, and
drops a partial packet when a frame fails or SYNC comes early. Everything it drops it counts.

The 8-bit checksum lets through a value byte and the checksum corrupted together (SpO2 97 read
as a valid-looking 65), so the decoder never takes a number on one copy alone: each packet
repeats its values in copies computed the same way, the recording format against the display
format (4-beat SpO2 in frame 3 against SpO2-D in frame 9, 4-beat pulse in frames 1-2 against
HR-D in frames 20-21, and the 8-beat pairs 16/17 and 14-15/22-23). Copies that differ by more
than the device's own accuracy (2 points SpO2; 2 % pulse, at least 1 bpm) make the packet
doubtful: counted, and it carries no numbers. Copies that are one missing and one a number
are no disagreement (the display copy holds for ~10 s after the probe comes off, while the
recording copy drops at once): the packet carries no number for that value, is not doubtful
and is counted as unconfirmed. The 8-beat and beat-to-beat values are never compared with the
4-beat ones: they legitimately differ.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from edge.types import Perfusion

__all__ = [
    "FRAMES_PER_PACKET",
    "FRAME_RATE_HZ",
    "MISSING_PULSE",
    "MISSING_SPO2",
    "Df2Decoder",
    "Df2Packet",
    "Df2Stats",
    "Df2Status",
    "copies_agree",
    "encode_frame",
    "encode_packet",
]

FRAME_LEN = 5
FRAMES_PER_PACKET = 25
FRAME_RATE_HZ = 75.0
START = 0x01
MISSING_SPO2 = 127
MISSING_PULSE = 511

# STATUS bits.
_ALWAYS = 0x80
SNSD = 0x40
ARTF = 0x20
OOT = 0x10
SNSA = 0x08
_PERF_RED = 0x04
_PERF_GREEN = 0x02
SYNC = 0x01

# Frame numbers (1-based, as the reference's table) of the recording-format values.
_HR_MSB, _HR_LSB, _SPO2, _FIRMWARE = 1, 2, 3, 4
_E_HR_MSB, _E_HR_LSB, _E_SPO2 = 14, 15, 16
# ...and of their display-format copies, computed the same way.
_SPO2_D, _E_SPO2_D = 9, 17
_HR_D_MSB, _HR_D_LSB, _E_HR_D_MSB, _E_HR_D_LSB = 20, 21, 22, 23

SPO2_TOLERANCE_PCT = 2
"""Copies of one SpO2 further apart than this (points) disagree: the device's own accuracy."""
PULSE_TOLERANCE = 0.02
"""Copies of one pulse rate further apart than this fraction (and than 1 bpm) disagree."""


def _checksum(data: Sequence[int]) -> int:
    return sum(data) & 0xFF


@dataclass(frozen=True, slots=True)
class Df2Status:
    """What one packet's status bytes said, over all 25 frames."""

    sensor_disconnected: bool = False
    """SNSD: the sensor is disconnected or inoperable."""
    sensor_alarm: bool = False
    """SNSA: data unusable, e.g. the finger is out."""
    out_of_track: bool = False
    """OOT: no consecutive good pulses."""
    artifact: bool = False
    """ARTF on any pulse of the packet: a doubtful beat, not necessarily a bad number."""
    perfusion: Perfusion = Perfusion.UNKNOWN
    """The last perfusion shown in the packet (it shows only around a pulse)."""


@dataclass(frozen=True, slots=True)
class Df2Packet:
    """One decoded packet: 1/3 s of the device's output."""

    spo2_pct: int | None
    """4-beat average SpO2, recording format; None when missing or unusable."""
    pulse_bpm: int | None
    """4-beat average pulse rate, recording format; None when missing or unusable."""
    status: Df2Status
    firmware: int
    pleth: tuple[int, ...]
    """The 25 plethysmograph samples (75 Hz), 0-255."""
    extended_spo2_pct: int | None = None
    extended_pulse_bpm: int | None = None
    doubtful: bool = False
    """The packet's copies of one value disagreed: corrupted in transit, so it has no numbers."""

    @property
    def usable(self) -> bool:
        """Whether the numbers may be shown and alarmed on (no SNSD, SNSA, OOT, nor doubt)."""
        s = self.status
        return not (s.sensor_disconnected or s.sensor_alarm or s.out_of_track or self.doubtful)


def _perfusion(status: int) -> Perfusion | None:
    bits = status & (_PERF_RED | _PERF_GREEN)
    return {
        _PERF_GREEN: Perfusion.GOOD,
        _PERF_RED | _PERF_GREEN: Perfusion.MARGINAL,
        _PERF_RED: Perfusion.LOW,
    }.get(bits)


def _pulse(msb: int, lsb: int) -> int | None:
    value = ((msb & 0x03) << 7) | (lsb & 0x7F)
    return None if value == MISSING_PULSE else value


def _spo2(byte: int) -> int | None:
    value = byte & 0x7F
    return value if value <= 100 else None


def copies_agree(recording: int, display: int, *, pulse: bool) -> bool:
    """Whether two copies of one number agree within the device's own accuracy."""
    if pulse:
        return abs(recording - display) <= max(1.0, PULSE_TOLERANCE * max(recording, display))
    return abs(recording - display) <= SPO2_TOLERANCE_PCT


@dataclass
class Df2Stats:
    """What the decoder has seen and dropped, since it started."""

    bytes_in: int = 0
    frames: int = 0
    packets: int = 0
    bytes_skipped: int = 0
    """Bytes passed over while hunting for a frame boundary."""
    bad_frames: int = 0
    """Frames that failed where a packet expected its next frame."""
    partial_packets: int = 0
    """Packets dropped because a frame failed or SYNC came early."""
    corrupt_values: int = 0
    """SpO2 above 100 other than the 127 sentinel: counted, read as missing."""
    lost_packets: int = 0
    """Packets whose SYNC frame never came good: their other frames arrived with no packet
    begun (one per 24 such frames in a row; also when the decoder starts mid-packet)."""
    doubtful_packets: int = 0
    """Packets whose copies of one value disagreed: delivered with no numbers."""
    unconfirmed_values: int = 0
    """Values with one copy missing and the other a number: delivered as missing."""


@dataclass
class Df2Decoder:
    """Bytes in, packets out; keeps its state between reads."""

    stats: Df2Stats = field(default_factory=Df2Stats)
    _buffer: bytearray = field(default_factory=bytearray)
    _frames: list[bytes] = field(default_factory=list)
    _orphans: int = 0
    """Good frames in a row that came with no packet begun."""

    def feed(self, data: bytes) -> list[Df2Packet]:
        """Decode what ``data`` completes; keep the rest for the next call."""
        self.stats.bytes_in += len(data)
        self._buffer += data
        packets: list[Df2Packet] = []
        i = 0
        buffer = self._buffer
        while len(buffer) - i >= FRAME_LEN:
            frame = bytes(buffer[i : i + FRAME_LEN])
            if not self._valid(frame):
                if self._frames:
                    self.stats.bad_frames += 1
                    self.stats.partial_packets += 1
                    self._frames.clear()
                    # The rest of this packet's frames are no second loss.
                    self._orphans = 1
                self.stats.bytes_skipped += 1
                i += 1
                continue
            i += FRAME_LEN
            self.stats.frames += 1
            packet = self._take(frame)
            if packet is not None:
                packets.append(packet)
        del buffer[:i]
        return packets

    @staticmethod
    def _valid(frame: bytes) -> bool:
        return frame[0] == START and bool(frame[1] & _ALWAYS) and _checksum(frame[:4]) == frame[4]

    def _take(self, frame: bytes) -> Df2Packet | None:
        if frame[1] & SYNC:
            if self._frames:
                self.stats.partial_packets += 1
            self._frames = [frame]
            self._orphans = 0
        elif self._frames:
            self._frames.append(frame)
        else:
            # A packet has 24 frames after its SYNC frame: each 24 with none begun is one lost.
            if self._orphans % (FRAMES_PER_PACKET - 1) == 0:
                self.stats.lost_packets += 1
            self._orphans += 1
            return None
        if len(self._frames) < FRAMES_PER_PACKET:
            return None
        frames, self._frames = self._frames, []
        self.stats.packets += 1
        return self._packet(frames)

    def _packet(self, frames: list[bytes]) -> Df2Packet:
        values = [f[3] for f in frames]
        statuses = [f[1] for f in frames]

        def value(number: int) -> int:
            return values[number - 1]

        for number in (_SPO2, _E_SPO2):
            if (value(number) & 0x7F) not in {*range(101), MISSING_SPO2}:
                self.stats.corrupt_values += 1
        perfusion = Perfusion.UNKNOWN
        for s in statuses:
            perfusion = _perfusion(s) or perfusion
        status = Df2Status(
            sensor_disconnected=any(s & SNSD for s in statuses),
            sensor_alarm=any(s & SNSA for s in statuses),
            out_of_track=any(s & OOT for s in statuses),
            artifact=any(s & ARTF for s in statuses),
            perfusion=perfusion,
        )
        pairs = (
            (_spo2(value(_SPO2)), _spo2(value(_SPO2_D)), False),
            (
                _pulse(value(_HR_MSB), value(_HR_LSB)),
                _pulse(value(_HR_D_MSB), value(_HR_D_LSB)),
                True,
            ),
            (_spo2(value(_E_SPO2)), _spo2(value(_E_SPO2_D)), False),
            (
                _pulse(value(_E_HR_MSB), value(_E_HR_LSB)),
                _pulse(value(_E_HR_D_MSB), value(_E_HR_D_LSB)),
                True,
            ),
        )
        numbers: list[int | None] = []
        doubtful = False
        for recording, display, pulse in pairs:
            if recording is None or display is None:
                # A probe coming off: the display copy holds while the recording one is gone.
                # No number on one copy alone, but no doubt either.
                if recording is not None or display is not None:
                    self.stats.unconfirmed_values += 1
                numbers.append(None)
                continue
            doubtful = doubtful or not copies_agree(recording, display, pulse=pulse)
            numbers.append(recording)
        if doubtful:
            self.stats.doubtful_packets += 1
            numbers = [None] * len(numbers)
        spo2, pulse_bpm, extended_spo2, extended_pulse = numbers
        return Df2Packet(
            spo2_pct=spo2,
            pulse_bpm=pulse_bpm,
            status=status,
            firmware=value(_FIRMWARE),
            pleth=tuple(f[2] for f in frames),
            extended_spo2_pct=extended_spo2,
            extended_pulse_bpm=extended_pulse,
            doubtful=doubtful,
        )


def encode_frame(status: int, pleth: int, value: int) -> bytes:
    """One frame: START, STATUS (bit 7 forced on), PLETH, the value byte, checksum."""
    head = [START, (status | _ALWAYS) & 0xFF, pleth & 0xFF, value & 0xFF]
    return bytes([*head, _checksum(head)])


def encode_packet(
    spo2_pct: int | None,
    pulse_bpm: int | None,
    *,
    pleth: Sequence[int] = (128,) * FRAMES_PER_PACKET,
    status: int = 0,
    perfusion: Perfusion = Perfusion.GOOD,
    pulse_frames: Sequence[int] = (),
    firmware: int = 0x29,
) -> bytes:
    """A packet as a device sends it: 25 frames, 125 bytes.

    ``status`` bits (SNSD, SNSA, OOT, ARTF) go on every frame; the perfusion bits on the frames
    in ``pulse_frames`` (0-based), as a device shows them around a detected pulse. Missing
    values become the sentinels.
    """
    spo2 = MISSING_SPO2 if spo2_pct is None else spo2_pct
    pulse = MISSING_PULSE if pulse_bpm is None else pulse_bpm
    if not (0 <= spo2 <= 127 and 0 <= pulse <= 511):
        raise ValueError(f"SpO2 {spo2} or pulse {pulse} outside what DF2 can carry")
    hr_msb, hr_lsb = (pulse >> 7) & 0x03, pulse & 0x7F
    values = [0] * FRAMES_PER_PACKET
    for number, byte in (
        (_HR_MSB, hr_msb),
        (_HR_LSB, hr_lsb),
        (_SPO2, spo2),
        (_FIRMWARE, firmware),
        (9, spo2),
        (10, spo2),
        (11, spo2),
        (_E_HR_MSB, hr_msb),
        (_E_HR_LSB, hr_lsb),
        (_E_SPO2, spo2),
        (17, spo2),
        (20, hr_msb),
        (21, hr_lsb),
        (22, hr_msb),
        (23, hr_lsb),
    ):
        values[number - 1] = byte
    perfusion_bits = {
        Perfusion.GOOD: _PERF_GREEN,
        Perfusion.MARGINAL: _PERF_RED | _PERF_GREEN,
        Perfusion.LOW: _PERF_RED,
        Perfusion.UNKNOWN: 0,
    }[perfusion]
    shown = set(pulse_frames)
    out = bytearray()
    for i in range(FRAMES_PER_PACKET):
        bits = status & (SNSD | SNSA | OOT | ARTF)
        if i in shown:
            bits |= perfusion_bits
        if i == 0:
            bits |= SYNC
        out += encode_frame(bits, pleth[i], values[i])
    return bytes(out)
