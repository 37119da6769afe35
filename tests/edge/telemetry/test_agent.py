"""The telemetry agent against a real Mosquitto that the fixtures start with the repo's config."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sqlite3
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from chairlink.config import TelemetryConfig
from chairlink.errors import ChairlinkError
from chairlink.wire.payloads import (
    SCHEMA_VERSION,
    Command,
    EventMessage,
    PatientMessage,
    StateMessage,
    StopCommand,
    TripMessage,
    VehicleMessage,
    VehicleSample,
    decode_uplink,
)
from chairlink.wire.topics import Channel, CommandKind, channel_topic, command_topic
from edge.telemetry.agent import TelemetryAgent
from edge.telemetry.outbox import Outbox
from edge.types import Perfusion, Vitals
from tests.edge.telemetry.kill import kill_when_ready
from tests.monitor import (
    CHAIR,
    IDENTITY,
    SITE,
    TOKEN,
    USERS,
    Monitor,
    telemetry_config,
    trip_command,
)
from tests.mosquitto import CountingRelay, Mosquitto, free_port
from tests.wait import WAIT_S, wait_until


def _vitals(spo2: float = 97.0, pulse: float = 72.0) -> Vitals:
    return Vitals(time.monotonic_ns(), TOKEN, spo2, pulse, Perfusion.GOOD, False)


def _sample(i: int) -> VehicleSample:
    return VehicleSample(
        stamp_ns=time.time_ns(),
        x_m=float(i),
        y_m=0.0,
        yaw_rad=0.0,
        speed_mps=0.5,
        battery_pct=80.0,
        mode="autonomous",
    )


def test_messages_arrive_decoded_with_a_retained_birth(
    broker: Mosquitto, monitor: Monitor, tmp_path: Path
) -> None:
    with TelemetryAgent(IDENTITY, telemetry_config(broker, tmp_path)) as agent:
        assert wait_until(lambda: agent.connected, 5)
        agent.vitals(_vitals())
        agent.vehicle(_sample(1))
        agent.event("incident", "bumper_touch", "low", "bumper touched")
        assert wait_until(lambda: len(monitor.of(Channel.EVENT)) == 1, 5)
        assert wait_until(lambda: len(monitor.of(Channel.PATIENT)) == 1, 5)
        (vitals,) = monitor.of(Channel.PATIENT)
        assert isinstance(vitals, PatientMessage)
        assert (vitals.patient, vitals.spo2_pct, vitals.pulse_bpm) == (TOKEN, 97.0, 72.0)
        assert wait_until(lambda: len(monitor.of(Channel.VEHICLE)) == 1, 5)
        births = [m for m in monitor.of(Channel.STATE) if isinstance(m, StateMessage)]
        assert births[0].status == "online"
        assert wait_until(lambda: agent.stats().outbox_messages == 0, 5)
        assert agent.stats().window == 100  # the repo's broker announces a Receive Maximum of 100
    late = Monitor(broker)  # a monitor that comes later gets the retained state
    try:
        assert wait_until(lambda: len(late.of(Channel.STATE)) >= 1, 5)
        last = late.of(Channel.STATE)[-1]
        assert isinstance(last, StateMessage)
        assert last.status == "offline"  # said on the way out
    finally:
        late.close()


def test_a_broker_down_for_10_s_loses_nothing(
    broker: Mosquitto, monitor: Monitor, tmp_path: Path
) -> None:
    with TelemetryAgent(IDENTITY, telemetry_config(broker, tmp_path)) as agent:
        assert wait_until(lambda: agent.connected, 5)
        stop_at, start_at, total = 100, 300, 500
        for i in range(total):
            agent.vitals(_vitals(pulse=60 + i % 40))
            agent.vehicle(_sample(i))
            if i == stop_at:
                broker.stop()
            if i == start_at:
                time.sleep(10 - (start_at - stop_at) * 0.02)
                broker.start()
            time.sleep(0.02)
        assert wait_until(lambda: monitor.seqs(Channel.PATIENT) == list(range(total)), 30)
        assert wait_until(lambda: monitor.seqs(Channel.VEHICLE) == list(range(total)), 30)
        assert wait_until(
            lambda: any(
                isinstance(m, StateMessage) and m.drained for m in monitor.of(Channel.STATE)
            ),
            10,
        )
        assert agent.stats().connects >= 2


def _run_agent(config: TelemetryConfig, count: int, ready: object) -> None:
    agent = TelemetryAgent(IDENTITY, config)  # never started: the broker is out of reach
    for i in range(count):
        agent.vitals(_vitals(pulse=50 + i % 50))
        agent.event("incident", "test_event", "low", f"event {i}")
    ready.set()  # type: ignore[attr-defined]
    signal.pause()


def test_an_agent_killed_with_its_outbox_full_loses_nothing(
    broker: Mosquitto, monitor: Monitor, tmp_path: Path
) -> None:
    config = telemetry_config(broker, tmp_path)
    kill_when_ready(_run_agent, config, 200)
    with TelemetryAgent(IDENTITY, config) as agent:
        assert wait_until(lambda: monitor.seqs(Channel.PATIENT) == list(range(200)), 20)
        assert wait_until(lambda: monitor.seqs(Channel.EVENT) == list(range(200)), 20)
        assert wait_until(lambda: agent.stats().outbox_messages == 0, 10)


def _run_vehicle_agent(config: TelemetryConfig, count: int, ready: object) -> None:
    with TelemetryAgent(IDENTITY, config) as agent:  # the broker is out of reach
        for i in range(count):
            agent.vehicle(_sample(i))

        # The sender writes staged messages to the file each round: wait until all are there.
        def stored() -> int:
            with contextlib.closing(sqlite3.connect(config.outbox_path)) as file:
                return int(file.execute("SELECT COUNT(*) FROM message").fetchone()[0])

        assert wait_until(lambda: stored() >= count, WAIT_S, interval=0.05)
        ready.set()  # type: ignore[attr-defined]
        signal.pause()


def test_vehicle_samples_of_a_long_outage_survive_the_agent_being_killed(
    broker: Mosquitto, monitor: Monitor, tmp_path: Path
) -> None:
    config = telemetry_config(broker, tmp_path)
    away = config.model_copy(update={"broker_port": free_port()})
    kill_when_ready(_run_vehicle_agent, away, 300)
    with TelemetryAgent(IDENTITY, config) as agent:
        assert wait_until(lambda: monitor.seqs(Channel.VEHICLE) == list(range(300)), 20)
        assert wait_until(lambda: agent.stats().outbox_messages == 0, 10)


def test_a_full_outbox_thins_vehicle_samples_and_keeps_every_vital(
    broker: Mosquitto, monitor: Monitor, tmp_path: Path
) -> None:
    broker.stop()
    config = telemetry_config(broker, tmp_path, outbox_max_mb=0.05)
    with TelemetryAgent(IDENTITY, config) as agent:
        for i in range(1500):
            agent.vehicle(_sample(i))
            if i % 10 == 0:
                agent.vitals(_vitals())
        stats = agent.stats()
        assert stats.outbox_thinned > 0
        assert stats.outbox_bytes <= 50_000
        broker.start()
        assert wait_until(lambda: monitor.seqs(Channel.PATIENT) == list(range(150)), 20)
        # Every vehicle sequence number arrives, as a batch or inside a tombstone.
        assert wait_until(lambda: monitor.seqs(Channel.VEHICLE) == list(range(1500)), 20)
        assert any(
            isinstance(m, VehicleMessage) and m.thinned_through is not None
            for m in monitor.of(Channel.VEHICLE)
        )


def test_the_last_will_marks_the_chair_offline_when_the_agent_dies(
    broker: Mosquitto, monitor: Monitor, tmp_path: Path
) -> None:
    config = telemetry_config(broker, tmp_path)
    context = multiprocessing.get_context("spawn")
    process = context.Process(target=_agent_forever, args=(config,))
    process.start()
    try:
        assert wait_until(
            lambda: any(
                isinstance(m, StateMessage) and m.status == "online"
                for m in monitor.of(Channel.STATE)
            ),
            20,
        )
        assert process.pid is not None
        os.kill(process.pid, signal.SIGKILL)
        # The broker publishes the will after 1.5 keep-alive periods (2 s) of silence.
        assert wait_until(
            lambda: (
                isinstance(last := monitor.of(Channel.STATE)[-1], StateMessage)
                and last.status == "offline"
            ),
            10,
        )
    finally:
        process.kill()
        process.join()


def _agent_forever(config: TelemetryConfig) -> None:
    agent = TelemetryAgent(IDENTITY, config)
    agent.start()
    signal.pause()


class Handler:
    """The chair's side of commands: records what it was asked to do."""

    def __init__(self) -> None:
        self.done: list[Command] = []

    def __call__(self, command: Command) -> tuple[bool, str]:
        self.done.append(command)
        return True, ""


