"""Reading any rosbag2 into edge/ values: MCAP or sqlite3, Jazzy or Humble, with or without
message definitions (old sqlite3 bags carry none; Jazzy's types and ours fill in).

Images take the intrinsics of their camera's camera_info; a camera without one takes chair.yaml's
calibration (and says so in ``BagReader.assumed_calibration``).

Topics whose type has no edge/ counterpart are skipped and counted; a message that does not
deserialise is reported with its topic and time, and reading goes on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from rosbags.highlevel import AnyReader, AnyReaderError
from rosbags.rosbag2 import ReaderError

from chairlink.config import ChairConfig
from chairlink.interfaces import typestore as chairlink_typestore
from edge.rosbag.calibration import calibration_intrinsics
from edge.rosbag.conversions import (
    CAMERA_INFO,
    CHAIR_STATUS,
    COMPRESSED_IMAGE,
    IMAGE,
    IMU,
    LASER_SCAN,
    ODOMETRY,
    PATIENT_VITALS,
    TWIST,
    TWIST_STAMPED,
    from_camera_info,
    from_chair_status,
    from_image,
    from_imu,
    from_laser_scan,
    from_odometry,
    from_patient_vitals,
    from_twist,
)
from edge.rosbag.errors import BagError
from edge.types import (
    CameraFrame,
    CameraIntrinsics,
    ChairStatus,
    DriveCommand,
    Odometry,
    Pose2D,
    Scan,
    Tilt,
    Vitals,
)

__all__ = ["BagInfo", "BagMessage", "BagReader", "ReadIssue", "TopicInfo"]

Value = Scan | Odometry | DriveCommand | CameraFrame | ChairStatus | Tilt | Vitals

_CONVERTERS: dict[str, Callable[[Any, int], Value]] = {
    LASER_SCAN: lambda message, _t: from_laser_scan(message),
    ODOMETRY: lambda message, _t: from_odometry(message),
    TWIST_STAMPED: from_twist,
    TWIST: from_twist,
    CHAIR_STATUS: lambda message, _t: from_chair_status(message),
    IMU: lambda message, _t: from_imu(message),
    PATIENT_VITALS: lambda message, _t: from_patient_vitals(message),
}
_IMAGES = {IMAGE, COMPRESSED_IMAGE}
_READ = set(_CONVERTERS) | _IMAGES | {CAMERA_INFO}


@dataclass(frozen=True, slots=True)
class BagMessage:
    """One message as an edge/ value, with its topic and the bag's time (ns)."""

    topic: str
    stamp_ns: int
    value: Value


@dataclass(frozen=True, slots=True)
class ReadIssue:
    """A message that could not be read."""

    topic: str
    stamp_ns: int
    problem: str


@dataclass(frozen=True, slots=True)
class TopicInfo:
    """A topic of a bag: its type, message count, and whether edge/ reads it."""

    name: str
    msgtype: str
    count: int
    supported: bool


@dataclass(frozen=True)
class BagInfo:
    """What a bag holds."""

    path: Path
    storage: str
    start_ns: int
    end_ns: int
    message_count: int
    topics: list[TopicInfo] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        """From the first message to the last, seconds."""
        return max(0, self.end_ns - self.start_ns) / 1e9


