"""The host side of the motor link: a pyserial driver that keeps the MCU fed and reports back.

``SerialDriver`` owns two threads. The I/O thread opens the port (reconnecting with capped
doubling backoff), decodes what arrives and keeps the latest odometry and status with their
steady-clock stamps. The tick thread refreshes the drive command at a fixed rate, sends
heartbeats when nothing else went out, replaces a command that was not renewed in time by
zero, and declares the link dead when the MCU goes quiet. A command is written the moment it
arrives, from the caller's thread.
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Generic, TypeVar

import serial

from chairlink.config import FirmwareConfig
from firmware_bridge.errors import AlreadyStartedError, LinkError
from firmware_bridge.framing import DecodeFault, Frame, FrameDecoder, FrameFault, encode_frame
from firmware_bridge.messages import (
    Ack,
    Configure,
    Drive,
    ErrorCode,
    EstopClear,
    EstopReason,
    EstopSet,
    Heartbeat,
    HostMessage,
    MessageType,
    Odometry,
    Rearm,
    Status,
    StatusFlag,
    error_name,
)

__all__ = ["LinkStats", "Received", "SerialDriver", "configure_message"]

_log = logging.getLogger(__name__)

M = TypeVar("M")


@dataclass(frozen=True, slots=True)
class Received(Generic[M]):
    """A message from the MCU with the host's steady-clock receive time."""

    stamp_ns: int
    seq: int
    message: M


@dataclass(frozen=True)
class LinkStats:
    """A snapshot of the driver's counters."""

    connected: bool
    link_up: bool
    frames_rx: int
    frames_tx: int
    crc_errors: int
    decode_faults: dict[str, int]
    resyncs: int
    drops: int
    reconnects: int
    link_timeouts: int
    command_timeouts: int
    ack_timeouts: int
    acks: dict[str, int]
    rtt_ms: tuple[float, ...] = field(repr=False)
    last_error: str
    internal_errors: int = 0

    def rtt_percentile(self, q: float) -> float:
        """A percentile (0-100) of the recent command-to-ACK round trips in ms; NaN if none."""
        if not self.rtt_ms:
            return math.nan
        ordered = sorted(self.rtt_ms)
        index = min(len(ordered) - 1, max(0, math.ceil(q / 100.0 * len(ordered)) - 1))
        return ordered[index]


def configure_message(config: FirmwareConfig) -> Configure:
    """The CONFIGURE message that gives the MCU its part of chair.yaml."""
    limits, wheels = config.limits, config.wheels
    return Configure(
        drive_timeout_ms=round(config.drive_timeout_s * 1000),
        link_timeout_ms=round(config.mcu_link_timeout_s * 1000),
        max_linear_mps=limits.max_linear_mps,
        max_angular_radps=limits.max_angular_radps,
        max_linear_accel_mps2=limits.max_linear_accel_mps2,
        max_angular_accel_radps2=limits.max_angular_accel_radps2,
        emergency_decel_mps2=limits.emergency_decel_mps2,
        manual_max_linear_mps=limits.manual_max_linear_mps,
        wheel_radius_m=wheels.radius_m,
        wheel_separation_m=wheels.separation_m,
        ticks_per_rev=wheels.ticks_per_rev,
        seat_occupied_dkg=round(config.seat_occupied_kg * 10),
        flags=Configure.FLAG_REFUSE_UNBELTED if config.refuse_unbelted else 0,
    )


class _Pending:
    __slots__ = ("ack", "done", "msg_type", "sent_ns")

    def __init__(self, msg_type: int, sent_ns: int) -> None:
        self.msg_type = msg_type
        self.sent_ns = sent_ns
        self.done = threading.Event()
        self.ack: Ack | None = None


