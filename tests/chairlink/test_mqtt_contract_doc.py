"""Every JSON example in docs/mqtt-contract.md decodes under the contract it documents."""

from __future__ import annotations

import json
import re
from pathlib import Path

from chairlink.wire.payloads import PatientMessage, decode_command, decode_uplink, encode

DOC = Path(__file__).resolve().parents[2] / "docs" / "mqtt-contract.md"


def _examples() -> list[str]:
    return re.findall(r"```json\n(.*?)\n```", DOC.read_text(encoding="utf-8"), flags=re.DOTALL)


def test_every_example_decodes_and_round_trips() -> None:
    examples = _examples()
    assert len(examples) >= 12
    channels, kinds = set(), set()
    for text in examples:
        data = text.encode()
        if "channel" in json.loads(data):
            message = decode_uplink(data)
            channels.add(message.channel)
            assert decode_uplink(encode(message)) == message
            if isinstance(message, PatientMessage):
                assert len(encode(message)) <= 200
        else:
            command = decode_command(data)
            kinds.add(command.kind)
            assert decode_command(encode(command)) == command
    assert {c.value for c in channels} == {"state", "vehicle", "patient", "safety", "trip", "event"}
    assert {k.value for k in kinds} == {"trip", "cancel", "stop", "config"}