def _stop(command_id: str) -> StopCommand:
    return StopCommand(
        v=SCHEMA_VERSION,
        command_id=command_id,
        chair=CHAIR,
        issued_ns=time.time_ns(),
        kind=CommandKind.STOP,
        reason="nurse request",
    )


def _acks(monitor: Monitor) -> list[tuple[str, bool, str, bool]]:
    acks = []
    for m in monitor.messages:
        if isinstance(m, EventMessage | TripMessage) and m.ack is not None:
            acks.append((m.ack.command_id, m.ack.accepted, m.ack.reason, m.ack.duplicate))
    return acks


def test_a_stop_is_carried_out_once_and_a_repeat_is_only_answered(
    broker: Mosquitto, monitor: Monitor, tmp_path: Path
) -> None:
    handler = Handler()
    with TelemetryAgent(IDENTITY, telemetry_config(broker, tmp_path), on_command=handler) as agent:
        assert wait_until(lambda: agent.connected, 5)
        monitor.wait_chair_listening()
        monitor.command(_stop("c-1"))
        monitor.command(_stop("c-1"))
        assert wait_until(lambda: len(_acks(monitor)) == 2, 5)
    assert [c.command_id for c in handler.done] == ["c-1"]
    assert _acks(monitor) == [("c-1", True, "", False), ("c-1", True, "", True)]


