"""Property tests: every message round-trips; no byte stream breaks the decoder."""

from __future__ import annotations

import struct

from cobs import cobs
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_bridge.framing import MAX_ENCODED, Frame, FrameDecoder, decode_frame, encode_frame
from firmware_bridge.messages import (
    Ack,
    Configure,
    Drive,
    EstopClear,
    EstopSet,
    Heartbeat,
    Message,
    Odometry,
    Rearm,
    Status,
)

u8 = st.integers(0, 0xFF)
i8 = st.integers(-128, 127)
u16 = st.integers(0, 0xFFFF)
i16 = st.integers(-(2**15), 2**15 - 1)
u32 = st.integers(0, 2**32 - 1)
i32 = st.integers(-(2**31), 2**31 - 1)
f32 = st.floats(width=32, allow_nan=False)

messages: st.SearchStrategy[Message] = st.one_of(
    st.builds(Drive, f32, f32),
    st.builds(Heartbeat, u32),
    st.builds(EstopSet, u8),
    st.builds(EstopClear),
    st.builds(Rearm),
    st.builds(Configure, u16, u16, f32, f32, f32, f32, f32, f32, f32, f32, u16, u16, u8),
    st.builds(Odometry, i32, i32, u32, u32),
    st.builds(Status, u16, i32, u8, i16, i16, u16, u16, i8, i8, u16),
    st.builds(Ack, u8, u16, u8),
)


def _reference_crc(data: bytes) -> int:
    """Bitwise CRC-16/CCITT-FALSE, independent of the implementation under test."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def _crc_holds(chunk: bytes) -> bool:
    try:
        raw = cobs.decode(chunk)
    except cobs.DecodeError:
        return False
    return len(raw) >= 6 and struct.unpack("<H", raw[-2:])[0] == _reference_crc(raw[:-2])


@given(messages, u16)
def test_every_message_round_trips(message: Message, seq: int) -> None:
    assert decode_frame(encode_frame(message, seq)[:-1]) == Frame(seq, message)


@given(st.lists(st.tuples(messages, u16), max_size=8), st.lists(st.integers(1, 64), max_size=8))
def test_a_stream_decodes_the_same_however_it_is_split(
    items: list[tuple[Message, int]], cuts: list[int]
) -> None:
    stream = b"".join(encode_frame(m, s) for m, s in items)
    decoder = FrameDecoder()
    out = []
    position = 0
    for cut in [*cuts, len(stream)]:
        out += decoder.feed(stream[position : position + cut])
        position += cut
    out += decoder.feed(stream[position:])
    assert out == [Frame(s, m) for m, s in items]


@settings(max_examples=300)
@given(st.binary(max_size=600), st.lists(st.integers(1, 97), max_size=10))
def test_random_bytes_never_raise_and_frames_only_come_from_crc_valid_chunks(
    data: bytes, cuts: list[int]
) -> None:
    decoder = FrameDecoder()
    out = []
    position = 0
    for cut in cuts:
        out += decoder.feed(data[position : position + cut])
        position += cut
    out += decoder.feed(data[position:])
    frames = [item for item in out if isinstance(item, Frame)]
    valid_chunks = [
        c for c in data.split(b"\x00")[:-1] if c and len(c) <= MAX_ENCODED and _crc_holds(c)
    ]
    assert len(frames) <= len(valid_chunks)
    expected = [decode_frame(c) for c in valid_chunks]
    assert frames == [item for item in expected if isinstance(item, Frame)]


@settings(max_examples=300)
@given(
    st.lists(st.tuples(messages, u16), min_size=1, max_size=6),
    st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 7)), min_size=1, max_size=6),
    st.lists(st.integers(0, 10_000), max_size=3),
    st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=3),
)
def test_corrupted_frames_never_yield_a_frame_that_fails_its_crc(
    items: list[tuple[Message, int]],
    flips: list[tuple[int, int]],
    drops: list[int],
    inserts: list[tuple[int, int]],
) -> None:
    stream = bytearray(b"".join(encode_frame(m, s) for m, s in items))
    for position, bit in flips:
        stream[position % len(stream)] ^= 1 << bit
    for position in drops:
        if stream:
            del stream[position % len(stream)]
    for position, value in inserts:
        stream.insert(position % (len(stream) + 1), value)
    decoder = FrameDecoder()
    frames = [item for item in decoder.feed(bytes(stream)) if isinstance(item, Frame)]
    valid_chunks = [
        c
        for c in bytes(stream).split(b"\x00")[:-1]
        if c and len(c) <= MAX_ENCODED and _crc_holds(c)
    ]
    expected = [decode_frame(c) for c in valid_chunks]
    assert frames == [item for item in expected if isinstance(item, Frame)]
