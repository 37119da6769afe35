"""The chair's health rules: the motor link, the motor controller, the telemetry link, alarms."""

from __future__ import annotations

import dataclasses

import pytest

from chairlink.wire.payloads import SCHEMA_VERSION, EventMessage
from edge.diagnostics import (
    Level,
    fault_names,
    motor_controller,
    motor_link,
    patient_alarm,
    telemetry_link,
)
from edge.telemetry.agent import AgentStats
from edge.types import ChairStatus, MotorLink
from firmware_bridge.messages import Fault
from tests.edge.chair_values import HEALTHY_STATUS

LINK = MotorLink(connected=True, link_up=True, frames_received=100, frames_sent=40)
STATUS = HEALTHY_STATUS


@pytest.mark.parametrize(
    ("link", "level", "text"),
    [
        (LINK, Level.OK, "link up"),
        (dataclasses.replace(LINK, crc_errors=1), Level.WARN, "link up, with errors"),
        (dataclasses.replace(LINK, frames_dropped=2), Level.WARN, "link up, with errors"),
        (dataclasses.replace(LINK, link_up=False), Level.ERROR, "no frames from the MCU"),
        (
            MotorLink(connected=False, link_up=False, last_error="gone"),
            Level.ERROR,
            "port closed: gone",
        ),
        (MotorLink(connected=False, link_up=False), Level.ERROR, "port closed: opening"),
    ],
)
def test_motor_link_levels(link: MotorLink, level: Level, text: str) -> None:
    diagnostic = motor_link("chair-01/motor-mcu", "/dev/x", link)
    assert (diagnostic.level, diagnostic.message) == (level, text)
    assert diagnostic.name == "chairlink: motor serial link"
    values = dict(diagnostic.values)
    assert values["port"] == "/dev/x"
    assert values["frames_received"] == str(link.frames_received)
    assert values["rtt_p99_ms"] == "nan"


@pytest.mark.parametrize(
    ("status", "level", "text"),
    [
        (STATUS, Level.OK, "armed"),
        (dataclasses.replace(STATUS, armed=False), Level.WARN, "disarmed"),
        (dataclasses.replace(STATUS, estop=True), Level.ERROR, "e-stop set"),
        (
            dataclasses.replace(STATUS, faults=int(Fault.DRIVE_TIMEOUT)),
            Level.ERROR,
            "faults: DRIVE_TIMEOUT",
        ),
        (
            dataclasses.replace(STATUS, estop=True, faults=int(Fault.LINK_LOST)),
            Level.ERROR,
            "e-stop set, faults: LINK_LOST",
        ),
        (None, Level.STALE, "no status yet"),
    ],
)
def test_motor_controller_levels_and_fault_names(
    status: ChairStatus | None, level: Level, text: str
) -> None:
    diagnostic = motor_controller("c", status, watchdog_trips=1)
    assert (diagnostic.level, diagnostic.message) == (level, text)
    assert dict(diagnostic.values)["watchdog_trips"] == "1"


def test_fault_names() -> None:
    assert fault_names(0) == "none"
    assert fault_names(int(Fault.DRIVE_TIMEOUT | Fault.BATTERY_CRITICAL)) == (
        "DRIVE_TIMEOUT,BATTERY_CRITICAL"
    )


def test_telemetry_link_levels() -> None:
    online = AgentStats(connected=True)
    assert telemetry_link("c/t", online).level == Level.OK
    assert telemetry_link("c/t", dataclasses.replace(online, draining=True)).level == Level.WARN
    assert telemetry_link("c/t", AgentStats()).level == Level.WARN
    full = telemetry_link("c/t", dataclasses.replace(online, outbox_overflowing=True))
    assert full.level == Level.ERROR
    assert {k for k, _ in full.values} >= {"outbox_messages", "refused_by_broker", "last_error"}


def test_a_high_priority_alarm_is_an_error() -> None:
    alarm = EventMessage(
        v=SCHEMA_VERSION,
        chair="chair-01",
        channel="event",
        stamp_ns=0,
        seq=1,
        event_id="e1",
        kind="alarm",
        code="spo2_low",
        priority="high",
        raised_offline=True,
    )
    diagnostic = patient_alarm("c/t", alarm)
    assert (diagnostic.level, diagnostic.message) == (Level.ERROR, "spo2_low")
    assert dict(diagnostic.values) == {
        "code": "spo2_low",
        "priority": "high",
        "raised_offline": "True",
    }
    medium = patient_alarm("c/t", alarm.model_copy(update={"priority": "medium"}))
    assert medium.level == Level.WARN