def test_a_malformed_command_is_refused_with_a_reason_and_changes_nothing(
    broker: Mosquitto, monitor: Monitor, tmp_path: Path
) -> None:
    handler = Handler()
    with TelemetryAgent(IDENTITY, telemetry_config(broker, tmp_path), on_command=handler) as agent:
        assert wait_until(lambda: agent.connected, 5)
        monitor.wait_chair_listening()
        topic = command_topic(SITE, CHAIR, "trip")
        monitor.client.publish(topic, b'{"v":1,"kind":"trip"}', qos=1).wait_for_publish(5)
        monitor.client.publish(topic, b"\x00garbage", qos=1).wait_for_publish(5)
        elsewhere = _stop("c-other").model_copy(update={"chair": "chair-99"})
        monitor.command(elsewhere)
        assert wait_until(lambda: agent.stats().commands_rejected == 3, 5)
        assert wait_until(lambda: len(monitor.of(Channel.EVENT)) == 3, 5)
    assert handler.done == []
    reasons = [m.message for m in monitor.of(Channel.EVENT) if isinstance(m, EventMessage)]
    assert "trip.command_id: Field required" in reasons[0]
    assert "not JSON" in reasons[1]
    assert reasons[2] == "command for chair chair-99, this is chair-07"


def test_an_expired_trip_is_not_started(
    broker: Mosquitto, monitor: Monitor, tmp_path: Path
) -> None:
    handler = Handler()
    config = telemetry_config(broker, tmp_path, trip_max_age_s=60)
    # A trip queued for 1 s with a 1 s MQTT expiry while the chair was away: the broker drops it.
    agent = TelemetryAgent(IDENTITY, config, on_command=handler)
    agent.start()
    assert wait_until(lambda: agent.connected, 5)
    monitor.wait_chair_listening()  # its session holds the subscription while it is away
    agent.stop()
    monitor.command(trip_command("c-queued", time.time_ns()), expiry_s=1)
    time.sleep(2.0)
    # And a trip issued two minutes ago that reaches the chair now: refused as expired.
    monitor.command(trip_command("c-old", time.time_ns() - 120 * 10**9))
    with TelemetryAgent(IDENTITY, config, on_command=handler) as agent:
        # Had the queued trip outlived its expiry, it would have come first (a session's
        # messages arrive in order) and been answered first.
        assert wait_until(lambda: len(_acks(monitor)) >= 1, WAIT_S)
    assert handler.done == []
    ((command_id, accepted, reason, _),) = _acks(monitor)
    assert (command_id, accepted) == ("c-old", False)
    assert reason.startswith("expired")
    trips = [m for m in monitor.of(Channel.TRIP) if isinstance(m, TripMessage)]
    assert [t.event for t in trips] == ["expired"]


