"""The chair's health as diagnostics: what each part reports, and how severe, without ROS.

One rule per part, the same on every host: firmware_bridge_node and telemetry_node publish
these on /diagnostics (edge/rosbag/diagnostics.py makes the message), and a host without ROS
can show or log them. Levels are diagnostic_msgs/DiagnosticStatus's.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING

from edge.types import ChairStatus, MotorLink
from firmware_bridge.messages import Fault

if TYPE_CHECKING:
    from chairlink.wire.payloads import EventMessage
    from edge.telemetry.agent import AgentStats

__all__ = [
    "Diagnostic",
    "Level",
    "fault_names",
    "motor_controller",
    "motor_link",
    "patient_alarm",
    "telemetry_link",
]


class Level(IntEnum):
    """How bad: diagnostic_msgs/DiagnosticStatus's levels, with their values."""

    OK = 0
    WARN = 1
    ERROR = 2
    STALE = 3


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One part's health: a level, a line for people, and named values."""

    level: Level
    name: str
    message: str
    hardware_id: str
    values: tuple[tuple[str, str], ...] = ()


def fault_names(bits: int) -> str:
    """The MCU's fault bits by name, comma-separated (``DRIVE_TIMEOUT,LINK_LOST``), or none."""
    return ",".join(f.name for f in Fault if f.value and bits & f.value and f.name) or "none"


def motor_link(hardware_id: str, port: str, link: MotorLink) -> Diagnostic:
    """The serial link to the motor MCU: ERROR closed or silent, WARN with errors, else OK."""
    if not link.connected:
        level, text = Level.ERROR, f"port closed: {link.last_error or 'opening'}"
    elif not link.link_up:
        level, text = Level.ERROR, "no frames from the MCU"
    elif link.crc_errors or link.frames_dropped:
        level, text = Level.WARN, "link up, with errors"
    else:
        level, text = Level.OK, "link up"
    values = {
        "port": port,
        "connected": link.connected,
        "link_up": link.link_up,
        "frames_received": link.frames_received,
        "frames_sent": link.frames_sent,
        "crc_errors": link.crc_errors,
        "resyncs": link.resyncs,
        "frames_dropped": link.frames_dropped,
        "reconnects": link.reconnects,
        "link_timeouts": link.link_timeouts,
        "ack_timeouts": link.ack_timeouts,
        "rtt_p99_ms": f"{link.rtt_p99_ms:.2f}",
        "last_error": link.last_error,
    }
    return Diagnostic(
        level,
        "chairlink: motor serial link",
        text,
        hardware_id,
        tuple((k, str(v)) for k, v in values.items()),
    )


def motor_controller(
    hardware_id: str, status: ChairStatus | None, watchdog_trips: int
) -> Diagnostic:
    """The motor MCU: STALE before its first status, ERROR on faults or e-stop, WARN disarmed."""
    if status is None:
        level, text, faults = Level.STALE, "no status yet", "unknown"
    else:
        faults = fault_names(status.faults)
        if status.estop:
            level = Level.ERROR
            text = f"e-stop set, faults: {faults}" if status.faults else "e-stop set"
        elif status.faults:
            level, text = Level.ERROR, f"faults: {faults}"
        elif not status.armed:
            level, text = Level.WARN, "disarmed"
        else:
            level, text = Level.OK, "armed"
    return Diagnostic(
        level,
        "chairlink: motor controller",
        text,
        hardware_id,
        (("faults", faults), ("watchdog_trips", str(watchdog_trips))),
    )


def telemetry_link(hardware_id: str, stats: AgentStats) -> Diagnostic:
    """The agent's health: ERROR when the outbox overflows, WARN while offline or draining."""
    if stats.outbox_overflowing:
        level, text = Level.ERROR, "outbox full: events and vitals exceed its bound"
    elif not stats.connected:
        level, text = Level.WARN, f"offline, {stats.outbox_messages} messages kept"
    elif stats.draining:
        level, text = Level.WARN, f"online, draining a backlog of {stats.backlog}"
    else:
        level, text = Level.OK, "online"
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
    return Diagnostic(
        level,
        "chairlink: telemetry link",
        text,
        hardware_id,
        tuple((k, str(v)) for k, v in values.items()),
    )


def patient_alarm(hardware_id: str, alarm: EventMessage) -> Diagnostic:
    """An alarm raised on the chair, for the attendant's display: ERROR for high priority."""
    return Diagnostic(
        Level.ERROR if alarm.priority == "high" else Level.WARN,
        "chairlink: patient alarm",
        alarm.message or alarm.code,
        hardware_id,
        (
            ("code", alarm.code),
            ("priority", alarm.priority),
            ("raised_offline", str(alarm.raised_offline)),
        ),
    )
