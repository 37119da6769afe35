"""A real Mosquitto for the tests: the repo's config on a free port, users generated per run.

The broker runs as a child process with its own folder (config, ACL, password file,
persistence), so tests can stop it, restart it on the same port with its persistent sessions,
and never touch the machine's own broker.
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
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "configs" / "mosquitto"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Mosquitto:
    """One broker process on 127.0.0.1 with the repo's config, ACL and given users."""

    def __init__(
        self,
        folder: Path,
        users: dict[str, str],
        *,
        port: int | None = None,
        tls_clients: tuple[str, ...] = (),
        settings: dict[str, str] | None = None,
    ) -> None:
        """``tls_clients``, if any, adds a TLS listener (``tls_port``) that logs clients in by
        their certificate's common name; each named client gets a certificate in ``folder``.
        ``settings`` replace lines of the repo's config by their option name."""
        mosquitto = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not Path(mosquitto).exists():
            raise RuntimeError("mosquitto is not installed: `make test` installs it (make debs)")
        self.mosquitto = mosquitto
        self.folder = folder
        self.port = port or free_port()
        self.users = users
        self.process: subprocess.Popen[bytes] | None = None
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "data").mkdir(exist_ok=True)
        passwd = folder / "passwd"
        passwd.write_text("", encoding="utf-8")
        for user, password in users.items():
            subprocess.run(
                ["mosquitto_passwd", "-b", str(passwd), user, password],
                check=True,
                capture_output=True,
            )
        shutil.copy(CONFIG / "chairlink.acl", folder / "acl")
        config = (CONFIG / "chairlink.conf").read_text(encoding="utf-8")
        replacements = {
            r"^password_file .*$": f"password_file {passwd}",
            r"^acl_file .*$": f"acl_file {folder / 'acl'}",
            r"^listener 1883$": f"listener {self.port} 127.0.0.1",
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
        self.tls_port = 0
        if tls_clients:
            self.tls_port = free_port()
            _certificates(folder, tls_clients)
            config += (
                f"\nlistener {self.tls_port} 127.0.0.1\n"
                f"cafile {folder / 'ca.crt'}\ncertfile {folder / 'server.crt'}\n"
                f"keyfile {folder / 'server.key'}\nrequire_certificate true\n"
                "use_identity_as_username true\n"
            )
        (folder / "mosquitto.conf").write_text(config, encoding="utf-8")

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

    def log(self) -> str:
        """What the broker has logged."""
        path = self.folder / "mosquitto.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""


def _certificates(folder: Path, clients: tuple[str, ...]) -> None:
    """A throwaway CA, a server certificate for 127.0.0.1, and a client certificate each."""

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

    openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "2",
        "-subj",
        "/CN=chairlink-test-ca",
    )
    (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for name, extra in [("server", ["-extfile", "san.ext"]), *((c, []) for c in clients)]:
        cn = "localhost" if name == "server" else name
        openssl(
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            f"{name}.key",
            "-out",
            f"{name}.csr",
            "-subj",
            f"/CN={cn}",
        )
        openssl(
            "x509",
            "-req",
            "-in",
            f"{name}.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            f"{name}.crt",
            "-days",
            "2",
            *extra,
        )


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
