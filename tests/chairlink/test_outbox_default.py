"""Without telemetry.outbox_path a chair's outbox is in its state folder, writable without root."""

from __future__ import annotations

from pathlib import Path

import pytest

from chairlink.config import IdentityConfig, TelemetryConfig, outbox_file
from edge.telemetry.agent import TelemetryAgent

CHAIR = IdentityConfig(chair_id="chair-07", site="st-marys")


def test_an_outbox_path_given_is_the_outbox(tmp_path: Path) -> None:
    given = TelemetryConfig(outbox_path=str(tmp_path / "o.db"))
    assert outbox_file(CHAIR, given) == tmp_path / "o.db"


def test_the_default_is_per_chair_under_xdg_state_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert outbox_file(CHAIR, TelemetryConfig()) == (
        tmp_path / "chairlink" / "st-marys" / "chair-07" / "outbox.db"
    )
    other = IdentityConfig(chair_id="chair-08", site="st-marys")
    assert outbox_file(other, TelemetryConfig()) != outbox_file(CHAIR, TelemetryConfig())


def test_without_xdg_state_home_it_is_under_the_users_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert outbox_file(CHAIR, TelemetryConfig()) == (
        tmp_path / ".local" / "state" / "chairlink" / "st-marys" / "chair-07" / "outbox.db"
    )


def test_the_agent_opens_the_default_outbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    agent = TelemetryAgent(CHAIR, TelemetryConfig())
    try:
        assert outbox_file(CHAIR, TelemetryConfig()).is_file()
    finally:
        agent.stop()
