"""The chair's health (edge.diagnostics) as diagnostic_msgs/DiagnosticArray on a typestore.

Part of the one edge -> ROS mapping (edge/rosbag/conversions.py re-exports it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rosbags.typesys.store import Typestore

from edge.diagnostics import Diagnostic
from edge.rosbag.cdr import to_header

__all__ = ["DIAGNOSTIC_ARRAY", "to_diagnostic_array"]

DIAGNOSTIC_ARRAY = "diagnostic_msgs/msg/DiagnosticArray"


def to_diagnostic_array(store: Typestore, stamp_ns: int, diagnostics: Sequence[Diagnostic]) -> Any:
    """/diagnostics: one DiagnosticStatus per part, stamped ``stamp_ns``, no frame."""
    status, key_value = (
        store.types["diagnostic_msgs/msg/DiagnosticStatus"],
        store.types["diagnostic_msgs/msg/KeyValue"],
    )
    return store.types[DIAGNOSTIC_ARRAY](
        header=to_header(store, stamp_ns, ""),
        status=[
            status(
                level=int(d.level),
                name=d.name,
                message=d.message,
                hardware_id=d.hardware_id,
                values=[key_value(key=k, value=v) for k, v in d.values],
            )
            for d in diagnostics
        ],
    )
