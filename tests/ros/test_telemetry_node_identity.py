"""telemetry_node refuses the example identity towards a broker off this machine."""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_installed_telemetry_node_refuses_the_example_identity(tmp_path: Path) -> None:
    program = REPO / "ros2_ws" / "install" / "chairlink_ros" / "lib" / "chairlink_ros"
    result = subprocess.run(
        [
            str(program / "telemetry_node"),
            "--ros-args",
            "-p",
            "telemetry.broker_host:=10.20.30.40",
            "-p",
            f"telemetry.outbox_path:={tmp_path / 'outbox.db'}",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "set identity.chair_id" in result.stderr + result.stdout
    assert not (tmp_path / "outbox.db").exists()