class BagReader:
    """An open rosbag2; use as a context manager.

    Attributes:
        issues: messages that could not be read, with their topic, time and problem.
        skipped: per topic, messages of a type edge/ has no value for.
        assumed_calibration: cameras (``/camera``) whose images had no camera_info to go by,
            read with chair.yaml's calibration instead.
    """

    def __init__(self, path: str | Path, *, chair: ChairConfig | None = None) -> None:
        """Open ``path`` on entering. Images become CameraFrames with the intrinsics of their
        camera_info topic, or else the calibration of ``chair`` (the stock chair by default),
        and its camera's mount."""
        self.path = Path(path)
        camera = (chair or ChairConfig()).camera
        mount = camera.mount
        self._mount = Pose2D(mount.x_m, mount.y_m, mount.yaw_rad)
        self._camera_height = mount.z_m
        self._calibration = calibration_intrinsics(camera.calibration)
        self._reader: AnyReader | None = None
        self._storage = ""
        self.issues: list[ReadIssue] = []
        self.skipped: Counter[str] = Counter()
        self.assumed_calibration: set[str] = set()

    def __enter__(self) -> BagReader:
        self._storage, paths = _detect(self.path)
        try:
            reader = AnyReader(paths, default_typestore=chairlink_typestore())
            reader.open()
        except (AnyReaderError, ReaderError, OSError, ValueError, KeyError) as err:
            raise BagError(f"{self.path}: cannot open bag ({self._storage}): {err}") from err
        self._reader = reader
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def _open_reader(self) -> AnyReader:
        if self._reader is None:
            raise BagError(f"{self.path}: bag is not open")
        return self._reader

    def info(self) -> BagInfo:
        """Storage, time span, and per topic its type and count."""
        reader = self._open_reader()
        counts: Counter[tuple[str, str]] = Counter()
        for connection in reader.connections:
            counts[(connection.topic, connection.msgtype)] += connection.msgcount
        topics = [
            TopicInfo(name, msgtype, count, msgtype in _READ)
            for (name, msgtype), count in sorted(counts.items())
        ]
        return BagInfo(
            self.path,
            self._storage,
            reader.start_time,
            reader.end_time,
            reader.message_count,
            topics,
        )

    def messages(self, topics: set[str] | None = None) -> Iterator[BagMessage]:
        """Every readable message in time order, as edge/ values."""
        reader = self._open_reader()
        connections = [c for c in reader.connections if topics is None or c.topic in topics]
        wanted = [c for c in connections if c.msgtype in _READ]
        for connection in connections:
            if connection.msgtype not in _READ:
                self.skipped[connection.topic] += connection.msgcount
        if not wanted:
            return
        intrinsics: dict[str, CameraIntrinsics] = {}
        last = (0, "")
        stream = reader.messages(connections=wanted)
        while True:
            try:
                connection, stamp_ns, raw = next(stream)
            except StopIteration:
                return
            except Exception as err:
                # The storage itself is damaged past this point: say where reading stopped.
                raise BagError(
                    f"{self.path}: bag damaged after {last[1] or 'the start'} at {last[0]} ns: "
                    f"{type(err).__name__}: {err}"
                ) from err
            last = (stamp_ns, connection.topic)
            # A malformed message of any kind is reported with its topic and time, never fatal.
            try:
                message = reader.deserialize(raw, connection.msgtype)
                if connection.msgtype == CAMERA_INFO:
                    intrinsics[_camera_of(connection.topic)] = from_camera_info(message)
                    continue
                if connection.msgtype in _IMAGES:
                    camera = _camera_of(connection.topic)
                    known = intrinsics.get(camera)
                    if known is None:
                        self.assumed_calibration.add(camera)
                        known = self._calibration
                    value: Value = from_image(message, known, self._mount, self._camera_height)
                else:
                    value = _CONVERTERS[connection.msgtype](message, stamp_ns)
            except Exception as err:
                problem = f"{type(err).__name__}: {err}"
                self.issues.append(ReadIssue(connection.topic, stamp_ns, problem))
                continue
            yield BagMessage(connection.topic, stamp_ns, value)


# What a bag file starts with, and the storage it is.
_MAGIC = {
    b"#ROSBAG V2.0\n": "rosbag1",
    b"\x89MCAP0\r\n": "mcap",
    b"SQLite format 3\x00": "sqlite3",
}
# What a file named like a bag should have started with.
_EXPECTED = {
    ".bag": "a ROS 1 bag starts with '#ROSBAG V2.0'",
    ".mcap": "an MCAP file starts with the MCAP magic bytes",
    ".db3": "a rosbag2 sqlite3 file is an SQLite database",
}


def _detect(path: Path) -> tuple[str, list[Path]]:
    """The storage of a bag and the paths to open, or a BagError that says what ``path`` is.

    A rosbag2 folder (metadata.yaml beside .mcap or .db3 files), a folder of ROS 1 .bag files
    (opened together, in name order), or a single file: a ROS 1 .bag, an MCAP or a sqlite3
    rosbag2 file, told apart by their first bytes, not by their names.
    """
    if path.is_dir():
        if (path / "metadata.yaml").is_file():
            storages = {f.suffix for f in path.iterdir()} & {".mcap", ".db3"}
            storage = {".mcap": "mcap", ".db3": "sqlite3"}.get("".join(storages), "rosbag2")
            return storage, [path]
        ros1 = sorted(path.glob("*.bag"))
        if ros1:
            return "rosbag1", ros1
        if any(path.glob("*.mcap")) or any(path.glob("*.db3")):
            raise BagError(
                f"{path}: a rosbag2 folder without its metadata.yaml "
                f"(`ros2 bag reindex {path}` rebuilds it)"
            )
        raise BagError(
            f"{path}: not a bag: the folder has no metadata.yaml (rosbag2) and no .bag files"
        )
    if not path.exists():
        raise BagError(f"{path}: no such bag")
    try:
        with path.open("rb") as file:
            head = file.read(16)
    except OSError as err:
        raise BagError(f"{path}: cannot read: {err.strerror}") from err
    for magic, storage in _MAGIC.items():
        if head.startswith(magic):
            return storage, [path]
    expected = _EXPECTED.get(path.suffix.lower())
    if expected is not None:
        raise BagError(f"{path}: not a bag although named {path.suffix}: {expected}")
    raise BagError(
        f"{path}: not a bag: expected a rosbag2 folder, a ROS 1 .bag, an MCAP or a .db3 file"
    )


def _camera_of(topic: str) -> str:
    """The camera's namespace of an image or camera_info topic (/camera/image_raw -> /camera)."""
    parts = topic.rstrip("/").split("/")
    if parts[-1] == "compressed":
        parts = parts[:-1]
    return "/".join(parts[:-1])
