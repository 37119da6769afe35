"""``chairlink firmware``: run the MCU simulator on a pty, or probe any port with the driver.

The CLI imports this module only when the ``firmware`` noun runs.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
import time
from types import FrameType

from chairlink.cli.probe_view import ProbeView
from chairlink.config import FirmwareConfig, load_chair_config
from chairlink.errors import ChairlinkError
from firmware_bridge.driver import Received, SerialDriver, configure_message
from firmware_bridge.errors import LinkError
from firmware_bridge.fault_injection import FaultProfile
from firmware_bridge.mcu_sim import McuSimulator
from firmware_bridge.messages import Ack, Odometry, Status, error_name
from firmware_bridge.odometry import OdometryIntegrator
from firmware_bridge.plant import Plant

__all__ = ["register"]


def register(parser: argparse.ArgumentParser) -> None:
    """Add the firmware verbs."""
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)

    sim = verbs.add_parser(
        "sim",
        help="run the motor MCU simulator on a pseudo-terminal and print its device path",
        description=(
            "Run the motor MCU simulator on a pseudo-terminal, paced at the baud rate. It "
            "prints the device path, then reads commands on stdin until interrupted: "
            "'seat KG open|closed', 'joystick X Y on|off', 'unplug', 'replug', 'state'."
        ),
    )
    sim.add_argument("--config", help="chair.yaml (default: built-in defaults)")
    sim.add_argument("--link", help="also expose the pty under this stable path (a symlink)")
    sim.add_argument("--baud", type=int, help="baud rate to pace at (default: from config)")
    sim.add_argument("--seed", type=int, default=0, help="seed of the fault injector")
    sim.add_argument("--seat-kg", type=float, default=0.0, help="initial seat load")
    sim.add_argument("--belt", choices=("open", "closed"), default="closed")
    sim.add_argument("--bit-flip-rate", type=float, default=0.0, help="per byte sent")
    sim.add_argument("--drop-rate", type=float, default=0.0, help="per byte sent")
    sim.add_argument("--insert-rate", type=float, default=0.0, help="per byte sent")
    sim.add_argument("--truncate-rate", type=float, default=0.0, help="per frame sent")
    sim.add_argument("--garbage-rate", type=float, default=0.0, help="bursts per frame sent")
    sim.set_defaults(handler=_sim)

    probe = verbs.add_parser(
        "probe",
        help="connect the host driver to a port and show live odometry and status",
        description="Connect the host driver to a serial port and show live odometry and status.",
    )
    probe.add_argument("--port", required=True, help="serial device, e.g. /dev/ttyACM0")
    probe.add_argument("--config", help="chair.yaml (default: built-in defaults)")
    probe.add_argument("--arm", action="store_true", help="send REARM once the link is up")
    probe.add_argument(
        "--drive",
        nargs=2,
        type=float,
        metavar=("LINEAR", "ANGULAR"),
        help="keep commanding this velocity (m/s, rad/s); needs --arm on a disarmed MCU",
    )
    probe.add_argument("--duration", type=float, default=0.0, help="seconds to run (0: until ^C)")
    probe.add_argument("--plain", action="store_true", help="print lines instead of a live table")
    probe.set_defaults(handler=_probe)


def _firmware_config(path: str | None, **changes: object) -> FirmwareConfig:
    config = load_chair_config(path).firmware
    return config.model_copy(update={k: v for k, v in changes.items() if v is not None})


def _terminate_on_sigterm() -> None:
    def _raise(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _raise)


def _sim(args: argparse.Namespace) -> int:
    config = _firmware_config(args.config, baud=args.baud)
    faults = FaultProfile(
        bit_flip_rate=args.bit_flip_rate,
        drop_rate=args.drop_rate,
        insert_rate=args.insert_rate,
        truncate_rate=args.truncate_rate,
        garbage_burst_rate=args.garbage_rate,
    )
    plant = Plant(configure_message(config), start_ns=time.monotonic_ns())
    plant.set_seat(args.seat_kg, args.belt == "closed")
    try:
        sim = McuSimulator(
            plant, baud=config.baud, link=args.link, tx_faults=faults, seed=args.seed
        )
    except OSError as err:
        where = f"{args.link}: cannot link the simulator's pty there" if args.link else "no pty"
        raise ChairlinkError(f"{where}: {err}") from err
    _terminate_on_sigterm()
    with sim:
        print(sim.device_path, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            _sim_console(sim)
    return 0


def _sim_console(sim: McuSimulator) -> None:
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        try:
            match words:
                case ["seat", kg, "open" | "closed" as belt]:
                    sim.set_seat(float(kg), belt == "closed")
                case ["joystick", x, y, "on" | "off" as engaged]:
                    sim.set_joystick(float(x), float(y), engaged == "on")
                case ["unplug"]:
                    sim.unplug()
                case ["replug"]:
                    sim.replug()
                case ["state"]:
                    print(sim.snapshot(), flush=True)
                case _:
                    print(f"unknown command: {line.strip()!r}", file=sys.stderr, flush=True)
                    continue
        except ValueError as err:
            print(f"bad command {line.strip()!r}: {err}", file=sys.stderr, flush=True)
            continue
        print("ok", flush=True)
    threading.Event().wait()


def _probe(args: argparse.Namespace) -> int:
    config = _firmware_config(args.config, port=args.port)
    wheels = config.wheels
    odometry = OdometryIntegrator(wheels.radius_m, wheels.separation_m, wheels.ticks_per_rev)

    def on_frame(received: Received[Odometry | Status | Ack]) -> None:
        if isinstance(received.message, Odometry):
            odometry.update(received.message, received.stamp_ns)

    _terminate_on_sigterm()
    driver = SerialDriver(config, on_frame=on_frame)
    view = ProbeView(driver, odometry, plain=args.plain or not sys.stdout.isatty())
    deadline = time.monotonic() + args.duration if args.duration > 0 else float("inf")
    with driver:
        if not driver.wait_for_link(5.0):
            raise ChairlinkError(
                f"{args.port}: no MCU answered within 5 s ({driver.stats().last_error})"
            )
        if args.arm:
            try:
                ack = driver.rearm()
            except LinkError as err:
                raise ChairlinkError(f"re-arm failed: {err}") from err
            view.note(f"re-arm: {error_name(ack.error)}")
        with contextlib.suppress(KeyboardInterrupt):
            view.run(deadline, drive=tuple(args.drive) if args.drive else None)
    view.summary()
    return 0
