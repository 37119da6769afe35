"""The one way chairlink puts a ROS message into bytes, and the stamps every message carries.

The nodes publish these bytes raw and the bag writer records them, so the graph carries byte
for byte what a recording holds; tests/ros/test_cdr_matches_rclpy.py checks them against
rclpy's own serialisation for every type a chairlink node publishes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rosbags.typesys.store import Typestore

from edge.rosbag.errors import ConversionError

__all__ = [
    "CLOCK",
    "deserialize",
    "from_header",
    "prepare",
    "serialize",
    "to_clock",
    "to_header",
    "to_time",
]

CLOCK = "rosgraph_msgs/msg/Clock"


def serialize(store: Typestore, message: Any) -> bytes:
    """A typestore message as CDR (little endian), the bytes rclpy publishes and rosbag2 keeps.

    Raises:
        ConversionError: the message is not of a type ``store`` knows, or a field does not fit
            its type.
    """
    msgtype = getattr(message, "__msgtype__", None)
    if msgtype is None:
        raise ConversionError(f"{type(message).__name__} is not a typestore message")
    try:
        return bytes(store.serialize_cdr(message, msgtype))
    except (KeyError, TypeError, ValueError, OverflowError) as err:
        raise ConversionError(f"cannot serialise {msgtype}: {err}") from err


def prepare(store: Typestore, msgtypes: Iterable[str]) -> None:
    """Generate ``store``'s serialisers of ``msgtypes`` (and the types they hold) now.

    rosbags compiles a type's serialiser at its first message: 50 to 100 ms on an idle machine,
    several hundred on a busy one, with the GIL held. A node calls this before it starts, so
    its first odometry or diagnostics never stalls the threads driving the chair.

    Raises:
        ConversionError: a type ``store`` does not know.
    """
    for msgtype in msgtypes:
        try:
            store.get_msgdef(msgtype)
        except KeyError as err:
            raise ConversionError(f"unknown message type {msgtype}") from err


def deserialize(store: Typestore, data: bytes, msgtype: str) -> Any:
    """The typestore message of CDR bytes of ``msgtype``.

    Raises:
        ConversionError: ``msgtype`` is unknown or the bytes are not one of it.
    """
    try:
        return store.deserialize_cdr(data, msgtype)
    except Exception as err:  # rosbags raises bare errors of many kinds on short or bad bytes
        raise ConversionError(f"{len(data)} bytes are not a {msgtype}: {err}") from err


def to_time(store: Typestore, nanoseconds: int) -> Any:
    """builtin_interfaces/Time of integer nanoseconds."""
    return store.types["builtin_interfaces/msg/Time"](
        sec=nanoseconds // 1_000_000_000, nanosec=nanoseconds % 1_000_000_000
    )


def to_header(store: Typestore, nanoseconds: int, frame_id: str) -> Any:
    """std_msgs/Header stamped with integer nanoseconds."""
    return store.types["std_msgs/msg/Header"](stamp=to_time(store, nanoseconds), frame_id=frame_id)


def from_header(header: Any) -> int:
    """The stamp of a std_msgs/Header (rosbags or rclpy) in integer nanoseconds."""
    return int(header.stamp.sec) * 1_000_000_000 + int(header.stamp.nanosec)


def to_clock(store: Typestore, nanoseconds: int) -> Any:
    """rosgraph_msgs/Clock at a simulated time (ns), as /clock carries it."""
    return store.types[CLOCK](clock=to_time(store, nanoseconds))
