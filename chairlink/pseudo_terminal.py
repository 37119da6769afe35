"""A pseudo-terminal standing in for a device's serial port, for the device simulators.

The simulator holds the master side; a host opens the slave's path with pyserial exactly as it
would open /dev/ttyUSB0. An optional stable symlink keeps one path across unplug and replug,
as udev rules give real adapters.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import threading
import time
import tty
from pathlib import Path

__all__ = ["PseudoTerminal"]

_log = logging.getLogger(__name__)


class PseudoTerminal:
    """One pty; ``open()`` and ``close()`` plug and unplug it. Safe to use from two threads."""

    def __init__(self, link: str | Path | None = None) -> None:
        """``link``, if given, is a path kept pointing at whichever pty is open."""
        self._link = Path(link) if link is not None else None
        self._lock = threading.Lock()
        self._master: int | None = None
        self._slave: int | None = None
        self._name = ""

    @property
    def device_path(self) -> str:
        """The path a host opens: the stable link if one was asked for, else the pty itself."""
        return str(self._link) if self._link is not None else self._name

    @property
    def is_open(self) -> bool:
        """Whether the port currently exists."""
        return self._master is not None

    def open(self) -> None:
        """Create a new pty in raw mode and point the link at it."""
        master, slave = os.openpty()
        tty.setraw(slave)
        os.set_blocking(master, False)
        name = os.ttyname(slave)
        if self._link is not None:
            tmp = self._link.with_name(self._link.name + ".tmp")
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            tmp.symlink_to(name)
            tmp.replace(self._link)
        with self._lock:
            self._master, self._slave, self._name = master, slave, name

    def close(self) -> None:
        """Remove the pty (and the link): to the host, the device was unplugged."""
        with self._lock:
            fds = (self._master, self._slave)
            self._master = self._slave = None
        if self._link is not None:
            with contextlib.suppress(FileNotFoundError):
                self._link.unlink()
        for fd in fds:
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)

    def read(self, timeout_s: float) -> bytes:
        """What the host wrote, waiting up to ``timeout_s``; b"" when nothing came or closed."""
        fd = self._master
        if fd is None:
            return b""
        try:
            readable, _, _ = select.select([fd], [], [], timeout_s)
            return os.read(fd, 4096) if readable else b""
        except BlockingIOError:
            return b""
        except (OSError, ValueError) as err:
            # EIO while no host holds the port open: wait a little rather than spin on it.
            _log.debug("read from pty failed: %s (fd %s)", err, fd)
            time.sleep(0.005)
            return b""

    def write(self, data: bytes) -> int:
        """Send bytes to the host; returns how many the pty took (0 when closed or full)."""
        with self._lock:
            fd = self._master
            if fd is None:
                return 0
            try:
                return os.write(fd, data)
            except BlockingIOError:
                return 0
            except OSError as err:
                _log.debug("write to pty failed: %s", err)
                return 0
