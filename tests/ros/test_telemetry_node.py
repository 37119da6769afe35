"""telemetry_node and vitals_node with real rclpy, a real Mosquitto, the MCU simulator and the
simulated oximeter on ptys: the chair's topics reach the monitor, and the monitor's commands
reach the chair."""

from __future__ import annotations

import math
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chairlink_interfaces.msg import PatientVitals, SafetyState
from chairlink_interfaces.msg import TripCommand as TripCommandMsg
from chairlink_ros import qos
from chairlink_ros.telemetry_node import TelemetryNode
from chairlink_ros.vitals_node import VitalsNode
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from geometry_msgs.msg import TwistStamped

from chairlink.wire.payloads import (
    SCHEMA_VERSION,
    CancelCommand,
    ConfigCommand,
    EventMessage,
    PatientMessage,
    SafetyMessage,
    StopCommand,
    TripCommand,
    TripMessage,
    VehicleMessage,
)
from chairlink.wire.topics import Channel, CommandKind
from edge.telemetry.oximeter.simulator import OximeterFaults, OximeterSimulator
from edge.types import Perfusion, Vitals
from firmware_bridge.mcu_sim import McuSimulator
from firmware_bridge.messages import StatusFlag
from tests.firmware_bridge.mcu_clock import let_mcu_run
from tests.monitor import CHAIR, Monitor
from tests.mosquitto import Mosquitto
from tests.ros.chair_parameters import chair_parameters
from tests.ros.driving import rearm, twist
from tests.ros.graph import BridgeFactory, Graph
from tests.wait import WAIT_S, wait_until

TOKEN = "pt-3c1d9e77"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def telemetry(
    graph: Graph, broker: Mosquitto, tmp_path: Path, monitor: Monitor
) -> Iterator[TelemetryNode]:
    node = TelemetryNode(
        context=graph.context, parameter_overrides=chair_parameters(broker, tmp_path)
    )
    graph.add(node)
    assert wait_until(lambda: node.agent.connected, WAIT_S), node.agent.stats().last_error
    monitor.wait_chair_listening()
    yield node
    graph.remove(node)


def command_head(kind: CommandKind, command_id: str) -> dict[str, Any]:
    return {
        "v": SCHEMA_VERSION,
        "kind": kind,
        "command_id": command_id,
        "chair": CHAIR,
        "issued_ns": time.time_ns(),
    }


def answer(monitor: Monitor, command_id: str) -> EventMessage | TripMessage:
    """The chair's acknowledgement of a command, once it has arrived."""

    def find() -> EventMessage | TripMessage | None:
        for m in monitor.of(Channel.EVENT) + monitor.of(Channel.TRIP):
            if (
                isinstance(m, EventMessage | TripMessage)
                and m.ack is not None
                and m.ack.command_id == command_id
            ):
                return m
        return None

    assert wait_until(lambda: find() is not None, WAIT_S), f"no answer to {command_id}"
    found = find()
    assert found is not None
    return found


