"""Frames: CRC, COBS, header checks and the stream decoder's resynchronisation."""

from __future__ import annotations

import struct

import pytest
from cobs import cobs

from firmware_bridge.framing import (
    MAX_ENCODED,
    PROTOCOL_VERSION,
    DecodeFault,
    Frame,
    FrameDecoder,
    FrameFault,
    crc16,
    decode_frame,
    encode_frame,
)
from firmware_bridge.messages import Ack, Drive, ErrorCode, Heartbeat, Odometry, Rearm


def test_crc16_is_ccitt_false() -> None:
    # The catalogue check value of CRC-16/CCITT-FALSE over the ASCII digits 1..9.
    assert crc16(b"123456789") == 0x29B1


def test_encoded_frame_has_one_delimiter_at_its_end() -> None:
    frame = encode_frame(Odometry(0, -1, 20_000, 5), seq=0)
    assert frame.endswith(b"\x00")
    assert frame.count(0) == 1


def test_frame_round_trips_with_its_sequence_number() -> None:
    frame = encode_frame(Drive(0.5, -0.25), seq=513)
    assert decode_frame(frame[:-1]) == Frame(513, Drive(0.5, -0.25), PROTOCOL_VERSION)


def test_frame_layout_is_header_body_crc_little_endian() -> None:
    raw = cobs.decode(encode_frame(Ack(0x01, 0x0203, ErrorCode.NOT_ARMED), seq=0x0405)[:-1])
    assert raw[:4] == bytes([PROTOCOL_VERSION, 0x83, 0x05, 0x04])
    assert raw[4:8] == bytes([0x01, 0x03, 0x02, 0x05])
    assert struct.unpack("<H", raw[8:])[0] == crc16(raw[:8])


def test_decoder_reassembles_a_frame_split_across_reads() -> None:
    decoder = FrameDecoder()
    frame = encode_frame(Heartbeat(42), seq=7)
    out = [item for byte in frame for item in decoder.feed(bytes([byte]))]
    assert out == [Frame(7, Heartbeat(42))]


def test_decoder_resyncs_at_the_first_delimiter_after_garbage() -> None:
    decoder = FrameDecoder()
    # Garbage fuses with the frame behind it up to the next delimiter: that frame is lost,
    # the one after it decodes.
    lost = encode_frame(Rearm(), seq=1)
    good = encode_frame(Rearm(), seq=2)
    out = decoder.feed(b"\x13\x37\xff\xfe" + lost + good)
    assert out[-1] == Frame(2, Rearm())
    assert isinstance(out[0], FrameFault)
    assert decoder.resyncs == 1


def test_a_leading_delimiter_shields_a_frame_from_garbage_before_it() -> None:
    decoder = FrameDecoder()
    out = decoder.feed(b"\x13\x37\xff\xfe\x00" + encode_frame(Rearm(), seq=1))
    assert out[-1] == Frame(1, Rearm())


def test_a_flipped_bit_costs_one_frame_and_the_next_one_decodes() -> None:
    decoder = FrameDecoder()
    bad = bytearray(encode_frame(Drive(1.0, 0.0), seq=1))
    bad[5] ^= 0x10
    out = decoder.feed(bytes(bad) + encode_frame(Drive(0.0, 0.0), seq=2))
    frames = [item for item in out if isinstance(item, Frame)]
    assert frames == [Frame(2, Drive(0.0, 0.0))]
    assert decoder.faults[DecodeFault.CRC] + decoder.faults[DecodeFault.COBS] >= 1


def test_lost_delimiter_overruns_and_recovers() -> None:
    decoder = FrameDecoder()
    out = decoder.feed(b"\x05" * (MAX_ENCODED + 10))
    assert [item.fault for item in out if isinstance(item, FrameFault)] == [DecodeFault.OVERRUN]
    out = decoder.feed(b"\x05\x05\x00" + encode_frame(Heartbeat(1), seq=3))
    assert out == [Frame(3, Heartbeat(1))]


def test_other_major_version_is_a_fault_that_keeps_its_header() -> None:
    frame = encode_frame(Drive(0.1, 0.0), seq=99, version=0x20)
    result = decode_frame(frame[:-1])
    assert isinstance(result, FrameFault)
    assert result.fault is DecodeFault.VERSION
    assert result.header is not None
    assert (result.header.msg_type, result.header.seq) == (0x01, 99)


def test_newer_minor_version_with_a_longer_body_is_accepted() -> None:
    raw = bytes([0x13, 0x02, 0x01, 0x00]) + struct.pack("<I", 5) + b"\xaa\xbb"
    raw += struct.pack("<H", crc16(raw))
    assert decode_frame(cobs.encode(raw)) == Frame(1, Heartbeat(5), 0x13)


@pytest.mark.parametrize(
    ("msg_type", "body", "fault"),
    [(0x7E, b"", DecodeFault.UNKNOWN_TYPE), (0x01, b"\x00\x00", DecodeFault.BAD_LENGTH)],
)
def test_unknown_type_and_short_body_are_faults(
    msg_type: int, body: bytes, fault: DecodeFault
) -> None:
    raw = bytes([PROTOCOL_VERSION, msg_type, 0x01, 0x00]) + body
    raw += struct.pack("<H", crc16(raw))
    result = decode_frame(cobs.encode(raw))
    assert isinstance(result, FrameFault)
    assert result.fault is fault
    assert result.header is not None


def test_empty_chunks_between_delimiters_are_idle_not_faults() -> None:
    decoder = FrameDecoder()
    assert decoder.feed(b"\x00\x00\x00") == []
    assert not decoder.faults
