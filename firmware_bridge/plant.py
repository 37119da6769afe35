"""The motor MCU's rules and its chair, as a plain deterministic class on given time.

``Plant.step(now_ns, message)`` advances the chair to ``now_ns`` in control periods of at most
10 ms, checking the watchdogs at each, then applies the host message (or none). The pty
simulator is a byte layer over this class; the closed-loop simulator drives it in process on
simulated time. Seat, belt and joystick are inputs a scenario sets with methods.

The MCU's rules (docs/firmware-protocol.md, "Semantics"):

- It boots disarmed and unconfigured. REARM arms it, clearing the latched faults, unless it is
  unconfigured, the e-stop is set or a motor is over temperature.
- Armed and not overridden, with a non-zero DRIVE in force, no valid DRIVE within the drive
  timeout brakes the chair at the emergency deceleration and latches DRIVE_TIMEOUT. Heartbeats
  keep the link alive, never the motion.
- Armed, no valid frame of any kind within the link timeout latches LINK_LOST the same way.
- ESTOP_SET brakes and disarms; ESTOP_CLEAR releases the e-stop but leaves the chair disarmed.
- The attendant's engaged joystick overrides the host (not the e-stop): DRIVE is answered with
  JOYSTICK_OVERRIDE and the joystick sets the velocity.
- With the seat occupied and the belt open (and refuse_unbelted configured) DRIVE is answered
  with MOTION_REFUSED and the chair comes to a gentle stop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from firmware_bridge.kinematics import wheel_speeds
from firmware_bridge.messages import (
    Configure,
    Drive,
    ErrorCode,
    EstopClear,
    EstopSet,
    Fault,
    Heartbeat,
    HostMessage,
    Rearm,
    StatusFlag,
)

__all__ = ["CONTROL_PERIOD_NS", "BatteryModel", "Plant", "PlantState"]

CONTROL_PERIOD_NS = 10_000_000
"""The MCU's control period: watchdogs are checked and the motors updated every 10 ms."""

LATCHED_FAULTS = Fault.DRIVE_TIMEOUT | Fault.LINK_LOST
STANDSTILL_MPS = 1e-3
JOYSTICK_DEADZONE = 0.05
OVERTEMP_SET_C = 90.0
OVERTEMP_CLEAR_C = 80.0
GRAVITY = 9.81


@dataclass(frozen=True, slots=True)
class BatteryModel:
    """A 24 V lead-acid pack and the chair's load on it; an approximation, not a datasheet.

    Open-circuit voltage is linear in state of charge between ``empty_v`` and ``full_v``; the
    current is the electronics' draw plus rolling, acceleration and turning power through the
    motors' efficiency.
    """

    capacity_ah: float = 50.0
    full_v: float = 25.6
    empty_v: float = 23.0
    internal_ohm: float = 0.05
    idle_a: float = 1.2
    chair_mass_kg: float = 120.0
    rolling_coefficient: float = 0.02
    turning_w_per_radps: float = 30.0
    efficiency: float = 0.7
    critical_soc: float = 0.05


@dataclass(frozen=True, slots=True)
class PlantState:
    """Everything the MCU knows at one instant, and its answer to the message of this step."""

    time_ns: int
    linear_mps: float
    angular_radps: float
    target_linear_mps: float
    target_angular_radps: float
    left_ticks: int
    right_ticks: int
    left_m: float
    right_m: float
    battery_v: float
    current_a: float
    soc: float
    motor_temp_left_c: float
    motor_temp_right_c: float
    faults: Fault
    flags: StatusFlag
    joystick_x: float
    joystick_y: float
    seat_load_kg: float
    reply: ErrorCode | None = None

    @property
    def moving(self) -> bool:
        """Whether either wheel still turns."""
        return abs(self.linear_mps) > STANDSTILL_MPS or abs(self.angular_radps) > STANDSTILL_MPS


