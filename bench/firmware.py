"""Firmware bridge figures: decoding throughput and the drive command's round trip."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.figures import Figure
from chairlink.config import FirmwareConfig
from firmware_bridge.driver import SerialDriver
from firmware_bridge.framing import Frame, FrameDecoder, encode_frame
from firmware_bridge.messages import Ack, ErrorCode, Message, Odometry, Status

__all__ = ["decode_frames_per_s", "rtt_p99_ms"]


def _telemetry_stream(count: int) -> bytes:
    """What an MCU sends: odometry at 50 Hz, status at 10 Hz, and ACKs, in that mix."""
    kinds: list[Message] = [
        Odometry(123_456, -654_321, 20_000, 99_000),
        Status(25_100, 2_300, 87, 315, 322, 0, 0x99, 0, 0, 752),
        Ack(0x01, 4_242, ErrorCode.OK),
    ]
    pattern = [0, 2, 0, 2, 0, 2, 0, 2, 0, 1]
    return b"".join(encode_frame(kinds[pattern[i % 10]], i & 0xFFFF) for i in range(count))


def decode_frames_per_s(count: int = 50_000, repeats: int = 5) -> Figure:
    """[firmware.decode_frames_per_s]: frames decoded per second on one core, 4 KiB reads."""
    stream = _telemetry_stream(count)
    chunks = [stream[i : i + 4096] for i in range(0, len(stream), 4096)]
    best = float("inf")
    for _ in range(repeats):
        decoder = FrameDecoder()
        start = time.perf_counter()
        decoded = 0
        for chunk in chunks:
            decoded += sum(isinstance(item, Frame) for item in decoder.feed(chunk))
        best = min(best, time.perf_counter() - start)
        if decoded != count:
            raise RuntimeError(f"decoded {decoded} of {count} frames")
    return Figure(
        "firmware.decode_frames_per_s",
        count / best,
        "frames/s",
        ">=",
        50_000,
        f"best of {repeats} x {count} frames",
    )


def rtt_p99_ms(commands: int = 1_000, rate_hz: float = 50.0) -> Figure:
    """[firmware.rtt_p99_ms]: DRIVE to its ACK over a pty paced at 115200 baud.

    The simulator runs in its own process, as the MCU is its own machine, with its normal
    telemetry going out at the same time.
    """
    with tempfile.TemporaryDirectory(prefix="chairlink-bench-") as tmp:
        link = Path(tmp) / "ttyMCU"
        sim = subprocess.Popen(
            [sys.executable, "-m", "chairlink", "firmware", "sim", "--link", str(link)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            assert sim.stdout is not None
            sim.stdout.readline()
            config = FirmwareConfig(port=str(link), baud=115200)
            with SerialDriver(config) as driver:
                if not driver.wait_for_link(5.0):
                    raise RuntimeError(f"no link: {driver.stats().last_error}")
                driver.rearm()
                period = 1.0 / rate_hz
                for i in range(commands):
                    driver.command(0.3 if (i // 100) % 2 == 0 else 0.0, 0.0)
                    time.sleep(period)
                stats = driver.stats()
        finally:
            sim.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                sim.wait(timeout=5)
    samples = stats.rtt_ms
    return Figure(
        "firmware.rtt_p99_ms",
        stats.rtt_percentile(99),
        "ms",
        "<=",
        8.0,
        f"{len(samples)} round trips, p50 {stats.rtt_percentile(50):.2f} ms, "
        f"max {max(samples):.2f} ms",
    )
