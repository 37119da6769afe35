"""Writing edge/ values into a rosbag2, MCAP (the Jazzy default) or sqlite3, with rosbags."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from rosbags.interfaces import (
    Connection,
    Qos,
    QosDurability,
    QosHistory,
    QosLiveliness,
    QosReliability,
    QosTime,
)
from rosbags.rosbag2 import StoragePlugin, Writer, WriterError
from rosbags.typesys.store import Typestore

from chairlink.geometry import CameraConfig
from chairlink.interfaces import typestore as chairlink_typestore
from edge.rosbag.calibration import calibration_camera_info
from edge.rosbag.cdr import serialize
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

__all__ = ["BagWriter", "Storage", "ros_messages"]

Storage = Literal["mcap", "sqlite3"]
_PLUGINS = {"mcap": StoragePlugin.MCAP, "sqlite3": StoragePlugin.SQLITE3}
# What /tf_static and /map were offered with (transient local, keep last 1), so `ros2 bag play`
# latches them again for late subscribers. Zero durations are rmw's "unspecified": no limit.
_LATCHED_QOS = Qos(
    QosHistory.KEEP_LAST,
    1,
    QosReliability.RELIABLE,
    QosDurability.TRANSIENT_LOCAL,
    QosTime(0, 0),
    QosTime(0, 0),
    QosLiveliness.AUTOMATIC,
    QosTime(0, 0),
    False,
)


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
        except (WriterError, OSError) as err:
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

    def write(
        self, topic: str, msgtype: str, message: Any, stamp_ns: int, *, latched: bool = False
    ) -> None:
        """Write one message object of the typestore on a topic at a time (ns).

        A ``latched`` topic (its first message decides) is recorded as offered transient
        local, as /tf_static and /map are.

        The bytes are edge.rosbag.cdr.serialize's, the ones the nodes publish.
        """
        if self._writer is None:
            raise BagError(f"{self.path}: not open for writing")
        connection = self._connections.get(topic)
        if connection is None:
            connection = self._writer.add_connection(
                topic,
                msgtype,
                typestore=self.store,
                offered_qos_profiles=[_LATCHED_QOS] if latched else [],
            )
            self._connections[topic] = connection
        elif connection.msgtype != msgtype:
            raise BagError(
                f"{self.path}: topic {topic} carries {connection.msgtype}, not {msgtype}"
            )
        self._writer.write(connection, stamp_ns, serialize(self.store, message))
        self.count += 1

    def write_all(
        self, messages: Iterable[tuple[str, str, Any]], stamp_ns: int, *, latched: bool = False
    ) -> None:
        """Write (topic, type, message object) triples, all at one time (ns)."""
        for topic, msgtype, message in messages:
            self.write(topic, msgtype, message, stamp_ns, latched=latched)

    def write_value(
        self,
        topic: str,
        value: Scan | Odometry | DriveCommand | CameraFrame | ChairStatus | Tilt | Vitals,
    ) -> None:
        """Any supported edge value, by its type, with its sibling topics (see ros_messages)."""
        for name, msgtype, message in ros_messages(
            self.store, topic, value, compress_images=self.compress_images
        ):
            self.write(name, msgtype, message, value.stamp_ns)


def ros_messages(
    store: Typestore,
    topic: str,
    value: Scan | Odometry | DriveCommand | CameraFrame | ChairStatus | Tilt | Vitals,
    *,
    compress_images: bool = False,
    camera: CameraConfig | None = None,
) -> list[tuple[str, str, Any]]:
    """The ROS messages (topic, type, message object) a chair publishes for one edge value.

    A CameraFrame also gives its CameraInfo on the sibling camera_info topic (and becomes a
    JPEG CompressedImage on ``topic``/compressed when compressing); with ``camera``
    (chair.yaml's), the CameraInfo is its calibration and the image and CameraInfo are stamped
    in its optical frame. A ChairStatus also gives a BatteryState on /battery beside its
    namespace.
    """
    match value:
        case Scan():
            return [(topic, LASER_SCAN, to_laser_scan(store, value))]
        case Odometry():
            return [(topic, ODOMETRY, to_odometry(store, value))]
        case DriveCommand():
            return [(topic, TWIST_STAMPED, to_twist_stamped(store, value))]
        case CameraFrame():
            if camera is None:
                camera_info = to_camera_info(store, value)
            else:
                value = dataclasses.replace(value, frame_id=camera.optical_frame_id)
                camera_info = calibration_camera_info(
                    store, camera.calibration, value.stamp_ns, camera.optical_frame_id
                )
            info = (topic.rsplit("/", 1)[0] + "/camera_info", CAMERA_INFO, camera_info)
            if compress_images:
                return [
                    info,
                    (f"{topic}/compressed", COMPRESSED_IMAGE, to_compressed_image(store, value)),
                ]
            return [info, (topic, IMAGE, to_image(store, value))]
        case ChairStatus():
            battery_topic = topic.rsplit("/", 2)[0] + "/battery"
            return [
                (topic, CHAIR_STATUS, to_chair_status(store, value)),
                (battery_topic, BATTERY_STATE, to_battery_state(store, value)),
            ]
        case Tilt():
            return [(topic, IMU, to_imu(store, value))]
        case Vitals():
            return [(topic, PATIENT_VITALS, to_patient_vitals(store, value))]
