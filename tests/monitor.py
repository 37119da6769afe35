"""The hospital side of the telemetry tests: the credentials every test broker gets, and a
monitor that subscribes to every chair of the site and decodes what arrives.

Every wait for a subscription is here, and waits for an event, never for a span of time: the
monitor's own subscription for its SUBACK, a chair's for a message from that chair (see
``Monitor.wait_chair_listening``), another process's for a probe it is seen to receive
(``Monitor.probe``)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from chairlink.config import IdentityConfig, TelemetryConfig
from chairlink.wire.payloads import (
    SCHEMA_VERSION,
    Command,
    PayloadError,
    TripCommand,
    UplinkMessage,
    VehicleMessage,
    decode_uplink,
    encode,
)
from chairlink.wire.topics import PREFIX, Channel, CommandKind, command_topic
from tests.mosquitto import Mosquitto
from tests.wait import WAIT_S, wait_until

__all__ = [
    "CHAIR",
    "IDENTITY",
    "PROBE_TOPIC",
    "SITE",
    "TOKEN",
    "TRIP_EXPIRY_S",
    "USERS",
    "Monitor",
    "expiry",
    "telemetry_config",
    "trip_command",
]

SITE, CHAIR, TOKEN = "site-1", "chair-07", "pt-7f3a9c2b"
USERS = {CHAIR: "chair-secret", "monitor": "monitor-secret"}
IDENTITY = IdentityConfig(chair_id=CHAIR, site=SITE)
PROBE_TOPIC = f"{PREFIX}/{SITE}/monitor-probe/cmd/probe"
"""Where the monitor may write (a command topic) and that no chair reads: its probes go here."""
TRIP_EXPIRY_S = 60
"""The MQTT 5 message expiry the monitor gives a trip (the contract asks for one)."""


class Monitor:
    """The hospital side: subscribes to every channel with a persistent session, decodes."""

    def __init__(self, broker: Mosquitto) -> None:
        """Connect and subscribe; return once the broker has acknowledged the subscription,
        so that nothing published from then on passes the monitor by."""
        self.messages: list[UplinkMessage] = []
        self.raw: list[mqtt.MQTTMessage] = []
        self.rejected: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self._refused: list[str] = []
        self._probes: set[bytes] = set()
        self._probe_count = 0
        # A login each, as each of the hospital's monitor processes has: the broker makes the
        # login the client id, and two monitors on one would throw each other off.
        self.login, password = broker.monitor_login()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=self.login, protocol=mqtt.MQTTv5
        )
        self.client.username_pw_set(self.login, password)
        self.client.on_message = self._on_message
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.reconnect_delay_set(1, 1)
        self.client.connect("127.0.0.1", broker.port, clean_start=False)
        self.client.loop_start()
        assert self._subscribed.wait(WAIT_S), "the broker did not acknowledge the subscription"
        assert not self._refused, f"the broker refused the monitor's subscription: {self._refused}"

    def _on_connect(self, client: mqtt.Client, *_: object) -> None:
        client.subscribe([(f"{PREFIX}/{SITE}/+/+", 1), (PROBE_TOPIC, 1)])

    def _on_subscribe(
        self, _c: mqtt.Client, _u: object, _mid: int, codes: list[ReasonCode], *_: object
    ) -> None:
        # Said in __init__: an exception here would end paho's network thread.
        self._refused += [code.getName() for code in codes if code.is_failure]
        self._subscribed.set()

    def _on_message(self, _c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            if msg.topic == PROBE_TOPIC:
                self._probes.add(bytes(msg.payload))
                return
            self.raw.append(msg)
            try:
                self.messages.append(decode_uplink(bytes(msg.payload)))
            except PayloadError as err:
                self.rejected.append((msg.topic, str(err)))

    def wait_chair_listening(self, chair: str = CHAIR, timeout: float = WAIT_S) -> None:
        """Wait until ``chair``'s agent takes commands: a command sent before would be lost.

        The agent subscribes to its commands as soon as it connects, before it publishes
        anything on that connection, and the broker handles a client's packets in order. So
        once any message of the chair's has come, its subscription is in place, and its
        persistent session keeps it across reconnects and restarts: a command sent from then
        on reaches the chair, at once or when it is back.
        """
        topic = f"{PREFIX}/{SITE}/{chair}/"

        def heard() -> bool:
            with self._lock:
                return any(m.topic.startswith(topic) for m in self.raw)

        assert wait_until(heard, timeout), f"nothing from {chair} within {timeout} s"

    def probe(self, heard: Callable[[bytes], bool], timeout: float = WAIT_S) -> None:
        """Wait until another client's subscription to ``PROBE_TOPIC`` has landed: publish
        probes there until ``heard`` says one of them arrived.

        Also a barrier for the monitor itself (``heard`` = ``self.probed``): once its own probe
        is back, whatever the broker sent the monitor before it has arrived too.
        """
        sent: list[bytes] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._probe_count += 1
            sent.append(f"probe {self._probe_count}".encode())
            self.client.publish(PROBE_TOPIC, sent[-1], qos=1).wait_for_publish(timeout)
            # The probe has reached the broker; if none is heard in a while, another goes (a
            # late one still counts).
            if wait_until(lambda: any(heard(p) for p in sent), 0.5):
                return
        raise AssertionError(f"no probe heard within {timeout} s")

    def probed(self, payload: bytes) -> bool:
        """Whether the monitor's own probe ``payload`` has come back to it."""
        with self._lock:
            return payload in self._probes

    def barrier(self, timeout: float = WAIT_S) -> None:
        """Return once everything the broker sent the monitor before now has arrived."""
        self.probe(self.probed, timeout)

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

    def command(
        self, command: Command, expiry_s: int | None = None, *, on: CommandKind | None = None
    ) -> None:
        """Send a command to chair-07 on the topic of its kind (or of ``on``), once it listens
        (``wait_chair_listening``): sent earlier, it would be lost, and its answer waited for
        in vain. A trip gets a message expiry of ``TRIP_EXPIRY_S`` unless ``expiry_s`` says
        otherwise; ``publish_raw`` sends one without."""
        if expiry_s is None and command.kind == CommandKind.TRIP:
            expiry_s = TRIP_EXPIRY_S
        self.publish_raw(on or command.kind, encode(command), expiry_s)

    def publish_raw(
        self, kind: CommandKind | str, payload: bytes, expiry_s: int | None = None
    ) -> None:
        """Publish ``payload`` as it is on chair-07's ``cmd/<kind>`` topic, with an MQTT 5
        message expiry of ``expiry_s`` (none when None), once the chair listens."""
        self.wait_chair_listening()
        self.client.publish(
            command_topic(SITE, CHAIR, kind), payload, qos=1, properties=expiry(expiry_s)
        ).wait_for_publish(5)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def expiry(expiry_s: int | None) -> Properties | None:
    """PUBLISH properties with an MQTT 5 message expiry of ``expiry_s``; None for none."""
    if expiry_s is None:
        return None
    properties = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
    properties.MessageExpiryInterval = expiry_s
    return properties


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


def trip_command(command_id: str, issued_ns: int, chair: str = CHAIR) -> TripCommand:
    """A trip for ``chair`` from ward-a-3 to radiology with TOKEN aboard, id ``t-<command_id>``."""
    return TripCommand(
        v=SCHEMA_VERSION,
        command_id=command_id,
        chair=chair,
        issued_ns=issued_ns,
        kind=CommandKind.TRIP,
        trip_id=f"t-{command_id}",
        origin="ward-a-3",
        destination="radiology",
        patient=TOKEN,
    )