def test_odometry_status_vitals_and_safety_reach_the_monitor(
    graph: Graph,
    make_bridge: BridgeFactory,
    telemetry: TelemetryNode,
    monitor: Monitor,
) -> None:
    make_bridge()
    vitals = graph.probe.create_publisher(PatientVitals, "patient/vitals", qos.TELEMETRY)
    safety = graph.probe.create_publisher(SafetyState, "safety/state", qos.STATE)
    assert wait_until(lambda: len(monitor.of(Channel.VEHICLE)) >= 5, WAIT_S)
    sample = monitor.of(Channel.VEHICLE)[-1]
    assert isinstance(sample, VehicleMessage)
    assert sample.samples[0].mode == "idle"
    battery = sample.samples[0].battery_pct
    assert battery is not None
    assert 0 < battery <= 100

    assert wait_until(lambda: vitals.get_subscription_count() > 0, WAIT_S)
    # A name where the token belongs, and an SpO2 no oximeter gives: refused, counted, and the
    # node goes on.
    vitals.publish(PatientVitals(patient_token="John Smith", spo2=96.0, pulse_rate=72.0))
    vitals.publish(PatientVitals(patient_token=TOKEN, spo2=127.0, pulse_rate=72.0))
    assert wait_until(lambda: telemetry.agent.stats().refused_inputs == 2, WAIT_S)
    # A perfusion value the message does not define is no reading of it, not a crash.
    vitals.publish(PatientVitals(patient_token=TOKEN, spo2=95.0, pulse_rate=70.0, perfusion=9))
    assert wait_until(lambda: bool(monitor.of(Channel.PATIENT)), WAIT_S)
    odd = monitor.of(Channel.PATIENT)[0]
    assert isinstance(odd, PatientMessage)
    assert (odd.spo2_pct, odd.perfusion) == (95.0, "unknown")
    reading = PatientVitals(patient_token=TOKEN, spo2=96.0, pulse_rate=72.0, perfusion=1)
    vitals.publish(reading)
    vitals.publish(PatientVitals(patient_token="", spo2=99.0, pulse_rate=60.0))
    # The node takes readings in order: once this one is in, the one before has been dealt with.
    vitals.publish(PatientVitals(patient_token=TOKEN, spo2=94.0, pulse_rate=74.0))
    assert wait_until(lambda: len(monitor.of(Channel.PATIENT)) >= 3, WAIT_S)
    patient = monitor.of(Channel.PATIENT)
    assert [m.spo2_pct for m in patient if isinstance(m, PatientMessage)] == [95.0, 96.0, 94.0], (
        "vitals without a patient token are not sent"
    )
    assert isinstance(patient[1], PatientMessage)
    assert (patient[1].patient, patient[1].spo2_pct, patient[1].pulse_bpm) == (TOKEN, 96.0, 72.0)

    assert wait_until(lambda: safety.get_subscription_count() > 0, WAIT_S)
    safety.publish(SafetyState(state=SafetyState.SLOW, reason="person ahead", min_clearance=1.4))
    assert wait_until(lambda: bool(monitor.of(Channel.SAFETY)), WAIT_S)
    message = monitor.of(Channel.SAFETY)[-1]
    assert isinstance(message, SafetyMessage)
    assert (message.state, message.reason) == ("slow", "person ahead")
    assert message.clearance_m == pytest.approx(1.4, abs=1e-4)
    assert monitor.seqs(Channel.VEHICLE) == list(range(len(monitor.seqs(Channel.VEHICLE))))


def test_remote_stop_brakes_a_moving_chair_through_the_bridge_estop(
    graph: Graph,
    sim: McuSimulator,
    make_bridge: BridgeFactory,
    telemetry: TelemetryNode,
    monitor: Monitor,
) -> None:
    make_bridge()
    cmd = graph.probe.create_publisher(TwistStamped, "cmd_vel", qos.COMMANDS)
    rearm(graph)
    assert wait_until(lambda: cmd.get_subscription_count() > 0, WAIT_S)
    driving = threading.Event()
    driving.set()

    def drive() -> None:
        while driving.is_set():
            cmd.publish(twist(0.6))
            time.sleep(0.05)

    driver = threading.Thread(target=drive, daemon=True)
    driver.start()
    try:
        assert wait_until(lambda: sim.snapshot().moving, WAIT_S)
        monitor.command(
            StopCommand(**command_head(CommandKind.STOP, "stop-1"), reason="porter pressed stop")
        )
        ack = answer(monitor, "stop-1")
        assert ack.ack is not None
        assert ack.ack.accepted, ack.ack
        # /cmd_vel keeps asking for 0.6 m/s: the e-stop holds the chair all the same.
        assert wait_until(lambda: not sim.snapshot().moving, WAIT_S)
        assert sim.snapshot().flags & StatusFlag.ESTOP
        let_mcu_run(sim, 0.5)
        assert not sim.snapshot().moving
    finally:
        driving.clear()
        driver.join()


def test_remote_stop_without_the_bridge_is_refused_with_the_reason(
    telemetry: TelemetryNode, monitor: Monitor
) -> None:
    monitor.command(StopCommand(**command_head(CommandKind.STOP, "stop-2")))
    ack = answer(monitor, "stop-2")
    assert ack.ack is not None
    assert not ack.ack.accepted
    assert "remote_estop not available" in ack.ack.reason
    assert isinstance(ack, EventMessage)
    assert ack.priority == "high"


def test_config_command_changes_the_bridge_limits_atomically_or_not_at_all(
    graph: Graph,
    make_bridge: BridgeFactory,
    telemetry: TelemetryNode,
    monitor: Monitor,
) -> None:
    bridge = make_bridge()
    name = "firmware.limits.max_linear_mps"
    monitor.command(ConfigCommand(**command_head(CommandKind.CONFIG, "cfg-1"), changes={name: 0.6}))
    ack = answer(monitor, "cfg-1")
    assert ack.ack is not None
    assert ack.ack.accepted, ack.ack
    assert bridge.get_parameter(name).value == pytest.approx(0.6)

    refusals = {
        "cfg-2": {name: 9.0},  # beyond the schema's bound
        "cfg-3": {"firmware.baud": 9600},  # needs a restart
        "cfg-4": {"firmware.limits.top_speed": 1.0},  # no such parameter
        "cfg-5": {name: 0.5, "firmware.limits.max_angular_radps": "fast"},
        # Both well-typed, so both reach the bridge: the second is out of range, and the
        # first must not be applied without it.
        "cfg-6": {name: 0.5, "firmware.limits.max_angular_radps": 9.0},
    }
    for command_id, changes in refusals.items():
        monitor.command(
            ConfigCommand(**command_head(CommandKind.CONFIG, command_id), changes=changes)
        )
        refused = answer(monitor, command_id)
        assert refused.ack is not None
        assert not refused.ack.accepted, command_id
        assert refused.ack.reason, command_id
    assert bridge.get_parameter(name).value == pytest.approx(0.6)


