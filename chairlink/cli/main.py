"""Entry point of the ``chairlink`` command. Each noun's module is imported only when it runs."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from chairlink import __version__
from chairlink.errors import ChairlinkError

__all__ = ["build_parser", "main"]

# noun -> (module that registers its verbs, one-line help)
NOUNS: dict[str, tuple[str, str]] = {
    "bag": ("chairlink.cli.bag_cmd", "rosbag2 files: summarise them"),
    "broker": ("chairlink.cli.broker_cmd", "the hospital's Mosquitto: logins and ACL"),
    "config": ("chairlink.cli.config_cmd", "check and show a chair configuration"),
    "edge": ("chairlink.cli.edge_cmd", "a chair without ROS: the telemetry agent on serial ports"),
    "firmware": ("chairlink.cli.firmware_cmd", "the motor MCU: simulator and link probe"),
    "mqtt": ("chairlink.cli.mqtt_cmd", "MQTT: watch chairlink traffic, decoded"),
    "model": ("chairlink.cli.model_cmd", "ONNX models: check one against its description, time it"),
    "ros": ("chairlink.cli.ros_cmd", "ROS 2 parameters generated from chair.yaml"),
    "sim": ("chairlink.cli.sim_cmd", "the simulated hospital: run and record scenarios"),
    "site": ("chairlink.cli.site_cmd", "sites: the stock hospital floor, map and nav graph"),
}


def build_parser(argv: Sequence[str]) -> argparse.ArgumentParser:
    """The parser, with the verbs of the noun named in argv registered."""
    parser = argparse.ArgumentParser(
        prog="chairlink",
        description="chairlink: the software of an autonomous hospital wheelchair service.",
    )
    parser.add_argument("--version", action="version", version=f"chairlink {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at debug level")
    nouns = parser.add_subparsers(dest="noun", metavar="NOUN", required=True)
    wanted = next((arg for arg in argv if not arg.startswith("-")), None)
    for noun, (module_name, help_text) in NOUNS.items():
        sub = nouns.add_parser(noun, help=help_text, description=help_text)
        if noun == wanted:
            module = importlib.import_module(module_name)
            module.register(sub)
        else:
            sub.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(args_list)
    args = parser.parse_args(args_list)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.parse_args([args.noun, "--help"])
        return 2
    try:
        result: int = handler(args)
    except ChairlinkError as err:
        print(f"chairlink: error: {_one_line(str(err))}", file=sys.stderr)
        return 1
    except OSError as err:
        # A file the command opens itself (an output, a device): the error names it.
        print(f"chairlink: error: {_one_line(str(err))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return result


def _one_line(message: str) -> str:
    """A message on one line: a user reads one line per failure, a script greps it."""
    return "; ".join(part.strip() for part in message.splitlines() if part.strip())
