"""The chair configuration (chair.yaml): one pydantic schema, validated at load.

Every value has a default that works on the simulator, so an empty file is a valid chair.
Defaults that matter for safety cite ../docs/firmware-protocol.md and docs/hazards.md, which
give their sources; the MCU receives its part over the protocol's CONFIG message, so wheel
geometry and limits live here and nowhere else.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from chairlink.errors import ConfigError
from chairlink.geometry import CameraConfig, FootprintConfig, LidarConfig
from chairlink.yaml_file import read_yaml

__all__ = [
    "CameraConfig",
    "ChairConfig",
    "DriveLimits",
    "FirmwareConfig",
    "FootprintConfig",
    "IdentityConfig",
    "LidarConfig",
    "OximeterConfig",
    "RosConfig",
    "TelemetryConfig",
    "WheelGeometry",
    "load_chair_config",
    "outbox_file",
    "trip_file",
]

PositiveFloat = Annotated[float, Field(gt=0, allow_inf_nan=False)]


class _Frozen(BaseModel):
    # Attribute docstrings become field descriptions: `chairlink config show`, the generated ROS
    # params and the nodes' parameter descriptors all read them.
    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)


class IdentityConfig(_Frozen):
    """Who this chair is: its id and the site it serves (both appear in MQTT topics)."""

    chair_id: str = Field(default="chair-01", pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    """Chair id, lower-case letters, digits and dashes; used in MQTT topics and ROS namespaces."""

    site: str = Field(default="demo-hospital", pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    """Site (hospital) id, same alphabet as chair_id."""


class DriveLimits(_Frozen):
    """Motion limits the MCU enforces whatever the host asks.

    1.1 m/s is a walking-pace autonomous speed (WHILL's airport service runs at about 4 km/h,
    below the 1.32 m/s mean pedestrian speed); the accelerations are conservative picks that no
    source fixes yet (docs/hazards.md, H-03).
    """

    max_linear_mps: Annotated[float, Field(gt=0, le=4.17)] = 1.1
    """Top autonomous speed, m/s (ISO 7176 scope ends at 4.17 m/s)."""

    max_angular_radps: Annotated[float, Field(gt=0, le=3.0)] = 0.8
    """Top turn rate, rad/s."""

    max_linear_accel_mps2: Annotated[float, Field(gt=0, le=3.0)] = 0.5
    """Acceleration and planned deceleration, m/s^2."""

    max_angular_accel_radps2: Annotated[float, Field(gt=0, le=6.0)] = 1.0
    """Angular acceleration, rad/s^2."""

    emergency_decel_mps2: Annotated[float, Field(gt=0, le=3.0)] = 1.2
    """Deceleration of unplanned stops (e-stop, timeouts), m/s^2."""

    manual_max_linear_mps: Annotated[float, Field(gt=0, le=4.17)] = 0.8
    """Speed at full deflection of the attendant's joystick, m/s."""


class WheelGeometry(_Frozen):
    """Differential-drive geometry: drive-wheel radius, track width, encoder resolution."""

    radius_m: Annotated[float, Field(gt=0.05, le=0.5)] = 0.17
    """Drive wheel radius, m."""

    separation_m: Annotated[float, Field(gt=0.2, le=1.2)] = 0.56
    """Distance between the drive wheels' contact points, m."""

    ticks_per_rev: Annotated[int, Field(ge=16, le=65535)] = 4096
    """Encoder ticks per wheel revolution."""


