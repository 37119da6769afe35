"""The README's lines for a chair's telemetry on one machine, run as written on a real broker."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import threading
from pathlib import Path

import paho.mqtt.client as mqtt
import yaml
from paho.mqtt.enums import CallbackAPIVersion

from chairlink.wire.payloads import StateMessage, decode_uplink
from chairlink.wire.topics import Channel, channel_topic

REPO = Path(__file__).resolve().parents[1]
DEV_DIR = "dir=/tmp/chairlink-dev"


def _readme_lines() -> str:
    """The README's shell block that starts the development broker."""
    blocks = re.findall(r"```sh\n(.*?)```", (REPO / "README.md").read_text("utf-8"), re.DOTALL)
    (block,) = [b for b in blocks if "scripts/dev-broker" in b]
    return str(block)


def test_the_readme_block_starts_a_broker_and_an_agent_that_connects(tmp_path: Path) -> None:
    block = _readme_lines()
    assert DEV_DIR in block
    assert ".venv/bin/chairlink edge agent --config $dir/chair.yaml" in block
    # The same lines, in this test's folder and with this test's interpreter for .venv.
    script = block.replace(DEV_DIR, f"dir={shlex.quote(str(tmp_path / 'dev'))}").replace(
        ".venv/bin/chairlink", f"{shlex.quote(sys.executable)} -m chairlink"
    )
    # dev-broker provisions its logins with this interpreter, as it would with .venv's.
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state"), "PYTHON": sys.executable}
    shell = subprocess.Popen(
        ["bash", "-c", script],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    dev = tmp_path / "dev"
    client: mqtt.Client | None = None
    try:
        online = threading.Event()
        chair = yaml.safe_load((_wait_for(dev / "chair.yaml", shell)).read_text("utf-8"))
        port = chair["telemetry"]["broker_port"]

        def on_message(_c: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
            state = decode_uplink(bytes(message.payload))
            if isinstance(state, StateMessage) and state.status == "online":
                online.set()

        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id="readme-monitor", protocol=mqtt.MQTTv5
        )
        client.username_pw_set("monitor", (dev / "monitor.password").read_text("utf-8").strip())
        client.on_message = on_message
        client.connect("127.0.0.1", port)
        client.subscribe(channel_topic("demo-hospital", "chair-01", Channel.STATE), qos=1)
        client.loop_start()
        assert online.wait(60), _output(shell)
        # The agent's outbox went to the state folder, not to /var/lib.
        assert (tmp_path / "state" / "chairlink" / "demo-hospital" / "chair-01").is_dir()
    finally:
        if client is not None:
            client.loop_stop()
            client.disconnect()
        if shell.poll() is None:
            os.killpg(shell.pid, signal.SIGTERM)
        shell.communicate(timeout=30)
        pid_file = dev / "mosquitto.pid"
        if pid_file.exists():
            os.kill(int(pid_file.read_text("utf-8")), signal.SIGTERM)


def _wait_for(path: Path, shell: subprocess.Popen[str]) -> Path:
    """The file, once dev-broker has written it and its broker listens (it prints a line)."""
    assert shell.stdout is not None
    line = shell.stdout.readline()
    assert line.startswith("broker on 127.0.0.1:"), line + _output(shell)
    assert path.is_file()
    return path


def _output(shell: subprocess.Popen[str]) -> str:
    if shell.poll() is None:
        os.killpg(shell.pid, signal.SIGTERM)
    out, err = shell.communicate(timeout=30)
    return f"stdout:\n{out}\nstderr:\n{err}"
