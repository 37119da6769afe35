"""``chairlink ros``: what the ROS 2 packages take from chair.yaml."""

from __future__ import annotations

import argparse
from pathlib import Path

from chairlink.config import load_chair_config
from chairlink.errors import ConfigError
from chairlink.ros_params import params_file

__all__ = ["register"]


def register(parser: argparse.ArgumentParser) -> None:
    """Add the ros verbs."""
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    params = verbs.add_parser(
        "params",
        help="generate the nodes' ROS parameters file from a chair.yaml",
        description="Generate the ros__parameters YAML of every chairlink node from a chair.yaml.",
    )
    params.add_argument("config", nargs="?", help="chair.yaml (default: built-in defaults)")
    params.add_argument("-o", "--output", help="write here instead of standard output")
    params.set_defaults(handler=_params)


def _params(args: argparse.Namespace) -> int:
    text = params_file(load_chair_config(args.config))
    if args.output:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as err:
            raise ConfigError(
                f"{args.output}: cannot write the params file: {err.strerror}"
            ) from err
    else:
        print(text, end="")
    return 0