def _ramp(current: float, target: float, rate: float, dt: float) -> float:
    step = rate * dt
    if target > current:
        return min(target, current + step)
    return max(target, current - step)


def _clamp(value: float, limit: float) -> float:
    return max(-limit, min(limit, value))


class Plant:
    """A differential-drive chair behind its motor MCU; deterministic on the time it is given."""

    def __init__(
        self,
        settings: Configure | None = None,
        *,
        start_ns: int = 0,
        battery: BatteryModel | None = None,
        initial_soc: float = 0.9,
        ambient_c: float = 22.0,
    ) -> None:
        self._settings = settings or Configure()
        self._battery = battery or BatteryModel()
        self._ambient_c = ambient_c
        self._t = start_ns
        self._armed = False
        self._estop = False
        self._configured = False
        self._latched = Fault.NONE
        self._overtemp = Fault.NONE
        self._commanded = (0.0, 0.0)
        self._refused = False
        self._last_drive_ns = start_ns
        self._last_frame_ns = start_ns
        self._v = 0.0
        self._w = 0.0
        self._braking = False
        self._left_m = 0.0
        self._right_m = 0.0
        # Ticks accumulate with the geometry in force when the wheel turned, so a CONFIGURE
        # that changes the radius does not make the counters jump.
        self._left_ticks = 0.0
        self._right_ticks = 0.0
        self._soc = initial_soc
        self._current = self._battery.idle_a
        self._temps = [ambient_c, ambient_c]
        self._joystick = (0.0, 0.0)
        self._joystick_engaged = False
        self._seat_load_kg = 0.0
        self._belt_closed = False

    @property
    def settings(self) -> Configure:
        """The configuration the MCU runs with."""
        return self._settings

    def set_seat(self, load_kg: float, belt_closed: bool) -> None:
        """Set the seat load sensor and the seatbelt switch."""
        self._seat_load_kg = max(0.0, load_kg)
        self._belt_closed = belt_closed

    def set_joystick(self, x: float, y: float, engaged: bool) -> None:
        """Set the attendant's joystick: x right, y forward, each in [-1, 1]; engaged overrides."""
        if engaged and not self._joystick_engaged:
            self._commanded = (0.0, 0.0)
        self._joystick = (_clamp(x, 1.0), _clamp(y, 1.0))
        self._joystick_engaged = engaged

    def set_motor_temperatures(self, left_c: float, right_c: float) -> None:
        """Force the motor temperatures (fault injection)."""
        self._temps = [left_c, right_c]
        self._update_overtemp()

    def step(self, now_ns: int, message: HostMessage | None = None) -> PlantState:
        """Advance to ``now_ns`` and apply ``message``; time never runs backwards here."""
        while self._t < now_ns:
            dt_ns = min(CONTROL_PERIOD_NS, now_ns - self._t)
            self._t += dt_ns
            self._supervise()
            self._integrate(dt_ns / 1e9)
        reply = None if message is None else self._apply(message)
        return self.state(reply)

    def state(self, reply: ErrorCode | None = None) -> PlantState:
        """The current state without advancing time."""
        target = self._target()
        return PlantState(
            time_ns=self._t,
            linear_mps=self._v,
            angular_radps=self._w,
            target_linear_mps=target[0],
            target_angular_radps=target[1],
            left_ticks=math.floor(self._left_ticks),
            right_ticks=math.floor(self._right_ticks),
            left_m=self._left_m,
            right_m=self._right_m,
            battery_v=self._voltage(),
            current_a=self._current,
            soc=self._soc,
            motor_temp_left_c=self._temps[0],
            motor_temp_right_c=self._temps[1],
            faults=self._faults(),
            flags=self._flags(),
            joystick_x=self._joystick[0],
            joystick_y=self._joystick[1],
            seat_load_kg=self._seat_load_kg,
            reply=reply,
        )

    def _seat_occupied(self) -> bool:
        return self._seat_load_kg * 10 >= self._settings.seat_occupied_dkg

    def _interlocked(self) -> bool:
        return self._settings.refuse_unbelted and self._seat_occupied() and not self._belt_closed

    def _moving(self) -> bool:
        return abs(self._v) > STANDSTILL_MPS or abs(self._w) > STANDSTILL_MPS

    def _faults(self) -> Fault:
        faults = self._latched | self._overtemp
        if self._soc <= self._battery.critical_soc:
            faults |= Fault.BATTERY_CRITICAL
        return faults

    def _flags(self) -> StatusFlag:
        flags = StatusFlag.NONE
        if self._armed:
            flags |= StatusFlag.ARMED
        if self._estop:
            flags |= StatusFlag.ESTOP
        if self._joystick_engaged:
            flags |= StatusFlag.JOYSTICK_OVERRIDE
        if self._seat_occupied():
            flags |= StatusFlag.SEAT_OCCUPIED
        if self._belt_closed:
            flags |= StatusFlag.BELT_CLOSED
        if self._interlocked():
            flags |= StatusFlag.MOTION_REFUSED
        if self._braking:
            flags |= StatusFlag.BRAKING
        if self._configured:
            flags |= StatusFlag.CONFIGURED
        return flags

    def _disarm(self, fault: Fault) -> None:
        self._armed = False
        self._latched |= fault
        self._commanded = (0.0, 0.0)

    def _supervise(self) -> None:
        if self._interlocked() or self._overtemp:
            # A held command is dropped, not paused: a belt that bounces closed, or a motor
            # that cools, must not resume motion without a new DRIVE.
            self._commanded = (0.0, 0.0)
        if not self._armed:
            return
        s = self._settings
        if self._t - self._last_frame_ns > s.link_timeout_ms * 1_000_000:
            self._disarm(Fault.LINK_LOST)
            return
        silent = self._t - self._last_drive_ns > s.drive_timeout_ms * 1_000_000
        if not self._joystick_engaged and self._commanded != (0.0, 0.0) and silent:
            self._disarm(Fault.DRIVE_TIMEOUT)

    def _target(self) -> tuple[float, float]:
        s = self._settings
        if self._estop or self._overtemp:
            return 0.0, 0.0
        if self._joystick_engaged:
            x, y = self._joystick
            if abs(x) < JOYSTICK_DEADZONE:
                x = 0.0
            if abs(y) < JOYSTICK_DEADZONE:
                y = 0.0
            return y * s.manual_max_linear_mps, -x * s.max_angular_radps
        if not self._armed or self._interlocked():
            return 0.0, 0.0
        return self._commanded

    def _integrate(self, dt: float) -> None:
        s = self._settings
        target_v, target_w = self._target()
        # Emergency braking only for a stop the chair did not plan: e-stop, lost host, a fault.
        # A refused or zero command stops at the normal deceleration, kinder to an unbelted rider.
        emergency = self._estop or (
            not self._armed and not self._joystick_engaged and bool(self._latched)
        )
        linear_rate = s.emergency_decel_mps2 if emergency else s.max_linear_accel_mps2
        angular_rate = 2.0 * s.max_angular_accel_radps2 if emergency else s.max_angular_accel_radps2
        v0, w0 = self._v, self._w
        self._v = _ramp(self._v, target_v, linear_rate, dt)
        self._w = _ramp(self._w, target_w, angular_rate, dt)
        self._braking = target_v == 0.0 and target_w == 0.0 and self._moving()
        left, right = wheel_speeds(self._v, self._w, s.wheel_separation_m)
        left0, right0 = wheel_speeds(v0, w0, s.wheel_separation_m)
        ticks_per_m = s.ticks_per_rev / (2.0 * math.pi * s.wheel_radius_m)
        left_step = (left + left0) / 2.0 * dt
        right_step = (right + right0) / 2.0 * dt
        self._left_m += left_step
        self._right_m += right_step
        self._left_ticks += left_step * ticks_per_m
        self._right_ticks += right_step * ticks_per_m
        self._update_power(v0, dt)

    def _update_power(self, v0: float, dt: float) -> None:
        b = self._battery
        mass = b.chair_mass_kg + self._seat_load_kg
        accel = (self._v - v0) / dt if dt > 0 else 0.0
        rolling_w = b.rolling_coefficient * mass * GRAVITY * abs(self._v)
        accel_w = max(0.0, mass * accel * self._v)
        turning_w = b.turning_w_per_radps * abs(self._w)
        motor_a = (rolling_w + accel_w + turning_w) / (b.efficiency * self._voltage())
        self._current = b.idle_a + motor_a
        self._soc = max(0.0, self._soc - self._current * dt / (3600.0 * b.capacity_ah))
        per_motor = motor_a / 2.0
        # First-order thermal model: 0.8 degC per A^2 at equilibrium, 300 s time constant.
        for i in range(2):
            equilibrium = self._ambient_c + 0.8 * per_motor * per_motor
            self._temps[i] += (equilibrium - self._temps[i]) * min(1.0, dt / 300.0)
        self._update_overtemp()

    def _update_overtemp(self) -> None:
        for i, bit in enumerate((Fault.OVERTEMP_LEFT, Fault.OVERTEMP_RIGHT)):
            if self._temps[i] >= OVERTEMP_SET_C:
                self._overtemp |= bit
            elif self._temps[i] <= OVERTEMP_CLEAR_C:
                self._overtemp &= ~bit

    def _voltage(self) -> float:
        b = self._battery
        ocv = b.empty_v + (b.full_v - b.empty_v) * self._soc
        return ocv - self._current * b.internal_ohm

    def _apply(self, message: HostMessage) -> ErrorCode:
        self._last_frame_ns = self._t
        match message:
            case Drive():
                return self._drive(message)
            case Heartbeat():
                return ErrorCode.OK
            case EstopSet():
                self._estop = True
                self._armed = False
                self._commanded = (0.0, 0.0)
                return ErrorCode.OK
            case EstopClear():
                self._estop = False
                return ErrorCode.OK
            case Rearm():
                return self._rearm()
            case Configure():
                return self._configure(message)
        return ErrorCode.UNKNOWN_TYPE

    def _drive(self, message: Drive) -> ErrorCode:
        if not (math.isfinite(message.linear_mps) and math.isfinite(message.angular_radps)):
            return ErrorCode.BAD_VALUE
        self._last_drive_ns = self._t
        if self._estop:
            return ErrorCode.ESTOP_ACTIVE
        if self._joystick_engaged:
            return ErrorCode.JOYSTICK_OVERRIDE
        if not self._armed:
            return ErrorCode.NOT_ARMED
        if self._overtemp:
            self._commanded = (0.0, 0.0)
            return ErrorCode.FAULT_ACTIVE
        if self._interlocked():
            self._commanded = (0.0, 0.0)
            return ErrorCode.MOTION_REFUSED
        s = self._settings
        self._commanded = (
            _clamp(message.linear_mps, s.max_linear_mps),
            _clamp(message.angular_radps, s.max_angular_radps),
        )
        return ErrorCode.OK

    def _rearm(self) -> ErrorCode:
        if self._estop:
            return ErrorCode.ESTOP_ACTIVE
        if self._overtemp:
            return ErrorCode.FAULT_ACTIVE
        if not self._configured:
            return ErrorCode.NOT_CONFIGURED
        self._armed = True
        self._latched &= ~LATCHED_FAULTS
        self._commanded = (0.0, 0.0)
        self._last_drive_ns = self._t
        return ErrorCode.OK

    def _configure(self, message: Configure) -> ErrorCode:
        if self._moving():
            return ErrorCode.BUSY
        if message.problems():
            return ErrorCode.BAD_VALUE
        self._settings = message
        self._configured = True
        return ErrorCode.OK
