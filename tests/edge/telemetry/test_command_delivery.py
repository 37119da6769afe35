"""How a command reaches the chair, against a real Mosquitto: a trip's MQTT 5 message expiry
as the broker hands it over, and the chair's answer to a trip without one.

Mosquitto 2.0 counts a message's expiry in whole seconds of its wall clock, read once per
loop (up to about 0.1 s stale), and delivers a queued message without the property once no
whole second is left. The tests that queue a trip publish it early in a wall-clock second and
take it in at a chosen later second, so what the broker does is known, not raced; a machine too
busy to come back within that second is seen (the message never comes) and tried again.
"""

from __future__ import annotations

import functools
import math
import operator
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from chairlink.wire.payloads import Command, TripMessage, encode
from chairlink.wire.topics import Channel, command_topic
from edge.telemetry.agent import TelemetryAgent
from tests.monitor import (
    CHAIR,
    IDENTITY,
    SITE,
    USERS,
    Monitor,
    expiry,
    telemetry_config,
    trip_command,
)
from tests.mosquitto import Mosquitto
from tests.wait import WAIT_S, wait_until


class _Recorder:
    """A host's handler that accepts every command and keeps it."""

    def __init__(self) -> None:
        self.done: list[Command] = []

    def __call__(self, command: Command) -> tuple[bool, str]:
        self.done.append(command)
        return True, "done"


