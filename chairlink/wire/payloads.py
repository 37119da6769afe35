"""Payloads of the wire contract: versioned pydantic models, JSON on the wire.

Every uplink message carries the schema version, the chair id, its channel, a sequence number
per (chair, channel) that survives restarts, and the edge timestamp. Receivers order by the
sequence number and de-duplicate on (chair, channel, seq); the state channel is ordered by its
incarnation instead (``chairlink.wire.presence``). Fields at their defaults (flags
that are off, empty lists) are left out on the wire to keep a vitals message under 200 bytes;
decoding puts them back. docs/mqtt-contract.md shows an example of each.

The contract grows additively within a version: a receiver ignores fields it does not know
(``decode_uplink`` and ``decode_command`` do), while a sender's own models refuse them, so a
misspelt field fails where it is written rather than vanishing on the other side. A field
whose meaning a receiver must not miss (anything that could move the chair) comes with a new
``v`` instead.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from chairlink.errors import ChairlinkError
from chairlink.wire.topics import Channel, CommandKind

__all__ = [
    "SCHEMA_VERSION",
    "CancelCommand",
    "Command",
    "CommandAck",
    "CommandHead",
    "ConfigCommand",
    "EventMessage",
    "PatientMessage",
    "PayloadError",
    "SafetyMessage",
    "StateMessage",
    "StopCommand",
    "TripCommand",
    "TripMessage",
    "UplinkMessage",
    "VehicleMessage",
    "VehicleMode",
    "VehicleSample",
    "decode_command",
    "decode_uplink",
    "describe",
    "encode",
    "read_command_head",
]

SCHEMA_VERSION = 1

Id = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
PatientToken = Annotated[str, Field(pattern=r"^pt-[a-z0-9]{4,40}$")]
"""A pseudonymous patient token: never a name or a record number."""
_COMMAND_ID = r"^[A-Za-z0-9_.:-]{1,64}$"
CommandId = Annotated[str, Field(pattern=_COMMAND_ID)]


class PayloadError(ChairlinkError):
    """A payload that is not JSON or breaks the contract; the message says what is wrong."""


class _Payload(BaseModel):
    # NaN and infinity have no JSON: pydantic would write null, which the schema then refuses
    # on the other side, after the broker has already acknowledged the message.
    model_config = ConfigDict(
        frozen=True, extra="forbid", use_attribute_docstrings=True, allow_inf_nan=False
    )


class _Uplink(_Payload):
    v: Literal[1]
    """Schema version."""
    chair: Id
    seq: Annotated[int, Field(ge=0)]
    """Per (chair, channel), strictly increasing, kept across restarts."""
    stamp_ns: Annotated[int, Field(ge=0)]
    """Edge time the message was made, ns since the Unix epoch (UTC)."""


class StateMessage(_Uplink):
    """Whether the chair's agent is online, and how its backlog stands.

    Retained: the birth message on connect, the last will ``offline`` when the link dies.
    Ordered by ``incarnation``, not by ``seq`` (``chairlink.wire.presence``).
    """

    channel: Literal[Channel.STATE]
    status: Literal["online", "offline"]
    incarnation: Annotated[int, Field(ge=0)] = 0
    """The connection this state is about: from 1, strictly increasing across the chair's
    connections and restarts (kept in its outbox); its last will carries the same number.
    0 (left out) from senders that predate it."""
    backlog: Annotated[int, Field(ge=0)] = 0
    """Messages still waiting in the outbox."""
    drained: bool = False
    """True once the backlog has been sent: a receiver may count gaps in what came before."""
    last_seq: dict[Channel, int] = {}
    """The last sequence number given out per channel, for a receiver's gap count."""


VehicleMode = Literal["idle", "manual", "autonomous", "estop", "fault", "charging"]
"""What the chair is doing, most severe first when several hold."""


