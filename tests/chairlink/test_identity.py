"""Two chairs never share the example identity on a hospital's broker."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from chairlink.config import load_chair_config
from chairlink.errors import ConfigError
from chairlink.identity import is_loopback, require_own_identity


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("LOCALHOST.", True),
        ("broker.localhost", True),
        ("127.0.0.1", True),
        ("127.3.2.1", True),
        ("::1", True),
        ("[::1]", True),
        ("10.0.0.5", False),
        ("mqtt.hospital.example", False),
        ("localhost.hospital.example", False),
        ("::ffff:10.0.0.5", False),
    ],
)
def test_loopback_names_and_addresses(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_the_example_identity_is_refused_off_this_machine_and_says_what_to_set() -> None:
    config = load_chair_config(telemetry={"broker_host": "mqtt.hospital.example"})
    with pytest.raises(ConfigError, match=r"set identity\.chair_id") as caught:
        require_own_identity(config)
    assert "mqtt.hospital.example" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_the_example_identity_runs_on_this_machine() -> None:
    require_own_identity(load_chair_config())
    require_own_identity(load_chair_config(telemetry={"broker_host": "127.0.0.1"}))


@pytest.mark.parametrize(
    "identity",
    [{"chair_id": "chair-07"}, {"site": "st-marys"}, {"chair_id": "chair-07", "site": "st-marys"}],
)
def test_a_chair_of_its_own_runs_anywhere(identity: dict[str, str]) -> None:
    config = load_chair_config(
        identity=identity, telemetry={"broker_host": "mqtt.hospital.example"}
    )
    require_own_identity(config)


@pytest.mark.parametrize(
    "command",
    [
        ["edge", "agent", "--config", "{config}"],
        ["sim", "run", "scenarios/corridor-walk.yaml", "--telemetry", "{config}"],
    ],
    ids=["edge agent", "sim run --telemetry"],
)
def test_a_cli_host_refuses_the_example_identity_in_one_line(
    command: list[str], tmp_path: Path
) -> None:
    path = tmp_path / "chair.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "telemetry": {
                    "broker_host": "10.20.30.40",
                    "outbox_path": str(tmp_path / "outbox.db"),
                }
            }
        ),
        encoding="utf-8",
    )
    result = subprocess.run(
        [sys.executable, "-m", "chairlink", *(a.format(config=path) for a in command)],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert "set identity.chair_id" in result.stderr
    assert not (tmp_path / "outbox.db").exists()