class _ChairSession:
    """chair-07's persistent session held by a plain paho client: what the broker delivers,
    with the message expiry left on each (None when it came without one)."""

    def __init__(self, broker: Mosquitto) -> None:
        self._port = broker.port
        self.received: dict[bytes, int | None] = {}
        self._subscribed = threading.Event()
        self._client: mqtt.Client | None = None

    def connect(self) -> None:
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"chairlink-{CHAIR}", protocol=mqtt.MQTTv5
        )
        client.username_pw_set(CHAIR, USERS[CHAIR])
        client.on_message = self._on_message
        client.on_subscribe = lambda *_: self._subscribed.set()
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = 600
        client.connect("127.0.0.1", self._port, clean_start=False, properties=properties)
        client.loop_start()
        self._client = client

    def subscribe(self) -> None:
        assert self._client is not None
        self._client.subscribe(command_topic(SITE, CHAIR, "+"), qos=1)
        assert self._subscribed.wait(WAIT_S), "no SUBACK"

    def disconnect(self) -> None:
        assert self._client is not None
        self._client.disconnect()
        self._client.loop_stop()

    def _on_message(self, _c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        self.received[bytes(msg.payload)] = getattr(msg.properties, "MessageExpiryInterval", None)


_ATTEMPTS = 3
"""A queued message is caught in its expiry's last second with under a second to spare: on a
machine too busy to come back in time the broker drops it, and the test tries again."""


def _early_in_a_second() -> float:
    """Wait until the wall clock is early in a second, past the broker's possible staleness
    (so it files what comes now under this second), and return the time."""
    assert wait_until(lambda: 0.2 <= time.time() % 1 <= 0.5, 2.0)
    return time.time()


def _into_second(published: float, seconds: int) -> None:
    """Wait until the wall clock is 0.1 s into the ``seconds``-th second after ``published``."""
    due = math.floor(published) + seconds + 0.1
    assert wait_until(lambda: time.time() >= due, seconds + 2.0)


def test_mosquitto_delivers_a_queued_message_without_its_expiry_in_its_last_second(
    broker: Mosquitto, monitor: Monitor
) -> None:
    session = _ChairSession(broker)
    session.connect()
    session.subscribe()
    session.disconnect()
    topic = command_topic(SITE, CHAIR, "trip")
    for attempt in range(_ATTEMPTS):
        published = _early_in_a_second()
        sent = [(f"{attempt}: {e} s".encode(), e) for e in (1, 60, None)]
        for payload, expiry_s in sent:
            info = monitor.client.publish(topic, payload, qos=1, properties=expiry(expiry_s))
            info.wait_for_publish(5)
        _into_second(published, 1)  # the 1 s expiry's last second at the broker
        session.connect()
        # Queued messages come in order: once the last is here, so is the first, unless the
        # broker dropped it because this machine came back after its last second.
        last_here = functools.partial(operator.contains, session.received, sent[-1][0])
        assert wait_until(last_here, WAIT_S), session.received
        session.disconnect()
        if sent[0][0] in session.received:
            break
    else:
        raise AssertionError(f"never back within the 1 s expiry's last second: {session.received}")
    # The message with 1 s comes like one that had none: the chair cannot tell them apart
    # by the property, only by the trip's age (edge/telemetry/commands.py, check_expiry).
    assert session.received[sent[0][0]] is None
    assert session.received[sent[2][0]] is None
    assert session.received[sent[1][0]] == 59


def test_a_trip_whose_expiry_ran_out_at_the_broker_is_answered_expired_and_not_started(
    broker: Mosquitto, monitor: Monitor, tmp_path: Path
) -> None:
    handler = _Recorder()
    config = telemetry_config(broker, tmp_path)
    agent = TelemetryAgent(IDENTITY, config, on_command=handler)
    agent.start()
    assert wait_until(lambda: agent.connected, WAIT_S)
    monitor.wait_chair_listening()  # its session holds the subscription while it is away
    agent.stop()
    for attempt in range(_ATTEMPTS):
        ran_out, in_time = f"c-ran-out-{attempt}", f"c-in-time-{attempt}"
        published = _early_in_a_second()
        monitor.command(trip_command(ran_out, time.time_ns()), expiry_s=2)
        monitor.command(trip_command(in_time, time.time_ns()), expiry_s=60)
        # Made now, started at the due time: the broker hands the trips over within that second.
        back = TelemetryAgent(IDENTITY, config, on_command=handler)
        _into_second(published, 2)  # the 2 s expiry's last second: delivered without it
        with back:
            # Answered in the order they came: once the second is answered, so is the first,
            # unless the broker dropped it because the chair came back too late.
            assert wait_until(functools.partial(_answered, monitor, in_time), WAIT_S)
        if ran_out in _answers(monitor):
            break
    else:
        raise AssertionError("the chair never came back within the 2 s expiry's last second")
    trips = _answers(monitor)
    assert [c.command_id for c in handler.done] == [f"c-in-time-{a}" for a in range(attempt + 1)]
    assert trips[in_time].event == "accepted"
    assert trips[ran_out].event == "expired"
    assert trips[ran_out].detail.startswith("expired: no message expiry left (issued ")


def _answered(monitor: Monitor, command_id: str) -> bool:
    return command_id in _answers(monitor)


def _answers(monitor: Monitor) -> dict[str, TripMessage]:
    return {
        m.ack.command_id: m
        for m in monitor.of(Channel.TRIP)
        if isinstance(m, TripMessage) and m.ack
    }


def test_a_trip_sent_without_an_expiry_is_refused_with_the_reason(
    broker: Mosquitto, monitor: Monitor, tmp_path: Path
) -> None:
    handler = _Recorder()
    with TelemetryAgent(IDENTITY, telemetry_config(broker, tmp_path), on_command=handler) as agent:
        assert wait_until(lambda: agent.connected, WAIT_S)
        monitor.publish_raw("trip", encode(trip_command("c-none", time.time_ns())), expiry_s=None)
        assert wait_until(lambda: len(monitor.of(Channel.TRIP)) == 1, WAIT_S)
    (answer,) = monitor.of(Channel.TRIP)
    assert isinstance(answer, TripMessage)
    assert answer.ack is not None
    assert (answer.event, answer.ack.command_id, answer.ack.accepted) == (
        "refused",
        "c-none",
        False,
    )
    assert answer.detail == "no MQTT message expiry: a trip must carry one"
    assert handler.done == []