def test_vitals_out_of_limits_while_offline_raise_an_alarm_on_the_chair_and_later_upstream(
    broker: Mosquitto, monitor: Monitor, tmp_path: Path
) -> None:
    shown: list[EventMessage] = []
    broker.stop()
    with TelemetryAgent(
        IDENTITY, telemetry_config(broker, tmp_path), on_local_alarm=shown.append
    ) as agent:
        agent.vitals(_vitals(spo2=96))
        agent.vitals(_vitals(spo2=86))
        agent.vitals(_vitals(spo2=85))  # the same condition: no second alarm
        assert [a.code for a in shown] == ["spo2_low"]
        assert shown[0].priority == "high"
        broker.start()
        assert wait_until(lambda: len(monitor.of(Channel.EVENT)) == 1, 20)
    (event,) = monitor.of(Channel.EVENT)
    assert isinstance(event, EventMessage)
    assert (event.code, event.raised_offline, event.patient) == ("spo2_low", True, TOKEN)


def test_a_chair_logs_in_by_its_client_certificate_over_tls(tmp_path: Path) -> None:
    broker = Mosquitto(tmp_path / "tls-broker", USERS, tls_clients=(CHAIR, "chair-08"))
    broker.start()
    monitor = Monitor(broker)
    try:
        certs = broker.folder
        config = TelemetryConfig(
            broker_host="127.0.0.1",
            broker_port=broker.tls_port,
            tls_ca_file=str(certs / "ca.crt"),
            tls_cert_file=str(certs / f"{CHAIR}.crt"),
            tls_key_file=str(certs / f"{CHAIR}.key"),
            outbox_path=str(tmp_path / "outbox.db"),
        )
        with TelemetryAgent(IDENTITY, config) as agent:
            assert wait_until(lambda: agent.connected, 10)
            agent.vitals(_vitals())
            assert wait_until(lambda: len(monitor.of(Channel.PATIENT)) == 1, 5)
        # Another chair's certificate names another user: the ACL keeps it off chair-07's topics.
        other = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="chair-08", protocol=mqtt.MQTTv5)
        other.tls_set(
            ca_certs=str(certs / "ca.crt"),
            certfile=str(certs / "chair-08.crt"),
            keyfile=str(certs / "chair-08.key"),
        )
        results: list[str] = []
        other.on_publish = lambda _c, _u, _m, rc, _p: results.append(rc.getName())
        other.connect("127.0.0.1", broker.tls_port)
        other.loop_start()
        assert wait_until(other.is_connected, 10)
        other.publish(f"chairlink/v1/{SITE}/chair-08/patient", b"{}", qos=1).wait_for_publish(5)
        forged = other.publish(f"chairlink/v1/{SITE}/{CHAIR}/patient", b"{}", qos=1)
        # Refused with a PUBACK "Not authorized", or by dropping the connection: either way the
        # message never reaches a subscriber.
        with contextlib.suppress(RuntimeError):
            forged.wait_for_publish(5)
        monitor.barrier()  # a forged message the broker passed on would be in by now
        other.loop_stop()
        other.disconnect()
        assert results[0] == "Success"
        assert results[1:] in ([], ["Not authorized"])
        assert len(monitor.of(Channel.PATIENT)) == 1  # only the agent's own reading
        assert [topic for topic, _ in monitor.rejected] == [f"chairlink/v1/{SITE}/chair-08/patient"]
    finally:
        monitor.close()
        broker.stop()


