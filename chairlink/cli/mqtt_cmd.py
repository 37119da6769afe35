"""``chairlink mqtt``: watch the wire as the monitor sees it."""

from __future__ import annotations

import argparse
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from rich.console import Console

from chairlink.errors import ChairlinkError
from chairlink.wire.payloads import PayloadError, decode_command, decode_uplink
from chairlink.wire.topics import PREFIX, TopicError, parse_topic

__all__ = ["register"]


def register(parser: argparse.ArgumentParser) -> None:
    """Add the mqtt verbs."""
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    tail = verbs.add_parser(
        "tail",
        help="print chairlink traffic, decoded, as it arrives",
        description=(
            "Subscribe to chairlink topics and print every message decoded: topic, sequence "
            "number and payload; a message that breaks the contract is printed with the reason."
        ),
    )
    tail.add_argument("--host", default="localhost", help="broker host (default localhost)")
    tail.add_argument("--port", type=int, default=1883, help="broker port (default 1883)")
    tail.add_argument(
        "--user",
        default="monitor",
        help="MQTT login (default monitor); the broker makes it the client id, so a tail on a "
        "monitor process's login throws that process off: give the tail a login of its own",
    )
    tail.add_argument("--password-file", type=Path, help="file holding the MQTT password")
    tail.add_argument("--site", default="+", help="site id (default: all)")
    tail.add_argument("--chair", default="+", help="chair id (default: all)")
    tail.add_argument("--commands", action="store_true", help="show the downlink commands too")
    tail.add_argument("--count", type=int, default=0, help="stop after this many messages")
    tail.add_argument("--seconds", type=float, default=0.0, help="stop after this long")
    tail.set_defaults(handler=_tail)


def _tail(args: argparse.Namespace) -> int:
    console = Console(highlight=False, soft_wrap=True)
    password = None
    if args.password_file is not None:
        try:
            password = args.password_file.read_text(encoding="utf-8").strip()
        except OSError as err:
            raise ChairlinkError(f"{args.password_file}: {err.strerror}") from err
        except UnicodeDecodeError as err:
            raise ChairlinkError(f"{args.password_file}: not a password file (not text)") from err
    seen = 0
    done = threading.Event()
    refused: list[str] = []

    def on_connect(
        client: mqtt.Client, _u: object, _f: object, rc: ReasonCode, _p: Properties | None
    ) -> None:
        if rc.is_failure:
            refused.append(rc.getName())
            done.set()
            return
        client.subscribe(f"{PREFIX}/{args.site}/{args.chair}/+", qos=1)
        if args.commands:
            client.subscribe(f"{PREFIX}/{args.site}/{args.chair}/cmd/+", qos=1)

    def on_message(_c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        nonlocal seen
        stamp = time.strftime("%H:%M:%S")
        try:
            parts = parse_topic(msg.topic)
            data = bytes(msg.payload)
            if parts.command is not None:
                command = decode_command(data)
                head, body = f"command {command.command_id}", command.model_dump_json()
            else:
                uplink = decode_uplink(data)
                if uplink.channel != parts.channel or uplink.chair != parts.chair:
                    raise PayloadError(
                        f"payload of {uplink.chair}/{uplink.channel} on the topic of "
                        f"{parts.chair}/{parts.channel}"
                    )
                head, body = f"seq {uplink.seq}", uplink.model_dump_json(exclude_defaults=True)
        except (TopicError, PayloadError) as err:
            console.print(f"{stamp} [red]{msg.topic}[/red] refused: {err}")
        else:
            retained = " (retained)" if msg.retain else ""
            console.print(f"{stamp} [bold]{msg.topic}[/bold] {head}{retained} {body}")
        seen += 1
        if args.count and seen >= args.count:
            done.set()

    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.username_pw_set(args.user, password)
    client.on_connect = on_connect
    client.on_message = on_message
    try:
        client.connect(args.host, args.port)
    except OSError as err:
        raise ChairlinkError(f"cannot reach the broker at {args.host}:{args.port}: {err}") from err
    client.loop_start()
    try:
        done.wait(args.seconds or None)
    finally:
        client.loop_stop()
        client.disconnect()
    if refused:
        raise ChairlinkError(f"the broker refused the connection: {refused[0]}")
    return 0
