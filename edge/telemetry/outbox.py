"""The store-and-forward outbox: every message is on disk, with its sequence number, before it is
sent, and leaves only when the broker has acknowledged it.

One SQLite file in WAL mode. A message's sequence number is stored with it in the one
statement that stores the message; the ``sequence`` table keeps the next number of each channel
once its messages have left, so numbers survive restarts and never repeat.
Events, vitals, trips and safety state are committed in ``put`` with ``synchronous=FULL``
(they survive a power cut). Vehicle messages are committed in groups with ``NORMAL``: ``put``
stages them, numbered, in memory, and ``commit()`` (which ``pending()`` calls, so nothing is
ever sent before it is on disk) writes the group to the WAL in one statement, where it
survives the process being killed. One commit per group rather than per message, on the
sender's thread rather than the caller's, is what lets the outbox keep up with the broker.

The outbox is bounded: past ``max_bytes`` it thins vehicle messages, oldest first, replacing
each dropped run of sequence numbers by one tombstone so that receivers count no false gap. It
never drops events or vitals; when those alone overflow the bound it says so (``overflowing``)
and keeps them, and the agent raises a local alarm.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from chairlink.wire.topics import Channel

__all__ = ["CommandAnswer", "Outbox", "OutboxStats", "Pending"]

DURABLE_CHANNELS = frozenset({Channel.EVENT, Channel.PATIENT, Channel.TRIP, Channel.SAFETY})
"""Channels committed to survive a power cut and never thinned."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sequence (
    channel TEXT PRIMARY KEY,
    next_seq INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS message (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    channel TEXT NOT NULL,
    seq INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    created_ns INTEGER NOT NULL,
    tombstone INTEGER NOT NULL DEFAULT 0,
    UNIQUE (channel, seq)
);
-- UNIQUE (channel, seq) is the index thinning reads by; a second one only slowed inserts.
DROP INDEX IF EXISTS message_by_channel;
-- The last incarnation given out: one per connection, never repeated (a single row).
CREATE TABLE IF NOT EXISTS incarnation (
    id INTEGER PRIMARY KEY CHECK (id = 0),
    last INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS command (
    command_id TEXT PRIMARY KEY,
    accepted INTEGER NOT NULL,
    reason TEXT NOT NULL
);
"""
# Outbox files from before answers said whether a trip was refused as expired.
_COMMAND_EXPIRED = "ALTER TABLE command ADD COLUMN expired INTEGER NOT NULL DEFAULT 0"


_INSERT = (
    "INSERT INTO message (id, channel, seq, last_seq, topic, payload, created_ns) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_Row = tuple[int, str, int, int, str, bytes, int]


@dataclass(frozen=True, slots=True)
class CommandAnswer:
    """The answer given to a command, kept for its repeats."""

    accepted: bool
    reason: str
    expired: bool = False
    """Refused because the trip was issued too long ago."""


@dataclass(frozen=True, slots=True)
class Pending:
    """A message waiting for the broker's acknowledgement."""

    id: int
    channel: Channel
    seq: int
    last_seq: int
    """The last sequence number this message accounts for (> seq for a tombstone)."""
    topic: str
    payload: bytes
    created_ns: int
    tombstone: bool


@dataclass(frozen=True)
class OutboxStats:
    """How the outbox stands."""

    messages: int
    bytes: int
    max_bytes: int
    thinned_messages: int
    """Vehicle messages dropped to stay within the bound, since the outbox was opened."""
    tombstones: int
    overflowing: bool
    """Events and vitals alone exceed the bound: kept, and a local alarm is due."""


Tombstone = Callable[[int, int], tuple[str, bytes]]
"""Builds a tombstone's topic and payload from the first and last dropped sequence numbers."""


class Outbox:
    """Messages on their way to the broker, on disk."""

    def __init__(self, path: str | Path, max_bytes: int = 64 * 1024 * 1024) -> None:
        """Open (or create) the outbox at ``path``, bounded to about ``max_bytes`` of payload."""
        self.path = Path(path)
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(command)")}
        if "expired" not in columns:
            self._db.execute(_COMMAND_EXPIRED)
        self._staged: list[_Row] = []
        self._recount()
        self._thinned = 0
        self._tombstones = 0
        self._overflowing = False
        self._synchronous = ""
        self._fresh_tombstones: list[Pending] = []
        # AUTOINCREMENT's high-water mark outlives the rows: ids never repeat, even once the
        # outbox has emptied.
        (used,) = self._db.execute(
            "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'message'), 0), "
            "COALESCE((SELECT MAX(id) FROM message), 0))"
        ).fetchone()
        self._next_id = int(used) + 1
        self._next_seq: dict[Channel, int] = {}
        for channel, next_seq in self._db.execute("SELECT channel, next_seq FROM sequence"):
            self._next_seq[Channel(channel)] = int(next_seq)
        for channel, last in self._db.execute(
            "SELECT channel, MAX(last_seq) FROM message GROUP BY channel"
        ):
            key = Channel(channel)
            self._next_seq[key] = max(self._next_seq.get(key, 0), int(last) + 1)

    def close(self) -> None:
        """Commit and close the file; everything in it stays."""
        with self._lock:
            self._commit()
            self._db.close()

    def commit(self) -> None:
        """Write the vehicle messages put since the last commit to disk."""
        with self._lock:
            self._commit()

    @contextlib.contextmanager
    def _transaction(self, synchronous: str) -> Iterator[sqlite3.Connection]:
        """One transaction at ``synchronous`` (FULL: fsynced), rolled back on any error."""
        self._set_synchronous(synchronous)
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _commit(self) -> None:
        if not self._staged:
            return
        rows, self._staged = self._staged, []
        try:
            with self._transaction("NORMAL") as db:
                db.executemany(_INSERT, rows)
        except BaseException:
            self._staged = rows + self._staged
            raise

    def put(
        self,
        channel: Channel,
        build: Callable[[int], tuple[str, bytes]],
        created_ns: int,
        tombstone: Tombstone | None = None,
    ) -> Pending:
        """Give the next sequence number of ``channel`` to ``build(seq) -> (topic, payload)``
        and store the result, durably for the durable channels. Returns the stored message
        (a vehicle message reaches the disk with the next ``commit()``).

        ``tombstone`` builds the stand-in for thinned vehicle messages when the bound is hit.
        """
        with self._lock:
            seq = self._next_seq.get(channel, 0)
            topic, payload = build(seq)
            row_id = self._take_id()
            row = (row_id, channel.value, seq, seq, topic, payload, created_ns)
            if channel in DURABLE_CHANNELS:
                # The staged group goes first, keeping the store in put order; this one is
                # fsynced on its own.
                self._commit()
                self._write(row, "FULL", tombstone)
            elif self._bytes + len(payload) > self.max_bytes:
                self._commit()
                self._write(row, "NORMAL", tombstone)
            else:
                # Staged in memory and written with its group by the next commit(), which
                # comes before anything is sent.
                self._staged.append(row)
                self._bytes += len(payload)
                self._count += 1
            self._next_seq[channel] = seq + 1
        return Pending(row_id, channel, seq, seq, topic, payload, created_ns, False)

    def take_tombstones(self) -> list[Pending]:
        """The tombstones thinning has made since the last call (a sender that sends new
        messages from memory sends these too)."""
        with self._lock:
            fresh, self._fresh_tombstones = self._fresh_tombstones, []
        return fresh

    def _take_id(self) -> int:
        # Ids are given out here rather than by SQLite, so that a message has its id before
        # its group is written; they only grow, as AUTOINCREMENT's would.
        row_id = self._next_id
        self._next_id += 1
        return row_id

    def _write(self, row: _Row, synchronous: str, tombstone: Tombstone | None) -> None:
        """Insert one row in its own transaction, thinning as well if the bound is passed."""
        try:
            with self._transaction(synchronous) as db:
                db.execute(_INSERT, row)
                self._bytes += len(row[5])
                self._count += 1
                if self._bytes > self.max_bytes:
                    self._thin(row[6], tombstone)  # the row's created_ns
        except BaseException:
            self._recount()
            raise

    @property
    def overflowing(self) -> bool:
        """Events and vitals alone exceed the bound (kept all the same)."""
        return self._overflowing

    def _set_synchronous(self, mode: str) -> None:
        if mode != self._synchronous:
            self._db.execute(f"PRAGMA synchronous={mode}")
            self._synchronous = mode

    def _persist_next_seq(self, channels: Iterable[Channel]) -> None:
        self._db.executemany(
            "INSERT OR REPLACE INTO sequence (channel, next_seq) VALUES (?, ?)",
            [(c.value, self._next_seq[c]) for c in channels],
        )

    def new_incarnation(self, will_channel: Channel) -> tuple[int, int]:
        """Give out the next incarnation (from 1, one per connection) and the next sequence
        number of ``will_channel`` for that connection's last will, which the broker holds
        rather than the outbox; both durably, in one transaction, so neither ever repeats.

        Returns:
            The incarnation and the will's sequence number.
        """
        with self._lock:
            seq = self._next_seq.get(will_channel, 0)
            self._next_seq[will_channel] = seq + 1
            try:
                with self._transaction("FULL") as db:
                    (incarnation,) = db.execute(
                        "INSERT INTO incarnation (id, last) VALUES (0, 1) "
                        "ON CONFLICT (id) DO UPDATE SET last = last + 1 RETURNING last"
                    ).fetchone()
                    self._persist_next_seq([will_channel])
            except BaseException:
                self._next_seq[will_channel] = seq  # nothing was given out
                raise
        return int(incarnation), seq

    def last_row_id(self) -> int:
        """The id of the newest message put (staged or stored), 0 before the first."""
        with self._lock:
            return self._next_id - 1

    def remember_command(self, command_id: str, answer: CommandAnswer) -> None:
        """Keep a command's answer, durably, so that a repeat is answered and not redone."""
        with self._lock, self._transaction("FULL") as db:
            db.execute(
                "INSERT OR REPLACE INTO command (command_id, accepted, reason, expired) "
                "VALUES (?, ?, ?, ?)",
                (command_id, int(answer.accepted), answer.reason, int(answer.expired)),
            )

    def command_answer(self, command_id: str) -> CommandAnswer | None:
        """The answer given to a command id before, if any."""
        with self._lock:
            row = self._db.execute(
                "SELECT accepted, reason, expired FROM command WHERE command_id = ?",
                (command_id,),
            ).fetchone()
        return None if row is None else CommandAnswer(bool(row[0]), str(row[1]), bool(row[2]))

    def last_seq(self) -> dict[Channel, int]:
        """The last sequence number given out per channel."""
        with self._lock:
            return {c: n - 1 for c, n in self._next_seq.items()}

    def pending(self, limit: int, after_id: int = 0) -> list[Pending]:
        """Up to ``limit`` messages in the order they were stored, after row ``after_id``.

        Commits first: a message is on disk before anyone can send it.
        """
        with self._lock:
            self._commit()
            rows = self._db.execute(
                "SELECT id, channel, seq, last_seq, topic, payload, created_ns, tombstone "
                "FROM message WHERE id > ? ORDER BY id LIMIT ?",
                (after_id, limit),
            ).fetchall()
        return [
            Pending(int(i), Channel(c), int(s), int(ls), t, bytes(p), int(cr), bool(tb))
            for i, c, s, ls, t, p, cr, tb in rows
        ]

    def remove(self, ids: list[int]) -> None:
        """Forget messages the broker has acknowledged."""
        if not ids:
            return
        marks = ",".join("?" * len(ids))
        with self._lock:
            with self._transaction("NORMAL") as db:
                gone = db.execute(
                    f"DELETE FROM message WHERE id IN ({marks}) RETURNING channel, LENGTH(payload)",
                    ids,
                ).fetchall()
                # The messages' numbers leave with them: keep where each channel has got to.
                self._persist_next_seq({Channel(c) for c, _ in gone})
            self._count -= len(gone)
            self._bytes -= sum(size for _, size in gone)
            if self._overflowing and self._bytes <= self.max_bytes:
                self._overflowing = False

    def stats(self) -> OutboxStats:
        """Counts and bytes."""
        with self._lock:
            return OutboxStats(
                messages=self._count,
                bytes=self._bytes,
                max_bytes=self.max_bytes,
                thinned_messages=self._thinned,
                tombstones=self._tombstones,
                overflowing=self._overflowing,
            )

    def _recount(self) -> None:
        """Counts and bytes from the file and the staged group (at open, after a failure)."""
        count, stored = self._db.execute(
            "SELECT COUNT(*), COALESCE(SUM(LENGTH(payload)), 0) FROM message"
        ).fetchone()
        self._count = int(count) + len(self._staged)
        self._bytes = int(stored) + sum(len(r[5]) for r in self._staged)

    def _thin(self, now_ns: int, tombstone: Tombstone | None) -> None:
        """Drop the oldest vehicle messages until the bound holds; a tombstone per run."""
        db = self._db
        target = self.max_bytes * 9 // 10  # thin to 90 % so that not every put thins again
        while self._bytes > target:
            rows = db.execute(
                "SELECT id, seq, last_seq, LENGTH(payload), tombstone FROM message "
                "WHERE channel = ? ORDER BY seq LIMIT 256",
                (Channel.VEHICLE.value,),
            ).fetchall()
            # The last of these oldest rows stays: when they are all the vehicle rows there
            # are, it is the newest, which goes out live. A lone tombstone left means vehicle
            # data can give no more room: what remains is events and vitals.
            rows = rows[:-1] if len(rows) > 1 else []
            if not rows or (len(rows) == 1 and rows[0][4]):
                self._overflowing = self._bytes > self.max_bytes
                return
            freed = 0
            ids = []
            samples = 0
            for row_id, _, _, size, was_tombstone in rows:
                ids.append(row_id)
                freed += int(size)
                samples += 0 if was_tombstone else 1
                if samples and self._bytes - freed <= target:
                    break
            self._thinned += samples
            first_seq = int(rows[0][1])
            last_seq = int(rows[len(ids) - 1][2])
            marks = ",".join("?" * len(ids))
            db.execute(f"DELETE FROM message WHERE id IN ({marks})", ids)
            self._count -= len(ids)
            self._bytes -= freed
            if tombstone is not None:
                topic, payload = tombstone(first_seq, last_seq)
                row_id = self._take_id()
                db.execute(
                    "INSERT INTO message (id, channel, seq, last_seq, topic, payload, "
                    "created_ns, tombstone) VALUES (?, ?, ?, ?, ?, ?, ?, 1)",
                    (row_id, Channel.VEHICLE.value, first_seq, last_seq, topic, payload, now_ns),
                )
                self._fresh_tombstones.append(
                    Pending(
                        row_id, Channel.VEHICLE, first_seq, last_seq, topic, payload, now_ns, True
                    )
                )
                self._bytes += len(payload)
                self._count += 1
                self._tombstones += 1
