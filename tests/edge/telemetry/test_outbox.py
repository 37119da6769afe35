"""The outbox on a real SQLite file: sequence numbers, order, bounds, tombstones, restarts."""

from __future__ import annotations

import json
import multiprocessing
import signal
from pathlib import Path

from chairlink.wire.topics import Channel
from edge.telemetry.outbox import Outbox
from tests.edge.telemetry.kill import kill_when_ready


def _build(channel: Channel, size: int = 40):  # type: ignore[no-untyped-def]
    def build(seq: int) -> tuple[str, bytes]:
        return f"t/{channel.value}", json.dumps({"seq": seq, "pad": "x" * size}).encode()

    return build


def _tombstone(first: int, last: int) -> tuple[str, bytes]:
    return "t/vehicle", json.dumps({"seq": first, "thinned_through": last}).encode()


def test_sequence_numbers_count_per_channel_and_survive_reopening(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox.db")
    assert [box.put(Channel.VEHICLE, _build(Channel.VEHICLE), 0).seq for _ in range(3)] == [0, 1, 2]
    assert box.put(Channel.PATIENT, _build(Channel.PATIENT), 0).seq == 0
    box.close()
    box = Outbox(tmp_path / "outbox.db")
    assert box.put(Channel.VEHICLE, _build(Channel.VEHICLE), 0).seq == 3
    assert box.last_seq() == {Channel.VEHICLE: 3, Channel.PATIENT: 0}
    assert [p.seq for p in box.pending(10)] == [0, 1, 2, 0, 3]


def test_acknowledged_messages_leave_and_the_rest_stay_in_order(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox.db")
    for _ in range(5):
        box.put(Channel.EVENT, _build(Channel.EVENT), 0)
    pending = box.pending(10)
    box.remove([pending[1].id, pending[3].id])
    assert [p.seq for p in box.pending(10)] == [0, 2, 4]
    assert [p.seq for p in box.pending(10, after_id=pending[2].id)] == [4]
    assert box.stats().messages == 3


def test_a_full_outbox_thins_vehicle_samples_with_tombstones_and_keeps_every_vital(
    tmp_path: Path,
) -> None:
    box = Outbox(tmp_path / "outbox.db", max_bytes=20_000)
    vitals = []
    for i in range(400):
        box.put(Channel.VEHICLE, _build(Channel.VEHICLE, 100), i, _tombstone)
        if i % 4 == 0:
            vitals.append(box.put(Channel.PATIENT, _build(Channel.PATIENT), i, _tombstone).seq)
    stats = box.stats()
    assert stats.bytes <= 20_000
    assert stats.thinned_messages > 0
    assert stats.tombstones > 0
    assert not stats.overflowing
    pending = box.pending(10_000)
    assert [p.seq for p in pending if p.channel == Channel.PATIENT] == vitals
    # Every vehicle sequence number is accounted for, by a message or a tombstone, once.
    covered: list[int] = []
    for p in pending:
        if p.channel == Channel.VEHICLE:
            covered += range(p.seq, p.last_seq + 1)
    assert sorted(covered) == list(range(400))


def test_events_that_alone_overflow_are_kept_and_flagged(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox.db", max_bytes=2_000)
    seqs = [
        box.put(Channel.EVENT, _build(Channel.EVENT, 200), 0, _tombstone).seq for _ in range(20)
    ]
    assert box.stats().overflowing
    assert [p.seq for p in box.pending(100)] == seqs
    box.remove([p.id for p in box.pending(100)])
    assert not box.stats().overflowing


def _fill_then_wait(path: Path, ready: multiprocessing.synchronize.Event) -> None:
    box = Outbox(path)
    for _ in range(200):
        box.put(Channel.VEHICLE, _build(Channel.VEHICLE), 0)
        box.put(Channel.EVENT, _build(Channel.EVENT), 0)
    ready.set()
    signal.pause()


def test_what_was_put_survives_the_process_being_killed(tmp_path: Path) -> None:
    kill_when_ready(_fill_then_wait, tmp_path / "outbox.db")
    box = Outbox(tmp_path / "outbox.db")
    pending = box.pending(1000)
    assert len(pending) == 400
    assert box.put(Channel.VEHICLE, _build(Channel.VEHICLE), 0).seq == 200


def test_incarnations_and_will_numbers_never_repeat_across_reopening(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox.db")
    assert box.new_incarnation(Channel.STATE) == (1, 0)
    assert box.put(Channel.STATE, _build(Channel.STATE), 0).seq == 1
    assert box.new_incarnation(Channel.STATE) == (2, 2)
    box.close()
    box = Outbox(tmp_path / "outbox.db")
    # A will's number is not in the outbox (the broker holds the will): it is kept all the same.
    assert box.new_incarnation(Channel.STATE) == (3, 3)
    assert box.put(Channel.STATE, _build(Channel.STATE), 0).seq == 4
    box.close()
