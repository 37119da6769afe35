"""The hospital side of the telemetry tests: the credentials every test broker gets, and a
monitor that subscribes to every chair of the site and decodes what arrives."""

from __future__ import annotations

import threading
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from chairlink.config import IdentityConfig, TelemetryConfig
from chairlink.wire.payloads import (
    Command,
    PayloadError,
    UplinkMessage,
    VehicleMessage,
    decode_uplink,
    encode,
)
from chairlink.wire.topics import Channel, command_topic
from tests.mosquitto import Mosquitto
from tests.wait import wait_until

__all__ = ["CHAIR", "IDENTITY", "SITE", "TOKEN", "USERS", "Monitor", "telemetry_config"]

SITE, CHAIR, TOKEN = "site-1", "chair-07", "pt-7f3a9c2b"
USERS = {CHAIR: "chair-secret", "monitor": "monitor-secret"}
IDENTITY = IdentityConfig(chair_id=CHAIR, site=SITE)


class Monitor:
    """The hospital side: subscribes to every channel with a persistent session, decodes."""

    def __init__(self, broker: Mosquitto) -> None:
        self.messages: list[UplinkMessage] = []
        self.raw: list[mqtt.MQTTMessage] = []
        self.rejected: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id="monitor-test", protocol=mqtt.MQTTv5
        )
        self.client.username_pw_set("monitor", USERS["monitor"])
        self.client.on_message = self._on_message
        self.client.on_connect = lambda c, *_: c.subscribe(f"chairlink/v1/{SITE}/+/+", qos=1)
        self.client.reconnect_delay_set(1, 1)
        self.client.connect("127.0.0.1", broker.port, clean_start=False)
        self.client.loop_start()
        assert wait_until(self.client.is_connected, 5)

    def _on_message(self, _c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.raw.append(msg)
            try:
                self.messages.append(decode_uplink(bytes(msg.payload)))
            except PayloadError as err:
                self.rejected.append((msg.topic, str(err)))

    def of(self, channel: Channel) -> list[UplinkMessage]:
        with self._lock:
            return [m for m in self.messages if m.channel == channel]

    def seqs(self, channel: Channel) -> list[int]:
        """Sequence numbers received, de-duplicated, in order (vehicle tombstones expanded)."""
        seen: set[int] = set()
        for m in self.of(channel):
            last = (
                m.thinned_through if isinstance(m, VehicleMessage) and m.thinned_through else m.seq
            )
            seen.update(range(m.seq, last + 1))
        return sorted(seen)

    def command(self, command: Command, expiry_s: int | None = None) -> None:
        properties = None
        if expiry_s is not None:
            from paho.mqtt.packettypes import PacketTypes  # noqa: PLC0415
            from paho.mqtt.properties import Properties  # noqa: PLC0415

            properties = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
            properties.MessageExpiryInterval = expiry_s
        self.client.publish(
            command_topic(SITE, CHAIR, command.kind), encode(command), qos=1, properties=properties
        ).wait_for_publish(5)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def telemetry_config(broker: Mosquitto, tmp_path: Path, **changes: object) -> TelemetryConfig:
    """The chair's telemetry section for ``broker``: its password in ``tmp_path``, an outbox
    there, a 2 s keep-alive, every vehicle sample sent on its own."""
    (tmp_path / "password").write_text(USERS[CHAIR], encoding="utf-8")
    values: dict[str, object] = {
        "broker_port": broker.port,
        "broker_host": "127.0.0.1",
        "password_file": str(tmp_path / "password"),
        "outbox_path": str(tmp_path / "outbox.db"),
        "keepalive_s": 2,
        "vehicle_batch_s": 0.0,
    }
    values.update(changes)
    return TelemetryConfig.model_validate(values)
