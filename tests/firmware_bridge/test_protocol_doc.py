"""docs/firmware-protocol.md: every test vector decodes to what the page says it is."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from firmware_bridge.framing import (
    PROTOCOL_VERSION,
    DecodeFault,
    Frame,
    FrameDecoder,
    FrameFault,
    decode_frame,
    encode_frame,
)
from firmware_bridge.messages import (
    Ack,
    Configure,
    Drive,
    ErrorCode,
    EstopClear,
    EstopReason,
    EstopSet,
    Heartbeat,
    Message,
    MessageType,
    Odometry,
    Rearm,
    Status,
    StatusFlag,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "firmware-protocol.md"

EXPECTED: list[tuple[int, Message]] = [
    (0, Drive(0.5, -0.25)),
    (1, Drive(0.0, 0.0)),
    (2, Heartbeat(1000)),
    (3, EstopSet(EstopReason.SAFETY_MONITOR)),
    (4, EstopClear()),
    (5, Rearm()),
    (6, Configure(200, 500, 1.0, 0.75, 0.5, 1.0, 1.25, 0.75, 0.125, 0.5, 4096, 200, 1)),
    (256, Odometry(1000, -1000, 20_000, 123_456)),
    (
        257,
        Status(
            25_100,
            2_300,
            87,
            315,
            322,
            0,
            StatusFlag.ARMED
            | StatusFlag.SEAT_OCCUPIED
            | StatusFlag.BELT_CLOSED
            | StatusFlag.CONFIGURED,
            0,
            -50,
            752,
        ),
    ),
    (258, Ack(MessageType.DRIVE, 0, ErrorCode.OK)),
    (259, Ack(MessageType.DRIVE, 7, ErrorCode.VERSION_MISMATCH)),
]


def _section(title: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert match, f"{DOC} has no section '{title}'"
    return match.group(1)


def _vectors() -> list[bytes]:
    block = re.search(r"```\n(.*?)```", _section("Test vectors"), re.S)
    assert block, "the Test vectors section has no code block"
    return [bytes.fromhex(line) for line in block.group(1).splitlines() if line.strip()]


def test_the_page_lists_every_expected_vector() -> None:
    assert len(_vectors()) == len(EXPECTED)


@pytest.mark.parametrize(("index", "expected"), list(enumerate(EXPECTED)))
def test_vector_decodes_to_its_message(index: int, expected: tuple[int, Message]) -> None:
    wire = _vectors()[index]
    assert wire.endswith(b"\x00")
    assert wire.count(0) == 1
    seq, message = expected
    assert decode_frame(wire[:-1]) == Frame(seq, message, PROTOCOL_VERSION)
    assert encode_frame(message, seq) == wire


def test_vectors_decode_as_one_stream() -> None:
    decoder = FrameDecoder()
    out = decoder.feed(b"".join(_vectors()))
    assert [(f.seq, f.message) for f in out if isinstance(f, Frame)] == EXPECTED
    assert not decoder.faults


def test_every_message_type_has_a_vector() -> None:
    assert {m.TYPE for _, m in EXPECTED} == set(MessageType)


def test_corrupted_examples_are_dropped() -> None:
    examples = re.findall(r"`((?:[0-9a-f]{2} )+00)`", _section("Corrupted examples"))
    assert len(examples) == 3
    faults = [decode_frame(bytes.fromhex(e)[:-1]) for e in examples]
    assert all(isinstance(f, FrameFault) for f in faults)
    kinds = [f.fault for f in faults if isinstance(f, FrameFault)]
    assert kinds == [DecodeFault.CRC, DecodeFault.COBS, DecodeFault.VERSION]
