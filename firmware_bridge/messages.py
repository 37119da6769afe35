"""The messages of the host <-> motor MCU protocol, one frozen dataclass each.

Fields are in wire units (the units docs/firmware-protocol.md gives), so a message round-trips
through its body exactly; properties convert to SI where the wire unit is not SI. Bodies are
little-endian. A body longer than its message knows is accepted and the tail ignored, so a newer
minor protocol version can append fields.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from enum import IntEnum, IntFlag
from typing import ClassVar, Self

from firmware_bridge.errors import EncodeError

__all__ = [
    "MESSAGE_TYPES",
    "Ack",
    "Configure",
    "Drive",
    "ErrorCode",
    "EstopClear",
    "EstopReason",
    "EstopSet",
    "Fault",
    "Heartbeat",
    "HostMessage",
    "McuMessage",
    "Message",
    "MessageType",
    "Odometry",
    "Rearm",
    "Status",
    "StatusFlag",
    "check_drive",
    "error_name",
]


class MessageType(IntEnum):
    """The type byte of the frame header. Host -> MCU below 0x80, MCU -> host from 0x80."""

    DRIVE = 0x01
    HEARTBEAT = 0x02
    ESTOP_SET = 0x03
    ESTOP_CLEAR = 0x04
    REARM = 0x05
    CONFIGURE = 0x06
    ODOMETRY = 0x81
    STATUS = 0x82
    ACK = 0x83


class ErrorCode(IntEnum):
    """What an ACK says of the frame it answers."""

    OK = 0
    VERSION_MISMATCH = 1
    UNKNOWN_TYPE = 2
    BAD_LENGTH = 3
    BAD_VALUE = 4
    NOT_ARMED = 5
    ESTOP_ACTIVE = 6
    JOYSTICK_OVERRIDE = 7
    MOTION_REFUSED = 8
    FAULT_ACTIVE = 9
    BUSY = 10
    NOT_CONFIGURED = 11


def error_name(code: int) -> str:
    """The name of an ACK's error code; a code this side does not know (a newer MCU) is
    named by number rather than raising."""
    try:
        return ErrorCode(code).name
    except ValueError:
        return f"code_{code}"


class Fault(IntFlag):
    """Fault bits of STATUS. DRIVE_TIMEOUT and LINK_LOST latch until a REARM."""

    NONE = 0
    DRIVE_TIMEOUT = 0x0001
    LINK_LOST = 0x0002
    OVERTEMP_LEFT = 0x0004
    OVERTEMP_RIGHT = 0x0008
    BATTERY_CRITICAL = 0x0010


class StatusFlag(IntFlag):
    """State bits of STATUS."""

    NONE = 0
    ARMED = 0x0001
    ESTOP = 0x0002
    JOYSTICK_OVERRIDE = 0x0004
    SEAT_OCCUPIED = 0x0008
    BELT_CLOSED = 0x0010
    MOTION_REFUSED = 0x0020
    BRAKING = 0x0040
    CONFIGURED = 0x0080


class EstopReason(IntEnum):
    """Why the host set the e-stop (recorded by the MCU, shown in logs)."""

    HOST_REQUEST = 1
    SAFETY_MONITOR = 2
    REMOTE = 3
    OPERATOR = 4
    SHUTDOWN = 5


def _check_finite(name: str, value: float) -> None:
    if not math.isfinite(value):
        raise EncodeError(f"{name} must be finite, got {value}")


@dataclass(frozen=True, slots=True)
class _Message:
    TYPE: ClassVar[MessageType]
    LAYOUT: ClassVar[struct.Struct]

    def pack(self) -> bytes:
        """The message body in wire layout."""
        try:
            return self.LAYOUT.pack(*self._fields())
        except struct.error as err:
            raise EncodeError(f"{type(self).__name__}: {err}") from err
        except OverflowError as err:
            raise EncodeError(
                f"{type(self).__name__}: a value exceeds its wire type: {err}"
            ) from err

    def _fields(self) -> tuple[int | float, ...]:
        names: tuple[str, ...] = self.__slots__
        return tuple(getattr(self, name) for name in names)

    @classmethod
    def unpack(cls, body: bytes) -> Self:
        """Build the message from a body; raises ValueError when the body is too short."""
        size = cls.LAYOUT.size
        if len(body) < size:
            raise ValueError(f"{cls.__name__} body needs {size} bytes, got {len(body)}")
        return cls(*cls.LAYOUT.unpack_from(body))


@dataclass(frozen=True, slots=True)
class Drive(_Message):
    """Host -> MCU: the velocity to drive at, m/s and rad/s (float32). Refreshed at a fixed rate."""

    TYPE: ClassVar[MessageType] = MessageType.DRIVE
    LAYOUT: ClassVar[struct.Struct] = struct.Struct("<ff")

    linear_mps: float
    angular_radps: float


@dataclass(frozen=True, slots=True)
class Heartbeat(_Message):
    """Host -> MCU: keeps the link alive (never the motion). host_time_ms wraps at 2**32."""

    TYPE: ClassVar[MessageType] = MessageType.HEARTBEAT
    LAYOUT: ClassVar[struct.Struct] = struct.Struct("<I")

    host_time_ms: int = 0


@dataclass(frozen=True, slots=True)
class EstopSet(_Message):
    """Host -> MCU: brake now and stay braked until ESTOP_CLEAR and REARM."""

    TYPE: ClassVar[MessageType] = MessageType.ESTOP_SET
    LAYOUT: ClassVar[struct.Struct] = struct.Struct("<B")

    reason: int = EstopReason.HOST_REQUEST


@dataclass(frozen=True, slots=True)
class EstopClear(_Message):
    """Host -> MCU: release the e-stop. The chair stays disarmed until REARM."""

    TYPE: ClassVar[MessageType] = MessageType.ESTOP_CLEAR
    LAYOUT: ClassVar[struct.Struct] = struct.Struct("<")


@dataclass(frozen=True, slots=True)
class Rearm(_Message):
    """Host -> MCU: clear latched faults and accept drive commands again."""

    TYPE: ClassVar[MessageType] = MessageType.REARM
    LAYOUT: ClassVar[struct.Struct] = struct.Struct("<")


@dataclass(frozen=True, slots=True)
class Configure(_Message):
    """Host -> MCU: timeouts, limits and wheel geometry. Accepted only while stationary."""

    TYPE: ClassVar[MessageType] = MessageType.CONFIGURE
    LAYOUT: ClassVar[struct.Struct] = struct.Struct("<HHffffffffHHB")
    FLAG_REFUSE_UNBELTED: ClassVar[int] = 0x01

    drive_timeout_ms: int = 200
    link_timeout_ms: int = 500
    max_linear_mps: float = 1.1
    max_angular_radps: float = 0.8
    max_linear_accel_mps2: float = 0.5
    max_angular_accel_radps2: float = 1.0
    emergency_decel_mps2: float = 1.2
    manual_max_linear_mps: float = 0.8
    wheel_radius_m: float = 0.17
    wheel_separation_m: float = 0.56
    ticks_per_rev: int = 4096
    seat_occupied_dkg: int = 200
    flags: int = FLAG_REFUSE_UNBELTED

    @property
    def refuse_unbelted(self) -> bool:
        """Whether the MCU refuses autonomous motion with the seat occupied and the belt open."""
        return bool(self.flags & self.FLAG_REFUSE_UNBELTED)

    def problems(self) -> list[str]:
        """What the MCU refuses in this configuration (empty when valid)."""
        found: list[str] = []
        if not 50 <= self.drive_timeout_ms <= 1000:
            found.append(f"drive_timeout_ms {self.drive_timeout_ms} outside 50..1000")
        if not 100 <= self.link_timeout_ms <= 5000:
            found.append(f"link_timeout_ms {self.link_timeout_ms} outside 100..5000")
        positive = (
            "max_linear_mps",
            "max_angular_radps",
            "max_linear_accel_mps2",
            "max_angular_accel_radps2",
            "emergency_decel_mps2",
            "manual_max_linear_mps",
            "wheel_radius_m",
            "wheel_separation_m",
        )
        for name in positive:
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                found.append(f"{name} must be a positive finite number, got {value}")
        if self.ticks_per_rev < 16:
            found.append(f"ticks_per_rev {self.ticks_per_rev} below 16")
        if self.flags & ~self.FLAG_REFUSE_UNBELTED:
            found.append(f"flags {self.flags:#04x} set reserved bits")
        return found


@dataclass(frozen=True, slots=True)
class Odometry(_Message):
    """MCU -> host: cumulative encoder ticks (wrapping int32) and the interval since the last."""

    TYPE: ClassVar[MessageType] = MessageType.ODOMETRY
    LAYOUT: ClassVar[struct.Struct] = struct.Struct("<iiII")

    left_ticks: int
    right_ticks: int
    interval_us: int
    mcu_time_ms: int


@dataclass(frozen=True, slots=True)
class Status(_Message):
    """MCU -> host: battery, motors, faults, joystick and seat, at 10 Hz and on every change."""

    TYPE: ClassVar[MessageType] = MessageType.STATUS
    LAYOUT: ClassVar[struct.Struct] = struct.Struct("<HiBhhHHbbH")

    battery_mv: int
    current_ma: int
    soc_pct: int
    motor_temp_left_dc: int
    motor_temp_right_dc: int
    faults: int
    flags: int
    joystick_x_pct: int
    joystick_y_pct: int
    seat_load_dkg: int

    @property
    def battery_v(self) -> float:
        """Battery voltage in volts."""
        return self.battery_mv / 1000.0

    @property
    def current_a(self) -> float:
        """Battery current in amperes, positive when discharging."""
        return self.current_ma / 1000.0

    @property
    def seat_load_kg(self) -> float:
        """Load on the seat sensor in kilograms."""
        return self.seat_load_dkg / 10.0

    @property
    def fault(self) -> Fault:
        """The fault bits as flags."""
        return Fault(self.faults)

    @property
    def flag(self) -> StatusFlag:
        """The state bits as flags."""
        return StatusFlag(self.flags)


@dataclass(frozen=True, slots=True)
class Ack(_Message):
    """MCU -> host: the answer to every host frame whose CRC was good."""

    TYPE: ClassVar[MessageType] = MessageType.ACK
    LAYOUT: ClassVar[struct.Struct] = struct.Struct("<BHB")

    acked_type: int
    acked_seq: int
    error: int = ErrorCode.OK


HostMessage = Drive | Heartbeat | EstopSet | EstopClear | Rearm | Configure
McuMessage = Odometry | Status | Ack
Message = HostMessage | McuMessage

MESSAGE_TYPES: dict[int, type[Message]] = {
    cls.TYPE: cls
    for cls in (Drive, Heartbeat, EstopSet, EstopClear, Rearm, Configure, Odometry, Status, Ack)
}


def check_drive(message: Drive) -> None:
    """Raise EncodeError for a drive command no MCU may act on (NaN or infinite)."""
    _check_finite("linear_mps", message.linear_mps)
    _check_finite("angular_radps", message.angular_radps)
