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
    SYNC,
    Df2Decoder,
    copies_agree,
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
    """The quoted first frames of a packet, then the rest of its 25 frames from the layout.

    ``value_bytes`` (0-based frame index) fill the value bytes after the quoted frames; the
    copies a device repeats (SpO2-D, 8-beat, HR-D) default to the quoted or given 4-beat
    values, as the real capture carries them.
    """
    values = dict(value_bytes or {})
    quoted = [head[i + 3] for i in range(0, len(head), 5)]
    known = quoted + [values.get(n, 0) for n in range(len(quoted), 3)]
    hr_msb, hr_lsb, spo2 = known[:3]
    for n, byte in ((8, spo2), (15, spo2), (16, spo2), (13, hr_msb), (14, hr_lsb)):
        values.setdefault(n, byte)
    for n, byte in ((19, hr_msb), (20, hr_lsb), (21, hr_msb), (22, hr_lsb)):
        values.setdefault(n, byte)
    tail = b"".join(encode_frame(0x00, 0x80, values.get(n, 0)) for n in range(len(quoted), 25))
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


# The reference packets whole: the real capture with the other values the reference quotes
# (SpO2-D 97, B-B 98, E-HR 62, E-SpO2 98, HR-D 61), and the packets derived from the layout.
XPOD_PACKET = _complete(
    _frames(XPOD_CAPTURE), {8: 97, 10: 98, 13: 0, 14: 62, 15: 98, 16: 98, 21: 0, 22: 62}
)
REFERENCE_PACKETS = {
    XPOD_PACKET: (97, 61),
    _complete(_frames(HR72_SPO2_97)): (97, 72),
    _complete(_frames(HR130), {2: 97}): (97, 130),
    encode_packet(88, 250): (88, 250),
}


def _close_to(value: int | None, truth: int, *, pulse: bool) -> bool:
    return value is None or copies_agree(value, truth, pulse=pulse)


def _set_value(packet: bytes, number: int, byte: int) -> bytes:
    """``packet`` with frame ``number``'s (1-based) value byte replaced, checksum made good."""
    at = (number - 1) * 5
    frame = encode_frame(packet[at + 1], packet[at + 2], byte)
    return packet[:at] + frame + packet[at + 5 :]


def test_the_whole_reference_packets_decode_valid() -> None:
    for packet, truth in REFERENCE_PACKETS.items():
        decoder = Df2Decoder()
        (decoded,) = decoder.feed(packet)
        assert (decoded.spo2_pct, decoded.pulse_bpm) == truth
        assert decoded.usable
        assert not decoded.doubtful
        assert decoder.stats.doubtful_packets == decoder.stats.unconfirmed_values == 0
    (xpod,) = Df2Decoder().feed(XPOD_PACKET)
    assert (xpod.extended_spo2_pct, xpod.extended_pulse_bpm) == (98, 62)


def test_a_value_and_its_checksum_flipped_together_is_doubtful_not_spo2_65() -> None:
    corrupt = bytearray(XPOD_PACKET)
    corrupt[13] ^= 0x20  # frame 3's SpO2 97 -> 65
    corrupt[14] ^= 0x20  # and its checksum, which then matches
    decoder = Df2Decoder()
    (packet,) = decoder.feed(bytes(corrupt))
    assert packet.doubtful
    assert (packet.spo2_pct, packet.pulse_bpm) == (None, None)
    assert (packet.extended_spo2_pct, packet.extended_pulse_bpm) == (None, None)
    assert not packet.usable
    assert decoder.stats.doubtful_packets == 1