class VehicleSample(_Payload):
    """The chair at one instant."""

    stamp_ns: Annotated[int, Field(ge=0)]
    x_m: float
    y_m: float
    yaw_rad: float
    speed_mps: float
    turn_radps: float = 0.0
    battery_pct: Annotated[float, Field(ge=0, le=100)] | None
    """None when the MCU reports no valid state of charge."""
    mode: VehicleMode
    faults: list[str] = []


class VehicleMessage(_Uplink):
    """Vehicle samples in a batch, or a tombstone for samples the outbox had to drop."""

    channel: Literal[Channel.VEHICLE]
    samples: list[VehicleSample] = []
    thinned_through: Annotated[int, Field(ge=0)] | None = None
    """A tombstone: sequence numbers from ``seq`` through this one were dropped on the chair
    when its outbox was full, so a receiver counts no gap there."""


Perfusion = Literal["unknown", "good", "marginal", "low"]


class PatientMessage(_Uplink):
    """One vitals reading (1 Hz) of the patient on the chair."""

    channel: Literal[Channel.PATIENT]
    patient: PatientToken
    spo2_pct: Annotated[float, Field(ge=0, le=100)] | None = None
    """None when the oximeter has no valid reading."""
    pulse_bpm: Annotated[float, Field(ge=0, le=511)] | None = None
    perfusion: Perfusion = "unknown"
    probe_off: bool = False
    artifact: bool = False
    out_of_track: bool = False
    stale: bool = False
    doubtful: bool = False
    """The oximeter's last packet arrived corrupted (its copies disagreed): no numbers."""


class SafetyMessage(_Uplink):
    """The safety layer's state: on every change, and at a low rate between."""

    channel: Literal[Channel.SAFETY]
    state: Literal["clear", "slow", "stop", "estop"]
    reason: str = ""
    clearance_m: float | None = None


class CommandAck(_Payload):
    """A chair's answer to a command: accepted or refused, and why."""

    command_id: CommandId
    kind: CommandKind
    accepted: bool
    reason: str = ""
    duplicate: bool = False
    """The command id was seen before; the first answer stands and nothing was done again."""


class TripMessage(_Uplink):
    """Trip progress, and the acknowledgements of trip and cancel commands."""

    channel: Literal[Channel.TRIP]
    trip_id: CommandId
    event: Literal["accepted", "refused", "started", "arrived", "cancelled", "failed", "expired"]
    detail: str = ""
    ack: CommandAck | None = None


class EventMessage(_Uplink):
    """An alarm or incident raised on the chair, or a command acknowledgement."""

    channel: Literal[Channel.EVENT]
    event_id: CommandId
    kind: Literal["alarm", "incident", "command"]
    code: Annotated[str, Field(pattern=r"^[a-z0-9_]{1,48}$")]
    """What happened, e.g. ``spo2_low``, ``outbox_full``, ``estop``."""
    priority: Literal["high", "medium", "low"] = "medium"
    """IEC 60601-1-8 alarm priority."""
    message: str = ""
    raised_offline: bool = False
    """Raised while the link was down, shown on the chair and sent when it came back."""
    patient: PatientToken | None = None
    ack: CommandAck | None = None


UplinkMessage = (
    StateMessage | VehicleMessage | PatientMessage | SafetyMessage | TripMessage | EventMessage
)


class _Command(_Payload):
    v: Literal[1]
    command_id: CommandId
    """Unique per command: a repeat with the same id is acknowledged and not acted on again."""
    chair: Id
    issued_ns: Annotated[int, Field(ge=0)]


class TripCommand(_Command):
    """Take a patient (or nobody) from one waypoint to another."""

    kind: Literal[CommandKind.TRIP]
    trip_id: CommandId
    origin: Annotated[str, Field(min_length=1, max_length=64)]
    destination: Annotated[str, Field(min_length=1, max_length=64)]
    patient: PatientToken | None = None
    priority: Literal["routine", "urgent"] = "routine"


class CancelCommand(_Command):
    """Cancel a trip."""

    kind: Literal[CommandKind.CANCEL]
    trip_id: CommandId