class FirmwareConfig(_Frozen):
    """The serial link to the motor MCU and the rules the MCU is configured with."""

    port: str = "/dev/ttyACM0"
    """Serial device of the motor MCU; prefer its /dev/serial/by-id/ name."""

    baud: Annotated[int, Field(ge=9600, le=4_000_000)] = 115200
    """Baud rate (8N1)."""

    drive_timeout_s: Annotated[float, Field(ge=0.05, le=1.0)] = 0.2
    """The MCU brakes and latches a fault when no drive command arrives for this long, s."""

    mcu_link_timeout_s: Annotated[float, Field(ge=0.1, le=5.0)] = 0.5
    """The MCU disarms when no frame at all arrives for this long while armed, s."""

    host_link_timeout_s: Annotated[float, Field(ge=0.05, le=5.0)] = 0.3
    """The host declares the link dead and reconnects after this long without a frame, s."""

    drive_refresh_hz: Annotated[float, Field(ge=5, le=200)] = 20.0
    """Rate at which the host repeats the current drive command, Hz."""

    heartbeat_hz: Annotated[float, Field(ge=1, le=100)] = 5.0
    """Heartbeat rate while nothing else is sent, Hz."""

    command_timeout_s: Annotated[float, Field(gt=0, le=5.0)] = 0.5
    """The driver replaces a command not renewed for this long by zero, s."""

    reconnect_min_s: PositiveFloat = 0.05
    """First delay before reopening a failed port, s; doubles per failure."""

    reconnect_max_s: PositiveFloat = 2.0
    """Cap of the reopen delay, s."""

    seat_occupied_kg: Annotated[float, Field(ge=1, le=100)] = 20.0
    """Seat load from which the seat counts as occupied, kg."""

    refuse_unbelted: bool = True
    """Refuse autonomous motion with the seat occupied and the belt open."""

    limits: DriveLimits = DriveLimits()
    """Motion limits the MCU enforces."""

    wheels: WheelGeometry = WheelGeometry()
    """Wheel geometry for the MCU's ticks and the host's odometry."""

    @model_validator(mode="after")
    def _check_timing(self) -> FirmwareConfig:
        # Three refreshes per timeout: the driver's refresh can run a quarter period late, and
        # one lost frame must not trip the MCU's watchdog.
        refresh_period = 1.0 / self.drive_refresh_hz
        if refresh_period * 3 > self.drive_timeout_s + 1e-9:
            raise ValueError(
                f"drive_refresh_hz {self.drive_refresh_hz} is too slow for drive_timeout_s "
                f"{self.drive_timeout_s}: at least three refreshes must fit in one timeout"
            )
        if 1.0 / self.heartbeat_hz >= self.mcu_link_timeout_s:
            raise ValueError(
                f"heartbeat_hz {self.heartbeat_hz} is too slow for mcu_link_timeout_s "
                f"{self.mcu_link_timeout_s}: the MCU would drop a live link"
            )
        if self.reconnect_min_s > self.reconnect_max_s:
            raise ValueError("reconnect_min_s must not exceed reconnect_max_s")
        return self


class RosConfig(_Frozen):
    """What the ROS 2 nodes add: topic behaviour and frames."""

    cmd_vel_timeout_s: Annotated[float, Field(ge=0.05, le=2.0)] = 0.25
    """The bridge node commands zero when /cmd_vel was silent this long (steady clock), s."""

    cmd_vel_stamped: bool = True
    """/cmd_vel carries geometry_msgs/TwistStamped (as Nav2 on Jazzy); false for plain Twist."""

    map_frame: str = Field(default="map", min_length=1)
    """Frame of the site's map (the simulator publishes map -> odom; on a chair, the localiser)."""

    odom_frame: str = Field(default="odom", min_length=1)
    """Frame id of /odom's pose."""

    base_frame: str = Field(default="base_link", min_length=1)
    """Frame id of the chair's body (/odom's child frame)."""

    diagnostics_hz: Annotated[float, Field(gt=0, le=10)] = 1.0
    """Rate of /diagnostics, Hz."""


class TelemetryConfig(_Frozen):
    """The telemetry agent: broker, credentials, outbox and rates (docs/telemetry.md)."""

    broker_host: str = Field(default="localhost", min_length=1)
    """MQTT broker host name or address."""

    broker_port: Annotated[int, Field(ge=1, le=65535)] = 1883
    """MQTT broker port (the repo's broker: 8883 with TLS for chairs, 1883 on loopback only)."""

    username: str = ""
    """MQTT user name; empty means the chair id, as the broker's ACL expects."""

    password_file: str = ""
    """File holding the MQTT password (from `chairlink broker users`); empty for none. The
    repo's broker takes passwords on its loopback listener only; chairs use TLS certificates."""

    tls_ca_file: str = ""
    """CA certificate that signed the broker's; set to connect over TLS."""

    tls_cert_file: str = ""
    """Client certificate, for brokers that authenticate chairs by certificate."""

    tls_key_file: str = ""
    """Private key of the client certificate."""

    keepalive_s: Annotated[int, Field(ge=2, le=600)] = 10
    """MQTT keep-alive; the broker publishes the last will after 1.5 times this of silence."""

    session_expiry_s: Annotated[int, Field(ge=60, le=604800)] = 86400
    """How long the broker keeps the chair's session (subscriptions, queued commands)."""

    will_delay_s: Annotated[int, Field(ge=0, le=300)] = 5
    """MQTT 5 Will Delay Interval: the broker holds the last will ``offline`` back this long
    after the link dies, and drops it if the chair resumes its session meanwhile. 5 s covers
    the agent's first two reconnects (1 s, then 2 s later); the monitor learns of a real
    death this much later. At most ``session_expiry_s`` (a session's end sends the will)."""

    outbox_path: str = ""
    """The SQLite outbox file; empty: outbox.db in the chair's state folder, see
    ``outbox_file()`` ($XDG_STATE_HOME/chairlink/SITE/CHAIR, by default under ~/.local/state).
    The assigned trip is kept beside it (``trip_file()``)."""

    outbox_max_mb: Annotated[float, Field(gt=0, le=4096)] = 64.0
    """Bound on the outbox's payload bytes; past it vehicle samples are thinned."""

    vehicle_hz: Annotated[float, Field(gt=0, le=100)] = 10.0
    """Vehicle samples per second."""

    vehicle_batch_s: Annotated[float, Field(ge=0, le=10)] = 0.5
    """Vehicle samples are sent in batches at most this old (0: each on its own)."""

    safety_keepalive_s: Annotated[float, Field(gt=0, le=60)] = 5.0
    """Safety state is sent on every change and at least this often."""

    drain_msgs_per_s: Annotated[float, Field(gt=0, le=100000)] = 2000.0
    """Backlog messages sent per second after an outage, behind live data."""

    trip_max_age_s: Annotated[float, Field(gt=0, le=86400)] = 300.0
    """A trip command issued longer ago than this is refused as expired."""

    @model_validator(mode="after")
    def _check_will_delay(self) -> TelemetryConfig:
        # The broker sends the will when the session ends, whatever the delay: a longer delay
        # would promise a grace the broker does not give.
        if self.will_delay_s > self.session_expiry_s:
            raise ValueError(
                f"will_delay_s ({self.will_delay_s}) must not exceed session_expiry_s "
                f"({self.session_expiry_s})"
            )
        return self


