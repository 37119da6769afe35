"""The telemetry nodes' conversions between agent values and ROS messages."""

from __future__ import annotations

from dataclasses import replace

from chairlink_interfaces.msg import TripCommand as TripCommandMsg
from chairlink_ros.firmware_conversions import stamp
from chairlink_ros.telemetry_conversions import (
    agent_diagnostics,
    trip_command_message,
)
from diagnostic_msgs.msg import DiagnosticStatus

from chairlink.wire.payloads import SCHEMA_VERSION, CancelCommand, TripCommand
from chairlink.wire.topics import CommandKind
from edge.telemetry.agent import AgentStats

HEAD = {"v": SCHEMA_VERSION, "chair": "chair-01", "issued_ns": 1_700_000_000_123_456_789}


def test_trip_and_cancel_become_assign_and_cancel() -> None:
    trip = TripCommand(
        **HEAD,
        kind=CommandKind.TRIP,
        command_id="c1",
        trip_id="t1",
        origin="ward-3",
        destination="radiology",
    )
    message = trip_command_message(trip, stamp(5), "base_link")
    assert message.action == TripCommandMsg.ASSIGN
    assert (message.origin, message.destination, message.patient_token) == (
        "ward-3",
        "radiology",
        "",
    )
    assert message.priority == TripCommandMsg.PRIORITY_ROUTINE
    assert (message.issued.sec, message.issued.nanosec) == (1_700_000_000, 123_456_789)
    cancel = CancelCommand(**HEAD, kind=CommandKind.CANCEL, command_id="c2", trip_id="t1")
    message = trip_command_message(cancel, stamp(5), "base_link")
    assert (message.action, message.trip_id, message.origin) == (TripCommandMsg.CANCEL, "t1", "")


def test_agent_health_levels() -> None:
    online = AgentStats(connected=True)
    assert agent_diagnostics("c/t", online).level == DiagnosticStatus.OK
    assert agent_diagnostics("c/t", replace(online, draining=True)).level == DiagnosticStatus.WARN
    assert agent_diagnostics("c/t", AgentStats()).level == DiagnosticStatus.WARN
    full = agent_diagnostics("c/t", replace(online, outbox_overflowing=True))
    assert full.level == DiagnosticStatus.ERROR
    assert {v.key for v in full.values} >= {"outbox_messages", "refused_by_broker", "last_error"}
