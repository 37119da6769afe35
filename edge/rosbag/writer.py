"""Writing edge/ values into a rosbag2, MCAP (the Jazzy default) or sqlite3, with rosbags."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from rosbags.interfaces import Connection
from rosbags.rosbag2 import StoragePlugin, Writer, WriterError
from rosbags.typesys.store import Typestore

from chairlink.interfaces import typestore as chairlink_typestore
from edge.rosbag.conversions import (
    BATTERY_STATE,
    CAMERA_INFO,
    CHAIR_STATUS,
    COMPRESSED_IMAGE,
    IMAGE,
    IMU,
    LASER_SCAN,
    ODOMETRY,
    PATIENT_VITALS,
    TWIST_STAMPED,
    to_battery_state,
    to_camera_info,
    to_chair_status,
    to_compressed_image,
    to_image,
    to_imu,
    to_laser_scan,
    to_odometry,
    to_patient_vitals,
    to_twist_stamped,
)
from edge.rosbag.errors import BagError
from edge.types import CameraFrame, ChairStatus, DriveCommand, Odometry, Scan, Tilt, Vitals

__all__ = ["BagWriter", "Storage"]

Storage = Literal["mcap", "sqlite3"]
_PLUGINS = {"mcap": StoragePlugin.MCAP, "sqlite3": StoragePlugin.SQLITE3}


class BagWriter:
    """A rosbag2 being written; use as a context manager. Each value is stamped with its time."""

    def __init__(
        self, path: str | Path, *, storage: Storage = "mcap", compress_images: bool = False
    ) -> None:
        self.path = Path(path)
        if storage not in _PLUGINS:
            raise BagError(f"{self.path}: unknown storage {storage!r} (mcap or sqlite3)")
        self.storage = storage
        self.compress_images = compress_images
        self.store: Typestore = chairlink_typestore()
        self._writer: Writer | None = None
        self._connections: dict[str, Connection] = {}
        self.count = 0

    def __enter__(self) -> BagWriter:
        if self.path.exists():
            raise BagError(f"{self.path}: already exists; rosbag2 writes a new folder")
        try:
            self._writer = Writer(self.path, version=9, storage_plugin=_PLUGINS[self.storage])
            self._writer.open()
        except WriterError as err:
            raise BagError(f"{self.path}: cannot write bag: {err}") from err
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def write(self, topic: str, msgtype: str, message: Any, stamp_ns: int) -> None:
        """Write one message object of the typestore on a topic at a time (ns)."""
        if self._writer is None:
            raise BagError(f"{self.path}: not open for writing")
        connection = self._connections.get(topic)
        if connection is None:
            connection = self._writer.add_connection(topic, msgtype, typestore=self.store)
            self._connections[topic] = connection
        elif connection.msgtype != msgtype:
            raise BagError(
                f"{self.path}: topic {topic} carries {connection.msgtype}, not {msgtype}"
            )
        self._writer.write(connection, stamp_ns, self.store.serialize_cdr(message, msgtype))
        self.count += 1

    def write_scan(self, topic: str, scan: Scan) -> None:
        """A Scan as sensor_msgs/LaserScan."""
        self.write(topic, LASER_SCAN, to_laser_scan(self.store, scan), scan.stamp_ns)

    def write_odometry(self, topic: str, odometry: Odometry) -> None:
        """An Odometry as nav_msgs/Odometry."""
        self.write(topic, ODOMETRY, to_odometry(self.store, odometry), odometry.stamp_ns)

    def write_command(self, topic: str, command: DriveCommand) -> None:
        """A DriveCommand as geometry_msgs/TwistStamped."""
        self.write(topic, TWIST_STAMPED, to_twist_stamped(self.store, command), command.stamp_ns)

    def write_frame(self, topic: str, frame: CameraFrame) -> None:
        """A frame as sensor_msgs/Image on ``topic`` (CompressedImage on ``topic``/compressed
        when compressing), and its CameraInfo on the sibling camera_info topic."""
        info_topic = topic.rsplit("/", 1)[0] + "/camera_info"
        self.write(info_topic, CAMERA_INFO, to_camera_info(self.store, frame), frame.stamp_ns)
        if self.compress_images:
            compressed = to_compressed_image(self.store, frame)
            self.write(f"{topic}/compressed", COMPRESSED_IMAGE, compressed, frame.stamp_ns)
        else:
            self.write(topic, IMAGE, to_image(self.store, frame), frame.stamp_ns)

    def write_status(self, topic: str, status: ChairStatus) -> None:
        """ChairStatus on ``topic`` and, as sensor_msgs/BatteryState, on the sibling battery
        topic (/chair/status -> /battery)."""
        self.write(topic, CHAIR_STATUS, to_chair_status(self.store, status), status.stamp_ns)
        battery_topic = topic.rsplit("/", 2)[0] + "/battery"
        self.write(
            battery_topic, BATTERY_STATE, to_battery_state(self.store, status), status.stamp_ns
        )

    def write_value(
        self,
        topic: str,
        value: Scan | Odometry | DriveCommand | CameraFrame | ChairStatus | Tilt | Vitals,
    ) -> None:
        """Any supported edge value, by its type."""
        match value:
            case ChairStatus():
                self.write_status(topic, value)
            case Tilt():
                self.write(topic, IMU, to_imu(self.store, value), value.stamp_ns)
            case Vitals():
                self.write(
                    topic, PATIENT_VITALS, to_patient_vitals(self.store, value), value.stamp_ns
                )
            case CameraFrame():
                self.write_frame(topic, value)
            case Scan():
                self.write_scan(topic, value)
            case Odometry():
                self.write_odometry(topic, value)
            case DriveCommand():
                self.write_command(topic, value)
