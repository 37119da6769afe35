"""``chairlink config``: validate and print a chair.yaml."""

from __future__ import annotations

import argparse

import yaml

from chairlink.config import load_chair_config

__all__ = ["register"]


def register(parser: argparse.ArgumentParser) -> None:
    """Add the config verbs."""
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    check = verbs.add_parser("check", help="validate a chair.yaml and say what is wrong")
    check.add_argument("path", help="the chair.yaml to check")
    check.set_defaults(handler=_check)
    show = verbs.add_parser("show", help="print the configuration with every default filled in")
    show.add_argument("path", nargs="?", help="a chair.yaml (default: the built-in defaults)")
    show.set_defaults(handler=_show)


def _check(args: argparse.Namespace) -> int:
    config = load_chair_config(args.path)
    print(
        f"{args.path}: valid chair config for {config.identity.chair_id} at {config.identity.site}"
    )
    return 0


def _show(args: argparse.Namespace) -> int:
    config = load_chair_config(args.path)
    print(yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False), end="")
    return 0
