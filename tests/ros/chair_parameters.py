"""A chair's ROS parameters for tests of telemetry_node: identity, the test broker, a
password file and an outbox in the test's folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rclpy.parameter import Parameter

from tests.monitor import CHAIR, SITE, USERS
from tests.mosquitto import Mosquitto

__all__ = ["chair_parameters"]


def chair_parameters(broker: Mosquitto, tmp_path: Path, **extra: Any) -> list[Parameter]:
    """The parameters, vehicle samples sent one by one; ``extra`` adds or overrides."""
    (tmp_path / "password").write_text(USERS[CHAIR], encoding="utf-8")
    values: dict[str, Any] = {
        "identity.chair_id": CHAIR,
        "identity.site": SITE,
        "telemetry.broker_host": "127.0.0.1",
        "telemetry.broker_port": broker.port,
        "telemetry.password_file": str(tmp_path / "password"),
        "telemetry.outbox_path": str(tmp_path / "outbox.db"),
        "telemetry.vehicle_hz": 10.0,
        "telemetry.vehicle_batch_s": 0.0,
    }
    values.update(extra)
    return [Parameter(name, value=value) for name, value in values.items()]
