"""``chairlink mqtt tail`` against a real Mosquitto and a real agent."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from chairlink.config import IdentityConfig, TelemetryConfig
from edge.telemetry.agent import TelemetryAgent
from edge.types import Perfusion, Vitals
from tests.monitor import PROBE_TOPIC, Monitor
from tests.mosquitto import Mosquitto
from tests.wait import WAIT_S, wait_until

USERS = {"chair-07": "chair-secret", "chair-08": "rogue-secret", "monitor": "monitor-secret"}


def test_tail_prints_decoded_traffic_and_names_what_breaks_the_contract(tmp_path: Path) -> None:
    broker = Mosquitto(tmp_path / "broker", USERS)
    broker.start()
    (tmp_path / "monitor.pw").write_text(USERS["monitor"], encoding="utf-8")
    (tmp_path / "chair.pw").write_text(USERS["chair-07"], encoding="utf-8")
    monitor = Monitor(broker)
    # Retained where the tail listens for commands: it comes once the tail has subscribed.
    monitor.client.publish(PROBE_TOPIC, b"probe", qos=1, retain=True).wait_for_publish(WAIT_S)
    tail = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "chairlink",
            "mqtt",
            "tail",
            "--port",
            str(broker.port),
            "--password-file",
            str(tmp_path / "monitor.pw"),
            "--commands",
            # The probe, the birth, the drained state, the two good messages, the rogue one
            # and the offline state at the agent's stop: then the tail ends by itself.
            "--count",
            "7",
            "--seconds",
            str(WAIT_S * 2),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines: list[str] = []

    def read() -> None:
        for line in tail.stdout or []:
            lines.append(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert wait_until(lambda: any(PROBE_TOPIC in line for line in lines), WAIT_S)
        config = TelemetryConfig(
            broker_host="127.0.0.1",
            broker_port=broker.port,
            password_file=str(tmp_path / "chair.pw"),
            outbox_path=str(tmp_path / "o.db"),
        )
        with TelemetryAgent(IdentityConfig(chair_id="chair-07", site="site-1"), config) as agent:
            assert wait_until(lambda: agent.connected, 5)
            agent.vitals(Vitals(0, "pt-7f3a9c2b", 97.0, 72.0, Perfusion.GOOD, False))
            agent.event("incident", "bumper_touch", "low", "bumper touched")
            assert wait_until(lambda: agent.stats().outbox_messages == 0, 5)
            rogue = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
            # Another chair of the site: chair-07's own login would take its session over.
            rogue.username_pw_set("chair-08", USERS["chair-08"])
            rogue.connect("127.0.0.1", broker.port)
            rogue.loop_start()
            rogue.publish(
                "chairlink/v1/site-1/chair-08/patient", b'{"v":1,"channel":"patient"}', qos=1
            ).wait_for_publish(5)
            rogue.loop_stop()
            rogue.disconnect()
        tail.wait(timeout=WAIT_S)
        reader.join(timeout=WAIT_S)
        out, err = "".join(lines), (tail.stderr.read() if tail.stderr else "")
    finally:
        tail.kill()
        monitor.close()
        broker.stop()
    assert tail.returncode == 0, err
    assert "chairlink/v1/site-1/chair-07/state seq 1" in out  # seq 0 is the last will
    assert "chairlink/v1/site-1/chair-07/patient seq 0" in out
    assert '"spo2_pct":97.0' in out
    assert "chairlink/v1/site-1/chair-07/event seq 0" in out
    assert "refused: uplink payload: patient.chair: Field required" in out


def test_tail_names_a_refused_login(tmp_path: Path) -> None:
    broker = Mosquitto(tmp_path / "broker", USERS)
    broker.start()
    try:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "chairlink",
                "mqtt",
                "tail",
                "--port",
                str(broker.port),
                "--seconds",
                "10",
            ],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    finally:
        broker.stop()
    assert result.returncode == 1
    assert "the broker refused the connection: Not authorized" in result.stderr