def test_safety_goes_out_on_change_and_at_the_keepalive_rate(tmp_path: Path) -> None:
    """No broker needed: what the agent stores in its outbox is what it will send."""
    now = [0]
    config = TelemetryConfig(outbox_path=str(tmp_path / "outbox.db"), safety_keepalive_s=5.0)
    agent = TelemetryAgent(IDENTITY, config, clock_ns=lambda: now[0])
    try:
        for t_s, state in [(0, "clear"), (1, "clear"), (2, "slow"), (3, "slow"), (7.5, "slow")]:
            now[0] = int(t_s * 1e9)
            agent.safety(state)  # type: ignore[arg-type]
        sent = [p for p in agent.outbox.pending(100) if p.channel == Channel.SAFETY]
        stamps = [decode_uplink(p.payload).stamp_ns / 1e9 for p in sent]
    finally:
        agent.outbox.close()
    assert stamps == [0.0, 2.0, 7.5]


def test_topics_go_by_alias_on_the_wire_and_arrive_whole(broker: Mosquitto, tmp_path: Path) -> None:
    relay = CountingRelay(broker.port)
    monitor = Monitor(broker)
    config = telemetry_config(broker, tmp_path, broker_port=relay.port)
    try:
        with TelemetryAgent(IDENTITY, config) as agent:
            assert wait_until(lambda: agent.connected and not agent.stats().draining, 10)
            assert wait_until(lambda: agent.stats().outbox_messages == 0, 10)
            before = relay.upstream_bytes
            for i in range(50):
                agent.vitals(_vitals(pulse=60.0 + i % 30))
            assert wait_until(lambda: agent.stats().outbox_messages == 0, 10)
            sent = relay.upstream_bytes - before
        assert wait_until(lambda: len(monitor.of(Channel.PATIENT)) == 50, 5)
        topics = {m.topic for m in monitor.raw if b'"channel":"patient"' in m.payload}
        assert topics == {f"chairlink/v1/{SITE}/{CHAIR}/patient"}
        payload = max(len(m.payload) for m in monitor.raw if b'"channel":"patient"' in m.payload)
        # Each PUBLISH carries its payload, a few header bytes and a 2-byte alias, not the
        # 38-byte topic: only the first names it.
        assert sent < 50 * (payload + 12) + 40
    finally:
        relay.close()
        monitor.client.loop_stop()
        monitor.client.disconnect()


def test_a_broker_with_a_smaller_receive_maximum_gets_a_smaller_window(tmp_path: Path) -> None:
    broker = Mosquitto(tmp_path / "broker", USERS, settings={"max_inflight_messages": "10"})
    broker.start()
    try:
        monitor = Monitor(broker)
        config = telemetry_config(broker, tmp_path)
        with TelemetryAgent(IDENTITY, config) as agent:
            assert wait_until(lambda: agent.connected, 10)
            for i in range(500):
                agent.vehicle(_sample(i))
            assert wait_until(lambda: agent.stats().outbox_messages == 0, 20)
            stats = agent.stats()
            assert stats.refused_by_broker == 0
            # MQTT 5 lets a broker disconnect a client that exceeds its Receive Maximum
            # (Mosquitto is lenient): the agent reconnected with the broker's window.
            assert stats.window == 10
        assert wait_until(lambda: len(monitor.seqs(Channel.VEHICLE)) == 500, 10)
        monitor.client.loop_stop()
        monitor.client.disconnect()
    finally:
        broker.stop()


def test_payloads_that_break_a_json_parser_are_refused_and_the_link_carries_on(
    broker: Mosquitto, monitor: Monitor, tmp_path: Path
) -> None:
    handler = Handler()
    with TelemetryAgent(IDENTITY, telemetry_config(broker, tmp_path), on_command=handler) as agent:
        assert wait_until(lambda: agent.connected, 5)
        monitor.wait_chair_listening()
        # On cmd/config: on cmd/stop, what cannot be read is carried out as a stop.
        for payload in (b"[" * 100_000, b"1" * 5_000, b'{"v":1,"issued_ns":' + b"9" * 5_000):
            monitor.publish_raw("config", payload)
        monitor.command(_stop("c-after"))
        assert wait_until(lambda: ("c-after", True, "", False) in _acks(monitor), 5)
        assert (agent.stats().commands_rejected, agent.stats().commands_unreadable) == (3, 3)
    assert [c.command_id for c in handler.done] == ["c-after"]


