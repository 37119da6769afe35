"""A bare MQTT 5 client for the broker tests: what a chair, a monitor process or an attacker
sends, with every CONNACK, PUBACK reason code, message and disconnection recorded."""

from __future__ import annotations

import threading

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from tests.mosquitto import Mosquitto
from tests.wait import WAIT_S, wait_until

__all__ = ["Client"]


class Client:
    """A paho MQTT 5 client on the broker's plaintext listener, connected on construction."""

    def __init__(
        self,
        broker: Mosquitto,
        user: str | None,
        password: str | None = None,
        *,
        client_id: str | None = None,
        session_expiry_s: int = 0,
        clean_start: bool = True,
        tls: bool = False,
    ) -> None:
        """Log in as ``user`` (its password from ``broker.users`` unless given) with
        ``client_id`` (default ``test-<user>``); a ``session_expiry_s`` above 0 and
        ``clean_start`` off make a persistent session, as a chair's. With ``tls``, on the TLS
        listener with ``user``'s certificate instead (one of the broker's ``tls_clients``)."""
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id or f"test-{user}",
            protocol=mqtt.MQTTv5,
        )
        if tls:
            self.client.tls_set(
                ca_certs=str(broker.folder / "ca.crt"),
                certfile=str(broker.folder / f"{user}.crt"),
                keyfile=str(broker.folder / f"{user}.key"),
            )
        elif user is not None:
            self.client.username_pw_set(user, password or broker.users[user])
        self._port = broker.tls_port if tls else broker.port
        self._clean_start = clean_start
        self._properties: Properties | None = None
        if session_expiry_s:
            self._properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            self._properties.SessionExpiryInterval = session_expiry_s
        self.connected = threading.Event()
        self.connack: ReasonCode | None = None
        self.disconnects = 0
        self.acks: dict[int, ReasonCode] = {}
        self.acked = threading.Condition()
        self.subscribed = threading.Event()
        self.messages: list[mqtt.MQTTMessage] = []
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_publish = self._on_publish
        self.client.on_subscribe = lambda *_: self.subscribed.set()
        self.client.on_message = lambda _c, _u, m: self.messages.append(m)
        self.connect()

    def connect(self) -> None:
        """Connect (again, after ``client.disconnect()``), with the session settings given at
        construction."""
        self.connected.clear()
        self.client.loop_stop()  # paho's network thread ends at a disconnect asked for
        self.client.connect(
            "127.0.0.1",
            self._port,
            clean_start=self._clean_start,
            properties=self._properties,
        )
        self.client.loop_start()

    def _on_connect(
        self, _c: mqtt.Client, _u: object, _f: object, rc: ReasonCode, _p: Properties | None
    ) -> None:
        self.connack = rc
        self.connected.set()

    def _on_disconnect(self, *_: object) -> None:
        self.disconnects += 1

    def _on_publish(
        self, _c: mqtt.Client, _u: object, mid: int, rc: ReasonCode, _p: Properties | None
    ) -> None:
        with self.acked:
            self.acks[mid] = rc
            self.acked.notify_all()

    def subscribe(self, topic: str) -> None:
        """Subscribe at QoS 1 and wait for the broker's SUBACK."""
        self.subscribed.clear()
        self.client.subscribe(topic, qos=1)
        assert self.subscribed.wait(WAIT_S), f"no SUBACK for {topic}"

    def publish(self, topic: str, payload: bytes = b"{}") -> ReasonCode:
        """Publish at QoS 1; return the reason code of the broker's PUBACK."""
        info = self.client.publish(topic, payload, qos=1)
        with self.acked:
            assert self.acked.wait_for(lambda: info.mid in self.acks, WAIT_S)
            return self.acks[info.mid]

    def received(self, payload: bytes, timeout: float = WAIT_S) -> bool:
        """Whether a message with ``payload`` arrives within ``timeout``."""
        return wait_until(lambda: any(m.payload == payload for m in self.messages), timeout)

    def close(self) -> None:
        """Disconnect cleanly and stop the network thread."""
        self.client.disconnect()
        self.client.loop_stop()
