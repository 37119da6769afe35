"""A real Mosquitto for the tests: the repo's config on free ports, users generated per run.

The broker runs as a child process with its own folder (config, ACL, password file,
certificates, persistence), so tests can stop it, kill it, restart it on the same ports with
its persistent sessions, and never touch the machine's own broker. Its ACL comes from
``chairlink.broker``, as `chairlink broker users` writes a hospital's.
"""

from __future__ import annotations

import contextlib
import getpass
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Mapping
from pathlib import Path

from chairlink.broker import BrokerUsers, acl_text, write_password_file
from chairlink.config import IdentityConfig

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "configs" / "mosquitto"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


MONITOR_POOL = tuple(f"monitor-{n}" for n in range(1, 9))
"""Logins every test broker has for monitor processes, handed out one per ``Monitor``: one
login is one session (the listeners bind the client id to the login)."""
MONITOR_POOL_PASSWORD = "monitor-pool-secret"


class Mosquitto:
    """One broker process on 127.0.0.1 with the repo's config, a generated ACL and given users."""

    def __init__(
        self,
        folder: Path,
        users: dict[str, str],
        *,
        site: str = "site-1",
        sites: Mapping[str, str] | None = None,
        monitors: tuple[str, ...] = ("monitor",),
        tls_clients: tuple[str, ...] = (),
        settings: dict[str, str] | None = None,
    ) -> None:
        """``users`` maps each login to its password: those named in ``monitors`` are monitor
        processes, every other (and every one of ``tls_clients``) is a chair of ``site`` (or of
        its site in ``sites``). The ACL is
        generated as `chairlink broker users` generates it, and ``MONITOR_POOL`` is added.

        Both listeners of the repo's config run: plaintext on ``port``, TLS on ``tls_port``
        (clients logged in by their certificate's common name; each of ``tls_clients`` gets a
        certificate in ``folder``). ``settings`` replace lines of the repo's config by their
        option name."""
        mosquitto = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not Path(mosquitto).exists():
            raise RuntimeError("mosquitto is not installed: `make test` installs it (make debs)")
        self.mosquitto = mosquitto
        self.folder = folder
        self.port = free_port()
        self.tls_port = free_port()
        self.users = users
        self.process: subprocess.Popen[bytes] | None = None
        self._monitor_logins = iter(MONITOR_POOL)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "data").mkdir(exist_ok=True)
        chairs = tuple(
            IdentityConfig(chair_id=login, site=(sites or {}).get(login, site))
            for login in dict.fromkeys([*users, *tls_clients])
            if login not in monitors
        )
        everyone = BrokerUsers(
            chairs=chairs, monitors=(*(m for m in monitors if m in users), *MONITOR_POOL)
        )
        write_password_file(
            folder / "passwd", {**users, **dict.fromkeys(MONITOR_POOL, MONITOR_POOL_PASSWORD)}
        )
        (folder / "acl").write_text(acl_text(everyone), encoding="utf-8")
        _certificates(folder, tls_clients)
        config = (CONFIG / "chairlink.conf").read_text(encoding="utf-8")
        replacements = {
            r"^password_file .*$": f"password_file {folder / 'passwd'}",
            r"^acl_file .*$": f"acl_file {folder / 'acl'}",
            r"^listener 1883 127\.0\.0\.1$": f"listener {self.port} 127.0.0.1",
            r"^listener 8883$": f"listener {self.tls_port} 127.0.0.1",
            r"^cafile .*$": f"cafile {folder / 'ca.crt'}",
            r"^certfile .*$": f"certfile {folder / 'server.crt'}",
            r"^keyfile .*$": f"keyfile {folder / 'server.key'}",
            r"^persistence_location .*$": f"persistence_location {folder / 'data'}/",
        }
        for option, value in (settings or {}).items():
            replacements[rf"^{option} .*$"] = f"{option} {value}"
        for pattern, value in replacements.items():
            config, count = re.subn(pattern, value, config, flags=re.MULTILINE)
            assert count == 1, pattern
        # Run as whoever runs the tests: as root, Mosquitto would drop to its own user, who
        # cannot read the test's folder.
        config += f"\nuser {getpass.getuser()}\n"
        (folder / "mosquitto.conf").write_text(config, encoding="utf-8")

    def monitor_login(self) -> tuple[str, str]:
        """A monitor process's login and password that no other process of this broker has."""
        login = next(self._monitor_logins, None)
        if login is None:
            raise RuntimeError(f"more than {len(MONITOR_POOL)} monitors on one test broker")
        return login, MONITOR_POOL_PASSWORD

    def start(self, timeout: float = 10.0) -> None:
        """Start the broker and wait until it accepts connections."""
        log = (self.folder / "mosquitto.log").open("ab")
        self.process = subprocess.Popen(
            [self.mosquitto, "-c", str(self.folder / "mosquitto.conf")],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mosquitto exited: {self.log()}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2),
            ):
                return
            time.sleep(0.02)
        raise RuntimeError(f"mosquitto did not listen on {self.port}: {self.log()}")

    def stop(self) -> None:
        """Stop the broker as a service manager does (SIGTERM: it saves its sessions)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def kill(self) -> None:
        """Kill the broker as a crash does (SIGKILL: what it has not saved is gone)."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
        self.process = None

    def log(self) -> str:
        """What the broker has logged."""
        path = self.folder / "mosquitto.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""


def _certificates(folder: Path, clients: tuple[str, ...]) -> None:
    """A throwaway CA, a server certificate for 127.0.0.1, and a client certificate each, made
    as docs/mqtt-contract.md says (EC P-256 keys: quick to make for every test broker)."""

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *key, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
            "-subj", "/CN=chairlink-test-ca")  # fmt: skip
    (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for name, extra in [("server", ["-extfile", "san.ext"]), *((c, []) for c in clients)]:
        cn = "localhost" if name == "server" else name
        openssl("req", *key, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={cn}")
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", f"{name}.crt", "-days", "2", *extra)  # fmt: skip


class CountingRelay:
    """A TCP relay between one client and the broker that counts the bytes the client sends:
    what the chair puts on the wire, headers and all; ``cut()`` breaks its connections as a
    failing network does."""

    def __init__(self, broker_port: int) -> None:
        self._broker_port = broker_port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self.upstream_bytes = 0
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = []
        accept = threading.Thread(target=self._accept, daemon=True)
        accept.start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            broker = socket.create_connection(("127.0.0.1", self._broker_port))
            self._sockets += [client, broker]
            for source, sink, counted in ((client, broker, True), (broker, client, False)):
                pump = threading.Thread(
                    target=self._pump, args=(source, sink, counted), daemon=True
                )
                pump.start()
                self._threads.append(pump)

    def _pump(self, source: socket.socket, sink: socket.socket, counted: bool) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                if counted:
                    self.upstream_bytes += len(data)
                sink.sendall(data)
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        """Break the connections relayed so far, both ways, with no MQTT DISCONNECT: each side
        sees its peer gone at once. New connections are still relayed."""
        cut, self._sockets = self._sockets, []
        for end in cut:
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        """Stop accepting; open connections end when either side closes."""
        self._listener.close()
