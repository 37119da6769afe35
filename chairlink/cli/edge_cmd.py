"""``chairlink edge``: the chair's own software where there is no ROS.

``edge agent --config chair.yaml`` runs the telemetry agent on a chair without ROS: it reads
the motor MCU and the oximeter on their serial ports (``SerialTelemetryHost``), sends the
chair's state and the patient's vitals to the monitor, and carries out the monitor's commands,
until SIGINT or SIGTERM; then it brakes the chair, sends what is pending and prints a summary.

The CLI imports this module only when the ``edge`` noun runs.
"""

from __future__ import annotations

import argparse
import signal
import threading
from types import FrameType

from chairlink.config import load_chair_config
from chairlink.identity import require_own_identity
from edge.telemetry.serial_host import HostSummary, SerialTelemetryHost

__all__ = ["register"]

_LINK_WAIT_S = 5.0


def register(parser: argparse.ArgumentParser) -> None:
    """Add the edge verbs."""
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    agent = verbs.add_parser(
        "agent",
        help="run the telemetry agent on a chair without ROS (MCU and oximeter on serial)",
        description=(
            "Run the telemetry agent on a chair without ROS: odometry and status from the "
            "motor MCU (firmware.port), vitals from the oximeter (oximeter.port), to the broker "
            "of telemetry.*. Carries out the monitor's commands: stop (the MCU's e-stop), trip "
            "(an assignment; its patient's vitals are sent), cancel, and config of "
            "firmware.limits.*. Runs until SIGINT or SIGTERM, then brakes the chair."
        ),
    )
    agent.add_argument("--config", required=True, help="chair.yaml of this chair")
    agent.set_defaults(handler=_agent)


def _agent(args: argparse.Namespace) -> int:
    config = load_chair_config(args.config)
    require_own_identity(config)
    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    host = SerialTelemetryHost(config)
    previous = {s: signal.signal(s, _on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        host.start()
        # A port that is not there yet is retried in the background (a USB adapter plugged in
        # late); saying so early saves the attendant a silent chair on the monitor.
        if not host.driver.wait_for_link(_LINK_WAIT_S) and not stop.is_set():
            print(
                f"no MCU answered on {config.firmware.port} within {_LINK_WAIT_S:.0f} s "
                f"({host.driver.stats().last_error or 'opening'}); still trying",
                flush=True,
            )
        else:
            print(f"running as {config.identity.chair_id}; stop with Ctrl-C", flush=True)
        stop.wait()
    finally:
        summary = host.stop()
        for number, handler in previous.items():
            signal.signal(number, handler)
    print(_summary(summary), flush=True)
    return 0


def _summary(s: HostSummary) -> str:
    agent = s.agent
    lines = [
        f"stopped after {s.uptime_s:.1f} s; "
        + (
            "chair braked"
            if s.braked
            else "MCU not connected, no brake sent (it brakes on its own link timeout)"
        ),
        f"  sent: {s.feed.vehicle_samples} vehicle samples, {s.feed.vitals} vitals readings "
        f"({s.feed.vitals_without_patient} held back without a patient)",
        f"  broker: {agent.published} published, {agent.acked} acknowledged, "
        f"{agent.outbox_messages} left in the outbox for the next start",
        f"  commands: {agent.commands} received, {agent.commands_rejected} refused",
        f"  MCU: {s.mcu_frames} frames, {s.mcu_reconnects} reconnects; oximeter: "
        f"{s.oximeter_readings} readings",
    ]
    if s.trip is not None:
        lines.append(f"  trip {s.trip} was still assigned")
    return "\n".join(lines)
