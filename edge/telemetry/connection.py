"""The telemetry agent's link to the broker: one paho client per connection, on its own backoff.

Paho resends its unacknowledged messages on a reconnect, and topic aliases do not survive one:
a resent message naming its topic only by alias would be a protocol error. So each connection
gets a fresh client that owns nothing (the outbox resends instead), reconnecting after 1 s
doubling to 30 s; that is what makes MQTT 5 topic aliases safe (``TopicAliases``). At most the
broker's Receive Maximum of messages are unacknowledged at once: paho 2.2 does not read it, so
the connection reconnects with a smaller window when a broker announces less.
"""

from __future__ import annotations

import logging
import ssl
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from chairlink.config import TelemetryConfig
from chairlink.wire.topics import Channel, channel_topic, command_topic
from edge.telemetry.errors import TelemetryError
from edge.telemetry.stats import AgentStats

__all__ = ["Connection", "LinkEvents", "TopicAliases"]

_log = logging.getLogger(__name__)

_PAHO_WINDOW = 100
_RECONNECT_MIN_S = 1.0
_RECONNECT_MAX_S = 30.0


class _AliasProperties(Properties):
    """PUBLISH properties holding only a topic alias, packed once.

    Paho packs a message's properties anew on every send, in Python, at a cost of about 7 us;
    these never change, and at thousands of messages a second the cost showed in the rate.
    """

    def __init__(self, alias: int) -> None:
        super().__init__(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        self.TopicAlias = alias
        # Properties refuses attributes that are not MQTT property names.
        object.__setattr__(self, "_packed", super().pack())  # type: ignore[no-untyped-call]

    def pack(self) -> bytes:
        """The properties' bytes on the wire."""
        return self._packed  # type: ignore[no-any-return, attr-defined]


class TopicAliases:
    """The topic aliases of one connection: each topic goes in full once, then as its alias."""

    def __init__(self, maximum: int) -> None:
        """Aliases for up to ``maximum`` topics (the broker's Topic Alias Maximum)."""
        self.maximum = maximum
        self._known: dict[str, Properties] = {}

    def copy(self) -> TopicAliases:
        """The same aliases, to extend without touching these."""
        other = TopicAliases(self.maximum)
        other._known = dict(self._known)
        return other

    def publish(
        self, client: mqtt.Client, topic: str, payload: bytes, *, retain: bool
    ) -> mqtt.MQTTMessageInfo:
        """Publish at QoS 1: by alias when the broker knows the topic (2 bytes instead of
        ~40), else in full, giving it the next alias while there are any left."""
        alias = self._known.get(topic)
        if alias is not None:
            return client.publish("", payload, qos=1, retain=retain, properties=alias)
        new_alias = (
            _AliasProperties(len(self._known) + 1) if len(self._known) < self.maximum else None
        )
        info = client.publish(topic, payload, qos=1, retain=retain, properties=new_alias)
        if new_alias is not None and info.rc == mqtt.MQTT_ERR_SUCCESS:
            self._known[topic] = new_alias
        return info


class LinkEvents(Protocol):
    """What a connection tells the sender, from paho's thread."""

    def link_up(self, client: mqtt.Client, alias_max: int) -> None:
        """The broker accepted a connection on ``client``, with ``alias_max`` topic aliases."""

    def link_lost(self, why: str) -> None:
        """The connection is gone: nothing more goes out on it."""

    def puback(self, mid: int, reason: ReasonCode) -> None:
        """The broker's PUBACK for message ``mid``."""


class Connection:
    """Connects, runs a connection until it drops, waits, and again with a new client."""

    def __init__(
        self,
        site: str,
        chair: str,
        config: TelemetryConfig,
        *,
        client_id: str,
        will: Callable[[], bytes],
        events: LinkEvents,
        on_connected: Callable[[], None],
        on_command: Callable[[bytes, str, int | None], None],
        lock: threading.Condition,
        stats: AgentStats,
        stop: threading.Event,
    ) -> None:
        """Read the password and build the first client.

        ``will`` makes the retained ``offline`` state of the next connection (called before
        each CONNECT, with a new incarnation each time: ``Uplink.will``; after the password is
        read); ``on_connected`` runs once the sender knows of a new connection, and
        ``on_command`` gets every command's bytes, topic and expiry left (``_on_message``).
        ``lock`` guards ``stats``; ``stop`` ends the reconnecting.

        Raises:
            TelemetryError: the password or TLS files cannot be read.
        """
        self.config = config
        self._site, self._chair = site, chair
        self._client_id = client_id
        self._events = events
        self._on_connected = on_connected
        self._on_command = on_command
        self._lock = lock
        self._stats = stats
        self._stop = stop
        self._password = self._read_password()
        self._will = will
        self._window = _PAHO_WINDOW
        self._link_down = threading.Event()
        self._thread: threading.Thread | None = None
        # Built now so that unreadable TLS files fail here, not on a background thread.
        self._client: mqtt.Client | None = self._make_client()

    @property
    def window(self) -> int:
        """Unacknowledged messages paho lets out at once (the broker's Receive Maximum)."""
        return self._window

    def start(self) -> None:
        """Connect in the background, retrying until ``stop`` is set."""
        self._thread = threading.Thread(target=self._run, name="telemetry-link", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Disconnect cleanly (the broker discards the will) and end the thread; ``stop`` is
        set by then."""
        with self._lock:
            client = self._client
        if client is not None:
            client.disconnect()
        self._link_down.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)

    def _read_password(self) -> str | None:
        if not self.config.password_file:
            return None
        try:
            return Path(self.config.password_file).read_text(encoding="utf-8").strip()
        except OSError as err:
            raise TelemetryError(
                f"{self.config.password_file}: cannot read the MQTT password: {err.strerror}"
            ) from err

    def _make_client(self) -> mqtt.Client:
        c = self.config
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self._client_id,
            protocol=mqtt.MQTTv5,
            reconnect_on_failure=False,
        )
        client.max_inflight_messages_set(self._window)
        client.username_pw_set(c.username or self._chair, self._password)
        if c.tls_ca_file:
            try:
                client.tls_set(
                    ca_certs=c.tls_ca_file,
                    certfile=c.tls_cert_file or None,
                    keyfile=c.tls_key_file or None,
                    tls_version=ssl.PROTOCOL_TLS_CLIENT,
                )
            except (OSError, ssl.SSLError) as err:
                raise TelemetryError(f"cannot set up TLS: {err}") from err
        # An exception out of a callback would end paho's network thread: the link would look
        # up and carry nothing, remote stops included.
        client.on_connect = self._guarded(self._on_connect, reconnect=True)
        client.on_disconnect = self._guarded(self._on_disconnect, reconnect=True)
        client.on_publish = self._guarded(self._on_publish, reconnect=True)
        client.on_message = self._guarded(self._on_message, reconnect=False)
        return client

    def _set_will(self, client: mqtt.Client) -> None:
        """Give the connection about to be made a will of its own, delayed.

        A fresh will per connection (a new incarnation, a fresh stamp): a will that fires is
        about the connection that died, never a copy of one that fired before. The broker
        holds it back ``will_delay_s`` (MQTT 5 Will Delay Interval) and drops it if the
        session is resumed meanwhile, so a chair back within the delay leaves no stale
        ``offline`` behind its new ``online``; a clean DISCONNECT drops it too.

        Raises:
            TelemetryError: the outbox could not give out the will's numbers.
        """
        properties = Properties(PacketTypes.WILLMESSAGE)  # type: ignore[no-untyped-call]
        properties.WillDelayInterval = self.config.will_delay_s
        topic = channel_topic(self._site, self._chair, Channel.STATE)
        client.will_set(topic, self._will(), qos=1, retain=True, properties=properties)

    def _guarded(self, callback: Callable[..., None], *, reconnect: bool) -> Callable[..., None]:
        """``callback``, with any exception logged and kept in ``last_error``; where the
        connection's state may be left half-updated, the connection is dropped and redone."""

        def guarded(client: mqtt.Client, *args: Any) -> None:
            try:
                callback(client, *args)
            except Exception as err:
                _log.exception("telemetry %s failed", callback.__name__)
                with self._lock:
                    self._stats.last_error = f"{callback.__name__} failed: {err}"
                if reconnect:
                    self._link_down.set()

        return guarded

    def _run(self) -> None:
        c = self.config
        backoff = _RECONNECT_MIN_S
        while not self._stop.is_set():
            with self._lock:
                client = self._client
                connects = self._stats.connects
            if client is None:
                try:
                    client = self._make_client()
                except TelemetryError as err:
                    with self._lock:
                        self._stats.last_error = str(err)
                    self._stop.wait(_RECONNECT_MAX_S)
                    continue
                with self._lock:
                    self._client = client
            self._link_down.clear()
            properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            properties.SessionExpiryInterval = c.session_expiry_s
            try:
                self._set_will(client)
                client.connect(
                    c.broker_host,
                    c.broker_port,
                    keepalive=c.keepalive_s,
                    clean_start=False,
                    properties=properties,
                )
            except TelemetryError as err:
                with self._lock:
                    self._stats.last_error = str(err)
            except (OSError, ValueError) as err:
                with self._lock:
                    self._stats.last_error = f"cannot reach {c.broker_host}:{c.broker_port}: {err}"
            else:
                client.loop_start()
                self._link_down.wait()
                client.loop_stop()
                # After an error in a callback the socket may still be open: close it, and
                # do what a disconnect does (paho calls no on_disconnect for loop_stop).
                client.disconnect()
                self._lost("connection redone after an error")
            if self._stop.is_set():
                return
            with self._lock:
                self._client = None
                if self._stats.connects > connects:
                    backoff = _RECONNECT_MIN_S
            self._stop.wait(backoff)
            backoff = min(backoff * 2, _RECONNECT_MAX_S)

    def _on_connect(
        self,
        client: mqtt.Client,
        _userdata: object,
        _flags: object,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason.is_failure:
            with self._lock:
                self._stats.last_error = f"broker refused the connection: {reason.getName()}"
            _log.warning("broker refused the connection: %s", reason.getName())
            self._link_down.set()
            return
        # MQTT 5: no more unacknowledged QoS 1 messages out than the broker's Receive
        # Maximum (65,535 when the CONNACK leaves it out). Paho 2.2 does not read it and
        # fixes its window before connecting: reconnect with a smaller one.
        receive_maximum = getattr(properties, "ReceiveMaximum", 65_535)
        if receive_maximum < self._window:
            _log.warning(
                "broker's Receive Maximum is %d: reconnecting with that window", receive_maximum
            )
            self._window = receive_maximum
            client.disconnect()
            return
        client.subscribe(command_topic(self._site, self._chair, "+"), qos=1)
        # Topic aliases live as long as a connection, up to the broker's maximum.
        alias_max = min(len(Channel), getattr(properties, "TopicAliasMaximum", 0))
        self._events.link_up(client, alias_max)
        self._on_connected()
        _log.info("connected to %s:%d", self.config.broker_host, self.config.broker_port)

    def _on_disconnect(
        self,
        _client: mqtt.Client,
        _userdata: object,
        _flags: object,
        reason: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        self._lost(f"disconnected: {reason.getName()}")

    def _lost(self, why: str) -> None:
        self._events.link_lost(why)
        self._link_down.set()

    def _on_publish(
        self,
        _client: mqtt.Client,
        _userdata: object,
        mid: int,
        reason: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        self._events.puback(mid, reason)

    def _on_message(self, _client: mqtt.Client, _userdata: object, msg: mqtt.MQTTMessage) -> None:
        # The topic says which kind of command the monitor meant; the expiry, whether the
        # message carried one (the broker leaves it out once less than a second is left).
        expiry_s = getattr(msg.properties, "MessageExpiryInterval", None)
        self._on_command(bytes(msg.payload), msg.topic, expiry_s)
