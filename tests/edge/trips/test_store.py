"""TripStore: the assigned trip in a real file, written atomically, and every way the file can
be damaged named instead of crashing."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from chairlink.config import IdentityConfig, TelemetryConfig, trip_file
from chairlink.wire.payloads import TripCommand
from chairlink.wire.topics import CommandKind
from edge.trips.errors import TripStoreError
from edge.trips.store import StoredTrip, TripStore

PATIENT = "pt-4e1b2c9d"
SAVED_NS = 1_764_380_000_000_000_000


def trip(trip_id: str = "trip-1", patient: str | None = PATIENT) -> TripCommand:
    return TripCommand(
        v=1,
        command_id=f"c-{trip_id}",
        chair="chair-07",
        issued_ns=SAVED_NS - 10**9,
        kind=CommandKind.TRIP,
        trip_id=trip_id,
        origin="ward-a",
        destination="x-ray",
        patient=patient,
        priority="urgent",
    )


def store(tmp_path: Path) -> TripStore:
    return TripStore(tmp_path / "outbox.trip.json", clock_ns=lambda: SAVED_NS)


def test_a_saved_trip_loads_as_it_was_and_a_cleared_one_is_gone(tmp_path: Path) -> None:
    trips = store(tmp_path)
    assert trips.load() is None  # no file: no trip
    trips.save(trip())
    assert trips.load() == StoredTrip(trip(), SAVED_NS)
    record = json.loads(trips.path.read_text(encoding="utf-8"))
    assert (record["v"], record["saved_ns"], record["trip"]["patient"]) == (1, SAVED_NS, PATIENT)
    trips.save(trip("trip-2", None))
    assert trips.load() == StoredTrip(trip("trip-2", None), SAVED_NS)
    trips.clear()
    assert trips.load() is None
    assert not trips.path.exists()
    trips.clear()  # clearing nothing is no error
    assert [p.name for p in tmp_path.iterdir()] == []  # no temporary file left behind


def test_the_trip_file_lies_beside_the_outbox_one_per_outbox(tmp_path: Path) -> None:
    chair = IdentityConfig(chair_id="chair-07", site="site-1")
    one = TelemetryConfig(outbox_path=str(tmp_path / "chair-07.db"))
    other = TelemetryConfig(outbox_path=str(tmp_path / "chair-08.db"))
    assert trip_file(chair, one) == tmp_path / "chair-07.trip.json"
    assert trip_file(chair, other) == tmp_path / "chair-08.trip.json"


def test_a_save_that_cannot_be_written_leaves_the_old_trip_whole(tmp_path: Path) -> None:
    trips = store(tmp_path)
    trips.save(trip())
    # The temporary file's place is taken: the write fails before anything is renamed.
    (tmp_path / "outbox.trip.json.tmp").mkdir()
    with pytest.raises(TripStoreError, match=r"outbox\.trip\.json: cannot save the trip"):
        trips.save(trip("trip-2"))
    assert trips.load() == StoredTrip(trip(), SAVED_NS)


def test_a_reader_never_sees_half_a_trip_while_it_is_being_saved(tmp_path: Path) -> None:
    # What a process killed mid-save would leave is what a reader sees meanwhile: with the
    # file written in place, an empty or cut-short one; renamed into place, always a whole one.
    trips = store(tmp_path)
    trips.save(trip())
    done = threading.Event()
    problems: list[str] = []
    loads = 0

    def read() -> None:
        nonlocal loads
        while not done.is_set():
            try:
                loaded = TripStore(trips.path).load()
            except TripStoreError as err:
                problems.append(str(err))
                return
            assert loaded is not None
            loads += 1

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for n in range(300):
            trips.save(trip(f"trip-{n}", PATIENT if n % 2 else None))
    finally:
        done.set()
        reader.join()
    assert not problems, problems[0]
    assert loads > 0


DAMAGED: dict[str, tuple[bytes, str, str | None]] = {
    "empty": (b"", "not a trip file \\(not JSON", None),
    "cut short": (b'{"v":1,"saved_ns":1,"trip":{"trip_id":"trip-1","or', "not JSON", None),
    "binary": (b"\x00\xff\xfe garbage", "not a trip file", None),
    "a list": (b"[1, 2]", "no JSON object", None),
    "another version": (
        b'{"v":7,"saved_ns":1,"trip":{"trip_id":"trip-1"}}',
        "trip file version 7, expected 1",
        "trip-1",
    ),
    "no time": (b'{"v":1,"trip":{"trip_id":"trip-1"}}', "saved_ns is not a time", "trip-1"),
    "a name for a token": (
        json.dumps(
            {
                "v": 1,
                "saved_ns": 1,
                "trip": {**trip().model_dump(mode="json"), "patient": "John Smith"},
            }
        ).encode(),
        "the trip is not valid: .*patient",
        "trip-1",
    ),
    "a cancel": (
        json.dumps(
            {
                "v": 1,
                "saved_ns": 1,
                "trip": {"v": 1, "kind": "cancel", "command_id": "x", "chair": "chair-07",
                         "issued_ns": 1, "trip_id": "trip-3"},
            }
        ).encode(),
        "holds a cancel command, not a trip",
        "trip-3",
    ),
    "a bad trip id": (b'{"v":1,"saved_ns":1,"trip":{"trip_id":"no spaces"}}', "not valid", None),
}  # fmt: skip


@pytest.mark.parametrize(("data", "problem", "trip_id"), DAMAGED.values(), ids=DAMAGED.keys())
def test_a_damaged_file_is_named_with_its_trip_when_readable_and_can_be_set_aside(
    tmp_path: Path, data: bytes, problem: str, trip_id: str | None
) -> None:
    trips = store(tmp_path)
    trips.path.write_bytes(data)
    with pytest.raises(TripStoreError, match=f"outbox.trip.json: .*{problem}") as raised:
        trips.load()
    assert raised.value.trip_id == trip_id
    aside = trips.set_aside()
    assert aside == tmp_path / "outbox.trip.json.unreadable"
    assert aside.read_bytes() == data  # kept for whoever looks into it
    assert trips.load() is None


def test_a_file_that_cannot_be_read_is_named(tmp_path: Path) -> None:
    trips = store(tmp_path)
    trips.path.mkdir()  # reading a folder fails, as an unreadable file or a bad disk would
    with pytest.raises(TripStoreError, match="cannot read the trip file"):
        trips.load()
