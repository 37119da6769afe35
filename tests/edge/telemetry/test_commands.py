"""Answering commands: the checks raise, the answers are kept in a real outbox file, and a
repeat is answered as the first time, across a restart."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from chairlink.config import TelemetryConfig
from chairlink.wire.payloads import (
    SCHEMA_VERSION,
    Command,
    CommandAck,
    EventMessage,
    StopCommand,
    TripCommand,
    TripMessage,
    decode_uplink,
    encode,
)
from chairlink.wire.topics import CommandKind, command_topic
from edge.telemetry.commands import (
    CommandHandler,
    CommandReceiver,
    check_addressee,
    check_age,
    check_expiry,
)
from edge.telemetry.errors import CommandExpiredError, CommandRefusedError
from edge.telemetry.outbox import CommandAnswer, Outbox, Pending
from edge.telemetry.stats import AgentStats
from edge.telemetry.uplink import Uplink
from edge.trips.commands import TripCommands
from edge.trips.store import TripStore
from tests.monitor import CHAIR, IDENTITY, TOKEN, TRIP_EXPIRY_S, trip_command

NOW_NS = 1_764_380_000_000_000_000
TRIP, CANCEL, STOP = (
    command_topic(IDENTITY.site, CHAIR, kind) for kind in ("trip", "cancel", "stop")
)


def test_a_trip_too_old_is_expired_one_from_the_future_refused_a_stop_never_expires() -> None:
    with pytest.raises(CommandExpiredError, match=r"^expired: issued 120 s ago$"):
        check_age(trip_command("c-1", NOW_NS - 120 * 10**9), NOW_NS, 60.0)
    with pytest.raises(CommandRefusedError, match="in the future: check clocks") as refused:
        check_age(trip_command("c-2", NOW_NS + 120 * 10**9), NOW_NS, 60.0)
    assert not isinstance(refused.value, CommandExpiredError)
    check_age(trip_command("c-3", NOW_NS - 59 * 10**9), NOW_NS, 60.0)
    stop = StopCommand(
        v=SCHEMA_VERSION,
        command_id="c-4",
        chair=CHAIR,
        issued_ns=NOW_NS - 10**13,
        kind=CommandKind.STOP,
        reason="nurse request",
    )
    check_age(stop, NOW_NS, 60.0)


def test_a_command_for_another_chair_is_refused() -> None:
    with pytest.raises(CommandRefusedError, match=f"command for chair chair-99, this is {CHAIR}"):
        check_addressee(trip_command("c-1", NOW_NS, chair="chair-99"), CHAIR)
    check_addressee(trip_command("c-2", NOW_NS), CHAIR)


class _Offline:
    """The sender of an agent without a connection: rows stay in the outbox."""

    connected = False

    def enqueue(self, rows: list[Pending]) -> None:
        pass


def _receiver(
    outbox: Outbox,
    tmp_path: Path,
    handler: CommandHandler = lambda _command: (True, ""),
    describe_now: Callable[[], str] | None = None,
) -> CommandReceiver:
    config = TelemetryConfig(outbox_path=str(tmp_path / "outbox.db"), trip_max_age_s=60)
    lock, stats = threading.Condition(), AgentStats()
    uplink = Uplink(
        IDENTITY.site,
        CHAIR,
        config,
        outbox,
        _Offline(),
        lock=lock,
        stats=stats,
        stopping=threading.Event(),
        clock_ns=lambda: NOW_NS,
        on_local_alarm=None,
    )
    return CommandReceiver(
        CHAIR,
        config,
        outbox,
        uplink,
        lock=lock,
        stats=stats,
        clock_ns=lambda: NOW_NS,
        on_command=handler,
        describe_now=describe_now,
    )


def _trips(outbox: Outbox) -> list[TripMessage]:
    messages = [decode_uplink(p.payload) for p in outbox.pending(100)]
    return [m for m in messages if isinstance(m, TripMessage)]


def _answers(outbox: Outbox) -> list[tuple[str, CommandAck | None, str]]:
    """Every answer sent, in order: its channel (or trip event), the ack, and the words."""
    found: list[tuple[str, CommandAck | None, str]] = []
    for pending in outbox.pending(100):
        message = decode_uplink(pending.payload)
        if isinstance(message, TripMessage):
            found.append((f"trip {message.trip_id} {message.event}", message.ack, message.detail))
        elif isinstance(message, EventMessage):
            found.append((f"event {message.code}", message.ack, message.message))
    return found


def _stop(command_id: str) -> bytes:
    return encode(
        StopCommand(
            v=SCHEMA_VERSION,
            command_id=command_id,
            chair=CHAIR,
            issued_ns=NOW_NS,
            kind=CommandKind.STOP,
            reason="nurse request",
        )
    )


class _Recorder:
    """A host's handler that records what it was asked to do and sets the e-stop."""

    def __init__(self) -> None:
        self.done: list[Command] = []

    def __call__(self, command: Command) -> tuple[bool, str]:
        self.done.append(command)
        return True, "e-stop set" if isinstance(command, StopCommand) else "done"


