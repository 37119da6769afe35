"""Who is who on the repo's broker, run for real: a login is one session, a chair writes under
its own site only, and chairs reach the broker over TLS while plaintext stays on loopback."""

from __future__ import annotations

import re
from pathlib import Path

from chairlink.wire.topics import PREFIX
from tests.monitor import CHAIR, SITE, USERS, Monitor
from tests.mosquitto import CONFIG, Mosquitto
from tests.mqtt_client import Client
from tests.wait import WAIT_S, wait_until

SECRETS = {"chair-01": "secret-1", "chair-02": "secret-2", "chair-03": "secret-3", "monitor": "m"}
STOP = f"{PREFIX}/{SITE}/chair-02/cmd/stop"


def _broker(tmp_path: Path) -> Mosquitto:
    broker = Mosquitto(tmp_path / "broker", SECRETS, sites={"chair-03": "site-2"})
    broker.start()
    return broker


def test_a_chairs_login_cannot_take_over_another_chairs_session(tmp_path: Path) -> None:
    """chair-01's login with chair-02's client id neither throws chair-02 off nor wipes the
    stop queued for it."""
    broker = _broker(tmp_path)
    victim = Client(
        broker, "chair-02", client_id="chairlink-chair-02", session_expiry_s=600, clean_start=False
    )
    monitor = Client(broker, "monitor")
    attackers: list[Client] = []
    try:
        assert victim.connected.wait(WAIT_S)
        victim.subscribe(f"{PREFIX}/{SITE}/chair-02/cmd/#")
        # While chair-02 is connected: the broker has handled the takeover, if any, by the
        # time it answers the attacker's CONNECT.
        attackers.append(Client(broker, "chair-01", client_id="chairlink-chair-02"))
        assert attackers[-1].connected.wait(WAIT_S)
        assert not monitor.publish(STOP, b"stop 1").is_failure
        assert victim.received(b"stop 1"), "chair-02 lost its session to chair-01's login"
        assert victim.disconnects == 0
        # While chair-02 is away, its stop queued in its session: a clean start under its
        # client id would wipe the session, and the stop with it.
        victim.client.disconnect()
        assert wait_until(lambda: victim.disconnects == 1, WAIT_S)
        assert not monitor.publish(STOP, b"stop 2").is_failure
        attackers[-1].close()  # one login, one session: the second attacker would end the first
        attackers.append(Client(broker, "chair-01", client_id="chairlink-chair-02"))
        assert attackers[-1].connected.wait(WAIT_S)
        victim.connect()
        assert victim.received(b"stop 2"), "chair-02's queued stop was wiped"
        assert not any(m.payload.startswith(b"stop") for a in attackers for m in a.messages)
    finally:
        for client in (victim, monitor, *attackers):
            client.close()
        broker.stop()


def test_over_tls_the_certificate_names_the_login_and_the_session(tmp_path: Path) -> None:
    """On the chairs' TLS listener too: chair-01's certificate with chair-02's client id does
    not throw chair-02 off."""
    broker = Mosquitto(tmp_path / "broker", SECRETS, tls_clients=("chair-01", "chair-02"))
    broker.start()
    victim = Client(broker, "chair-02", client_id="chairlink-chair-02", tls=True)
    monitor = Client(broker, "monitor")
    attacker: Client | None = None
    try:
        assert victim.connected.wait(WAIT_S)
        assert victim.connack is not None
        assert not victim.connack.is_failure
        victim.subscribe(f"{PREFIX}/{SITE}/chair-02/cmd/#")
        attacker = Client(broker, "chair-01", client_id="chairlink-chair-02", tls=True)
        assert attacker.connected.wait(WAIT_S)
        assert not monitor.publish(STOP, b"stop").is_failure
        assert victim.received(b"stop")
        assert victim.disconnects == 0
    finally:
        for client in (victim, monitor, *([attacker] if attacker else [])):
            client.close()
        broker.stop()


def test_the_monitors_processes_coexist_each_on_its_own_login(broker: Mosquitto) -> None:
    """Two ingest workers and an alarm engine: all stay connected and all receive."""
    monitors = [Monitor(broker) for _ in range(3)]
    chair = Client(broker, CHAIR, USERS[CHAIR])
    try:
        assert len({m.login for m in monitors}) == 3
        assert chair.connected.wait(WAIT_S)
        assert not chair.publish(f"{PREFIX}/{SITE}/{CHAIR}/patient", b"reading").is_failure
        assert wait_until(
            lambda: all(any(r.payload == b"reading" for r in m.raw) for m in monitors), WAIT_S
        )
        assert all(m.client.is_connected() for m in monitors)
    finally:
        chair.close()
        for monitor in monitors:
            monitor.close()


def test_a_chair_cannot_publish_under_another_site(tmp_path: Path) -> None:
    """chair-01 belongs to site-1: under site-2 its message is refused, and a monitor reading
    site-2 sees nothing of it (it sees the message chair-01 sends after, on its own site)."""
    broker = _broker(tmp_path)
    monitor = Client(broker, "monitor")
    chair = Client(broker, "chair-01")
    try:
        assert monitor.connected.wait(WAIT_S)
        monitor.subscribe(f"{PREFIX}/+/chair-01/#")
        assert chair.connected.wait(WAIT_S)
        refused = chair.publish(f"{PREFIX}/site-2/chair-01/patient", b"forged")
        assert refused.value == 0x87, refused.getName()  # Not authorized
        # A chair of site-2 may write there: the refusal is about chair-01's site.
        other = Client(broker, "chair-03")
        assert other.connected.wait(WAIT_S)
        assert not other.publish(f"{PREFIX}/site-2/chair-03/patient").is_failure
        other.close()
        # The broker forwards one client's messages in order: once this one is in, a forged
        # one let through before it would be in too.
        assert not chair.publish(f"{PREFIX}/{SITE}/chair-01/patient", b"own").is_failure
        assert monitor.received(b"own")
        assert [m.payload for m in monitor.messages] == [b"own"]
    finally:
        monitor.close()
        chair.close()
        broker.stop()


def _listeners(config: str) -> list[tuple[str, dict[str, str]]]:
    """Each ``listener`` line of a Mosquitto config with the options that follow it."""
    blocks: list[tuple[str, dict[str, str]]] = []
    for line in config.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        option, _, value = line.partition(" ")
        if option == "listener":
            blocks.append((value, {}))
        elif blocks:
            blocks[-1][1][option] = value
    return blocks


def test_chairs_get_tls_with_certificates_and_plaintext_stays_on_loopback() -> None:
    config = (CONFIG / "chairlink.conf").read_text(encoding="utf-8")
    assert re.search(r"^per_listener_settings false$", config, re.MULTILINE)
    listeners = dict(_listeners(config))
    assert set(listeners) == {"8883", "1883 127.0.0.1"}
    tls = listeners["8883"]
    assert {"cafile", "certfile", "keyfile"} <= set(tls)
    assert tls["require_certificate"] == tls["use_identity_as_username"] == "true"
    # Bound per listener in Mosquitto 2.0: on every one, the client id is the login.
    assert all(options["use_username_as_clientid"] == "true" for options in listeners.values())
