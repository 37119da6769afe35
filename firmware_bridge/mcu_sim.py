"""The motor MCU on a pseudo-terminal: the plant behind the protocol, paced at the baud rate.

A pty passes bytes as fast as they are written, so this layer paces them as a UART would: a
frame written to the host arrives when its last bit would have (10 bits a byte, 8N1), and a
frame from the host is acted on when its last byte would have arrived. Transmit and receive run
on their own threads, as on an MCU with DMA, and ACKs go ahead of queued telemetry. Faults can
be injected into either direction, and the port can vanish and come back (a stable symlink
stands in for udev's /dev/serial/by-id name).
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from chairlink.pseudo_terminal import PseudoTerminal
from firmware_bridge.errors import AlreadyStartedError
from firmware_bridge.fault_injection import FaultInjector, FaultProfile
from firmware_bridge.framing import DecodeFault, Frame, FrameDecoder, FrameFault, encode_frame
from firmware_bridge.messages import (
    Ack,
    Configure,
    ErrorCode,
    HostMessage,
    McuMessage,
    Odometry,
    Status,
)
from firmware_bridge.plant import CONTROL_PERIOD_NS, Plant, PlantState

__all__ = ["McuSimulator", "SimulatorStats", "odometry_from_state", "status_from_state"]

_log = logging.getLogger(__name__)

_FAULT_ANSWERS = {
    DecodeFault.VERSION: ErrorCode.VERSION_MISMATCH,
    DecodeFault.UNKNOWN_TYPE: ErrorCode.UNKNOWN_TYPE,
    DecodeFault.BAD_LENGTH: ErrorCode.BAD_LENGTH,
}
_ACK_PRIORITY = 0
_TELEMETRY_PRIORITY = 1


def _wrap_i32(value: int) -> int:
    return ((value + 2**31) % 2**32) - 2**31


def odometry_from_state(state: PlantState, interval_ns: int, boot_ns: int) -> Odometry:
    """The ODOMETRY message an MCU sends for a plant state."""
    return Odometry(
        left_ticks=_wrap_i32(state.left_ticks),
        right_ticks=_wrap_i32(state.right_ticks),
        interval_us=max(0, min(interval_ns // 1000, 0xFFFFFFFF)),
        mcu_time_ms=((state.time_ns - boot_ns) // 1_000_000) & 0xFFFFFFFF,
    )


def status_from_state(state: PlantState) -> Status:
    """The STATUS message an MCU sends for a plant state."""
    return Status(
        battery_mv=max(0, min(round(state.battery_v * 1000), 0xFFFF)),
        current_ma=round(state.current_a * 1000),
        soc_pct=max(0, min(round(state.soc * 100), 100)),
        motor_temp_left_dc=round(state.motor_temp_left_c * 10),
        motor_temp_right_dc=round(state.motor_temp_right_c * 10),
        faults=int(state.faults),
        flags=int(state.flags),
        joystick_x_pct=round(state.joystick_x * 100),
        joystick_y_pct=round(state.joystick_y * 100),
        seat_load_dkg=max(0, min(round(state.seat_load_kg * 10), 0xFFFF)),
    )


@dataclass
class SimulatorStats:
    """What the simulator received and sent."""

    frames_in: int = 0
    faults_in: Counter[DecodeFault] = field(default_factory=Counter)
    acks_out: Counter[ErrorCode] = field(default_factory=Counter)
    frames_out: int = 0
    bytes_unread: int = 0


class McuSimulator:
    """Runs a Plant behind the serial protocol on a pty, with real byte timing."""

    def __init__(
        self,
        plant: Plant | None = None,
        *,
        baud: int = 115200,
        link: str | Path | None = None,
        odometry_hz: float = 50.0,
        status_hz: float = 10.0,
        tx_faults: FaultProfile | None = None,
        rx_faults: FaultProfile | None = None,
        seed: int = 0,
        clock: Callable[[], int] = time.monotonic_ns,
        frame_observer: Callable[[int, Frame], None] | None = None,
    ) -> None:
        """Build the simulator; ``start()`` opens the pty.

        ``frame_observer``, if given, is called with each valid host frame and the steady-clock
        time its bytes were read off the pty (before UART pacing): a tap for latency benches.
        """
        self._clock = clock
        self._frame_observer = frame_observer
        self._boot_ns = clock()
        self.plant = plant or Plant(start_ns=self._boot_ns)
        self._byte_ns = 10 * 1_000_000_000 // baud
        self._pty = PseudoTerminal(link)
        self._odometry_period_ns = int(1e9 / odometry_hz)
        self._status_period_ns = int(1e9 / status_hz)
        self._tx_faults = FaultInjector(tx_faults or FaultProfile(), seed)
        self._rx_faults = FaultInjector(rx_faults or FaultProfile(), seed + 1)
        self.stats = SimulatorStats()
        self._plant_lock = threading.Lock()
        self._want_plugged = True
        self._stop = threading.Event()
        self._tx_queue: queue.PriorityQueue[tuple[int, int, McuMessage | None]] = (
            queue.PriorityQueue()
        )
        self._order = itertools.count()
        self._seq = 0
        self._threads: list[threading.Thread] = []
        self._last_reported: tuple[int, int] | None = None

    def __enter__(self) -> McuSimulator:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def device_path(self) -> str:
        """The path a host opens: the stable link if one was asked for, else the pty itself."""
        return self._pty.device_path

    @property
    def plugged(self) -> bool:
        """Whether the port currently exists."""
        return self._pty.is_open

    def start(self) -> None:
        """Open the pty and start the MCU's receive/control and transmit threads.

        Raises:
            AlreadyStartedError: the simulator is running, or has run: its threads' stop is
                final, so a simulator starts once (make a new one to start again).
        """
        if self._threads:
            raise AlreadyStartedError("the MCU simulator is already started")
        if self._stop.is_set():
            raise AlreadyStartedError(
                "the MCU simulator was stopped and cannot start again: make a new one"
            )
        self._pty.open()
        self._threads = [
            threading.Thread(target=self._run, name="mcu-sim-rx", daemon=True),
            threading.Thread(target=self._transmit, name="mcu-sim-tx", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Stop the threads and close the pty."""
        self._stop.set()
        self._tx_queue.put((_ACK_PRIORITY, -1, None))
        for thread in self._threads:
            thread.join(timeout=2.0)
        self._threads = []
        self._pty.close()

    def unplug(self, timeout: float = 1.0) -> None:
        """Make the port vanish, as a USB adapter pulled out; the MCU itself keeps running."""
        self._request_plug(False, timeout)

    def replug(self, timeout: float = 1.0) -> None:
        """Bring the port back (a new pty behind the same link path)."""
        self._request_plug(True, timeout)

    def reboot(self) -> None:
        """Power-cycle the MCU: a fresh plant (disarmed, unconfigured, encoder counters and
        clock from zero) and sequence numbers from 0."""
        with self._plant_lock:
            self.plant = Plant(start_ns=self._clock())
        self._seq = 0

    def set_faults(self, tx: FaultProfile | None = None, rx: FaultProfile | None = None) -> None:
        """Change the fault profiles of the MCU's transmit and receive directions."""
        if tx is not None:
            self._tx_faults.profile = tx
        if rx is not None:
            self._rx_faults.profile = rx

    def set_seat(self, load_kg: float, belt_closed: bool) -> None:
        """Set the seat load and belt switch of the plant."""
        with self._plant_lock:
            self.plant.set_seat(load_kg, belt_closed)

    def set_joystick(self, x: float, y: float, engaged: bool) -> None:
        """Move the attendant's joystick."""
        with self._plant_lock:
            self.plant.set_joystick(x, y, engaged)

    def snapshot(self) -> PlantState:
        """The plant's state as of its last control period (at most 10 ms old).

        Reading does not advance the plant: only the MCU's own loop decides when time passes.
        """
        with self._plant_lock:
            return self.plant.state()

    def _request_plug(self, plugged: bool, timeout: float) -> None:
        self._want_plugged = plugged
        deadline = time.monotonic() + timeout
        while self.plugged != plugged:
            if time.monotonic() > deadline:
                raise TimeoutError("the simulator did not apply the plug change in time")
            time.sleep(0.002)

    def _apply_plug(self) -> None:
        if self._want_plugged != self.plugged:
            if self._want_plugged:
                self._pty.open()
            else:
                self._pty.close()

    def _sleep_until(self, deadline_ns: int) -> None:
        delay = deadline_ns - self._clock()
        if delay > 0:
            time.sleep(delay / 1e9)

    def _run(self) -> None:
        decoder = FrameDecoder()
        rx_free_ns = 0
        # Bytes read from the pty wait here until the UART would have received them, so the
        # control loop never sleeps on a long read.
        arriving: deque[tuple[int, bytes, int]] = deque()
        next_tick = self._clock()
        last_odometry = next_tick
        next_odometry = next_tick + self._odometry_period_ns
        next_status = next_tick + self._status_period_ns
        while not self._stop.is_set():
            self._apply_plug()
            now = self._clock()
            wake = min(next_tick, arriving[0][0]) if arriving else next_tick
            timeout = max(0.0, (wake - now) / 1e9)
            data = b""
            if self._pty.is_open:
                data = self._pty.read(timeout)
            else:
                time.sleep(timeout)
            if data:
                read_ns = self._clock()
                rx_free_ns = max(read_ns, rx_free_ns) + len(data) * self._byte_ns
                arriving.append((rx_free_ns, data, read_ns))
            while arriving and arriving[0][0] <= self._clock():
                _, chunk, read_ns = arriving.popleft()
                for item in decoder.feed(self._rx_faults.apply(chunk)):
                    if self._frame_observer is not None and isinstance(item, Frame):
                        self._frame_observer(read_ns, item)
                    self._receive(item)
            now = self._clock()
            if now >= next_tick:
                with self._plant_lock:
                    state = self.plant.step(now)
                # Telemetry is due on a fixed schedule, not "a period after the last one", so
                # scheduling jitter cannot stretch the rate.
                if now >= next_odometry:
                    self._queue(odometry_from_state(state, now - last_odometry, self._boot_ns))
                    last_odometry = now
                    next_odometry = max(next_odometry + self._odometry_period_ns, now)
                if now >= next_status:
                    self._report(state, force=True)
                    next_status = max(next_status + self._status_period_ns, now)
                else:
                    self._report(state, force=False)
                next_tick += CONTROL_PERIOD_NS
                if next_tick < now:
                    next_tick = now + CONTROL_PERIOD_NS

    def _receive(self, item: Frame | FrameFault) -> None:
        if isinstance(item, FrameFault):
            self.stats.faults_in[item.fault] += 1
            answer = _FAULT_ANSWERS.get(item.fault)
            if answer is not None and item.header is not None:
                self._acknowledge(item.header.msg_type, item.header.seq, answer)
            return
        self.stats.frames_in += 1
        message = item.message
        if isinstance(message, (Odometry, Status, Ack)):
            self._acknowledge(message.TYPE, item.seq, ErrorCode.UNKNOWN_TYPE)
            return
        host_message: HostMessage = message
        with self._plant_lock:
            state = self.plant.step(self._clock(), host_message)
        self._acknowledge(message.TYPE, item.seq, state.reply or ErrorCode.OK)
        if isinstance(message, Configure) and state.reply == ErrorCode.OK:
            _log.info("configured: %s", message)
        self._report(state, force=False)

    def _acknowledge(self, msg_type: int, seq: int, error: ErrorCode) -> None:
        self.stats.acks_out[error] += 1
        self._tx_queue.put((_ACK_PRIORITY, next(self._order), Ack(msg_type, seq, error)))

    def _report(self, state: PlantState, *, force: bool) -> None:
        key = (int(state.faults), int(state.flags))
        if force or key != self._last_reported:
            self._last_reported = key
            self._queue(status_from_state(state))

    def _queue(self, message: McuMessage) -> None:
        self._tx_queue.put((_TELEMETRY_PRIORITY, next(self._order), message))

    def _transmit(self) -> None:
        wire_free_ns = 0
        while not self._stop.is_set():
            _, _, message = self._tx_queue.get()
            if message is None:
                continue
            frame = encode_frame(message, self._seq)
            self._seq = (self._seq + 1) & 0xFFFF
            data = self._tx_faults.apply(frame)
            done = max(self._clock(), wire_free_ns) + len(data) * self._byte_ns
            wire_free_ns = done
            self._sleep_until(done)
            if not self._pty.is_open:
                continue
            written = self._pty.write(data)
            self.stats.frames_out += 1
            self.stats.bytes_unread += len(data) - written
