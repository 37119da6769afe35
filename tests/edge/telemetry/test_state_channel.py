"""The monitor's view of a chair's state, through the faults a chair's link meets: a broker
stopped and restarted, the agent SIGKILLed and restarted, the link cut and made again.

The monitor subscribes for real (tests/monitor.py) and decides the chair's state with the
contract's rule (chairlink/wire/presence.py), as the hospital's monitor does."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Literal

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from chairlink.config import TelemetryConfig
from chairlink.wire.payloads import StateMessage, encode
from chairlink.wire.presence import current_state, state_order
from chairlink.wire.topics import Channel
from edge.telemetry.agent import TelemetryAgent
from tests.edge.telemetry.kill import killed_after
from tests.monitor import CHAIR, IDENTITY, PROBE_TOPIC, Monitor, telemetry_config
from tests.mosquitto import CountingRelay, Mosquitto
from tests.wait import WAIT_S, wait_until


def _states(monitor: Monitor) -> list[StateMessage]:
    return [m for m in monitor.of(Channel.STATE) if isinstance(m, StateMessage)]


def _view(monitor: Monitor) -> StateMessage | None:
    """The chair's state as the monitor decides it from everything it has received."""
    return current_state(m for m in _states(monitor) if m.chair == CHAIR)


def _wait_view(
    monitor: Monitor,
    status: Literal["online", "offline"],
    *,
    newer_than: StateMessage | None = None,
    made_after_ns: int = 0,
) -> StateMessage:
    """Wait until the monitor sees the chair ``status``, in a state that supersedes
    ``newer_than`` and was made after ``made_after_ns`` (Unix time)."""

    def reached() -> bool:
        view = _view(monitor)
        return (
            view is not None
            and view.status == status
            and (newer_than is None or state_order(view) > state_order(newer_than))
            and view.stamp_ns > made_after_ns
        )

    assert wait_until(reached, WAIT_S), (
        f"the monitor never saw {status}: it sees {_view(monitor)}, after "
        f"{[(s.status, s.incarnation, s.seq) for s in _states(monitor)]}"
    )
    view = _view(monitor)
    assert view is not None
    return view


def _agent_until_killed(config: TelemetryConfig, ready: object) -> None:
    agent = TelemetryAgent(IDENTITY, config)
    agent.start()
    if wait_until(lambda: agent.connected, WAIT_S):
        ready.set()  # type: ignore[attr-defined]
    signal.pause()


def _no_two_messages_share_a_number(monitor: Monitor) -> None:
    """De-duplicating on (chair, channel, seq), as the contract says, merges only repeats."""
    by_seq: dict[int, bytes] = {}
    for state in _states(monitor):
        assert by_seq.setdefault(state.seq, encode(state)) == encode(state), state


def test_a_broker_restart_and_then_the_agent_killed_end_with_the_chair_offline(
    broker: Mosquitto, monitor: Monitor, tmp_path: Path
) -> None:
    config = telemetry_config(broker, tmp_path, will_delay_s=1)
    with killed_after(_agent_until_killed, config):
        first = _wait_view(monitor, "online")
        broker.stop()  # SIGTERM: Mosquitto publishes the wills of its clients on the way out
        restarted_ns = time.time_ns()
        broker.start()
        back = _wait_view(monitor, "online", made_after_ns=restarted_ns)
    # The real death: its will is the last connection's own, not a repeat of the one the
    # broker's stop published, and not thrown away as a duplicate or an older message.
    dead = _wait_view(monitor, "offline", newer_than=back)
    assert dead.incarnation == back.incarnation > first.incarnation
    _no_two_messages_share_a_number(monitor)


def test_a_killed_agent_is_offline_and_its_restart_online_then_offline_again(
    broker: Mosquitto, monitor: Monitor, tmp_path: Path
) -> None:
    config = telemetry_config(broker, tmp_path, will_delay_s=1)
    with killed_after(_agent_until_killed, config):
        first = _wait_view(monitor, "online")
    # The will of the killed process ends its connection: ordered after the online before it
    # though its number was given out first.
    died = _wait_view(monitor, "offline", newer_than=first)
    assert died.incarnation == first.incarnation
    assert died.seq < first.seq
    restarted_ns = time.time_ns()
    with killed_after(_agent_until_killed, config):
        again = _wait_view(monitor, "online", made_after_ns=restarted_ns)
    dead = _wait_view(monitor, "offline", newer_than=again)
    assert dead.incarnation == again.incarnation > died.incarnation
    _no_two_messages_share_a_number(monitor)


