"""The firmware bridge's values as edge types: the one mapping from the MCU to the chair's state.

Every host that talks to the motor MCU goes through here: firmware_bridge_node, the serial host
(``chairlink edge agent``) and the simulator (which reads its MCU model's state rather than a
STATUS frame, so the same flags map through the same code without the wire's rounding). The
edge values then become ROS messages in one place too (edge/rosbag/conversions.py). They live on
the edge side because the layout lets edge/ import firmware_bridge/ and never the other way
round.
"""

from __future__ import annotations

from edge.types import ChairStatus, MotorLink, Odometry, Pose2D
from firmware_bridge.driver import LinkStats
from firmware_bridge.messages import Status, StatusFlag
from firmware_bridge.odometry import OdometryEstimate
from firmware_bridge.plant import PlantState

__all__ = [
    "chair_status_from_mcu",
    "chair_status_from_plant",
    "motor_link_from_stats",
    "odometry_from_estimate",
]


def _chair_status(
    stamp_ns: int,
    flags: StatusFlag,
    faults: int,
    *,
    battery_v: float,
    current_a: float,
    soc: float,
    motor_temperatures_c: tuple[float, float],
    joystick: tuple[float, float],
    seat_load_kg: float,
) -> ChairStatus:
    return ChairStatus(
        stamp_ns=stamp_ns,
        battery_v=battery_v,
        current_a=current_a,
        soc=soc,
        armed=bool(flags & StatusFlag.ARMED),
        estop=bool(flags & StatusFlag.ESTOP),
        faults=faults,
        seat_occupied=bool(flags & StatusFlag.SEAT_OCCUPIED),
        belt_closed=bool(flags & StatusFlag.BELT_CLOSED),
        motion_refused=bool(flags & StatusFlag.MOTION_REFUSED),
        joystick_override=bool(flags & StatusFlag.JOYSTICK_OVERRIDE),
        configured=bool(flags & StatusFlag.CONFIGURED),
        braking=bool(flags & StatusFlag.BRAKING),
        motor_temperature_left_c=motor_temperatures_c[0],
        motor_temperature_right_c=motor_temperatures_c[1],
        joystick_x=joystick[0],
        joystick_y=joystick[1],
        seat_load_kg=seat_load_kg,
    )


def chair_status_from_mcu(status: Status, stamp_ns: int) -> ChairStatus:
    """The ChairStatus of an MCU STATUS received at ``stamp_ns``.

    Current stays positive while discharging, as the MCU reports it (and as ChairStatus
    means it: a negative current is charging).
    """
    return _chair_status(
        stamp_ns,
        status.flag,
        status.faults,
        battery_v=status.battery_v,
        current_a=status.current_a,
        soc=status.soc_pct / 100.0,
        motor_temperatures_c=(status.motor_temp_left_dc / 10.0, status.motor_temp_right_dc / 10.0),
        joystick=(status.joystick_x_pct / 100.0, status.joystick_y_pct / 100.0),
        seat_load_kg=status.seat_load_kg,
    )


def chair_status_from_plant(state: PlantState, stamp_ns: int) -> ChairStatus:
    """The ChairStatus of the simulated MCU's state, stamped ``stamp_ns``."""
    return _chair_status(
        stamp_ns,
        state.flags,
        int(state.faults),
        battery_v=state.battery_v,
        current_a=state.current_a,
        soc=state.soc,
        motor_temperatures_c=(state.motor_temp_left_c, state.motor_temp_right_c),
        joystick=(state.joystick_x, state.joystick_y),
        seat_load_kg=state.seat_load_kg,
    )


def motor_link_from_stats(stats: LinkStats) -> MotorLink:
    """The MotorLink of the serial driver's counters."""
    return MotorLink(
        connected=stats.connected,
        link_up=stats.link_up,
        frames_received=stats.frames_rx,
        frames_sent=stats.frames_tx,
        crc_errors=stats.crc_errors,
        resyncs=stats.resyncs,
        frames_dropped=stats.drops,
        reconnects=stats.reconnects,
        link_timeouts=stats.link_timeouts,
        ack_timeouts=stats.ack_timeouts,
        rtt_p99_ms=stats.rtt_percentile(99),
        last_error=stats.last_error,
    )


def odometry_from_estimate(estimate: OdometryEstimate) -> Odometry:
    """The Odometry of the host's dead-reckoning estimate (odometry frame, body velocity)."""
    return Odometry(
        stamp_ns=estimate.stamp_ns,
        pose=Pose2D(estimate.x_m, estimate.y_m, estimate.theta_rad),
        linear_mps=estimate.linear_mps,
        angular_radps=estimate.angular_radps,
    )
