"""``chairlink broker``: provision the hospital's Mosquitto from the chairs' configs."""

from __future__ import annotations

import argparse
from pathlib import Path

from chairlink.broker import BrokerError, load_broker_users, write_users

__all__ = ["register"]


def register(parser: argparse.ArgumentParser) -> None:
    """Add the broker verbs."""
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    users = verbs.add_parser(
        "users",
        help="write the password file, the credentials and the ACL for chairs and monitors",
        description=(
            "One login per chair (its chair id, allowed to write under its own site only, read "
            "from each chair.yaml) and per monitor process. Writes PASSWD for Mosquitto, "
            "PASSWD.credentials (login and password per line, mode 0600) and the ACL."
        ),
    )
    users.add_argument("chairs", nargs="*", type=Path, metavar="CHAIR_YAML", help="chair.yaml")
    users.add_argument(
        "--monitor",
        action="append",
        default=[],
        metavar="LOGIN",
        help="a monitor process's login, once per process (e.g. monitor-ingest-1)",
    )
    users.add_argument("--passwd", type=Path, required=True, help="password file to write")
    users.add_argument("--acl", type=Path, required=True, help="ACL file to write")
    users.set_defaults(handler=_users)


def _users(args: argparse.Namespace) -> int:
    if not args.chairs and not args.monitor:
        raise BrokerError("name at least one chair.yaml or --monitor login")
    users = load_broker_users(args.chairs, args.monitor)
    credentials = write_users(users, args.passwd, args.acl)
    print(
        f"wrote {args.passwd}, {credentials} and {args.acl} for {len(users.chairs)} chairs "
        f"and {len(users.monitors)} monitor processes"
    )
    return 0
