"""telemetry_node restarted mid-trip, with real rclpy, a real Mosquitto and the simulated
oximeter on a pty: the trip is taken up again (navigation and vitals_node get it, the monitor
is told), or, its file damaged, ended with an event and a cancel for vitals_node."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from chairlink_interfaces.msg import TripCommand as TripCommandMsg
from chairlink_ros import qos
from chairlink_ros.telemetry_node import NOT_RESTORED_COMMAND_ID, TelemetryNode
from chairlink_ros.vitals_node import VitalsNode
from rclpy.parameter import Parameter

from chairlink.wire.payloads import (
    SCHEMA_VERSION,
    CommandAck,
    EventMessage,
    PatientMessage,
    TripCommand,
    TripMessage,
    UplinkMessage,
)
from chairlink.wire.topics import Channel, CommandKind
from edge.telemetry.oximeter.simulator import OximeterSimulator
from edge.types import Perfusion, Vitals
from tests.monitor import CHAIR, Monitor
from tests.mosquitto import Mosquitto
from tests.ros.chair_parameters import chair_parameters
from tests.ros.graph import Graph
from tests.wait import WAIT_S, wait_until

TOKEN = "pt-3c1d9e77"
REPO = Path(__file__).resolve().parents[2]
TELEMETRY_NODE = REPO / "ros2_ws" / "install" / "chairlink_ros" / "lib" / "chairlink_ros"
TRIP = TripCommand(
    v=SCHEMA_VERSION,
    kind=CommandKind.TRIP,
    command_id="c-trip-1",
    chair=CHAIR,
    issued_ns=time.time_ns(),
    trip_id="trip-1",
    origin="ward-3",
    destination="radiology",
    patient=TOKEN,
)
FIRST = f"trip trip-1 assigned; vitals as {TOKEN}"


def _since(monitor: Monitor, start_ns: int, channel: Channel) -> list[UplinkMessage]:
    return [m for m in monitor.of(channel) if m.stamp_ns >= start_ns]


def _event(monitor: Monitor, start_ns: int, code: str) -> EventMessage:
    def found() -> list[EventMessage]:
        messages = _since(monitor, start_ns, Channel.EVENT)
        return [m for m in messages if isinstance(m, EventMessage) and m.code == code]

    assert wait_until(lambda: bool(found()), WAIT_S), f"no {code} event"
    return found()[0]


def _trip_answer(monitor: Monitor, start_ns: int) -> CommandAck:
    """The answer to TRIP sent now."""
    monitor.command(TRIP.model_copy(update={"issued_ns": time.time_ns()}))

    def acks() -> list[CommandAck]:
        found = _since(monitor, start_ns, Channel.TRIP)
        return [m.ack for m in found if isinstance(m, TripMessage) and m.ack is not None]

    assert wait_until(lambda: bool(acks()), WAIT_S), "no answer to the trip"
    return acks()[0]


def _oximeter(tmp_path: Path) -> OximeterSimulator:
    return OximeterSimulator(
        lambda now: Vitals(now, "", 95.0, 81.0, Perfusion.GOOD, False), link=tmp_path / "ttyOXI"
    )


def _vitals_node(graph: Graph, broker: Mosquitto, tmp_path: Path, port: str) -> VitalsNode:
    overrides = {"oximeter.port": port, "oximeter.publish_hz": 5.0}
    node = VitalsNode(
        context=graph.context, parameter_overrides=chair_parameters(broker, tmp_path, **overrides)
    )
    graph.add(node)
    return node


def _ros_args(parameters: list[Parameter]) -> list[str]:
    return [arg for p in parameters for arg in ("-p", f"{p.name}:={p.value}")]


def test_a_telemetry_node_killed_mid_trip_takes_the_trip_up_again(
    graph: Graph, broker: Mosquitto, tmp_path: Path, monitor: Monitor
) -> None:
    parameters = chair_parameters(broker, tmp_path)
    killed = subprocess.Popen(
        [str(TELEMETRY_NODE / "telemetry_node"), "--ros-args", *_ros_args(parameters)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = _trip_answer(monitor, 0)
        assert (first.accepted, first.reason) == (True, FIRST)
    finally:
        killed.kill()  # SIGKILL, mid-trip
        killed.communicate(timeout=15)

    # Back, as after a power cut: vitals_node too starts with no patient.
    navigation = graph.collect(TripCommandMsg, "trip/command", qos.COMMANDS)
    restarted_ns = time.time_ns()
    with _oximeter(tmp_path) as oximeter:
        vitals_node = _vitals_node(graph, broker, tmp_path, oximeter.device_path)
        node = TelemetryNode(context=graph.context, parameter_overrides=parameters)
        graph.add(node)
        restored = _event(monitor, restarted_ns, "trip_restored")
        assert (restored.priority, restored.patient) == ("medium", TOKEN)
        assert restored.message.startswith("trip trip-1 restored after a restart (assigned ")
        assert node.trips.patient == TOKEN
        # Navigation and vitals_node get the trip again, and its patient's vitals go out.
        assert wait_until(lambda: bool(navigation), WAIT_S), "the trip was not published again"
        assert [(m.action, m.trip_id, m.patient_token) for m in navigation] == [
            (TripCommandMsg.ASSIGN, "trip-1", TOKEN)
        ]
        assert wait_until(lambda: vitals_node.patient_token == TOKEN, WAIT_S)

        def readings() -> list[PatientMessage]:
            found = _since(monitor, restarted_ns, Channel.PATIENT)
            return [m for m in found if isinstance(m, PatientMessage)]

        assert wait_until(lambda: any(r.spo2_pct == 95.0 for r in readings()), WAIT_S)
        assert {r.patient for r in readings()} == {TOKEN}
        again = _trip_answer(monitor, restarted_ns)
        assert (again.accepted, again.duplicate) == (True, True)
        assert again.reason == f"first answer: {FIRST}. Now: on trip trip-1, vitals as {TOKEN}"
        assert len(navigation) == 1, "a repeat is not published again"
        graph.remove(node)
        graph.remove(vitals_node)


def test_a_trip_that_cannot_be_restored_is_ended_and_its_patient_s_vitals_stop(
    graph: Graph, broker: Mosquitto, tmp_path: Path, monitor: Monitor
) -> None:
    parameters = chair_parameters(broker, tmp_path)
    navigation = graph.collect(TripCommandMsg, "trip/command", qos.COMMANDS)
    with _oximeter(tmp_path) as oximeter:
        # vitals_node runs on through telemetry_node's restart, with the patient it was given.
        vitals_node = _vitals_node(graph, broker, tmp_path, oximeter.device_path)
        before = TelemetryNode(context=graph.context, parameter_overrides=parameters)
        graph.add(before)
        assert _trip_answer(monitor, 0).accepted
        assert wait_until(lambda: vitals_node.patient_token == TOKEN, WAIT_S)
        graph.remove(before)

        trip_file = tmp_path / "outbox.trip.json"
        trip_file.write_bytes(trip_file.read_bytes().replace(TOKEN.encode(), b"Jane Doe"))
        restarted_ns = time.time_ns()
        node = TelemetryNode(context=graph.context, parameter_overrides=parameters)
        graph.add(node)
        ended = _event(monitor, restarted_ns, "trip_not_restored")
        assert ended.priority == "high"
        assert ended.message.startswith("trip trip-1 ended: not restored after a restart (")
        assert node.trips.assignment is None
        # vitals_node is told the trip ended: no more vitals under a trip the chair is not on.
        assert wait_until(lambda: vitals_node.patient_token == "", WAIT_S)
        assert [(m.action, m.trip_id, m.command_id) for m in navigation][-1] == (
            TripCommandMsg.CANCEL,
            "trip-1",
            NOT_RESTORED_COMMAND_ID,
        )
        again = _trip_answer(monitor, restarted_ns)
        assert (again.accepted, again.duplicate) == (True, True)
        assert again.reason == f"first answer: {FIRST}. Now: no trip assigned"
        graph.remove(node)
        graph.remove(vitals_node)
