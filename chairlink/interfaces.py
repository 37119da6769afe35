"""chairlink's own ROS message types for tools that read bags without ROS.

The .msg files of ros2_ws/src/chairlink_interfaces are the one definition: colcon builds them
for rclpy, and this module loads the same files into a rosbags typestore (with ROS 2 Jazzy's
standard types), so bags recorded on a chair read and write anywhere Python runs.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from rosbags.typesys import Stores, get_types_from_msg, get_typestore
from rosbags.typesys.store import Typestore

__all__ = ["INTERFACE_PACKAGE", "message_definitions", "typestore"]

INTERFACE_PACKAGE = "chairlink_interfaces"


def message_definitions() -> dict[str, str]:
    """Each message's full type name (``chairlink_interfaces/msg/ChairStatus``) and its text."""
    folder = resources.files("chairlink") / "msg"
    return {
        f"{INTERFACE_PACKAGE}/msg/{Path(entry.name).stem}": entry.read_text(encoding="utf-8")
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".msg")
    }


def typestore() -> Typestore:
    """A typestore of ROS 2 Jazzy's standard types plus chairlink's messages."""
    store = get_typestore(Stores.ROS2_JAZZY)
    types = {}
    for name, text in message_definitions().items():
        types.update(get_types_from_msg(text, name))
    store.register(types)
    return store
