"""The repo's Mosquitto config, run for real: who may publish where, and nothing dropped."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from tests.mosquitto import Mosquitto
from tests.mqtt_client import Client

USERS = {"chair-a": "secret-a", "chair-b": "secret-b", "monitor": "secret-m"}


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    b = Mosquitto(tmp_path_factory.mktemp("mosquitto"), USERS)
    b.start()
    yield b
    b.stop()


def test_an_anonymous_client_is_refused(broker: Mosquitto) -> None:
    client = Client(broker, None)
    try:
        assert client.connected.wait(5)
        assert client.connack is not None
        assert client.connack.is_failure
        assert client.connack.getName() == "Not authorized"
    finally:
        client.close()


def test_a_wrong_password_is_refused(broker: Mosquitto) -> None:
    client = Client(broker, "chair-a", "guess")
    try:
        assert client.connected.wait(5)
        assert client.connack is not None
        # Mosquitto 2.0 answers a bad password as it answers no password at all.
        assert client.connack.is_failure
        assert client.connack.getName() == "Not authorized"
    finally:
        client.close()


def test_a_chair_publishes_under_its_own_topics_only(broker: Mosquitto) -> None:
    chair = Client(broker, "chair-a")
    try:
        assert chair.connected.wait(5)
        assert not chair.publish("chairlink/v1/site-1/chair-a/patient").is_failure
        refused = chair.publish("chairlink/v1/site-1/chair-b/patient")
        assert refused.getName() == "Not authorized"
        assert chair.publish("chairlink/v1/site-1/chair-a/cmd/stop").getName() == "Not authorized"
    finally:
        chair.close()


def test_the_monitor_reads_every_chair_and_commands_them(broker: Mosquitto) -> None:
    monitor, chair = Client(broker, "monitor"), Client(broker, "chair-b")
    try:
        assert monitor.connected.wait(5)
        assert chair.connected.wait(5)
        monitor.client.subscribe("chairlink/v1/+/+/vehicle", qos=1)
        chair.client.subscribe("chairlink/v1/site-1/chair-b/cmd/#", qos=1)
        chair.client.subscribe("chairlink/v1/site-1/chair-a/cmd/#", qos=1)  # not its own
        threading.Event().wait(0.3)
        assert not chair.publish("chairlink/v1/site-1/chair-b/vehicle", b"v").is_failure
        assert not monitor.publish("chairlink/v1/site-1/chair-b/cmd/stop", b"s").is_failure
        assert not monitor.publish("chairlink/v1/site-1/chair-a/cmd/stop", b"other").is_failure
        threading.Event().wait(0.5)
        assert [m.payload for m in monitor.messages] == [b"v"]
        assert [m.payload for m in chair.messages] == [b"s"]
    finally:
        monitor.close()
        chair.close()


def test_a_slow_subscriber_loses_nothing_past_the_default_queue_limit(
    broker: Mosquitto, tmp_path: Path
) -> None:
    """5,000 QoS 1 messages to a subscriber that reads none until the end: all arrive."""
    slow = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="slow-monitor", protocol=mqtt.MQTTv5)
    slow.username_pw_set("monitor", USERS["monitor"])
    properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    properties.SessionExpiryInterval = 600
    slow.connect("127.0.0.1", broker.port, clean_start=False, properties=properties)
    slow.subscribe("chairlink/v1/site-1/chair-a/vehicle", qos=1)
    slow.loop(1.0)
    slow.disconnect()  # gone while the chair publishes: the broker queues for its session
    chair = Client(broker, "chair-a")
    try:
        assert chair.connected.wait(5)
        infos = [
            chair.client.publish("chairlink/v1/site-1/chair-a/vehicle", str(i).encode(), qos=1)
            for i in range(5000)
        ]
        for info in infos:
            info.wait_for_publish(10)
    finally:
        chair.close()
    received: list[int] = []
    slow.on_message = lambda _c, _u, m: received.append(int(m.payload))
    slow.connect("127.0.0.1", broker.port, clean_start=False, properties=properties)
    slow.loop_start()
    deadline = threading.Event()
    for _ in range(200):
        if len(received) >= 5000:
            break
        deadline.wait(0.05)
    slow.loop_stop()
    slow.disconnect()
    assert sorted(set(received)) == list(range(5000))