def _retained_view(broker: Mosquitto) -> StateMessage | None:
    """What a monitor that subscribes now decides from the retained state."""
    late = Monitor(broker)
    try:
        assert wait_until(lambda: bool(_states(late)), WAIT_S), "no retained state"
        late.barrier()
        return _view(late)
    finally:
        late.close()


def _online_in(incarnation: int, *views: StateMessage | None) -> None:
    """Each view says the chair is online in ``incarnation`` (with or without ``drained``)."""
    for view in views:
        assert view is not None
        assert (view.status, view.incarnation) == ("online", incarnation), view


class _WillWitness:
    """A second client with a will as delayed as the chair's, on a link of its own that
    ``cut()`` breaks: its will reaching the monitor is the event that the chair's would have
    by then (the broker sends due wills in the order they fell due)."""

    WILL = b"the witness's will"

    def __init__(self, broker: Mosquitto, delay_s: int) -> None:
        self._relay = CountingRelay(broker.port)
        login, password = broker.monitor_login()
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=login, protocol=mqtt.MQTTv5
        )
        self._client.username_pw_set(login, password)
        will = Properties(PacketTypes.WILLMESSAGE)  # type: ignore[no-untyped-call]
        will.WillDelayInterval = delay_s
        self._client.will_set(PROBE_TOPIC, self.WILL, qos=1, properties=will)
        connect = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        connect.SessionExpiryInterval = 10 * delay_s  # longer than the delay: the will waits
        self._client.connect("127.0.0.1", self._relay.port, properties=connect)
        self._client.loop_start()
        assert wait_until(self._client.is_connected, WAIT_S), "the witness did not connect"

    def cut(self) -> None:
        """Break the witness's link with no DISCONNECT: its will falls due after the delay."""
        self._client.loop_stop()
        self._relay.cut()

    def close(self) -> None:
        self._client.loop_stop()
        self._relay.close()


def _after_the_will_delay(witness: _WillWitness, monitor: Monitor) -> None:
    """Return once a will the broker held back since just before ``witness`` was cut would
    have reached the monitor: the witness's own will has, and what came before it too."""
    assert wait_until(lambda: monitor.probed(witness.WILL), WAIT_S), "no will from the witness"
    monitor.barrier()


def test_a_quick_reconnect_says_no_offline(
    broker: Mosquitto, monitor: Monitor, tmp_path: Path
) -> None:
    relay = CountingRelay(broker.port)
    config = telemetry_config(broker, tmp_path, broker_port=relay.port, will_delay_s=5)
    witness = _WillWitness(broker, config.will_delay_s)
    try:
        with TelemetryAgent(IDENTITY, config):
            first = _wait_view(monitor, "online")
            cut_at, cut_ns = time.monotonic(), time.time_ns()
            relay.cut()  # both ends see the link die; the agent is back after its 1 s backoff
            witness.cut()
            again = _wait_view(monitor, "online", made_after_ns=cut_ns)
            assert time.monotonic() - cut_at < config.will_delay_s, "reconnected too late"
            _after_the_will_delay(witness, monitor)
            assert [s.status for s in _states(monitor)].count("offline") == 0
            assert again.incarnation > first.incarnation
            _online_in(again.incarnation, _view(monitor), _retained_view(broker))
    finally:
        witness.close()
        relay.close()


def test_an_agent_restarted_at_once_after_a_kill_says_no_offline(
    broker: Mosquitto, monitor: Monitor, tmp_path: Path
) -> None:
    config = telemetry_config(broker, tmp_path, will_delay_s=5)
    witness = _WillWitness(broker, config.will_delay_s)
    with killed_after(_agent_until_killed, config):
        first = _wait_view(monitor, "online")
    killed_at, killed_ns = time.monotonic(), time.time_ns()
    witness.cut()
    with TelemetryAgent(IDENTITY, config):
        again = _wait_view(monitor, "online", made_after_ns=killed_ns)
        assert time.monotonic() - killed_at < config.will_delay_s, "restarted too late"
        _after_the_will_delay(witness, monitor)
        # The killed process's session was resumed within its will's delay: no stale offline,
        # neither seen nor left retained behind the new online.
        assert [s.status for s in _states(monitor)].count("offline") == 0
        assert again.incarnation > first.incarnation
        _online_in(again.incarnation, _view(monitor), _retained_view(broker))
    witness.close()
    stopped = _wait_view(monitor, "offline", newer_than=again)
    assert stopped.incarnation == again.incarnation