def test_every_two_bit_error_in_any_frame_gives_the_true_values_or_none() -> None:
    for packet, (spo2, pulse) in REFERENCE_PACKETS.items():
        (clean,) = Df2Decoder().feed(packet)
        e_spo2, e_pulse = clean.extended_spo2_pct, clean.extended_pulse_bpm
        assert e_spo2 is not None
        assert e_pulse is not None
        for frame in range(25):
            bits = [(frame * 5 + byte, 1 << bit) for byte in range(5) for bit in range(8)]
            for a, (byte_a, mask_a) in enumerate(bits):
                for byte_b, mask_b in bits[a + 1 :]:
                    corrupt = bytearray(packet)
                    corrupt[byte_a] ^= mask_a
                    corrupt[byte_b] ^= mask_b
                    for p in Df2Decoder().feed(bytes(corrupt)):
                        assert _close_to(p.spo2_pct, spo2, pulse=False), (frame, byte_a, byte_b)
                        assert _close_to(p.pulse_bpm, pulse, pulse=True), (frame, byte_a, byte_b)
                        assert _close_to(p.extended_spo2_pct, e_spo2, pulse=False)
                        assert _close_to(p.extended_pulse_bpm, e_pulse, pulse=True)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(1, 2), min_size=1, max_size=12), st.booleans())
def test_a_real_desaturation_is_never_dropped_as_doubtful(
    drops: list[int], display_lags: bool
) -> None:
    """SpO2 falls a point or two per packet, pulse climbs; the display copies follow, at
    worst a packet late (no capture shows whether a device updates both in the same frame)."""
    spo2s = [97]
    for drop in drops:
        spo2s.append(spo2s[-1] - drop)
    pulses = [70 + i for i in range(len(spo2s))]
    stream = b""
    for i, (spo2, pulse) in enumerate(zip(spo2s, pulses, strict=True)):
        packet = encode_packet(spo2, pulse)
        if display_lags and i > 0:
            shown_spo2, shown_pulse = spo2s[i - 1], pulses[i - 1]
            for number, byte in ((9, shown_spo2), (17, shown_spo2), (21, shown_pulse & 0x7F)):
                packet = _set_value(packet, number, byte)
        stream += packet
    decoder = Df2Decoder()
    packets = decoder.feed(stream)
    assert [(p.spo2_pct, p.pulse_bpm) for p in packets] == list(zip(spo2s, pulses, strict=True))
    assert not any(p.doubtful for p in packets)
    assert decoder.stats.doubtful_packets == 0


def test_a_probe_coming_off_is_missing_not_doubtful() -> None:
    """The recording copies go missing at once while the display copies hold for ~10 s."""
    packet = encode_packet(None, None, status=SNSA)
    for number, byte in ((9, 97), (17, 97), (20, 0), (21, 61), (22, 0), (23, 61)):
        packet = _set_value(packet, number, byte)
    decoder = Df2Decoder()
    (decoded,) = decoder.feed(packet)
    assert (decoded.spo2_pct, decoded.pulse_bpm) == (None, None)
    assert not decoded.doubtful
    assert decoder.stats.doubtful_packets == 0
    assert decoder.stats.unconfirmed_values == 4


def test_a_number_with_its_copy_missing_goes_out_as_missing() -> None:
    decoder = Df2Decoder()
    (decoded,) = decoder.feed(_set_value(encode_packet(97, 61), 9, 127))
    assert decoded.spo2_pct is None
    assert decoded.pulse_bpm == 61
    assert not decoded.doubtful
    assert decoder.stats.unconfirmed_values == 1


def test_a_packet_lost_with_its_sync_frame_is_counted() -> None:
    good = [encode_packet(97, 60 + i) for i in range(4)]
    bad_checksum = bytearray(good[1])
    bad_checksum[4] ^= 0x01
    no_sync = bytearray(good[2])
    no_sync[1] ^= SYNC  # a valid frame, checksum matched, but no longer frame 1
    no_sync[4] ^= SYNC
    decoder = Df2Decoder()
    packets = decoder.feed(good[0] + bytes(bad_checksum) + bytes(no_sync) + good[3])
    assert [p.pulse_bpm for p in packets] == [60, 63]
    assert decoder.stats.lost_packets == 2
    assert decoder.stats.partial_packets == 0


def test_a_packet_broken_midway_is_partial_not_also_lost() -> None:
    broken = bytearray(encode_packet(97, 61))
    broken[12] ^= 0x01  # frame 3's checksum
    decoder = Df2Decoder()
    assert [p.pulse_bpm for p in decoder.feed(encode_packet(97, 60) + bytes(broken))] == [60]
    assert decoder.stats.partial_packets == 1
    assert decoder.stats.lost_packets == 0