def test_a_stop_that_failed_is_carried_out_again_when_repeated(
    broker: Mosquitto, monitor: Monitor, tmp_path: Path
) -> None:
    answers = iter([(False, "e-stop not delivered: MCU not connected"), (True, "e-stop: OK")])
    asked: list[str] = []

    def handler(command: Command) -> tuple[bool, str]:
        asked.append(command.command_id)
        return next(answers)

    with TelemetryAgent(IDENTITY, telemetry_config(broker, tmp_path), on_command=handler) as agent:
        assert wait_until(lambda: agent.connected, 5)
        monitor.wait_chair_listening()
        monitor.command(_stop("c-9"))
        assert wait_until(lambda: len(_acks(monitor)) == 1, 5)
        monitor.command(_stop("c-9"))
        assert wait_until(lambda: len(_acks(monitor)) == 2, 5)
    assert asked == ["c-9", "c-9"]
    assert [(a[1], a[3]) for a in _acks(monitor)] == [(False, False), (True, False)]


def test_a_trip_issued_in_the_future_is_refused(
    broker: Mosquitto, monitor: Monitor, tmp_path: Path
) -> None:
    handler = Handler()
    config = telemetry_config(broker, tmp_path, trip_max_age_s=60)
    with TelemetryAgent(IDENTITY, config, on_command=handler) as agent:
        assert wait_until(lambda: agent.connected, 5)
        monitor.wait_chair_listening()
        monitor.command(trip_command("c-ahead", time.time_ns() + 3_600 * 10**9))
        assert wait_until(lambda: len(_acks(monitor)) == 1, 5)
    assert handler.done == []
    ((_, accepted, reason, _),) = _acks(monitor)
    assert not accepted
    assert "in the future" in reason


def test_stopping_while_the_backlog_drains_leaves_the_chair_offline(
    broker: Mosquitto, tmp_path: Path
) -> None:
    broker.stop()
    config = telemetry_config(broker, tmp_path, drain_msgs_per_s=50.0)
    agent = TelemetryAgent(IDENTITY, config)
    agent.start()
    for _ in range(200):
        agent.vitals(_vitals())
    broker.start()
    assert wait_until(lambda: agent.connected and agent.stats().draining, 15)
    agent.stop()
    # A late subscriber sees the retained state: the clean stop's offline, not a backlog
    # state and not a drained `online` that came after it.
    late = Monitor(broker)
    try:
        assert wait_until(lambda: bool(late.of(Channel.STATE)), 5)
        late.barrier()  # every retained state the broker holds has come
        states = [m for m in late.of(Channel.STATE) if isinstance(m, StateMessage)]
        assert [s.status for s in states] == ["offline"]
    finally:
        late.close()
    with TelemetryAgent(IDENTITY, config) as again:
        assert again.stats().outbox_messages > 0, "the rest of the backlog waits for next time"


def test_a_vehicle_batch_goes_when_due_without_a_later_sample(
    broker: Mosquitto, monitor: Monitor, tmp_path: Path
) -> None:
    config = telemetry_config(broker, tmp_path, vehicle_batch_s=0.3)
    with TelemetryAgent(IDENTITY, config) as agent:
        assert wait_until(lambda: agent.connected, 5)
        agent.vehicle(_sample(1))
        agent.vehicle(_sample(2))
        assert wait_until(lambda: bool(monitor.of(Channel.VEHICLE)), 2)
        (batch,) = monitor.of(Channel.VEHICLE)
        assert isinstance(batch, VehicleMessage)
        assert [s.x_m for s in batch.samples] == [1.0, 2.0]