class OximeterConfig(_Frozen):
    """The patient's pulse oximeter on the chair (docs/telemetry.md)."""

    port: str = Field(default="/dev/serial/by-id/usb-nonin-oximeter", min_length=1)
    """Serial device of the oximeter."""

    protocol: Literal["nonin-df2"] = "nonin-df2"
    """Its serial format: Nonin Serial Data Format #2 (9600 baud, 75 frames/s)."""

    stale_after_s: Annotated[float, Field(ge=0.2, le=10)] = 1.0
    """With nothing valid from the device this long, vitals go out as stale (NaN), s."""

    publish_hz: Annotated[float, Field(gt=0, le=10)] = 1.0
    """Vitals published per second (the monitor's SpO2 and pulse update at 1 Hz)."""


class ChairConfig(_Frozen):
    """One chair: identity and, part by part, everything it is configured with."""

    identity: IdentityConfig = IdentityConfig()
    """Who the chair is."""

    footprint: FootprintConfig = FootprintConfig()
    """The chair's outline around base_link."""

    lidar: LidarConfig = LidarConfig()
    """The planar lidar: mount and beam layout."""

    camera: CameraConfig = CameraConfig()
    """The forward camera: mount and calibration."""

    firmware: FirmwareConfig = FirmwareConfig()
    """The serial link to the motor MCU."""

    ros: RosConfig = RosConfig()
    """The ROS 2 nodes."""

    telemetry: TelemetryConfig = TelemetryConfig()
    """The MQTT telemetry agent."""

    oximeter: OximeterConfig = OximeterConfig()
    """The patient's pulse oximeter."""


def _describe(err: ValidationError) -> str:
    problems = []
    for item in err.errors():
        where = ".".join(str(part) for part in item["loc"]) or "(top level)"
        problems.append(f"{where}: {item['msg']}")
    return "; ".join(problems)


def load_chair_config(path: str | Path | None = None, **overrides: Any) -> ChairConfig:
    """Load and validate a chair.yaml; with no path, the defaults.

    Args:
        path: the YAML file, or None for the built-in defaults.
        overrides: top-level sections replacing those of the file (used by the CLI and tests).

    Raises:
        ConfigError: the file is missing, is not YAML, or a field is invalid; the message names
            the file and every offending field.
    """
    data: dict[str, Any] = {}
    source = "defaults"
    if path is not None:
        source = str(path)
        loaded = read_yaml(path, "chair config", ConfigError)
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ConfigError(
                f"{source}: expected a mapping at the top level, got {type(loaded).__name__}"
            )
        data = loaded
    data.update(overrides)
    try:
        return ChairConfig.model_validate(data)
    except ValidationError as err:
        raise ConfigError(f"{source}: invalid chair config: {_describe(err)}") from err


def outbox_file(identity: IdentityConfig, telemetry: TelemetryConfig) -> Path:
    """The outbox a chair's agent opens: ``telemetry.outbox_path``, or when that is empty
    ``$XDG_STATE_HOME/chairlink/<site>/<chair_id>/outbox.db`` (``~/.local/state`` without
    XDG_STATE_HOME), which a user can write without root and which no cache cleaner deletes.
    Two chairs simulated on one machine get an outbox each."""
    if telemetry.outbox_path:
        return Path(telemetry.outbox_path)
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "chairlink" / identity.site / identity.chair_id / "outbox.db"


def trip_file(identity: IdentityConfig, telemetry: TelemetryConfig) -> Path:
    """The file a chair keeps its assigned trip in (edge/trips/store.py): beside its outbox
    (``outbox_file()``), named after it: ``outbox.db`` keeps its trip in ``outbox.trip.json``,
    so two chairs whose outboxes share a folder keep a trip file each."""
    outbox = outbox_file(identity, telemetry)
    return outbox.with_name(f"{outbox.stem}.trip.json")