def test_trips_go_to_navigation_and_bring_the_patient_s_vitals(
    graph: Graph,
    broker: Mosquitto,
    tmp_path: Path,
    telemetry: TelemetryNode,
    monitor: Monitor,
) -> None:
    def source(now_ns: int) -> Vitals:
        return Vitals(now_ns, "", 95.0, 81.0, Perfusion.GOOD, False)

    trips = graph.collect(TripCommandMsg, "trip/command", qos.COMMANDS)
    with OximeterSimulator(source, link=tmp_path / "ttyOXI") as oximeter:
        vitals_node = VitalsNode(
            context=graph.context,
            parameter_overrides=chair_parameters(
                broker,
                tmp_path,
                **{"oximeter.port": oximeter.device_path, "oximeter.publish_hz": 5.0},
            ),
        )
        graph.add(vitals_node)
        published = graph.collect(PatientVitals, "patient/vitals", qos.TELEMETRY)
        # Matched first, so that nothing received below means nothing was published.
        assert wait_until(lambda: graph.probe.count_publishers("patient/vitals") > 0, WAIT_S)
        assert wait_until(lambda: vitals_node.reader.stats().readings > 2, WAIT_S)
        assert not published, "no vitals before a trip assigns a patient"

        trip = TripCommand(
            **command_head(CommandKind.TRIP, "trip-cmd-1"),
            trip_id="trip-1",
            origin="ward-3",
            destination="radiology",
            patient=TOKEN,
            priority="urgent",
        )
        monitor.command(trip)
        ack = answer(monitor, "trip-cmd-1")
        assert isinstance(ack, TripMessage)
        assert ack.event == "accepted"
        assert wait_until(lambda: bool(trips), WAIT_S)
        assert (trips[0].action, trips[0].trip_id, trips[0].destination) == (
            TripCommandMsg.ASSIGN,
            "trip-1",
            "radiology",
        )
        assert trips[0].priority == TripCommandMsg.PRIORITY_URGENT
        # The reading from before the assignment is dropped: the first may be stale.
        assert wait_until(lambda: any(m.spo2_pct is not None for m in _patients(monitor)), WAIT_S)
        assert {m.patient for m in _patients(monitor)} == {TOKEN}
        reading = [m for m in _patients(monitor) if m.spo2_pct is not None][-1]
        assert (reading.spo2_pct, reading.pulse_bpm) == (95.0, 81.0)

        # Two bit errors on the line pass frame 3's checksum: the copies disagree, and the
        # monitor gets no numbers and the flag, through /patient/vitals (H-37).
        oximeter.set_faults(OximeterFaults(checksum_passing_flip=True))
        assert wait_until(lambda: _patients(monitor)[-1].doubtful, WAIT_S)
        assert (_patients(monitor)[-1].spo2_pct, _patients(monitor)[-1].pulse_bpm) == (None, None)
        assert published[-1].doubtful
        # The probe comes off: the monitor is told, with no numbers.
        oximeter.set_faults(OximeterFaults(probe_off=True))
        assert wait_until(lambda: _patients(monitor)[-1].probe_off, WAIT_S)
        assert _patients(monitor)[-1].spo2_pct is None
        # The cable is pulled: stale, never the last good numbers.
        oximeter.unplug()
        assert wait_until(lambda: _patients(monitor)[-1].stale, WAIT_S)
        assert math.isnan(published[-1].spo2)

        monitor.command(
            CancelCommand(**command_head(CommandKind.CANCEL, "trip-cmd-2"), trip_id="trip-1")
        )
        cancelled = answer(monitor, "trip-cmd-2")
        assert isinstance(cancelled, TripMessage)
        assert cancelled.event == "cancelled"
        assert wait_until(lambda: vitals_node.patient_token == "", WAIT_S)
        count = len(published)
        # Unplugged, the reader has no event left to wait for: three publishing periods.
        time.sleep(0.6)
        assert len(published) == count, "no vitals once the trip is cancelled"
        graph.remove(vitals_node)