def test_a_repeated_expired_trip_is_answered_expired_again_across_a_restart(
    tmp_path: Path,
) -> None:
    old = encode(trip_command("c-old", NOW_NS - 120 * 10**9))
    outbox = Outbox(tmp_path / "outbox.db")
    _receiver(outbox, tmp_path).receive(old, TRIP, TRIP_EXPIRY_S)
    _receiver(outbox, tmp_path).receive(old, TRIP, TRIP_EXPIRY_S)
    outbox.close()
    outbox = Outbox(tmp_path / "outbox.db")
    _receiver(outbox, tmp_path).receive(old, TRIP, TRIP_EXPIRY_S)
    trips = _trips(outbox)
    outbox.close()
    assert [t.event for t in trips] == ["expired"] * 3
    assert [t.ack.duplicate for t in trips if t.ack is not None] == [False, True, True]
    assert {t.detail for t in trips} == {"expired: issued 120 s ago"}


def test_an_outbox_from_before_expired_answers_opens_and_keeps_its_answers(
    tmp_path: Path,
) -> None:
    path = tmp_path / "outbox.db"
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE command (command_id TEXT PRIMARY KEY, accepted INTEGER NOT NULL, "
        "reason TEXT NOT NULL)"
    )
    db.execute("INSERT INTO command VALUES ('c-1', 0, 'busy')")
    db.commit()
    db.close()
    outbox = Outbox(path)
    assert outbox.command_answer("c-1") == CommandAnswer(False, "busy", expired=False)
    outbox.remember_command("c-2", CommandAnswer(False, "expired: issued 99 s ago", expired=True))
    assert outbox.command_answer("c-2") == CommandAnswer(False, "expired: issued 99 s ago", True)
    outbox.close()


def test_a_handler_refuses_by_raising_and_its_reason_is_the_answer(tmp_path: Path) -> None:
    def busy(command: Command) -> tuple[bool, str]:
        raise CommandRefusedError("busy with trip t-7: cancel it first")

    def broken(command: Command) -> tuple[bool, str]:
        raise RuntimeError("disk on fire")

    outbox = Outbox(tmp_path / "outbox.db")
    _receiver(outbox, tmp_path, busy).receive(
        encode(trip_command("c-1", NOW_NS)), TRIP, TRIP_EXPIRY_S
    )
    _receiver(outbox, tmp_path, broken).receive(
        encode(trip_command("c-2", NOW_NS)), TRIP, TRIP_EXPIRY_S
    )
    trips = _trips(outbox)
    outbox.close()
    assert [(t.event, t.detail) for t in trips] == [
        ("refused", "busy with trip t-7: cancel it first"),
        ("refused", "handler failed: disk on fire"),
    ]


def _chair(outbox: Outbox, tmp_path: Path) -> CommandReceiver:
    """A chair (re)started on the outbox: its trip rules on the trip file, restored first."""
    trips = TripCommands(TripStore(tmp_path / "outbox.trip.json"))
    trips.restore(0)

    def handle(command: Command) -> tuple[bool, str]:
        assert isinstance(command, TripCommand)
        return trips.trip(command, 0).answer

    return _receiver(outbox, tmp_path, handle, trips.describe)


