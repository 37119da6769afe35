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
    EventMessage,
    StopCommand,
    TripCommand,
    TripMessage,
    decode_uplink,
    encode,
)
from chairlink.wire.topics import CommandKind
from edge.telemetry.commands import CommandHandler, CommandReceiver, check_addressee, check_age
from edge.telemetry.errors import CommandExpiredError, CommandRefusedError
from edge.telemetry.outbox import CommandAnswer, Outbox, Pending
from edge.telemetry.stats import AgentStats
from edge.telemetry.uplink import Uplink
from edge.trips.commands import TripCommands
from edge.trips.store import TripStore
from tests.monitor import CHAIR, IDENTITY, TOKEN, trip_command

NOW_NS = 1_764_380_000_000_000_000


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


def test_a_repeated_expired_trip_is_answered_expired_again_across_a_restart(
    tmp_path: Path,
) -> None:
    old = encode(trip_command("c-old", NOW_NS - 120 * 10**9))
    outbox = Outbox(tmp_path / "outbox.db")
    _receiver(outbox, tmp_path).receive(old)
    _receiver(outbox, tmp_path).receive(old)
    outbox.close()
    outbox = Outbox(tmp_path / "outbox.db")
    _receiver(outbox, tmp_path).receive(old)
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
    _receiver(outbox, tmp_path, busy).receive(encode(trip_command("c-1", NOW_NS)))
    _receiver(outbox, tmp_path, broken).receive(encode(trip_command("c-2", NOW_NS)))
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
    _chair(outbox, tmp_path).receive(command)
    _chair(outbox, tmp_path).receive(command)  # restarted: the trip restored from disk
    (tmp_path / "outbox.trip.json").write_bytes(b"{")  # restarted on a damaged trip file
    _chair(outbox, tmp_path).receive(command)
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
        receiver.receive(encode(stop))
    events = [decode_uplink(p.payload) for p in outbox.pending(100)]
    outbox.close()
    acks = [e.ack for e in events if isinstance(e, EventMessage) and e.ack is not None]
    assert [(a.reason, a.duplicate) for a in acks] == [
        ("e-stop set", False),
        ("e-stop set", True),
    ]
