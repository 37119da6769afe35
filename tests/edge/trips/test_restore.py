"""TripCommands with a real trip file: the trip is on disk before the answer, a restart takes
it up or ends it with an event that says so, and the chair says what it is doing now."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from chairlink.wire.payloads import TripCommand
from edge.trips.commands import Assignment, TripAction, TripCommands, repeat_answer
from edge.trips.restore import NOT_RESTORED, RESTORED, Restore, Restored
from edge.trips.store import TripStore
from tests.edge.trips.orders import PATIENT, cancel, trip_order

WALL_NS = 1_764_380_000_000_000_000


def trip(trip_id: str = "trip-1", patient: str | None = PATIENT) -> TripCommand:
    return trip_order(trip_id, patient, issued_ns=WALL_NS)


class Clock:
    """Wall-clock time a test moves on."""

    def __init__(self) -> None:
        self.now_ns = WALL_NS

    def __call__(self) -> int:
        return self.now_ns


class Heard:
    """What the monitor would be told: the agent's two calls, as given."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, str, str, str | None]] = []
        self.trips: list[tuple[str, str, str]] = []

    def event(
        self,
        kind: Literal["incident"],
        code: str,
        priority: Literal["high", "medium"],
        message: str,
        *,
        patient: str | None = None,
    ) -> None:
        self.events.append((kind, code, priority, message, patient))

    def trip_event(self, trip_id: str, event: Literal["failed"], detail: str) -> None:
        self.trips.append((trip_id, event, detail))


def test_a_restarted_chair_takes_its_trip_up_again_and_says_so(tmp_path: Path) -> None:
    clock = Clock()
    path = tmp_path / "outbox.trip.json"
    before = TripCommands(TripStore(path, clock_ns=clock))
    assert before.restore(1).outcome == Restore.NOTHING  # a first start: nothing on disk
    assert before.trip(trip(), 1).action == TripAction.ASSIGN
    assert path.is_file(), "the trip is on disk before the answer goes out"

    clock.now_ns += 97 * 10**9  # killed, and back 97 s later
    after = TripCommands(TripStore(path, clock_ns=clock))
    assert after.describe() == "no trip assigned"
    restored = after.restore(5_000)
    assert restored.outcome == Restore.RESTORED
    assert restored.command == trip()
    assert restored.patient == PATIENT
    assert after.assignment == Assignment("trip-1", "ward-a", "x-ray", PATIENT, "routine", 5_000)
    assert after.patient == PATIENT
    assert after.command == trip()
    assert after.describe() == f"on trip trip-1, vitals as {PATIENT}"
    heard = Heard()
    restored.announce(heard)
    message = f"trip trip-1 restored after a restart (assigned 97 s ago); vitals as {PATIENT}"
    assert heard.events == [("incident", RESTORED, "medium", message, PATIENT)]
    assert heard.trips == []
    # The trip goes on as before: a repeat is a repeat, and its cancel ends it, on disk too.
    assert after.trip(trip(), 6_000).duplicate
    assert after.cancel(cancel()).action == TripAction.CANCEL
    assert not path.exists()
    assert TripCommands(TripStore(path)).restore(0) == Restored(Restore.NOTHING)


def test_a_trip_without_a_patient_is_restored_without_vitals(tmp_path: Path) -> None:
    path = tmp_path / "outbox.trip.json"
    TripCommands(TripStore(path)).trip(trip(patient=None), 1)
    after = TripCommands(TripStore(path))
    restored = after.restore(2)
    assert restored.message.endswith("; no patient, no vitals")
    assert after.describe() == "on trip trip-1, no patient, no vitals"
    heard = Heard()
    restored.announce(heard)
    assert heard.events[0][4] is None


def test_an_unreadable_trip_file_ends_the_trip_with_an_event_that_says_why(
    tmp_path: Path,
) -> None:
    path = tmp_path / "outbox.trip.json"
    TripCommands(TripStore(path)).trip(trip(), 1)
    path.write_bytes(path.read_bytes().replace(PATIENT.encode(), b"Jane Doe"))
    after = TripCommands(TripStore(path))
    restored = after.restore(2)
    assert restored.outcome == Restore.ENDED
    assert restored.trip_id == "trip-1"
    assert (after.assignment, after.patient) == (None, "")
    assert after.describe() == "no trip assigned"
    assert restored.message.startswith("trip trip-1 ended: not restored after a restart (")
    assert "the trip is not valid" in restored.message
    assert "no vitals are sent until a trip is assigned again" in restored.message
    assert restored.message.endswith(f"the file is kept as {path}.unreadable")
    heard = Heard()
    restored.announce(heard)
    assert heard.events == [("incident", NOT_RESTORED, "high", restored.message, None)]
    assert heard.trips == [("trip-1", "failed", restored.message)]
    # Set aside: the next start neither announces it again nor refuses a new trip.
    again = TripCommands(TripStore(path))
    assert again.restore(3).outcome == Restore.NOTHING
    assert again.trip(trip("trip-2"), 4).accepted


def test_a_file_that_names_no_trip_ends_the_assigned_one_without_a_trip_event(
    tmp_path: Path,
) -> None:
    path = tmp_path / "outbox.trip.json"
    path.write_bytes(b"\x00\x00\x00")
    restored = TripCommands(TripStore(path)).restore(1)
    assert restored.outcome == Restore.ENDED
    assert restored.message.startswith("the assigned trip ended: not restored after a restart")
    heard = Heard()
    restored.announce(heard)
    assert [code for _, code, *_ in heard.events] == [NOT_RESTORED]
    assert heard.trips == []


def test_a_trip_that_cannot_be_kept_on_disk_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "outbox.trip.json"
    (tmp_path / "outbox.trip.json.tmp").mkdir()  # the write fails
    trips = TripCommands(TripStore(path))
    decision = trips.trip(trip(), 1)
    assert not decision.accepted
    assert decision.reason.startswith("trip trip-1 not assigned: ")
    assert "cannot save the trip" in decision.reason
    assert (decision.action, trips.assignment, trips.patient) == (TripAction.NONE, None, "")


def test_a_cancel_whose_file_cannot_be_removed_still_ends_the_trip_and_says_so(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "state"
    folder.mkdir()
    trips = TripCommands(TripStore(folder / "outbox.trip.json"))
    trips.trip(trip(), 1)
    (folder / "outbox.trip.json").unlink()
    (folder / "outbox.trip.json").mkdir()  # unlink() of a folder fails
    decision = trips.cancel(cancel())
    assert decision.accepted
    assert decision.reason.startswith("trip trip-1 cancelled, but it may be restored after a ")
    assert trips.patient == ""


def test_restore_reads_the_disk_once_and_never_over_an_assigned_trip(tmp_path: Path) -> None:
    path = tmp_path / "outbox.trip.json"
    TripCommands(TripStore(path)).trip(trip(), 1)
    after = TripCommands(TripStore(path))
    assert after.restore(2).outcome == Restore.RESTORED
    assert after.restore(3).outcome == Restore.NOTHING  # a host started twice
    assigned_first = TripCommands(TripStore(path))
    assigned_first.trip(trip(), 4)  # a repeat of what is on disk
    assert assigned_first.restore(5).outcome == Restore.NOTHING


def test_a_repeated_command_is_answered_with_the_first_answer_and_the_present() -> None:
    assert (
        repeat_answer(f"trip t-1 assigned; vitals as {PATIENT}", "no trip assigned")
        == f"first answer: trip t-1 assigned; vitals as {PATIENT}. Now: no trip assigned"
    )
