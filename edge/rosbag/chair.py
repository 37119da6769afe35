"""The chair's own state and orders as ROS messages: ChairStatus, BatteryState, PatientVitals,
TripCommand, on a rosbags typestore; no ROS needed.

Part of the one edge -> ROS mapping (edge/rosbag/conversions.py re-exports it): the bridge,
the simulator, the vitals and telemetry nodes and the bag writer all build these messages here.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from rosbags.typesys.store import Typestore

from chairlink.wire.payloads import CancelCommand, TripCommand
from edge.rosbag.cdr import from_header, to_header, to_time
from edge.types import ChairStatus, MotorLink, Perfusion, Vitals
from firmware_bridge.messages import Fault

__all__ = [
    "BATTERY_STATE",
    "CHAIR_STATUS",
    "PATIENT_VITALS",
    "TRIP_COMMAND",
    "from_chair_status",
    "from_patient_vitals",
    "to_battery_state",
    "to_chair_status",
    "to_patient_vitals",
    "to_trip_command",
]

BATTERY_STATE = "sensor_msgs/msg/BatteryState"
CHAIR_STATUS = "chairlink_interfaces/msg/ChairStatus"
PATIENT_VITALS = "chairlink_interfaces/msg/PatientVitals"
TRIP_COMMAND = "chairlink_interfaces/msg/TripCommand"

# sensor_msgs/BatteryState constants.
_DISCHARGING, _NOT_CHARGING = 2, 3
_HEALTH_GOOD, _HEALTH_DEAD = 1, 3
_TECHNOLOGY_UNKNOWN = 0
# chairlink_interfaces/TripCommand constants.
_ASSIGN, _CANCEL = 0, 1
_ROUTINE, _URGENT = 0, 1

_SIMULATED_LINK = MotorLink(connected=True, link_up=True)
"""What a ChairStatus without a serial link (the simulator) reports: up, nothing counted."""


def to_chair_status(
    store: Typestore,
    status: ChairStatus,
    frame_id: str = "base_link",
    link: MotorLink | None = None,
) -> Any:
    """chairlink_interfaces/ChairStatus of a ChairStatus and the motor link's counters.

    Without ``link`` (the simulator has no serial link) the link is up with nothing counted.
    """
    link = link or _SIMULATED_LINK
    return store.types[CHAIR_STATUS](
        header=to_header(store, status.stamp_ns, frame_id),
        battery_voltage=status.battery_v,
        battery_current=status.current_a,
        battery_soc=status.soc,
        motor_temperature_left=status.motor_temperature_left_c,
        motor_temperature_right=status.motor_temperature_right_c,
        armed=status.armed,
        estop=status.estop,
        configured=status.configured,
        braking=status.braking,
        motion_refused=status.motion_refused,
        joystick_override=status.joystick_override,
        joystick_x=status.joystick_x,
        joystick_y=status.joystick_y,
        seat_occupied=status.seat_occupied,
        seat_load=status.seat_load_kg,
        belt_closed=status.belt_closed,
        faults=status.faults,
        link_up=link.link_up,
        frames_received=link.frames_received,
        frames_sent=link.frames_sent,
        crc_errors=link.crc_errors,
        resyncs=link.resyncs,
        frames_dropped=link.frames_dropped,
        reconnects=link.reconnects,
        link_timeouts=link.link_timeouts,
    )


def from_chair_status(message: Any) -> ChairStatus:
    """A ChairStatus of a chairlink_interfaces/ChairStatus (rosbags or rclpy)."""
    return ChairStatus(
        stamp_ns=from_header(message.header),
        battery_v=float(message.battery_voltage),
        current_a=float(message.battery_current),
        soc=float(message.battery_soc),
        armed=bool(message.armed),
        estop=bool(message.estop),
        faults=int(message.faults),
        seat_occupied=bool(message.seat_occupied),
        belt_closed=bool(message.belt_closed),
        motion_refused=bool(message.motion_refused),
        joystick_override=bool(message.joystick_override),
        configured=bool(message.configured),
        braking=bool(message.braking),
        motor_temperature_left_c=float(message.motor_temperature_left),
        motor_temperature_right_c=float(message.motor_temperature_right),
        joystick_x=float(message.joystick_x),
        joystick_y=float(message.joystick_y),
        seat_load_kg=float(message.seat_load),
    )


def to_battery_state(store: Typestore, status: ChairStatus, frame_id: str = "base_link") -> Any:
    """sensor_msgs/BatteryState; current negative while discharging (REP 145).

    Discharging while current flows out, else not charging; health dead on the MCU's
    BATTERY_CRITICAL fault, else good.
    """
    return store.types[BATTERY_STATE](
        header=to_header(store, status.stamp_ns, frame_id),
        voltage=status.battery_v,
        temperature=math.nan,
        current=-status.current_a,
        charge=math.nan,
        capacity=math.nan,
        design_capacity=math.nan,
        percentage=status.soc,
        power_supply_status=_DISCHARGING if status.current_a > 0 else _NOT_CHARGING,
        power_supply_health=(
            _HEALTH_DEAD if status.faults & Fault.BATTERY_CRITICAL else _HEALTH_GOOD
        ),
        power_supply_technology=_TECHNOLOGY_UNKNOWN,
        present=True,
        cell_voltage=np.zeros(0, dtype=np.float32),
        cell_temperature=np.zeros(0, dtype=np.float32),
        location="",
        serial_number="",
    )


def to_patient_vitals(store: Typestore, vitals: Vitals, frame_id: str = "base_link") -> Any:
    """chairlink_interfaces/PatientVitals of a Vitals."""
    return store.types[PATIENT_VITALS](
        header=to_header(store, vitals.stamp_ns, frame_id),
        patient_token=vitals.patient_token,
        spo2=vitals.spo2_pct,
        pulse_rate=vitals.pulse_bpm,
        perfusion=int(vitals.perfusion),
        sensor_disconnected=vitals.probe_off,
        sensor_alarm=vitals.probe_off,
        artifact=vitals.artifact,
        out_of_track=vitals.out_of_track,
        stale=vitals.stale,
        doubtful=vitals.doubtful,
    )


def _perfusion(value: int) -> Perfusion:
    # A value the message's constants do not name is no perfusion reading at all.
    try:
        return Perfusion(value)
    except ValueError:
        return Perfusion.UNKNOWN


def from_patient_vitals(message: Any) -> Vitals:
    """A Vitals of a chairlink_interfaces/PatientVitals (rosbags or rclpy)."""
    return Vitals(
        stamp_ns=from_header(message.header),
        patient_token=str(message.patient_token),
        spo2_pct=float(message.spo2),
        pulse_bpm=float(message.pulse_rate),
        perfusion=_perfusion(int(message.perfusion)),
        probe_off=bool(message.sensor_disconnected or message.sensor_alarm),
        artifact=bool(message.artifact),
        out_of_track=bool(message.out_of_track),
        stale=bool(message.stale),
        # Bags recorded before the field existed carry their own, older definition.
        doubtful=bool(getattr(message, "doubtful", False)),
    )


def to_trip_command(
    store: Typestore, command: TripCommand | CancelCommand, stamp_ns: int, frame_id: str
) -> Any:
    """chairlink_interfaces/TripCommand (/trip/command) of a validated trip or cancel."""
    trip = command if isinstance(command, TripCommand) else None
    return store.types[TRIP_COMMAND](
        header=to_header(store, stamp_ns, frame_id),
        command_id=command.command_id,
        trip_id=command.trip_id,
        action=_ASSIGN if trip else _CANCEL,
        origin=trip.origin if trip else "",
        destination=trip.destination if trip else "",
        patient_token=(trip.patient or "") if trip else "",
        priority=_URGENT if trip and trip.priority == "urgent" else _ROUTINE,
        issued=to_time(store, command.issued_ns),
    )
