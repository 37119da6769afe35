"""The live view of ``chairlink firmware probe``: a rich table, or plain lines when piped."""

from __future__ import annotations

import math
import time

from rich.console import Console
from rich.live import Live
from rich.table import Table

from firmware_bridge.driver import SerialDriver
from firmware_bridge.messages import ErrorCode, Fault, StatusFlag
from firmware_bridge.odometry import OdometryIntegrator

__all__ = ["ProbeView"]


def _names(value: int, kind: type[Fault] | type[StatusFlag]) -> str:
    names = [
        member.name for member in kind if member.value and value & member.value and member.name
    ]
    return ",".join(names) or "-"


class ProbeView:
    """Shows the driver's latest odometry, status and link counters."""

    def __init__(self, driver: SerialDriver, odometry: OdometryIntegrator, *, plain: bool) -> None:
        self._driver = driver
        self._odometry = odometry
        self._plain = plain
        self._console = Console()
        self._notes: list[str] = []

    def note(self, text: str) -> None:
        """A line shown under the table (or printed at once in plain mode)."""
        self._notes.append(text)
        if self._plain:
            print(text, flush=True)

    def run(self, deadline: float, drive: tuple[float, ...] | None) -> None:
        """Refresh until the deadline, commanding ``drive`` (linear, angular) if given."""
        if self._plain:
            while time.monotonic() < deadline:
                self._command(drive)
                print(self._line(), flush=True)
                self._sleep_commanding(1.0, deadline, drive)
            return
        with Live(self._table(), console=self._console, refresh_per_second=5) as live:
            while time.monotonic() < deadline:
                self._sleep_commanding(0.2, deadline, drive)
                live.update(self._table())

    def _command(self, drive: tuple[float, ...] | None) -> None:
        if drive is not None and self._driver.link_up:
            self._driver.command(drive[0], drive[1])

    def _sleep_commanding(
        self, seconds: float, deadline: float, drive: tuple[float, ...] | None
    ) -> None:
        end = min(deadline, time.monotonic() + seconds)
        while time.monotonic() < end:
            self._command(drive)
            time.sleep(0.05)

    def _line(self) -> str:
        est = self._odometry.estimate
        status = self._driver.latest_status
        stats = self._driver.stats()
        pose = (
            "odom -"
            if est is None
            else (
                f"x={est.x_m:+.2f} y={est.y_m:+.2f} th={math.degrees(est.theta_rad):+.0f}deg "
                f"v={est.linear_mps:+.2f} w={est.angular_radps:+.2f}"
            )
        )
        if status is None:
            state = "status -"
        else:
            s = status.message
            state = (
                f"bat={s.battery_v:.2f}V {s.soc_pct}% I={s.current_a:.2f}A "
                f"flags={_names(s.flags, StatusFlag)} faults={_names(s.faults, Fault)}"
            )
        link = (
            f"link={'up' if stats.link_up else 'DOWN'} rx={stats.frames_rx} crc={stats.crc_errors} "
            f"drops={stats.drops} reconnects={stats.reconnects}"
        )
        return f"{pose} | {state} | {link}"

    def _table(self) -> Table:
        est = self._odometry.estimate
        status = self._driver.latest_status
        stats = self._driver.stats()
        table = Table(title=f"chairlink firmware probe: {self._driver.port}", show_header=False)
        table.add_column("what", style="bold")
        table.add_column("value")
        if est is not None:
            table.add_row(
                "pose",
                f"x {est.x_m:+.2f} m  y {est.y_m:+.2f} m  "
                f"heading {math.degrees(est.theta_rad):+.1f} deg",
            )
            table.add_row("velocity", f"{est.linear_mps:+.2f} m/s  {est.angular_radps:+.2f} rad/s")
            table.add_row("distance", f"{est.distance_m:.2f} m")
        if status is not None:
            s = status.message
            table.add_row("battery", f"{s.battery_v:.2f} V  {s.current_a:.2f} A  {s.soc_pct} %")
            table.add_row(
                "motors", f"{s.motor_temp_left_dc / 10:.1f} / {s.motor_temp_right_dc / 10:.1f} degC"
            )
            table.add_row("state", _names(s.flags, StatusFlag))
            table.add_row("faults", _names(s.faults, Fault))
            table.add_row("seat", f"{s.seat_load_kg:.1f} kg")
            table.add_row("joystick", f"x {s.joystick_x_pct} %  y {s.joystick_y_pct} %")
        table.add_row("link", "up" if stats.link_up else f"DOWN {stats.last_error}")
        table.add_row(
            "counters",
            f"rx {stats.frames_rx}  tx {stats.frames_tx}  crc {stats.crc_errors}  "
            f"resyncs {stats.resyncs}  drops {stats.drops}  reconnects {stats.reconnects}",
        )
        p99 = stats.rtt_percentile(99)
        if not math.isnan(p99):
            table.add_row("drive rtt", f"p50 {stats.rtt_percentile(50):.2f} ms  p99 {p99:.2f} ms")
        for text in self._notes[-3:]:
            table.add_row("note", text)
        return table

    def summary(self) -> None:
        """Print the counters once, at exit."""
        stats = self._driver.stats()
        errors = {k: v for k, v in stats.acks.items() if k != ErrorCode.OK.name}
        print(
            f"frames rx {stats.frames_rx} tx {stats.frames_tx}, crc errors {stats.crc_errors}, "
            f"drops {stats.drops}, reconnects {stats.reconnects}, ack errors {errors or 'none'}",
            flush=True,
        )
