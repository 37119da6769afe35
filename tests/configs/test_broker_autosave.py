"""What a crashed broker loses: at most the changes since its last save, as the repo's config
sets them (docs/mqtt-contract.md, "The broker")."""

from __future__ import annotations

import re
from pathlib import Path

from chairlink.wire.topics import PREFIX
from tests.mosquitto import CONFIG, Mosquitto
from tests.mqtt_client import Client
from tests.wait import WAIT_S, wait_until

TOPIC = f"{PREFIX}/site-1/chair-01/patient"
QUEUED = 1000


def _autosave_changes() -> int:
    """The repo's save window, in changes (autosave_on_changes must be on)."""
    config = (CONFIG / "chairlink.conf").read_text(encoding="utf-8")
    assert re.search(r"^autosave_on_changes true$", config, re.MULTILINE)
    match = re.search(r"^autosave_interval (\d+)$", config, re.MULTILINE)
    assert match is not None
    return int(match.group(1))


def test_a_killed_broker_loses_at_most_the_configured_changes(tmp_path: Path) -> None:
    """1,000 messages acknowledged to the chair while the monitor is away, then SIGKILL: after
    the restart the monitor gets all but at most ``autosave_interval`` of them."""
    broker = Mosquitto(tmp_path / "broker", {"chair-01": "secret"})
    broker.start()
    login, password = broker.monitor_login()
    monitor = Client(broker, login, password, session_expiry_s=600, clean_start=False)
    try:
        assert monitor.connected.wait(WAIT_S)
        monitor.subscribe(TOPIC)
        monitor.client.disconnect()  # away: the broker queues for its session
        assert wait_until(lambda: monitor.disconnects == 1, WAIT_S)
        chair = Client(broker, "chair-01")
        assert chair.connected.wait(WAIT_S)
        infos = [chair.client.publish(TOPIC, str(i).encode(), qos=1) for i in range(QUEUED)]
        for info in infos:
            info.wait_for_publish(WAIT_S)  # acknowledged: the chair's outbox lets it go
        chair.close()
        broker.kill()
        broker.start()
        monitor.connect()
        assert monitor.connected.wait(WAIT_S)
        # Queued messages come before any newer one: once this is in, the rest is.
        chair = Client(broker, "chair-01")
        assert chair.connected.wait(WAIT_S)
        assert not chair.publish(TOPIC, b"after").is_failure
        chair.close()
        assert monitor.received(b"after")
        received = {int(m.payload) for m in monitor.messages if m.payload != b"after"}
        assert received <= set(range(QUEUED))
        lost = QUEUED - len(received)
        assert lost <= _autosave_changes(), f"{lost} acknowledged messages lost"
    finally:
        monitor.close()
        broker.stop()
