"""Between the telemetry agent's values and ROS messages: vitals, trip commands, diagnostics.

Pure functions, so the nodes stay thin and the conversions are tested on their own.
"""

from __future__ import annotations

from builtin_interfaces.msg import Time
from chairlink_interfaces.msg import TripCommand as TripCommandMsg
from diagnostic_msgs.msg import DiagnosticStatus, KeyValue
from std_msgs.msg import Header

from chairlink.wire.payloads import CancelCommand, EventMessage, TripCommand
from chairlink_ros.firmware_conversions import stamp
from edge.telemetry.agent import AgentStats

__all__ = [
    "agent_diagnostics",
    "alarm_diagnostics",
    "trip_command_message",
]


def trip_command_message(
    command: TripCommand | CancelCommand, time: Time, frame_id: str
) -> TripCommandMsg:
    """/trip/command of a validated trip or cancel command."""
    message = TripCommandMsg(
        header=Header(stamp=time, frame_id=frame_id),
        command_id=command.command_id,
        trip_id=command.trip_id,
        issued=stamp(command.issued_ns),
    )
    if isinstance(command, TripCommand):
        message.action = TripCommandMsg.ASSIGN
        message.origin = command.origin
        message.destination = command.destination
        message.patient_token = command.patient or ""
        message.priority = (
            TripCommandMsg.PRIORITY_URGENT
            if command.priority == "urgent"
            else TripCommandMsg.PRIORITY_ROUTINE
        )
    else:
        message.action = TripCommandMsg.CANCEL
    return message


def agent_diagnostics(hardware_id: str, stats: AgentStats) -> DiagnosticStatus:
    """The agent's health: ERROR when the outbox overflows, WARN while offline or draining."""
    if stats.outbox_overflowing:
        level, text = DiagnosticStatus.ERROR, "outbox full: events and vitals exceed its bound"
    elif not stats.connected:
        level, text = DiagnosticStatus.WARN, f"offline, {stats.outbox_messages} messages kept"
    elif stats.draining:
        level, text = DiagnosticStatus.WARN, f"online, draining a backlog of {stats.backlog}"
    else:
        level, text = DiagnosticStatus.OK, "online"
    values = {
        "connected": stats.connected,
        "connects": stats.connects,
        "published": stats.published,
        "acked": stats.acked,
        "refused_by_broker": stats.refused_by_broker,
        "refused_inputs": stats.refused_inputs,
        "outbox_messages": stats.outbox_messages,
        "outbox_bytes": stats.outbox_bytes,
        "outbox_thinned": stats.outbox_thinned,
        "commands": stats.commands,
        "commands_rejected": stats.commands_rejected,
        "commands_duplicate": stats.commands_duplicate,
        "local_alarms": stats.local_alarms,
        "last_error": stats.last_error,
    }
    return DiagnosticStatus(
        level=level,
        name="chairlink: telemetry link",
        message=text,
        hardware_id=hardware_id,
        values=[KeyValue(key=k, value=str(v)) for k, v in values.items()],
    )


def alarm_diagnostics(hardware_id: str, alarm: EventMessage) -> DiagnosticStatus:
    """An alarm raised on the chair, for the attendant's display: ERROR for high priority."""
    level = DiagnosticStatus.ERROR if alarm.priority == "high" else DiagnosticStatus.WARN
    return DiagnosticStatus(
        level=level,
        name="chairlink: patient alarm",
        message=alarm.message or alarm.code,
        hardware_id=hardware_id,
        values=[
            KeyValue(key="code", value=alarm.code),
            KeyValue(key="priority", value=alarm.priority),
            KeyValue(key="raised_offline", value=str(alarm.raised_offline)),
        ],
    )
