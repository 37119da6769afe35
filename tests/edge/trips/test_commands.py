"""TripCommands and config_change: the chair's command rules on given time, no host."""

from __future__ import annotations

import itertools
import threading

import pytest

from chairlink.config import ChairConfig
from chairlink.errors import ConfigError
from chairlink.ros_params import DYNAMIC_PARAMETERS
from chairlink.wire.payloads import TripCommand
from edge.trips.commands import (
    Assignment,
    TripAction,
    TripCommands,
    config_change,
)
from tests.edge.trips.orders import PATIENT, cancel, trip_order

OTHER = "pt-99aa77bb"
_ids = itertools.count()


def trip(trip_id: str = "trip-1", patient: str | None = PATIENT, **details: str) -> TripCommand:
    return trip_order(
        trip_id,
        patient,
        command_id=f"c-{next(_ids)}",
        origin=details.get("origin", "ward-a"),
        destination=details.get("destination", "x-ray"),
    )


def test_a_trip_is_assigned_with_its_patient_at_the_given_time() -> None:
    trips = TripCommands()
    decision = trips.trip(trip(), 5_000)
    assert decision.answer == (True, f"trip trip-1 assigned; vitals as {PATIENT}")
    assert decision.action == TripAction.ASSIGN
    assert decision.trip == Assignment("trip-1", "ward-a", "x-ray", PATIENT, "routine", 5_000)
    assert trips.assignment == decision.trip
    assert trips.patient == PATIENT


def test_a_trip_without_a_patient_sends_no_vitals() -> None:
    trips = TripCommands()
    assert trips.trip(trip(patient=None), 0).reason == "trip trip-1 assigned; no patient, no vitals"
    assert trips.patient == ""


def test_the_same_trip_again_is_a_repeat_accepted_and_not_carried_out_again() -> None:
    trips = TripCommands()
    first = trips.trip(trip(), 1)
    again = trips.trip(trip(), 2)
    assert again.answer == (True, "trip trip-1 is already assigned: a repeat, nothing done again")
    assert (again.action, again.trip, again.duplicate) == (TripAction.NONE, None, True)
    assert trips.assignment == first.trip  # taken at 1, not 2


def test_the_same_trip_id_with_other_details_is_refused_naming_them() -> None:
    trips = TripCommands()
    trips.trip(trip(), 1)
    changed = trips.trip(trip(patient=OTHER, destination="ct"), 2)
    assert changed.answer == (
        False,
        "trip trip-1 is already assigned with other details (destination, patient): "
        "cancel it first",
    )
    assert changed.action == TripAction.NONE
    assert trips.patient == PATIENT


def test_another_trip_while_one_is_assigned_is_refused() -> None:
    trips = TripCommands()
    trips.trip(trip(), 1)
    busy = trips.trip(trip("trip-2", OTHER), 2)
    assert busy.answer == (False, "busy with trip trip-1: cancel it first")
    assert trips.patient == PATIENT


def test_only_the_assigned_trip_is_cancelled_and_its_patient_with_it() -> None:
    trips = TripCommands()
    assert trips.cancel(cancel()).answer == (
        False,
        "trip trip-1 is not assigned here (assigned: none)",
    )
    trips.trip(trip(), 1)
    wrong = trips.cancel(cancel("trip-9"))
    assert wrong.answer == (False, "trip trip-9 is not assigned here (assigned: trip-1)")
    assert wrong.action == TripAction.NONE
    done = trips.cancel(cancel())
    assert done.answer == (True, "trip trip-1 cancelled")
    assert done.action == TripAction.CANCEL
    assert done.trip is not None
    assert done.trip.patient == PATIENT
    assert (trips.assignment, trips.patient) == (None, "")
    again = trips.cancel(cancel())
    assert again.answer == (False, "trip trip-1 is not assigned here (assigned: none)")
    assert trips.trip(trip("trip-2", OTHER), 3).accepted


def test_of_two_trips_racing_exactly_one_is_assigned() -> None:
    trips = TripCommands()
    start = threading.Barrier(8)
    decisions = []

    def send(n: int) -> None:
        start.wait()
        decisions.append(trips.trip(trip(f"trip-{n}"), n))

    threads = [threading.Thread(target=send, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assigned = [d for d in decisions if d.action == TripAction.ASSIGN]
    assert len(assigned) == 1
    assert trips.assignment == assigned[0].trip


LIMIT = "firmware.limits.max_linear_mps"


def test_a_config_change_is_typed_validated_and_says_whether_it_changes_anything() -> None:
    config = ChairConfig()
    change = config_change({LIMIT: 1}, config, DYNAMIC_PARAMETERS)
    assert change.changes == {LIMIT: 1.0}
    assert change.config.firmware.limits.max_linear_mps == 1.0
    assert change.changed
    same = config_change({LIMIT: config.firmware.limits.max_linear_mps}, config, DYNAMIC_PARAMETERS)
    assert not same.changed
    assert same.config == config


@pytest.mark.parametrize(
    ("changes", "allowed", "reason"),
    [
        (
            {"firmware.limits.warp": 1.0},
            DYNAMIC_PARAMETERS,
            "^unknown parameter firmware.limits.warp$",
        ),
        (
            {"ros.cmd_vel_timeout_s": 0.3},
            ("firmware.limits.",),
            "^ros.cmd_vel_timeout_s cannot change while the chair runs$",
        ),
        ({LIMIT: "fast"}, DYNAMIC_PARAMETERS, "^firmware.limits.max_linear_mps: expected a number"),
        ({LIMIT: 9.0}, DYNAMIC_PARAMETERS, "^firmware.limits.max_linear_mps: Input should be less"),
    ],
)
def test_a_config_change_that_cannot_be_made_raises_config_error_with_the_reason(
    changes: dict[str, object], allowed: tuple[str, ...], reason: str
) -> None:
    with pytest.raises(ConfigError, match=reason):
        config_change(changes, ChairConfig(), allowed)