def test_a_repeated_trip_is_answered_with_what_the_chair_is_doing_now_across_restarts(
    tmp_path: Path,
) -> None:
    first = f"trip t-c-1 assigned; vitals as {TOKEN}"
    command = encode(trip_command("c-1", NOW_NS))
    outbox = Outbox(tmp_path / "outbox.db")
    _chair(outbox, tmp_path).receive(command, TRIP, TRIP_EXPIRY_S)
    # Restarted: the trip restored from disk.
    _chair(outbox, tmp_path).receive(command, TRIP, TRIP_EXPIRY_S)
    (tmp_path / "outbox.trip.json").write_bytes(b"{")  # restarted on a damaged trip file
    _chair(outbox, tmp_path).receive(command, TRIP, TRIP_EXPIRY_S)
    trips = _trips(outbox)
    outbox.close()
    assert [(t.event, t.ack.accepted, t.ack.duplicate) for t in trips if t.ack] == [
        ("accepted", True, False),
        ("accepted", True, True),  # the first answer's acceptance stands: nothing done again
        ("accepted", True, True),
    ]
    assert [t.detail for t in trips] == [
        first,
        f"first answer: {first}. Now: on trip t-c-1, vitals as {TOKEN}",
        f"first answer: {first}. Now: no trip assigned",
    ]


def test_a_repeated_stop_keeps_its_first_answer(tmp_path: Path) -> None:
    stop = StopCommand(
        v=SCHEMA_VERSION,
        command_id="c-stop",
        chair=CHAIR,
        issued_ns=NOW_NS,
        kind=CommandKind.STOP,
    )
    outbox = Outbox(tmp_path / "outbox.db")
    for _ in range(2):
        receiver = _receiver(
            outbox, tmp_path, lambda _c: (True, "e-stop set"), lambda: "no trip assigned"
        )
        receiver.receive(encode(stop), STOP, None)
    events = [decode_uplink(p.payload) for p in outbox.pending(100)]
    outbox.close()
    acks = [e.ack for e in events if isinstance(e, EventMessage) and e.ack is not None]
    assert [(a.reason, a.duplicate) for a in acks] == [
        ("e-stop set", False),
        ("e-stop set", True),
    ]


def test_a_command_on_another_kinds_topic_acts_on_nothing_and_is_answered_as_itself(
    tmp_path: Path,
) -> None:
    handler = _Recorder()
    outbox = Outbox(tmp_path / "outbox.db")
    receiver = _receiver(outbox, tmp_path, handler)
    trip = encode(trip_command("c-1", NOW_NS))
    receiver.receive(trip, STOP, TRIP_EXPIRY_S)
    receiver.receive(_stop("c-2"), TRIP, None)
    assert handler.done == []
    # Refused for how it came, not for what it asks: on its own topic it is carried out.
    receiver.receive(trip, TRIP, TRIP_EXPIRY_S)
    answers = _answers(outbox)
    outbox.close()
    assert [c.command_id for c in handler.done] == ["c-1"]
    assert [
        (where, ack.command_id, ack.kind, ack.accepted, ack.duplicate, words)
        for where, ack, words in answers
        if ack
    ] == [
        (
            "trip t-c-1 refused",
            "c-1",
            "trip",
            False,
            False,
            f"a trip command on {STOP}: not carried out",
        ),
        (
            "event command_rejected",
            "c-2",
            "stop",
            False,
            False,
            f"a stop command on {TRIP}: not carried out",
        ),
        ("trip t-c-1 accepted", "c-1", "trip", True, False, "done"),
    ]


def test_an_unreadable_command_is_answered_with_its_id_and_kind_as_far_as_they_can_be_read(
    tmp_path: Path,
) -> None:
    handler = _Recorder()
    outbox = Outbox(tmp_path / "outbox.db")
    receiver = _receiver(outbox, tmp_path, handler)
    # Its id, kind and trip id readable: on the trip channel, under the trip.
    receiver.receive(b'{"v":1,"command_id":"c-1","kind":"cancel","trip_id":"t-9"}', CANCEL, None)
    # Its id readable, its kind not: the topic's kind; no trip id, so on the event channel.
    receiver.receive(b'{"v":1,"command_id":"c-2","kind":"go"}', TRIP, TRIP_EXPIRY_S)
    # Nothing readable.
    receiver.receive(b"\x00garbage", TRIP, TRIP_EXPIRY_S)
    # No kind in the payload nor in the topic: an event without an answer.
    launch = f"{TRIP.removesuffix('trip')}launch"
    receiver.receive(b'{"command_id":"c-3"}', launch, None)
    answers = _answers(outbox)
    outbox.close()
    assert handler.done == []
    assert [
        (where, ack.command_id, ack.kind, ack.accepted) if ack else where
        for where, ack, _ in answers
    ] == [
        ("trip t-9 refused", "c-1", "cancel", False),
        ("event command_rejected", "c-2", "trip", False),
        ("event command_rejected", "unreadable", "trip", False),
        "event command_rejected",
    ]
    assert answers[0][2].startswith("command: cancel.chair: Field required")
    assert "not JSON" in answers[2][2]
    assert answers[3][2].startswith(f"on {launch}: command: ")