def test_alarm_raised_offline_is_shown_on_the_chair(
    graph: Graph, broker: Mosquitto, telemetry: TelemetryNode, monitor: Monitor
) -> None:
    diagnostics = graph.collect(DiagnosticArray, "/diagnostics", qos.DIAGNOSTICS)
    vitals = graph.probe.create_publisher(PatientVitals, "patient/vitals", qos.TELEMETRY)
    assert wait_until(lambda: vitals.get_subscription_count() > 0, WAIT_S)
    broker.stop()
    assert wait_until(lambda: not telemetry.agent.connected, WAIT_S)
    for _ in range(3):
        vitals.publish(PatientVitals(patient_token=TOKEN, spo2=84.0, pulse_rate=70.0, perfusion=1))
        time.sleep(0.1)

    def alarm() -> DiagnosticStatus | None:
        for array in diagnostics:
            for status in array.status:
                if status.name == "chairlink: patient alarm":
                    return status
        return None

    assert wait_until(lambda: alarm() is not None, WAIT_S)
    shown = alarm()
    assert shown is not None
    assert shown.level == DiagnosticStatus.ERROR
    assert "spo2" in {v.value for v in shown.values if v.key == "code"}.pop()
    broker.start()
    assert wait_until(
        lambda: any(
            isinstance(m, EventMessage) and m.raised_offline for m in monitor.of(Channel.EVENT)
        ),
        WAIT_S,
    )


def _patients(monitor: Monitor) -> list[PatientMessage]:
    return [m for m in monitor.of(Channel.PATIENT) if isinstance(m, PatientMessage)]


def test_one_trip_at_a_time_and_only_its_own_cancel(
    graph: Graph, telemetry: TelemetryNode, monitor: Monitor
) -> None:
    trips = graph.collect(TripCommandMsg, "trip/command", qos.COMMANDS)

    def trip(command_id: str, trip_id: str, patient: str) -> TripCommand:
        return TripCommand(
            **command_head(CommandKind.TRIP, command_id),
            trip_id=trip_id,
            origin="ward-3",
            destination="radiology",
            patient=patient,
        )

    monitor.command(trip("c-a", "trip-a", TOKEN))
    assert isinstance(answer(monitor, "c-a"), TripMessage)
    monitor.command(trip("c-b", "trip-b", "pt-99aa77bb"))
    busy = answer(monitor, "c-b")
    assert busy.ack is not None
    assert not busy.ack.accepted
    assert busy.ack.reason == "busy with trip trip-a: cancel it first"
    monitor.command(CancelCommand(**command_head(CommandKind.CANCEL, "c-x"), trip_id="trip-b"))
    wrong = answer(monitor, "c-x")
    assert wrong.ack is not None
    assert not wrong.ack.accepted
    monitor.command(CancelCommand(**command_head(CommandKind.CANCEL, "c-y"), trip_id="trip-a"))
    cancelled = answer(monitor, "c-y")
    assert cancelled.ack is not None
    assert cancelled.ack.accepted
    monitor.command(trip("c-c", "trip-c", "pt-99aa77bb"))
    accepted = answer(monitor, "c-c")
    assert accepted.ack is not None
    assert accepted.ack.accepted
    assert wait_until(lambda: len(trips) == 3, WAIT_S)
    assert [(t.action, t.trip_id) for t in trips] == [
        (TripCommandMsg.ASSIGN, "trip-a"),
        (TripCommandMsg.CANCEL, "trip-a"),
        (TripCommandMsg.ASSIGN, "trip-c"),
    ]


def test_vehicle_samples_say_when_the_mcu_has_gone_quiet(
    graph: Graph, make_bridge: BridgeFactory, telemetry: TelemetryNode, monitor: Monitor
) -> None:
    bridge = make_bridge()

    def latest() -> VehicleMessage:
        message = monitor.of(Channel.VEHICLE)[-1]
        assert isinstance(message, VehicleMessage)
        return message

    assert wait_until(lambda: len(monitor.of(Channel.VEHICLE)) >= 3, WAIT_S)
    assert "state_stale" not in latest().samples[0].faults
    graph.remove(bridge)
    assert wait_until(lambda: "state_stale" in latest().samples[0].faults, WAIT_S)
    assert latest().samples[0].mode == "fault"


@pytest.mark.parametrize("executable", ["telemetry_node", "vitals_node"])
def test_the_installed_node_refuses_an_invalid_parameter_with_its_name(executable: str) -> None:
    program = REPO / "ros2_ws" / "install" / "chairlink_ros" / "lib" / "chairlink_ros" / executable
    result = subprocess.run(
        [str(program), "--ros-args", "-p", "oximeter.stale_after_s:=99.0"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "oximeter.stale_after_s" in result.stderr + result.stdout
