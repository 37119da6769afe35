"""The assigned trip on disk, so that a restarted chair knows whose vitals it carries.

One small JSON file beside the outbox (``chairlink.config.trip_file()``)::

    {"v": 1, "saved_ns": 1767225600000000000, "trip": {...the trip command as received...}}

``saved_ns`` is the wall-clock time the trip was assigned. No file: no trip. A trip is saved
by writing a temporary file in the same folder, fsyncing it, renaming it over the old one and
fsyncing the folder, so a power cut leaves the old file or the new one, never half of either;
a cancel removes the file (and fsyncs the folder). A file that cannot be read or decoded
raises ``TripStoreError`` naming the file and what is wrong (and the trip's id when that much
is readable); ``set_aside()`` then moves it out of the way, kept for whoever looks into it.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from chairlink.wire.payloads import CommandId, PayloadError, TripCommand, decode_command
from edge.trips.errors import TripStoreError

__all__ = ["FORMAT_VERSION", "StoredTrip", "TripStore"]

FORMAT_VERSION = 1
"""The trip file's ``v``."""

_SET_ASIDE_SUFFIX = ".unreadable"
_COMMAND_ID: TypeAdapter[str] = TypeAdapter(CommandId)


@dataclass(frozen=True, slots=True)
class StoredTrip:
    """The trip a file holds."""

    command: TripCommand
    """The trip command as the chair accepted it."""
    saved_ns: int
    """When it was assigned, wall-clock (Unix) nanoseconds."""


class TripStore:
    """The trip file of one chair."""

    def __init__(self, path: str | Path, *, clock_ns: Callable[[], int] = time.time_ns) -> None:
        """The file at ``path`` (not touched until used); ``clock_ns`` stamps ``saved_ns``."""
        self.path = Path(path)
        self.clock_ns = clock_ns
        """Wall-clock time, for ``saved_ns`` and a restored trip's age."""

    def load(self) -> StoredTrip | None:
        """The trip in the file; None when there is no file.

        Raises:
            TripStoreError: the file cannot be read, is not a trip file, or its trip is not
                a valid trip command (named in the message, with the trip id when readable).
        """
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as err:
            raise TripStoreError(f"{self.path}: cannot read the trip file: {err}") from err
        try:
            raw = json.loads(data)
        except (UnicodeDecodeError, ValueError, RecursionError) as err:
            raise TripStoreError(f"{self.path}: not a trip file (not JSON: {err})") from err
        if not isinstance(raw, dict):
            raise TripStoreError(f"{self.path}: not a trip file (no JSON object)")
        trip = raw.get("trip")
        trip_id = _trip_id_of(trip)
        if raw.get("v") != FORMAT_VERSION:
            raise TripStoreError(
                f"{self.path}: trip file version {raw.get('v')!r}, expected {FORMAT_VERSION}",
                trip_id,
            )
        saved_ns = raw.get("saved_ns")
        if not isinstance(saved_ns, int) or isinstance(saved_ns, bool) or saved_ns < 0:
            raise TripStoreError(f"{self.path}: saved_ns is not a time: {saved_ns!r}", trip_id)
        try:
            command = decode_command(json.dumps(trip).encode("utf-8"))
        except PayloadError as err:
            raise TripStoreError(f"{self.path}: the trip is not valid: {err}", trip_id) from err
        if not isinstance(command, TripCommand):
            raise TripStoreError(
                f"{self.path}: holds a {command.kind} command, not a trip", trip_id
            )
        return StoredTrip(command, saved_ns)

    def save(self, command: TripCommand) -> None:
        """Make ``command`` the trip on disk, atomically and durably.

        Raises:
            TripStoreError: the file cannot be written; the old one is left as it was.
        """
        record = {
            "v": FORMAT_VERSION,
            "saved_ns": self.clock_ns(),
            "trip": command.model_dump(mode="json", exclude_defaults=True),
        }
        data = json.dumps(record, separators=(",", ":")).encode("utf-8")
        temporary = self.path.with_name(self.path.name + ".tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with temporary.open("wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.path)
            self._sync_folder()
        except OSError as err:
            with contextlib.suppress(OSError):
                temporary.unlink()
            raise TripStoreError(f"{self.path}: cannot save the trip: {err}") from err

    def clear(self) -> None:
        """No trip on disk, durably.

        Raises:
            TripStoreError: the file cannot be removed.
        """
        try:
            self.path.unlink(missing_ok=True)
            self._sync_folder()
        except OSError as err:
            raise TripStoreError(f"{self.path}: cannot remove the trip file: {err}") from err

    def set_aside(self) -> Path | None:
        """Move an unreadable file out of the way (to ``<name>.unreadable``, replacing an older
        one), so the next start does not read it again; the path, or None if it could not be
        moved (there is then nothing more to do than say so)."""
        aside = self.path.with_name(self.path.name + _SET_ASIDE_SUFFIX)
        try:
            os.replace(self.path, aside)
            self._sync_folder()
        except OSError:
            return None
        return aside

    def _sync_folder(self) -> None:
        # A rename or unlink is durable once the folder's entry is on disk.
        folder = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


def _trip_id_of(trip: object) -> str | None:
    """The trip id of a damaged record, when it is still a valid id (said in the event)."""
    if not isinstance(trip, dict):
        return None
    try:
        return _COMMAND_ID.validate_python(trip.get("trip_id"))
    except ValidationError:
        return None