class StopCommand(_Command):
    """Stop the chair now, through its e-stop path. Never expires."""

    kind: Literal[CommandKind.STOP]
    reason: Annotated[str, Field(max_length=200)] = ""


class ConfigCommand(_Command):
    """Change run-time parameters, by their dotted ROS names (only the dynamic ones)."""

    kind: Literal[CommandKind.CONFIG]
    changes: Annotated[dict[str, float | int | bool | str], Field(min_length=1)]


Command = TripCommand | CancelCommand | StopCommand | ConfigCommand

_UPLINK: TypeAdapter[UplinkMessage] = TypeAdapter(
    Annotated[UplinkMessage, Field(discriminator="channel")]
)
_COMMAND: TypeAdapter[Command] = TypeAdapter(Annotated[Command, Field(discriminator="kind")])
T = TypeVar("T")


def encode(message: BaseModel) -> bytes:
    """Compact JSON of a payload, fields at their defaults left out."""
    return message.model_dump_json(exclude_defaults=True).encode("utf-8")


def _decode(adapter: TypeAdapter[T], data: bytes, what: str) -> T:
    try:
        raw = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise PayloadError(f"{what}: not JSON: {err}") from err
    except (RecursionError, ValueError) as err:
        # Nesting deeper than the parser's stack, or an integer of thousands of digits.
        raise PayloadError(f"{what}: not acceptable JSON: {str(err)[:200]}") from err
    try:
        # Newer v1 senders may add fields: ignored here, refused when building a payload.
        return adapter.validate_python(raw, extra="ignore")
    except ValidationError as err:
        raise PayloadError(f"{what}: {describe(err)}") from err
    except RecursionError as err:
        raise PayloadError(f"{what}: nested too deep") from err


def describe(err: ValidationError) -> str:
    """Every problem of a validation error as ``field: what is wrong``, in one line."""
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'payload'}: {e['msg']}" for e in err.errors()
    )


def decode_uplink(data: bytes) -> UplinkMessage:
    """An uplink message from its bytes.

    Raises:
        PayloadError: not JSON, or a field is missing or wrong (named in the message).
    """
    return _decode(_UPLINK, data, "uplink payload")


def decode_command(data: bytes) -> Command:
    """A downlink command from its bytes.

    Raises:
        PayloadError: not JSON, or a field is missing or wrong (named in the message).
    """
    return _decode(_COMMAND, data, "command")


@dataclass(frozen=True, slots=True)
class CommandHead:
    """What a lenient read makes out of a command that does not decode: enough to answer it
    so that the monitor can match the answer to what it sent. None where it cannot be read."""

    command_id: str | None
    """The payload's ``command_id``, if it is a string of the contract's id alphabet."""
    kind: CommandKind | None
    """The payload's ``kind``, if it is one of the contract's command kinds."""
    trip_id: str | None
    """The payload's ``trip_id`` (trips and cancels), read as ``command_id`` is."""


def read_command_head(data: bytes) -> CommandHead:
    """The id, kind and trip id of a command payload, each as far as it can be read; never
    raises. For answering a payload that ``decode_command`` refused: the chair and the monitor
    read a broken command the same way."""
    try:
        raw = json.loads(data)
    except (UnicodeDecodeError, RecursionError, ValueError):
        # Not JSON (JSONDecodeError is a ValueError), nested past the parser's stack, or an
        # integer of thousands of digits.
        return CommandHead(None, None, None)
    if not isinstance(raw, dict):
        return CommandHead(None, None, None)

    def an_id(name: str) -> str | None:
        value = raw.get(name)
        # fullmatch: ``$`` alone would let a trailing newline through, which pydantic does not.
        return value if isinstance(value, str) and re.fullmatch(_COMMAND_ID, value) else None

    kind = raw.get("kind")
    known = {k.value: k for k in CommandKind}
    return CommandHead(
        an_id("command_id"), known.get(kind) if isinstance(kind, str) else None, an_id("trip_id")
    )
