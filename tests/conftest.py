"""Fixtures shared across the test tree: a Mosquitto with the repo's config and the test
users, and the hospital monitor subscribed to it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.monitor import USERS, Monitor
from tests.mosquitto import Mosquitto


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    b = Mosquitto(tmp_path / "broker", USERS)
    b.start()
    yield b
    b.stop()


@pytest.fixture
def monitor(broker: Mosquitto) -> Iterator[Monitor]:
    m = Monitor(broker)
    yield m
    m.close()
