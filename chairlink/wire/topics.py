"""MQTT topics of the wire contract: ``chairlink/v1/{site}/{chair}/{channel}`` and the downlink.

Ids use the alphabet chair.yaml enforces (lower-case letters, digits, dashes), so no topic ever
holds a wildcard, a separator or a patient's name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "PREFIX",
    "Channel",
    "CommandKind",
    "ParsedTopic",
    "TopicError",
    "channel_topic",
    "command_topic",
    "parse_topic",
]

PREFIX = "chairlink/v1"
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


class TopicError(ValueError):
    """A topic or an id that the contract does not allow."""


class Channel(StrEnum):
    """What a chair publishes, one topic each."""

    STATE = "state"
    """Online or offline: the retained birth message and the last will."""
    VEHICLE = "vehicle"
    """Pose, speed, battery, mode and faults, in batches of samples."""
    PATIENT = "patient"
    """Vitals, under a pseudonymous patient token."""
    SAFETY = "safety"
    """The safety layer's state, on change and at a low rate."""
    TRIP = "trip"
    """Trip progress events and command acknowledgements."""
    EVENT = "event"
    """Alarms and incidents raised on the chair."""


class CommandKind(StrEnum):
    """What the monitor sends a chair."""

    TRIP = "trip"
    CANCEL = "cancel"
    STOP = "stop"
    CONFIG = "config"


def _check(name: str, value: str) -> str:
    if not _ID.match(value):
        raise TopicError(
            f"{name} {value!r} is not lower-case letters, digits and dashes (1-63 characters)"
        )
    return value


def channel_topic(site: str, chair: str, channel: Channel | str) -> str:
    """The topic a chair publishes a channel on; ``+`` for site or chair subscribes to all."""
    parts = [
        site if site == "+" else _check("site", site),
        chair if chair == "+" else _check("chair", chair),
    ]
    return f"{PREFIX}/{parts[0]}/{parts[1]}/{Channel(channel).value}"


def command_topic(site: str, chair: str, kind: CommandKind | str) -> str:
    """The downlink topic of one command kind for one chair; ``+`` matches any kind."""
    suffix = "+" if kind == "+" else CommandKind(kind).value
    return f"{PREFIX}/{_check('site', site)}/{_check('chair', chair)}/cmd/{suffix}"


@dataclass(frozen=True)
class ParsedTopic:
    """The parts of a chairlink topic."""

    site: str
    chair: str
    channel: Channel | None
    command: CommandKind | None


def parse_topic(topic: str) -> ParsedTopic:
    """Split a chairlink topic into its parts.

    Raises:
        TopicError: the topic is not one of the contract's.
    """
    parts = topic.split("/")
    if parts[:2] != PREFIX.split("/") or len(parts) not in (5, 6):
        raise TopicError(f"{topic!r} is not a chairlink/v1 topic")
    site, chair = _check("site", parts[2]), _check("chair", parts[3])
    try:
        if len(parts) == 5:
            return ParsedTopic(site, chair, Channel(parts[4]), None)
        if parts[4] != "cmd":
            raise TopicError(f"{topic!r}: expected cmd/<kind> after the chair id")
        return ParsedTopic(site, chair, None, CommandKind(parts[5]))
    except ValueError as err:
        if isinstance(err, TopicError):
            raise
        raise TopicError(f"{topic!r}: unknown channel or command {parts[-1]!r}") from err
