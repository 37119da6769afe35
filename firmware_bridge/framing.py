"""Frames on the wire: header, body and CRC, COBS-encoded and 0x00-delimited.

A frame before COBS encoding is::

    version(u8) type(u8) seq(u16 LE) body(...) crc(u16 LE)

where the CRC is CRC-16/CCITT-FALSE over header and body. ``encode_frame`` builds one;
``FrameDecoder`` turns any byte stream into frames and faults and never raises, so garbage,
bit flips and truncation cost the frames they touch and nothing else.
"""

from __future__ import annotations

import binascii
import struct
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum

from cobs import cobs

from firmware_bridge.errors import EncodeError
from firmware_bridge.messages import MESSAGE_TYPES, Message

__all__ = [
    "HEADER",
    "MAX_BODY",
    "MAX_ENCODED",
    "PROTOCOL_VERSION",
    "DecodeFault",
    "Frame",
    "FrameDecoder",
    "FrameFault",
    "Header",
    "crc16",
    "decode_frame",
    "encode_frame",
    "major",
]

PROTOCOL_VERSION = 0x10
"""Major version in the high nibble, minor in the low: this is protocol 1.0."""

HEADER = struct.Struct("<BBH")
CRC = struct.Struct("<H")
MAX_BODY = 64
MAX_ENCODED = HEADER.size + MAX_BODY + CRC.size + (HEADER.size + MAX_BODY + CRC.size) // 254 + 1


def major(version: int) -> int:
    """The major number of a version byte."""
    return version >> 4


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE: polynomial 0x1021, initial 0xFFFF, no reflection, no final xor."""
    return binascii.crc_hqx(data, 0xFFFF)


@dataclass(frozen=True, slots=True)
class Header:
    """The four header bytes of a frame."""

    version: int
    msg_type: int
    seq: int


@dataclass(frozen=True, slots=True)
class Frame:
    """A decoded frame: its sequence number, its message, and the version it was sent with."""

    seq: int
    message: Message
    version: int = PROTOCOL_VERSION


class DecodeFault(StrEnum):
    """Why a chunk between two delimiters did not become a frame."""

    COBS = "cobs"
    SHORT = "short"
    CRC = "crc"
    VERSION = "version"
    UNKNOWN_TYPE = "unknown_type"
    BAD_LENGTH = "bad_length"
    OVERRUN = "overrun"


@dataclass(frozen=True, slots=True)
class FrameFault:
    """A chunk that was not a frame. ``header`` is set when the CRC held, so it can be answered."""

    fault: DecodeFault
    detail: str
    header: Header | None = None


def encode_frame(message: Message, seq: int, version: int = PROTOCOL_VERSION) -> bytes:
    """Encode one message as a whole frame, delimiter included.

    Raises:
        EncodeError: the sequence number or a field does not fit its wire type.
    """
    if not 0 <= seq <= 0xFFFF:
        raise EncodeError(f"sequence number {seq} outside 0..65535")
    if not 0 <= version <= 0xFF:
        raise EncodeError(f"version {version} outside 0..255")
    raw = HEADER.pack(version, message.TYPE, seq) + message.pack()
    raw += CRC.pack(crc16(raw))
    return bytes(cobs.encode(raw)) + b"\x00"


def decode_frame(chunk: bytes) -> Frame | FrameFault:
    """Decode one chunk (the bytes between two delimiters, without them)."""
    try:
        raw = cobs.decode(chunk)
    except cobs.DecodeError as err:
        return FrameFault(DecodeFault.COBS, str(err))
    if len(raw) < HEADER.size + CRC.size:
        return FrameFault(DecodeFault.SHORT, f"{len(raw)} bytes, a frame has at least 6")
    payload = raw[:-2]
    (crc,) = CRC.unpack_from(raw, len(raw) - 2)
    computed = crc16(payload)
    if crc != computed:
        return FrameFault(DecodeFault.CRC, f"crc {crc:#06x} != computed {computed:#06x}")
    header = Header(*HEADER.unpack_from(payload))
    if major(header.version) != major(PROTOCOL_VERSION):
        return FrameFault(
            DecodeFault.VERSION,
            f"protocol version {header.version:#04x}, this side speaks {PROTOCOL_VERSION:#04x}",
            header,
        )
    cls = MESSAGE_TYPES.get(header.msg_type)
    if cls is None:
        return FrameFault(DecodeFault.UNKNOWN_TYPE, f"message type {header.msg_type:#04x}", header)
    try:
        message = cls.unpack(payload[HEADER.size :])
    except ValueError as err:
        return FrameFault(DecodeFault.BAD_LENGTH, str(err), header)
    return Frame(header.seq, message, header.version)


class FrameDecoder:
    """Splits a byte stream at 0x00 delimiters and decodes each chunk; never raises.

    After garbage the next delimiter resynchronises the stream. A chunk longer than any frame
    (a lost delimiter) is dropped whole and decoding resumes after the next delimiter.
    ``faults`` counts each DecodeFault; ``resyncs`` counts every time bytes were thrown away.
    """

    def __init__(self, max_encoded: int = MAX_ENCODED) -> None:
        self._buffer = bytearray()
        self._max = max_encoded
        self._discarding = False
        self.faults: Counter[DecodeFault] = Counter()
        self.frames = 0
        self.resyncs = 0
        self.bytes_discarded = 0

    def feed(self, data: bytes) -> list[Frame | FrameFault]:
        """Take the next bytes of the stream; return the frames and faults they completed."""
        out: list[Frame | FrameFault] = []
        if 0 not in data:
            self._append(data, out)
            return out
        parts = data.split(b"\x00")
        for part in parts[:-1]:
            if self._discarding:
                self.bytes_discarded += len(part)
                self._discarding = False
                continue
            if self._buffer:
                self._buffer += part
                chunk = bytes(self._buffer)
                self._buffer.clear()
            else:
                chunk = part
            if not chunk:
                continue
            if len(chunk) > self._max:
                self._overrun(len(chunk), out)
                self._discarding = False
                continue
            result = decode_frame(chunk)
            if isinstance(result, Frame):
                self.frames += 1
            else:
                self.faults[result.fault] += 1
                if result.header is None:
                    self.resyncs += 1
                    self.bytes_discarded += len(chunk) + 1
            out.append(result)
        self._append(parts[-1], out)
        return out

    def _append(self, data: bytes, out: list[Frame | FrameFault]) -> None:
        if self._discarding:
            self.bytes_discarded += len(data)
            return
        self._buffer += data
        if len(self._buffer) > self._max:
            self._overrun(len(self._buffer), out)
            self._buffer.clear()
            self._discarding = True

    def _overrun(self, length: int, out: list[Frame | FrameFault]) -> None:
        self.faults[DecodeFault.OVERRUN] += 1
        self.resyncs += 1
        self.bytes_discarded += length
        out.append(FrameFault(DecodeFault.OVERRUN, f"{length} bytes without a delimiter"))
