"""The monitor's rule for a chair's current state (chairlink/wire/presence.py): whatever order
the broker delivers a chair's state messages in, and however often, the same state comes out,
and it is what the chair's connections last said."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

from hypothesis import given, settings
from hypothesis import strategies as st

from chairlink.wire.payloads import SCHEMA_VERSION, StateMessage
from chairlink.wire.presence import Presence, current_state, newer
from chairlink.wire.topics import Channel

CHAIR = "chair-07"


def _state(
    seq: int, status: Literal["online", "offline"], incarnation: int, *, drained: bool = False
) -> StateMessage:
    return StateMessage(
        v=SCHEMA_VERSION,
        chair=CHAIR,
        channel=Channel.STATE,
        seq=seq,
        stamp_ns=1_764_380_000_000_000_000 + seq,
        status=status,
        incarnation=incarnation,
        drained=drained,
    )


End = Literal["stopped", "died", "resumed", "running"]


@dataclass(frozen=True)
class Connection:
    """One connection of the chair's life: whether its attempt failed, whether the backlog
    drained, and how it ended."""

    failed: bool
    drained: bool
    end: End


def _history(connections: list[Connection]) -> tuple[list[StateMessage], StateMessage | None]:
    """The state messages a chair's connections put on the wire, as the agent numbers them,
    and the state a monitor must end with (None: nothing was said)."""
    messages: list[StateMessage] = []
    expected: StateMessage | None = None
    seq = 0
    for incarnation, connection in enumerate(connections, start=1):
        will = _state(seq, "offline", incarnation)  # made before the CONNECT
        seq += 1
        if connection.failed:
            continue  # never accepted: no state, and its will never fires
        expected = _state(seq, "online", incarnation)
        messages.append(expected)
        seq += 1
        if connection.drained:
            expected = _state(seq, "online", incarnation, drained=True)
            messages.append(expected)
            seq += 1
        if connection.end == "stopped":  # the stop's own offline; the will is dropped
            expected = _state(seq, "offline", incarnation)
            messages.append(expected)
            seq += 1
        elif connection.end == "died":  # the will fires, however late
            expected = will
            messages.append(will)
    return messages, expected


connections = st.lists(
    st.builds(
        Connection,
        failed=st.booleans(),
        drained=st.booleans(),
        end=st.sampled_from(["stopped", "died", "resumed", "running"]),
    ),
    max_size=8,
)


@settings(max_examples=300, deadline=None)
@given(connections, st.randoms(use_true_random=False), st.integers(0, 3))
def test_any_order_and_any_repeats_of_a_history_give_its_last_word(
    life: list[Connection], shuffle: random.Random, repeats: int
) -> None:
    messages, expected = _history(life)
    delivered = messages + [shuffle.choice(messages) for _ in range(repeats) if messages]
    shuffle.shuffle(delivered)
    assert current_state(delivered) == expected
    presence = Presence()
    for message in delivered:
        presence.update(message)
    assert presence.state(CHAIR) == expected


def test_a_will_ends_its_connection_though_its_number_is_lower() -> None:
    online, drained, will = (
        _state(1, "online", 1),
        _state(2, "online", 1, drained=True),
        _state(0, "offline", 1),
    )
    assert current_state([online, drained, will]) == will
    assert current_state([will, online, drained]) == will


def test_a_later_connection_outranks_a_late_will_and_backlog_states() -> None:
    late_will = _state(0, "offline", 1)
    backlog_online = _state(1, "online", 1)
    online = _state(3, "online", 2)
    assert current_state([online, late_will, backlog_online]) == online


def test_the_same_will_twice_is_one_notice_and_two_wills_are_two() -> None:
    first_will, online, second_will = (
        _state(0, "offline", 1),
        _state(3, "online", 2),
        _state(2, "offline", 2),
    )
    # A broker stop fires the first connection's will, the real death the second's.
    assert current_state([first_will, online, first_will]) == online
    assert current_state([first_will, online, first_will, second_will]) == second_will


def test_states_from_senders_without_an_incarnation_order_by_seq_and_below_the_rest() -> None:
    v1 = [_state(0, "online", 0), _state(4, "offline", 0), _state(2, "online", 0)]
    assert current_state(v1) == v1[1]
    upgraded = _state(0, "online", 1)
    assert current_state([*v1, upgraded]) == upgraded


def test_presence_says_what_changed_per_chair() -> None:
    presence = Presence()
    assert presence.status(CHAIR) == "unknown"
    online, will = _state(1, "online", 1), _state(0, "offline", 1)
    assert presence.update(online)
    assert not presence.update(online)  # a duplicate changes nothing
    assert presence.update(will)
    assert not presence.update(online)  # superseded already
    assert presence.status(CHAIR) == "offline"
    other = online.model_copy(update={"chair": "chair-08"})
    assert presence.update(other)
    assert (presence.status(CHAIR), presence.status("chair-08")) == ("offline", "online")
    assert newer(None, online) == online
