"""Nonin DF2: the reference's frames, whole packets from its layout, and corrupted streams."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.telemetry.oximeter.df2 import (
    ARTF,
    OOT,
    SNSA,
    SNSD,
    Df2Decoder,
    encode_frame,
    encode_packet,
)
from edge.types import Perfusion


def _frames(text: str) -> bytes:
    return bytes.fromhex(text.replace("|", " "))


# Frames derived from DF2's layout, and a real Nonin Xpod capture (docs/references.md).
HR72_SPO2_97 = "01 83 64 00 E8 | 01 82 66 48 31 | 01 82 69 61 4D"
HR130 = "01 81 50 01 D3 | 01 80 52 02 D5"
FINGER_OUT = "01 C9 00 03 CD | 01 C8 00 7F 48 | 01 C8 00 7F 48"
XPOD_CAPTURE = "01 81 00 00 82 | 01 80 00 3D BE | 01 80 00 61 E2 | 01 80 00 29 AA"


def _complete(head: bytes, value_bytes: dict[int, int] | None = None) -> bytes:
    """The quoted first frames of a packet, then the rest of its 25 frames from the layout."""
    values = value_bytes or {}
    tail = b"".join(encode_frame(0x00, 0x80, values.get(n, 0)) for n in range(len(head) // 5, 25))
    return head + tail


def test_every_quoted_frame_has_the_checksum_the_reference_gives() -> None:
    for text in (HR72_SPO2_97, HR130, FINGER_OUT, XPOD_CAPTURE):
        data = _frames(text)
        for i in range(0, len(data), 5):
            frame = data[i : i + 5]
            assert encode_frame(frame[1], frame[2], frame[3]) == frame


def test_the_real_xpod_capture_reads_pulse_61_spo2_97_firmware_0x29() -> None:
    (packet,) = Df2Decoder().feed(_complete(_frames(XPOD_CAPTURE)))
    assert (packet.pulse_bpm, packet.spo2_pct, packet.firmware) == (61, 97, 0x29)
    assert packet.usable


def test_pulse_72_spo2_97_with_good_perfusion() -> None:
    (packet,) = Df2Decoder().feed(_complete(_frames(HR72_SPO2_97)))
    assert (packet.pulse_bpm, packet.spo2_pct) == (72, 97)
    assert packet.status.perfusion == Perfusion.GOOD
    assert packet.pleth[:3] == (0x64, 0x66, 0x69)


def test_a_pulse_above_127_uses_the_msb() -> None:
    (packet,) = Df2Decoder().feed(_complete(_frames(HR130), {2: 97}))
    assert packet.pulse_bpm == 130


def test_finger_out_reads_missing_values_and_the_sensor_flags() -> None:
    (packet,) = Df2Decoder().feed(_complete(_frames(FINGER_OUT)))
    assert packet.pulse_bpm is None  # 0x03 << 7 | 0x7F = 511
    assert packet.spo2_pct is None  # 127
    assert packet.status.sensor_disconnected
    assert packet.status.sensor_alarm
    assert not packet.usable


def test_whole_packets_from_the_layout_table_round_trip() -> None:
    stream = b"".join(
        encode_packet(spo2, pulse, perfusion=Perfusion.MARGINAL, pulse_frames=range(5, 17))
        for spo2, pulse in [(98, 60), (91, 250), (100, 511 - 1), (None, None)]
    )
    packets = Df2Decoder().feed(stream)
    assert [(p.spo2_pct, p.pulse_bpm) for p in packets] == [
        (98, 60),
        (91, 250),
        (100, 510),
        (None, None),
    ]
    assert all(p.extended_spo2_pct == p.spo2_pct for p in packets)
    assert all(p.status.perfusion == Perfusion.MARGINAL for p in packets)


def test_artifact_alone_is_usable_out_of_track_is_not() -> None:
    (artifact,) = Df2Decoder().feed(encode_packet(95, 80, status=ARTF))
    (oot,) = Df2Decoder().feed(encode_packet(95, 80, status=OOT))
    (alarm,) = Df2Decoder().feed(encode_packet(95, 80, status=SNSA))
    (disconnected,) = Df2Decoder().feed(encode_packet(95, 80, status=SNSD))
    assert artifact.status.artifact
    assert artifact.usable
    assert [p.usable for p in (oot, alarm, disconnected)] == [False, False, False]


def test_bytes_split_anywhere_decode_the_same() -> None:
    stream = b"".join(encode_packet(96, 70 + i) for i in range(6))
    rng = np.random.default_rng(3)
    decoder = Df2Decoder()
    packets = []
    cuts = sorted(rng.integers(0, len(stream), 40).tolist())
    for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        packets += decoder.feed(stream[a:b])
    assert [p.pulse_bpm for p in packets] == [70, 71, 72, 73, 74, 75]


def test_garbage_before_between_and_inside_is_skipped_and_counted() -> None:
    good = [encode_packet(97, 60 + i) for i in range(4)]
    broken = bytearray(good[2])
    broken[50] ^= 0x10  # one bit in frame 11: this packet is lost, the next is not
    stream = b"\x01\x01\x81\x00" + good[0] + b"\x00\x01\x99" + good[1] + bytes(broken) + good[3]
    decoder = Df2Decoder()
    packets = decoder.feed(stream)
    assert [p.pulse_bpm for p in packets] == [60, 61, 63]
    assert decoder.stats.partial_packets >= 1
    assert decoder.stats.bad_frames >= 1
    assert decoder.stats.bytes_skipped >= 7


def test_an_early_sync_drops_the_partial_packet() -> None:
    whole = encode_packet(97, 60)
    stream = whole[:60] + encode_packet(95, 61)
    decoder = Df2Decoder()
    assert [p.pulse_bpm for p in decoder.feed(stream)] == [61]
    assert decoder.stats.partial_packets == 1


def test_an_spo2_above_100_is_counted_as_corrupt_and_read_as_missing() -> None:
    (packet,) = Df2Decoder().feed(encode_packet(120, 60))
    decoder = Df2Decoder()
    decoder.feed(encode_packet(120, 60))
    assert packet.spo2_pct is None
    assert decoder.stats.corrupt_values == 2  # the 4-beat and the 8-beat value


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(50, 100), st.integers(30, 250)), min_size=1, max_size=6),
    st.lists(st.tuples(st.integers(0, 10_000), st.binary(min_size=1, max_size=12)), max_size=8),
)
def test_a_corrupted_stream_never_raises_and_yields_only_sent_packets(
    readings: list[tuple[int, int]], damage: list[tuple[int, bytes]]
) -> None:
    stream = bytearray(b"".join(encode_packet(spo2, pulse) for spo2, pulse in readings))
    for at, junk in damage:
        stream[at % (len(stream) + 1) : at % (len(stream) + 1)] = junk
    decoded = Df2Decoder().feed(bytes(stream))
    sent = set(readings)
    # An 8-bit checksum lets a forged frame through now and then, but never 25 in a row.
    assert all((p.spo2_pct, p.pulse_bpm) in sent for p in decoded)
    assert len(decoded) <= len(readings)
    if not damage:
        # An intact stream decodes whole: the checks above alone would pass a decoder that
        # returns nothing.
        assert [(p.spo2_pct, p.pulse_bpm) for p in decoded] == readings