def test_an_unreadable_stop_stops_the_chair_and_its_id_stays_free(tmp_path: Path) -> None:
    handler = _Recorder()
    outbox = Outbox(tmp_path / "outbox.db")
    receiver = _receiver(outbox, tmp_path, handler)
    receiver.receive(b'{"v":1,"command_id":"c-1","kind":"stop","chair":"chair-07"}', STOP, None)
    receiver.receive(b"\x00garbage", STOP, None)
    # A trip's payload that breaks the schema, on cmd/stop: a stop all the same.
    receiver.receive(b'{"command_id":"c-2","kind":"trip","trip_id":"t-1"}', STOP, None)
    # The first one's id, readable now: carried out, not answered as a repeat.
    receiver.receive(_stop("c-1"), STOP, None)
    answers = _answers(outbox)
    outbox.close()
    assert [(c.command_id, c.kind) for c in handler.done] == [
        ("c-1", "stop"),
        ("unreadable", "stop"),
        ("c-2", "stop"),
        ("c-1", "stop"),
    ]
    first = handler.done[0]
    assert isinstance(first, StopCommand)
    assert first.reason == "unreadable stop: command: stop.issued_ns: Field required"
    assert [
        (where, ack.command_id, ack.kind, ack.accepted, ack.duplicate)
        for where, ack, _ in answers
        if ack
    ] == [
        ("event command_ack", "c-1", "stop", True, False),
        ("event command_ack", "unreadable", "stop", True, False),
        ("event command_ack", "c-2", "stop", True, False),
        ("event command_ack", "c-1", "stop", True, False),
    ]
    assert answers[0][2] == (
        "could not be read; carried out as a stop: e-stop set "
        "(command: stop.issued_ns: Field required)"
    )
    assert answers[3][2] == "e-stop set"


def test_an_unreadable_stop_that_fails_says_so(tmp_path: Path) -> None:
    def unplugged(command: Command) -> tuple[bool, str]:
        return False, "e-stop not delivered: MCU not connected"

    outbox = Outbox(tmp_path / "outbox.db")
    _receiver(outbox, tmp_path, unplugged).receive(b"{}", STOP, None)
    ((where, ack, words),) = _answers(outbox)
    outbox.close()
    assert where == "event command_rejected"
    assert ack is not None
    assert (ack.command_id, ack.kind, ack.accepted) == ("unreadable", "stop", False)
    assert words.startswith(
        "could not be read; carried out as a stop: "
        "e-stop not delivered: MCU not connected (command: "
    )


def test_a_trip_without_a_message_expiry_is_refused_or_expired_by_its_age() -> None:
    trip = trip_command("c-1", NOW_NS)
    check_expiry(trip, 1, NOW_NS + 10**9 // 2)
    with pytest.raises(CommandRefusedError, match=r"^no MQTT message expiry") as refused:
        check_expiry(trip, None, NOW_NS + 10**9 // 2)
    assert not isinstance(refused.value, CommandExpiredError)
    with pytest.raises(
        CommandExpiredError, match=r"^expired: no message expiry left \(issued 1.5 s"
    ):
        check_expiry(trip, None, NOW_NS + 3 * 10**9 // 2)


def test_a_trip_without_a_message_expiry_is_answered_and_not_carried_out(tmp_path: Path) -> None:
    handler = _Recorder()
    outbox = Outbox(tmp_path / "outbox.db")
    receiver = _receiver(outbox, tmp_path, handler)
    receiver.receive(encode(trip_command("c-1", NOW_NS)), TRIP, None)
    receiver.receive(encode(trip_command("c-2", NOW_NS - 5 * 10**9)), TRIP, None)
    answers = _answers(outbox)
    outbox.close()
    assert handler.done == []
    assert [(where, words) for where, _, words in answers] == [
        ("trip t-c-1 refused", "no MQTT message expiry: a trip must carry one"),
        (
            "trip t-c-2 expired",
            "expired: no message expiry left (issued 5.0 s ago; it ran out at the broker, or "
            "the trip had none)",
        ),
    ]
