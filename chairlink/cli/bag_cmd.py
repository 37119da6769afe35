"""``chairlink bag``: what a rosbag2 holds."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from rich.console import Console
from rich.table import Table

from edge.rosbag import BagReader

__all__ = ["register"]


def register(parser: argparse.ArgumentParser) -> None:
    """Add the bag verbs."""
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    info = verbs.add_parser(
        "info",
        help="summarise a rosbag2 (MCAP or sqlite3)",
        description="Summarise a rosbag2: storage, time span, topics with types and counts.",
    )
    info.add_argument("bag", help="the bag folder")
    info.set_defaults(handler=_info)


def _info(args: argparse.Namespace) -> int:
    with BagReader(args.bag) as reader:
        info = reader.info()
    console = Console()
    start = datetime.fromtimestamp(info.start_ns / 1e9, UTC).isoformat(timespec="milliseconds")
    console.print(
        f"[bold]{info.path}[/bold]: {info.storage}, {info.message_count} messages over "
        f"{info.duration_s:.2f} s from {start}"
    )
    table = Table()
    for column in ("topic", "type", "messages", "read by chairlink"):
        table.add_column(column)
    for topic in info.topics:
        table.add_row(
            topic.name, topic.msgtype, str(topic.count), "yes" if topic.supported else "-"
        )
    console.print(table)
    return 0