class SerialDriver:
    """Keeps the link to the motor MCU: commands out, odometry and status in.

    Use it as a context manager, or call start() and stop(). ``on_frame`` is called on the I/O
    thread for every message received; keep it short. An exception it raises is logged and
    counted, and the link goes on.

    Locks, always taken in this order: ``_state_lock`` (the command; held from reading it to
    writing its frame, so a refresh can never put an older command on the wire after a newer
    one), ``_write_lock`` (the port and the sequence number), ``_pending_lock`` (frames
    awaiting their ACK).
    """

    def __init__(
        self,
        config: FirmwareConfig,
        *,
        port: str | None = None,
        clock: Callable[[], int] = time.monotonic_ns,
        on_frame: Callable[[Received[Odometry | Status | Ack]], None] | None = None,
    ) -> None:
        self.config = config
        self.port = port or config.port
        self._clock = clock
        self._on_frame = on_frame
        self._configure = configure_message(config)
        self._max_linear = config.limits.max_linear_mps
        self._max_angular = config.limits.max_angular_radps
        self._refresh_ns = int(1e9 / config.drive_refresh_hz)
        self._heartbeat_ns = int(1e9 / config.heartbeat_hz)
        self._command_timeout_ns = int(config.command_timeout_s * 1e9)
        self._zero_hold_ns = int(config.drive_timeout_s * 5e9)
        self._dead_ns = int(config.host_link_timeout_s * 1e9)
        self._serial: serial.Serial | None = None
        self._state_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._pending_lock = threading.Lock()
        self._stop = threading.Event()
        self._drop_link = threading.Event()
        self._threads: list[threading.Thread] = []
        self._seq = 0
        self._pending: dict[int, _Pending] = {}
        self._command = (0.0, 0.0)
        self._command_ns = 0
        self._command_is_set = False
        self._last_nonzero_ns = 0
        self._last_motion_ns = 0
        self._last_drive_tx_ns = 0
        self._last_tx_ns = 0
        self._last_rx_ns = 0
        self._rx_since_open = False
        self._backoff_s = config.reconnect_min_s
        self._last_configure_ns = 0
        self._rx_seq: int | None = None
        self._connected_once = False
        self._decoder = FrameDecoder()
        self._latest_odometry: Received[Odometry] | None = None
        self._latest_status: Received[Status] | None = None
        self._rtt_ms: deque[float] = deque(maxlen=10_000)
        self._acks: Counter[str] = Counter()
        self._faults: Counter[str] = Counter()
        self._resyncs = 0
        self._frames_rx = 0
        self._frames_tx = 0
        self._drops = 0
        self._reconnects = 0
        self._link_timeouts = 0
        self._command_timeouts = 0
        self._ack_timeouts = 0
        self._internal_errors = 0
        self._last_error = ""

    def __enter__(self) -> SerialDriver:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Start the I/O and tick threads; the port is opened (and reopened) in the background.

        Raises:
            AlreadyStartedError: the driver is running.
        """
        if self._threads:
            raise AlreadyStartedError(f"the driver on {self.port} is already started")
        self._stop.clear()
        self._threads = [
            threading.Thread(target=self._io_loop, name="bridge-io", daemon=True),
            threading.Thread(target=self._tick_loop, name="bridge-tick", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def stop(self, *, brake: bool = True) -> None:
        """Stop the threads, command zero (unless brake is False), and close the port.

        The threads stop first, so no refresh of an older command can follow the zero.
        """
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=2.0)
        self._threads = []
        if brake:
            with self._state_lock:
                self._command = (0.0, 0.0)
                self._send(Drive(0.0, 0.0))
        self._close()

    @property
    def connected(self) -> bool:
        """Whether the port is open."""
        return self._serial is not None

    @property
    def link_up(self) -> bool:
        """Whether the MCU spoke since the port was opened and within the host link timeout."""
        return (
            self.connected
            and self._rx_since_open
            and self._clock() - self._last_rx_ns <= self._dead_ns
        )

    @property
    def latest_odometry(self) -> Received[Odometry] | None:
        """The newest ODOMETRY of this connection and when it arrived."""
        return self._latest_odometry

    @property
    def latest_status(self) -> Received[Status] | None:
        """The newest STATUS of this connection and when it arrived."""
        return self._latest_status

    def wait_for_link(self, timeout: float) -> bool:
        """Block until the link is up with a STATUS in hand, or the timeout passes."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.link_up and self._latest_status is not None:
                return True
            time.sleep(0.005)
        return self.link_up and self._latest_status is not None

    def command(self, linear_mps: float, angular_radps: float) -> None:
        """Drive at this velocity: sent at once, refreshed until replaced or timed out.

        Components beyond the configured limits are clamped to them (the MCU clamps too).

        Raises:
            ValueError: a component is NaN or infinite; the current command stays in force.
        """
        if not (math.isfinite(linear_mps) and math.isfinite(angular_radps)):
            raise ValueError(f"drive command must be finite, got ({linear_mps}, {angular_radps})")
        linear = max(-self._max_linear, min(self._max_linear, linear_mps))
        angular = max(-self._max_angular, min(self._max_angular, angular_radps))
        now = self._clock()
        with self._state_lock:
            self._command = (linear, angular)
            self._command_ns = now
            self._command_is_set = True
            if linear != 0.0 or angular != 0.0:
                self._last_nonzero_ns = now
            self._send(Drive(linear, angular))

    def estop(self, reason: EstopReason = EstopReason.HOST_REQUEST, timeout: float = 0.5) -> Ack:
        """Set the e-stop and wait for the MCU's ACK, sending it up to three times in the timeout.

        The command becomes zero first, whatever the outcome.

        Raises:
            LinkError: not connected, or no ACK to any of the tries.
        """
        with self._state_lock:
            self._command = (0.0, 0.0)
        return self.request(EstopSet(reason), timeout, retries=3)

    def clear_estop(self, timeout: float = 0.5) -> Ack:
        """Release the e-stop; the chair stays disarmed until rearm()."""
        return self.request(EstopClear(), timeout)

    def rearm(self, timeout: float = 0.5) -> Ack:
        """Configure the MCU if it is not, then clear latched faults and arm it.

        The command becomes zero first, so no refresh of an older command follows the arming.

        Raises:
            LinkError: no ACK in time, or the MCU refused the configuration; a chair never
                arms on a configuration other than chair.yaml's.
        """
        with self._state_lock:
            self._command = (0.0, 0.0)
        status = self._latest_status
        if status is None or not status.message.flag & StatusFlag.CONFIGURED:
            self._send_configure(timeout)
        ack = self.request(Rearm(), timeout)
        if ack.error == ErrorCode.NOT_CONFIGURED:
            # Our status was older than an MCU reboot.
            self._send_configure(timeout)
            ack = self.request(Rearm(), timeout)
        return ack

    def reconfigure(self, config: FirmwareConfig, timeout: float = 0.5) -> Ack:
        """Send new limits and timeouts to the MCU; keep them only if it accepts.

        Only the MCU's part changes here (limits, timeouts, geometry, interlock); the port and
        the host's own rates stay as the driver was started with.

        Raises:
            LinkError: the port is closed or no ACK came back in time.
        """
        message = configure_message(config)
        ack = self.request(message, timeout)
        if ack.error == ErrorCode.OK:
            self._configure = message
            self._max_linear = config.limits.max_linear_mps
            self._max_angular = config.limits.max_angular_radps
        return ack

    def request(self, message: HostMessage, timeout: float = 0.5, *, retries: int = 1) -> Ack:
        """Send a message and wait for its ACK, trying ``retries`` times within the timeout.

        Raises:
            LinkError: the port is closed, or no ACK came back in time.
        """
        per_try = timeout / retries
        for _ in range(retries):
            pending = self._send(message)
            if pending is None:
                raise LinkError(f"{self.port}: not connected ({self._last_error or 'opening'})")
            if pending.done.wait(per_try) and pending.ack is not None:
                return pending.ack
        raise LinkError(f"{self.port}: no ACK for {type(message).__name__} within {timeout} s")

    def stats(self) -> LinkStats:
        """The counters as they are now."""
        return LinkStats(
            connected=self.connected,
            link_up=self.link_up,
            frames_rx=self._frames_rx,
            frames_tx=self._frames_tx,
            crc_errors=self._faults[DecodeFault.CRC],
            decode_faults=dict(self._faults),
            resyncs=self._resyncs,
            drops=self._drops,
            reconnects=self._reconnects,
            link_timeouts=self._link_timeouts,
            command_timeouts=self._command_timeouts,
            ack_timeouts=self._ack_timeouts,
            acks=dict(self._acks),
            rtt_ms=tuple(self._rtt_ms),
            last_error=self._last_error,
            internal_errors=self._internal_errors,
        )

    def _send_configure(self, timeout: float) -> None:
        ack = self.request(self._configure, timeout)
        if ack.error != ErrorCode.OK:
            raise LinkError(f"{self.port}: MCU refused the configuration: {error_name(ack.error)}")

    def _send(self, message: HostMessage) -> _Pending | None:
        with self._write_lock:
            port = self._serial
            if port is None:
                return None
            seq = self._seq
            self._seq = (seq + 1) & 0xFFFF
            frame = encode_frame(message, seq)
            now = self._clock()
            pending = _Pending(message.TYPE, now)
            with self._pending_lock:
                self._pending[seq] = pending
            try:
                port.write(frame)
            except (serial.SerialException, OSError) as err:
                with self._pending_lock:
                    self._pending.pop(seq, None)
                self._last_error = f"write failed: {err}"
                self._drop_link.set()
                return None
            self._frames_tx += 1
            self._last_tx_ns = now
            if message.TYPE == MessageType.DRIVE:
                self._last_drive_tx_ns = now
            return pending

    def _refresh_drive(self, now: int) -> None:
        with self._state_lock:
            if self._command_is_set and now - self._command_ns > self._command_timeout_ns:
                if self._command != (0.0, 0.0):
                    self._command_timeouts += 1
                    _log.warning(
                        "drive command not renewed within %.3f s: commanding zero",
                        self._command_timeout_ns / 1e9,
                    )
                self._command = (0.0, 0.0)
            self._send(Drive(*self._command))

    def _open(self) -> bool:
        try:
            port = serial.Serial(self.port, self.config.baud, timeout=0.02, write_timeout=0.2)
        except (serial.SerialException, OSError, ValueError) as err:
            self._last_error = str(err)
            return False
        try:
            port.reset_input_buffer()
            # A lone delimiter ends whatever partial frame the MCU's receiver holds, so the
            # first real frame is not fused with line noise from the reconnect.
            port.write(b"\x00")
        except (serial.SerialException, OSError) as err:
            self._last_error = f"write failed: {err}"
            port.close()
            return False
        now = self._clock()
        self._decoder = FrameDecoder()
        self._rx_seq = None
        self._rx_since_open = False
        self._last_rx_ns = now
        with self._write_lock:
            self._serial = port
        if self._connected_once:
            self._reconnects += 1
        self._connected_once = True
        _log.info("opened %s at %d baud", self.port, self.config.baud)
        self._last_configure_ns = now
        self._send(self._configure)
        return True

    def _close(self) -> None:
        with self._write_lock:
            port, self._serial = self._serial, None
        with self._pending_lock:
            for pending in self._pending.values():
                pending.done.set()
            self._pending.clear()
        self._rx_since_open = False
        self._latest_odometry = None
        self._latest_status = None
        if port is not None:
            with contextlib.suppress(serial.SerialException, OSError):
                port.close()

    def _back_off(self) -> None:
        self._stop.wait(self._backoff_s)
        self._backoff_s = min(self._backoff_s * 2, self.config.reconnect_max_s)

    def _io_loop(self) -> None:
        while not self._stop.is_set():
            if self._serial is None and not self._open():
                self._back_off()
                continue
            if self._drop_link.is_set():
                self._drop_link.clear()
                self._close()
                self._back_off()
                continue
            port = self._serial
            assert port is not None
            try:
                data = port.read(max(1, port.in_waiting))
            except (serial.SerialException, OSError, TypeError) as err:
                self._last_error = f"read failed: {err}"
                _log.warning("%s: %s", self.port, self._last_error)
                self._close()
                self._back_off()
                continue
            if not data:
                continue
            try:
                self._handle(data)
            except Exception:
                # A bug in a callback must not end the link: count it, log it, go on.
                self._internal_errors += 1
                _log.exception("%s: error handling received bytes", self.port)

    def _handle(self, data: bytes) -> None:
        now = self._clock()
        for item in self._decoder.feed(data):
            if isinstance(item, FrameFault):
                self._faults[item.fault] += 1
                if item.header is None:
                    self._resyncs += 1
                continue
            self._last_rx_ns = now
            if not self._rx_since_open:
                self._rx_since_open = True
                self._backoff_s = self.config.reconnect_min_s
            self._frames_rx += 1
            self._track_sequence(item)
            message = item.message
            if isinstance(message, Odometry):
                previous = self._latest_odometry
                if previous is None or (
                    previous.message.left_ticks,
                    previous.message.right_ticks,
                ) != (message.left_ticks, message.right_ticks):
                    self._last_motion_ns = now
                self._latest_odometry = Received(now, item.seq, message)
            elif isinstance(message, Status):
                self._latest_status = Received(now, item.seq, message)
            elif isinstance(message, Ack):
                self._resolve(message, now)
            else:
                self._faults["host_type_from_mcu"] += 1
                continue
            if self._on_frame is not None:
                try:
                    self._on_frame(Received(now, item.seq, message))
                except Exception:
                    # A bug in a callback costs that callback, not the frames after it.
                    self._internal_errors += 1
                    _log.exception("%s: error in the frame callback", self.port)

    def _track_sequence(self, frame: Frame) -> None:
        if self._rx_seq is not None:
            gap = (frame.seq - self._rx_seq - 1) & 0xFFFF
            # A huge gap is a rebooted MCU, not 60,000 lost frames.
            if 0 < gap < 1000:
                self._drops += gap
        self._rx_seq = frame.seq

    def _resolve(self, ack: Ack, now: int) -> None:
        self._acks[error_name(ack.error)] += 1
        with self._pending_lock:
            pending = self._pending.pop(ack.acked_seq, None)
        if pending is None or pending.msg_type != ack.acked_type:
            return
        if ack.acked_type == MessageType.DRIVE:
            self._rtt_ms.append((now - pending.sent_ns) / 1e6)
        pending.ack = ack
        pending.done.set()

    def _tick_loop(self) -> None:
        period = min(self._refresh_ns, self._heartbeat_ns) / 4 / 1e9
        while not self._stop.wait(period):
            try:
                self._tick(self._clock())
            except Exception:
                self._internal_errors += 1
                _log.exception("%s: error in the refresh loop", self.port)

    def _tick(self, now: int) -> None:
        if self._serial is None:
            return
        if now - self._last_rx_ns > self._dead_ns:
            if not self._drop_link.is_set():
                self._link_timeouts += 1
                self._last_error = (
                    f"no frame from the MCU for {(now - self._last_rx_ns) / 1e6:.0f} ms"
                )
                _log.warning("%s: link dead: %s", self.port, self._last_error)
                self._drop_link.set()
            return
        # Drive frames go on while the chair is commanded to move, and after a zero command
        # until the wheels have stood still for a while, so a lost zero frame is repaired.
        settled_since = max(self._last_nonzero_ns, self._last_motion_ns)
        driving = self._command_is_set and (
            self._command != (0.0, 0.0) or now - settled_since < self._zero_hold_ns
        )
        if driving and now - self._last_drive_tx_ns >= self._refresh_ns:
            self._refresh_drive(now)
        elif now - self._last_tx_ns >= self._heartbeat_ns:
            self._send(Heartbeat((now // 1_000_000) & 0xFFFFFFFF))
        self._maybe_configure(now)
        self._expire_pending(now)

    def _maybe_configure(self, now: int) -> None:
        status = self._latest_status
        if status is None or status.message.flag & StatusFlag.CONFIGURED:
            return
        if now - self._last_configure_ns >= 500_000_000:
            self._last_configure_ns = now
            self._send(self._configure)

    def _expire_pending(self, now: int) -> None:
        with self._pending_lock:
            stale = [seq for seq, p in self._pending.items() if now - p.sent_ns > 1_000_000_000]
            for seq in stale:
                self._pending.pop(seq).done.set()
            self._ack_timeouts += len(stale)
