"""chair.yaml: defaults that work, and errors that say which file and field is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from chairlink.config import ChairConfig, load_chair_config
from chairlink.errors import ConfigError
from firmware_bridge.driver import configure_message

REPO = Path(__file__).resolve().parents[2]


def test_defaults_are_a_valid_chair() -> None:
    config = load_chair_config()
    assert config == ChairConfig()
    assert config.firmware.drive_timeout_s == 0.2
    assert config.firmware.limits.max_linear_mps == 1.1


def test_shipped_chair_yaml_loads_and_its_mcu_part_passes_the_mcu_checks() -> None:
    config = load_chair_config(REPO / "configs" / "chair.yaml")
    assert configure_message(config.firmware).problems() == []
    assert configure_message(config.firmware).drive_timeout_ms == 200


def test_empty_file_gives_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "chair.yaml"
    path.write_text("", encoding="utf-8")
    assert load_chair_config(path) == ChairConfig()


def test_invalid_field_is_named_with_its_file(tmp_path: Path) -> None:
    path = tmp_path / "chair.yaml"
    path.write_text("firmware:\n  limits:\n    max_linear_mps: -1\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_chair_config(path)
    assert str(path) in str(err.value)
    assert "firmware.limits.max_linear_mps" in str(err.value)


def test_unknown_field_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "chair.yaml"
    path.write_text("firmware:\n  drive_timout_s: 0.2\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="drive_timout_s"):
        load_chair_config(path)


def test_refresh_too_slow_for_the_drive_timeout_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "chair.yaml"
    path.write_text("firmware:\n  drive_refresh_hz: 12\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="three refreshes"):
        load_chair_config(path)


def test_a_will_delay_longer_than_the_session_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "chair.yaml"
    path.write_text("telemetry:\n  session_expiry_s: 60\n  will_delay_s: 61\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"will_delay_s \(61\) must not exceed session_expiry_s"):
        load_chair_config(path)


def test_missing_file_and_bad_yaml_are_clear(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_chair_config(tmp_path / "absent.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("firmware: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_chair_config(bad)
    listed = tmp_path / "list.yaml"
    listed.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="mapping"):
        load_chair_config(listed)
