"""Telemetry figures: the agent against a bare paho-mqtt publisher, on the same Mosquitto.

Each run starts its own broker with the repo's config (tests/mosquitto.py) and measures, one
after the other, a bare QoS 1 publisher and the agent with its outbox on, so the two share
the machine's state.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from bench.figures import Figure
from chairlink.config import IdentityConfig, TelemetryConfig
from chairlink.wire.payloads import (
    SCHEMA_VERSION,
    PatientMessage,
    VehicleMessage,
    VehicleSample,
    encode,
)
from chairlink.wire.topics import Channel, channel_topic
from edge.telemetry.agent import TelemetryAgent
from edge.types import Perfusion, Vitals
from tests.mosquitto import CountingRelay, Mosquitto

__all__ = ["measure", "vitals_payload"]

SITE, CHAIR = "demo-hospital", "chair-01"
USERS = {CHAIR: "bench-chair", "monitor": "bench-monitor"}
IDENTITY = IdentityConfig(chair_id=CHAIR, site=SITE)


def _vitals(i: int) -> Vitals:
    return Vitals(0, "pt-7f3a9c2b", 97.0, float(60 + i % 40), Perfusion.GOOD, False)


def _sample(i: int) -> VehicleSample:
    return VehicleSample(
        stamp_ns=time.time_ns(),
        x_m=12.5 + i * 0.01,
        y_m=10.2,
        yaw_rad=0.01,
        speed_mps=0.95,
        battery_pct=76.5,
        mode="autonomous",
    )


def _config(broker: Mosquitto, folder: Path, name: str, **changes: object) -> TelemetryConfig:
    (folder / "password").write_text(USERS[CHAIR], encoding="utf-8")
    values: dict[str, object] = {
        "broker_host": "127.0.0.1",
        "broker_port": broker.port,
        "password_file": str(folder / "password"),
        "outbox_path": str(folder / f"{name}.db"),
        "drain_msgs_per_s": 2000.0,
    }
    values.update(changes)
    return TelemetryConfig.model_validate(values)


def _wait(predicate: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark did not finish in time")
        time.sleep(0.002)


def _bare_rate(broker: Mosquitto, count: int) -> float:
    """QoS 1 messages per second of a bare paho publisher, PUBACKs included.

    It sends what the agent sends in ``_agent_rate``: one vehicle sample per message, each
    message built and encoded as it goes out, so the two differ only by the outbox and the
    agent's own work.
    """
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bare", protocol=mqtt.MQTTv5)
    client.username_pw_set(CHAIR, USERS[CHAIR])
    client.max_inflight_messages_set(100)
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    _wait(client.is_connected, 5)
    topic = channel_topic(SITE, CHAIR, Channel.VEHICLE)
    samples = [_sample(i) for i in range(count)]
    start = time.perf_counter()
    infos = [
        client.publish(topic, _vehicle_payload(seq, [sample]), qos=1)
        for seq, sample in enumerate(samples)
    ]
    for info in infos:
        info.wait_for_publish(30)
    elapsed = time.perf_counter() - start
    client.loop_stop()
    client.disconnect()
    return count / elapsed


def _vehicle_payload(seq: int, samples: list[VehicleSample]) -> bytes:
    return encode(
        VehicleMessage(
            v=SCHEMA_VERSION,
            chair=CHAIR,
            channel=Channel.VEHICLE,
            seq=seq,
            stamp_ns=time.time_ns(),
            samples=samples,
        )
    )


def vitals_payload(seq: int) -> bytes:
    """A patient message as a chair sends it (bench/broker.py queues these too)."""
    v = _vitals(seq)
    return encode(
        PatientMessage(
            v=SCHEMA_VERSION,
            chair=CHAIR,
            channel=Channel.PATIENT,
            seq=seq,
            stamp_ns=time.time_ns(),
            patient=v.patient_token,
            spo2_pct=v.spo2_pct,
            pulse_bpm=v.pulse_bpm,
            perfusion="good",
        )
    )


def _agent_rate(broker: Mosquitto, folder: Path, count: int, *, durable: bool) -> float:
    """QoS 1 messages per second through the agent, outbox on, until all are acked.

    Vehicle messages, one sample each, are committed to the outbox's WAL (they survive the
    process being killed); vitals are committed with an fsync each (they survive a power cut).
    """
    config = _config(broker, folder, f"rate-{durable}", vehicle_batch_s=0.0)
    with TelemetryAgent(IDENTITY, config) as agent:
        _wait(lambda: agent.connected and agent.stats().outbox_messages == 0, 10)
        samples = [_sample(i) for i in range(count)]
        start = time.perf_counter()
        for i in range(count):
            if durable:
                agent.vitals(_vitals(i))
            else:
                agent.vehicle(samples[i])
        _wait(lambda: agent.stats().outbox_messages == 0, 120)
        return count / (time.perf_counter() - start)


def _samples_rate(broker: Mosquitto, folder: Path, count: int) -> float:
    """Vehicle samples per second through the agent (batched), until all are acked."""
    config = _config(broker, folder, "samples", vehicle_batch_s=0.05)
    with TelemetryAgent(IDENTITY, config) as agent:
        _wait(lambda: agent.connected and agent.stats().outbox_messages == 0, 10)
        samples = [_sample(i) for i in range(count)]
        start = time.perf_counter()
        for sample in samples:
            agent.vehicle(sample)
        agent.flush()
        _wait(lambda: agent.stats().outbox_messages == 0, 60)
        return count / (time.perf_counter() - start)


def _drain_rate(broker: Mosquitto, folder: Path, backlog: int) -> tuple[float, int]:
    """Backlog messages per second after an outage, while live vitals flow at 1 Hz x 10."""
    broker.stop()
    config = _config(broker, folder, "drain")
    with TelemetryAgent(IDENTITY, config) as agent:
        for i in range(backlog):
            agent.vitals(_vitals(i))
        broker.start()
        _wait(lambda: agent.connected, 30)
        start = time.perf_counter()
        live = 0
        while agent.stats().outbox_messages > 0 or agent.stats().draining:
            agent.vehicle(_sample(live))
            live += 1
            time.sleep(0.01)
            if time.perf_counter() - start > 120:
                raise TimeoutError("the backlog did not drain")
        return backlog / (time.perf_counter() - start), live


def _bytes_per_vitals(broker: Mosquitto, folder: Path, count: int) -> float:
    """Bytes the agent sends per vitals reading, measured through a relay once it is idle."""
    relay = CountingRelay(broker.port)
    config = _config(broker, folder, "wire", broker_port=relay.port)
    try:
        with TelemetryAgent(IDENTITY, config) as agent:
            _wait(lambda: agent.connected and not agent.stats().draining, 10)
            _wait(lambda: agent.stats().outbox_messages == 0, 10)
            before = relay.upstream_bytes
            for i in range(count):
                agent.vitals(_vitals(i))
            _wait(lambda: agent.stats().outbox_messages == 0, 30)
            return (relay.upstream_bytes - before) / count
    finally:
        relay.close()


def measure() -> list[Figure]:
    """All telemetry figures from one broker."""
    with tempfile.TemporaryDirectory(prefix="chairlink-bench-mqtt-") as tmp:
        folder = Path(tmp)
        broker = Mosquitto(folder / "broker", USERS, site=SITE)
        broker.start()
        try:
            # The machine's load drifts by 10 % between runs: alternate the two, five times,
            # and compare medians.
            bares, agents = [], []
            for _ in range(5):
                bares.append(_bare_rate(broker, 20_000))
                agents.append(_agent_rate(broker, folder, 20_000, durable=False))
            bare, agent = statistics.median(bares), statistics.median(agents)
            durable = _agent_rate(broker, folder, 5_000, durable=True)
            samples = _samples_rate(broker, folder, 100_000)
            drain, live = _drain_rate(broker, folder, 20_000)
            wire = _bytes_per_vitals(broker, folder, 600)
        finally:
            broker.stop()
    topic = channel_topic(SITE, CHAIR, Channel.PATIENT)
    payload = vitals_payload(123_456)
    return [
        Figure(
            "telemetry.samples_per_s",
            samples,
            "samples/s",
            ">=",
            5000,
            "100,000 vehicle samples, batched, outbox on, until every PUBACK",
        ),
        Figure(
            "telemetry.outbox_ratio",
            agent / bare,
            "ratio",
            ">=",
            0.8,
            f"agent {agent:,.0f} msg/s (vitals, fsync each: {durable:,.0f}) vs bare paho "
            f"{bare:,.0f} msg/s",
        ),
        Figure(
            "telemetry.drain_msgs_per_s",
            drain,
            "msg/s",
            ">=",
            1000,
            f"20,000 backlogged vitals while {live} live samples flowed",
        ),
        Figure(
            "telemetry.bytes_per_vitals_sample",
            wire,
            "bytes",
            "<=",
            200,
            f"600 readings through a counting relay: {len(payload)} B JSON, the {len(topic)} B "
            "topic sent once per connection then as a topic alias, MQTT header, PINGs",
        ),
    ]
