"""``chairlink broker users``: the broker's logins and ACL from the chairs' chair.yaml."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from chairlink.broker import BrokerUsers, acl_text
from chairlink.cli.main import main
from chairlink.config import IdentityConfig


def _chair(folder: Path, chair_id: str, site: str) -> Path:
    path = folder / f"{chair_id}-{site}.yaml"
    path.write_text(f"identity:\n  chair_id: {chair_id}\n  site: {site}\n", encoding="utf-8")
    return path


def _users(tmp_path: Path, *args: str | Path) -> int:
    return main(
        [
            "broker",
            "users",
            *map(str, args),
            "--passwd",
            str(tmp_path / "passwd"),
            "--acl",
            str(tmp_path / "acl"),
        ]
    )


def test_logins_credentials_and_an_acl_that_ties_each_chair_to_its_site(tmp_path: Path) -> None:
    a, b = _chair(tmp_path, "chair-01", "north"), _chair(tmp_path, "chair-02", "south")
    assert (
        _users(tmp_path, a, b, "--monitor", "monitor-ingest-1", "--monitor", "monitor-alarm") == 0
    )
    credentials = tmp_path / "passwd.credentials"
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    logins = [line.split()[0] for line in credentials.read_text("utf-8").splitlines()]
    assert logins == ["chair-01", "chair-02", "monitor-ingest-1", "monitor-alarm"]
    secrets = [line.split()[1] for line in credentials.read_text("utf-8").splitlines()]
    assert len(set(secrets)) == 4
    hashed = (tmp_path / "passwd").read_text("utf-8")
    assert [line.split(":")[0] for line in hashed.splitlines()] == logins
    assert not any(secret in hashed for secret in secrets)
    acl = (tmp_path / "acl").read_text("utf-8")
    assert acl == acl_text(
        BrokerUsers(
            chairs=(
                IdentityConfig(chair_id="chair-01", site="north"),
                IdentityConfig(chair_id="chair-02", site="south"),
            ),
            monitors=("monitor-ingest-1", "monitor-alarm"),
        )
    )
    chair_01 = acl.split("user chair-01\n")[1].split("\n\n")[0]
    assert "topic write chairlink/v1/north/chair-01/patient" in chair_01
    assert "topic read chairlink/v1/north/chair-01/cmd/#" in chair_01
    assert "south" not in chair_01
    assert "+" not in chair_01


@pytest.mark.parametrize(
    ("chairs", "monitors", "said"),
    [
        ([("chair-01", "north"), ("chair-01", "south")], [], "login 'chair-01' is given twice"),
        ([("chair-01", "north")], ["chair-01"], "as chair of site north and as monitor"),
        ([("chair-01", "north")], ["Monitor 1"], "monitor login 'Monitor 1' is not"),
        ([], [], "name at least one"),
    ],
)
def test_a_login_that_cannot_be_provisioned_is_refused_in_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    chairs: list[tuple[str, str]],
    monitors: list[str],
    said: str,
) -> None:
    paths = [_chair(tmp_path, chair, site) for chair, site in chairs]
    flags = [arg for m in monitors for arg in ("--monitor", m)]
    assert _users(tmp_path, *paths, *flags) == 1
    err = capsys.readouterr().err
    assert err.startswith("chairlink: error:")
    assert said in err
    assert not (tmp_path / "passwd").exists()


def test_an_invalid_chair_yaml_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("identity:\n  chair_id: Chair 1\n", encoding="utf-8")
    assert _users(tmp_path, bad) == 1
    err = capsys.readouterr().err
    assert str(bad) in err
    assert "identity.chair_id" in err