def test_vitals_the_broker_refuses_stay_on_the_chair_and_raise_an_alarm(tmp_path: Path) -> None:
    broker = Mosquitto(tmp_path / "broker", USERS)
    acl = broker.folder / "acl"
    # An ACL mistake at the hospital: this chair may not write its patient channel.
    line = f"topic write {channel_topic(SITE, CHAIR, Channel.PATIENT)}\n"
    text = acl.read_text(encoding="utf-8").replace(line, "")
    assert text != acl.read_text(encoding="utf-8"), "the ACL names the patient channel"
    acl.write_text(text, encoding="utf-8")
    broker.start()
    shown: list[EventMessage] = []
    try:
        config = telemetry_config(broker, tmp_path)
        with TelemetryAgent(IDENTITY, config, on_local_alarm=shown.append) as agent:
            assert wait_until(lambda: agent.connected, 5)
            agent.vitals(_vitals())
            assert wait_until(lambda: any(a.code == "broker_refused" for a in shown), 10)
            assert agent.stats().outbox_messages >= 1
        box = Outbox(config.outbox_path)
        kept = [p for p in box.pending(100) if p.channel == Channel.PATIENT]
        box.close()
        assert len(kept) == 1
    finally:
        broker.stop()


def test_a_command_repeated_after_a_restart_is_only_answered(
    broker: Mosquitto, monitor: Monitor, tmp_path: Path
) -> None:
    handler = Handler()
    config = telemetry_config(broker, tmp_path)
    with TelemetryAgent(IDENTITY, config, on_command=handler) as agent:
        assert wait_until(lambda: agent.connected, 5)
        monitor.wait_chair_listening()
        monitor.command(trip_command("c-once", time.time_ns()))
        assert wait_until(lambda: len(_acks(monitor)) == 1, 5)
    with TelemetryAgent(IDENTITY, config, on_command=handler) as agent:
        # Its session kept the subscription: the repeat reaches it, now or once connected.
        monitor.command(trip_command("c-once", time.time_ns()))
        assert wait_until(lambda: len(_acks(monitor)) == 2, 5)
    assert [c.command_id for c in handler.done] == ["c-once"]
    assert [a[3] for a in _acks(monitor)] == [False, True]


def test_tombstones_made_while_connected_go_out_too(
    broker: Mosquitto, monitor: Monitor, tmp_path: Path
) -> None:
    broker.stop()
    config = telemetry_config(broker, tmp_path, outbox_max_mb=0.02, drain_msgs_per_s=20.0)
    with TelemetryAgent(IDENTITY, config) as agent:
        for i in range(300):
            agent.vehicle(_sample(i))
        broker.start()
        assert wait_until(lambda: agent.connected, 15)
        # Faster than the slow drain lets the outbox empty: it thins while connected.
        for i in range(300, 1500):
            agent.vehicle(_sample(i))
        assert agent.stats().outbox_thinned > 0
        assert wait_until(lambda: monitor.seqs(Channel.VEHICLE) == list(range(1500)), 20)
        assert wait_until(lambda: agent.stats().outbox_messages == 0, 10)


def test_the_broker_refusing_events_raises_the_alarm_once(tmp_path: Path) -> None:
    broker = Mosquitto(tmp_path / "broker", USERS)
    acl = broker.folder / "acl"
    line = f"topic write {channel_topic(SITE, CHAIR, Channel.EVENT)}\n"
    text = acl.read_text(encoding="utf-8").replace(line, "")
    assert text != acl.read_text(encoding="utf-8"), "the ACL names the event channel"
    acl.write_text(text, encoding="utf-8")
    broker.start()
    shown: list[EventMessage] = []
    try:
        config = telemetry_config(broker, tmp_path)
        with TelemetryAgent(IDENTITY, config, on_local_alarm=shown.append) as agent:
            assert wait_until(lambda: agent.connected, 5)
            agent.event("incident", "bumper_touch", "low", "bumper touched")
            assert wait_until(lambda: any(a.code == "broker_refused" for a in shown), 10)
            # The alarm is an event too, refused in its turn: it must not raise the next one.
            time.sleep(4.0)
            assert [a.code for a in shown].count("broker_refused") == 1
            assert agent.stats().outbox_messages >= 2
    finally:
        broker.stop()


def test_an_outbox_that_cannot_be_opened_is_named_in_the_error(tmp_path: Path) -> None:
    (tmp_path / "not-a-folder").write_text("", encoding="utf-8")
    config = TelemetryConfig(outbox_path=str(tmp_path / "not-a-folder" / "outbox.db"))
    with pytest.raises(ChairlinkError, match=r"cannot open the outbox .*not-a-folder/outbox\.db"):
        TelemetryAgent(IDENTITY, config)
