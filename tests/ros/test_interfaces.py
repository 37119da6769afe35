"""chairlink_interfaces: built by colcon for rclpy, and the same .msg files in a rosbags typestore.

A message serialised by rclpy must deserialise with the typestore, and what the typestore
serialises must deserialise in rclpy to the same message, so bags with our messages read and
write without ROS. (Bytes are compared by length only: rclpy leaves CDR padding uninitialised.)
"""

from __future__ import annotations

import math

import pytest
from chairlink_interfaces.msg import ChairStatus, PatientVitals, SafetyState, TripCommand
from rclpy.serialization import deserialize_message, serialize_message

from chairlink.interfaces import message_definitions, typestore


def test_every_built_message_has_a_definition_in_the_typestore() -> None:
    names = set(message_definitions())
    assert names == {
        "chairlink_interfaces/msg/ChairStatus",
        "chairlink_interfaces/msg/SafetyState",
        "chairlink_interfaces/msg/PatientVitals",
        "chairlink_interfaces/msg/TripCommand",
    }
    store = typestore()
    assert names <= set(store.types)


def _chair_status() -> ChairStatus:
    msg = ChairStatus()
    msg.header.stamp.sec = 1_764_000_000
    msg.header.stamp.nanosec = 123_456_789
    msg.header.frame_id = "base_link"
    msg.battery_voltage = 25.1
    msg.battery_current = 2.3
    msg.battery_soc = 0.87
    msg.armed = True
    msg.belt_closed = True
    msg.seat_load = 75.2
    msg.joystick_y = -0.5
    msg.faults = ChairStatus.FAULT_DRIVE_TIMEOUT | ChairStatus.FAULT_LINK_LOST
    msg.crc_errors = 3
    msg.reconnects = 1
    return msg


def _safety_state() -> SafetyState:
    msg = SafetyState()
    msg.state = SafetyState.STOP
    msg.reason = "scan stale for 0.31 s"
    msg.speed_limit = 0.0
    msg.min_clearance = math.inf
    msg.time_to_collision = math.inf
    msg.stale_sources = ["scan", "camera"]
    return msg


def _vitals() -> PatientVitals:
    msg = PatientVitals()
    msg.patient_token = "pt-7f3a9c"
    msg.spo2 = 97.0
    msg.pulse_rate = 72.0
    msg.perfusion = PatientVitals.PERFUSION_GOOD
    return msg


def _trip() -> TripCommand:
    msg = TripCommand()
    msg.action = TripCommand.ASSIGN
    msg.command_id = "cmd-7"
    msg.trip_id = "trip-42"
    msg.origin = "ward-3"
    msg.destination = "radiology"
    msg.patient_token = "pt-7f3a9c2b"
    msg.priority = TripCommand.PRIORITY_URGENT
    msg.issued.sec = 1_764_000_000
    return msg


@pytest.mark.parametrize("make", [_chair_status, _safety_state, _vitals, _trip])
def test_rclpy_bytes_read_and_write_identically_with_rosbags(make: object) -> None:
    message = make()  # type: ignore[operator]
    name = f"chairlink_interfaces/msg/{type(message).__name__}"
    raw = serialize_message(message)
    store = typestore()
    decoded = store.deserialize_cdr(raw, name)
    rewritten = bytes(store.serialize_cdr(decoded, name))
    assert len(rewritten) == len(raw)
    # Compared with rclpy's own round trip: float32 fields come back rounded either way.
    assert deserialize_message(rewritten, type(message)) == deserialize_message(raw, type(message))


def test_typestore_sees_field_values_and_constants() -> None:
    store = typestore()
    decoded = store.deserialize_cdr(
        serialize_message(_chair_status()), "chairlink_interfaces/msg/ChairStatus"
    )
    assert decoded.faults == 3  # type: ignore[attr-defined]
    assert decoded.seat_load == pytest.approx(75.2)  # type: ignore[attr-defined]
    assert decoded.header.frame_id == "base_link"  # type: ignore[attr-defined]
    chair_status = store.types["chairlink_interfaces/msg/ChairStatus"]
    assert chair_status.FAULT_LINK_LOST == 2  # type: ignore[attr-defined]
