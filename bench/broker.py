"""Broker figures: what one save of Mosquitto's persistent sessions costs with a full queue.

The repo's config saves after every ``autosave_interval`` changes, and each save rewrites the
whole database while the broker serves no one. So the figure is one save with 50,000
vitals-size messages queued for an absent monitor: the time from SIGTERM to the broker's exit
(it saves on the way out), less that of a broker with nothing queued.
"""

from __future__ import annotations

import re
import signal
import tempfile
import time
from pathlib import Path

from bench.figures import Figure
from bench.telemetry import vitals_payload
from chairlink.wire.topics import Channel, channel_topic
from tests.mosquitto import CONFIG, Mosquitto
from tests.mqtt_client import Client

__all__ = ["autosave_ms"]

_SITE, _CHAIR = "site-1", "chair-01"
_QUEUED = 50_000


def _exit_ms(folder: Path, queued: int) -> float:
    """SIGTERM to exit of a broker holding ``queued`` messages for an absent session, ms."""
    broker = Mosquitto(folder, {_CHAIR: "bench-chair"}, site=_SITE)
    broker.start()
    topic = channel_topic(_SITE, _CHAIR, Channel.PATIENT)
    login, password = broker.monitor_login()
    monitor = Client(broker, login, password, session_expiry_s=3600, clean_start=False)
    monitor.subscribe(topic)
    monitor.close()
    chair = Client(broker, _CHAIR)
    payload = vitals_payload(123_456)
    infos = [chair.client.publish(topic, payload, qos=1) for _ in range(queued)]
    for info in infos:
        info.wait_for_publish(60)
    chair.close()
    assert broker.process is not None
    start = time.perf_counter()
    broker.process.send_signal(signal.SIGTERM)
    broker.process.wait(60)
    return (time.perf_counter() - start) * 1000


def autosave_ms() -> Figure:
    """One save of the broker's database with 50,000 messages queued, ms (median of 3)."""
    with tempfile.TemporaryDirectory(prefix="chairlink-bench-broker-") as tmp:
        folder = Path(tmp)
        empty = sorted(_exit_ms(folder / f"empty-{i}", 0) for i in range(3))[1]
        full = sorted(_exit_ms(folder / f"full-{i}", _QUEUED) for i in range(3))[1]
        size = (folder / "full-0" / "data" / "mosquitto.db").stat().st_size
    config = (CONFIG / "chairlink.conf").read_text(encoding="utf-8")
    every = re.search(r"^autosave_interval (\d+)$", config, re.MULTILINE)
    return Figure(
        "broker.autosave_ms",
        full - empty,
        "ms",
        "<=",
        100,
        f"{_QUEUED:,} queued vitals ({size / 1e6:.0f} MB database); the repo's config saves "
        f"every {every.group(1) if every else '?'} changes",
    )
