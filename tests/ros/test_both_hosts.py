"""The chair's rules through both hosts for real: one table of commands, the same answers.

telemetry_node (real rclpy, the firmware bridge node on the MCU simulator) and the serial host
(the MCU and oximeter simulators on ptys), each behind a real Mosquitto, answer every case of
the table as the chair's rules (edge/trips/) say, and sample the vehicle through the same
feed: the rules live once, so the hosts cannot drift apart again.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from chairlink_ros.telemetry_node import TelemetryNode
from rcl_interfaces.srv import SetParametersAtomically
from std_srvs.srv import Trigger

from chairlink.config import ChairConfig, FirmwareConfig, IdentityConfig, OximeterConfig
from chairlink.wire.payloads import (
    CancelCommand,
    Command,
    CommandAck,
    ConfigCommand,
    EventMessage,
    StopCommand,
    TripCommand,
    TripMessage,
    VehicleMessage,
    VehicleSample,
    encode,
)
from chairlink.wire.topics import Channel, CommandKind, command_topic
from edge.telemetry.oximeter.simulator import OximeterSimulator
from edge.telemetry.serial_host import SerialTelemetryHost
from edge.trips.commands import TripCommands
from edge.types import Perfusion, Vitals
from firmware_bridge.mcu_sim import McuSimulator
from firmware_bridge.messages import StatusFlag
from tests.monitor import CHAIR, SITE, Monitor, telemetry_config
from tests.mosquitto import Mosquitto
from tests.ros.chair_parameters import chair_parameters
from tests.ros.graph import BridgeFactory, Graph
from tests.wait import WAIT_S, wait_until

pytestmark = pytest.mark.pty

PATIENT = "pt-4e1b2c9d"
OTHER = "pt-99aa77bb"
LIMIT = "firmware.limits.max_linear_mps"
_ids = itertools.count()


def _head(kind: CommandKind, command_id: str | None) -> dict[str, Any]:
    return {
        "v": 1,
        "kind": kind,
        "command_id": command_id or f"c-{next(_ids)}",
        "chair": CHAIR,
        "issued_ns": time.time_ns(),
    }


def trip(trip_id: str, patient: str | None = PATIENT, command_id: str | None = None) -> Command:
    return TripCommand(
        **_head(CommandKind.TRIP, command_id),
        trip_id=trip_id,
        origin="ward-a",
        destination="x-ray",
        patient=patient,
    )


def cancel(trip_id: str, command_id: str | None = None) -> Command:
    return CancelCommand(**_head(CommandKind.CANCEL, command_id), trip_id=trip_id)


def stop(command_id: str | None = None) -> Command:
    return StopCommand(**_head(CommandKind.STOP, command_id), reason="nurse pressed stop")


def config(**changes: object) -> Command:
    named = {name.replace("__", "."): value for name, value in changes.items()}
    return ConfigCommand(**_head(CommandKind.CONFIG, None), changes=named)


@dataclass(frozen=True)
class Raw:
    """Bytes the monitor got wrong, sent as they are on ``on``'s topic, and the id and kind
    their answer carries."""

    on: CommandKind
    payload: bytes
    command_id: str
    kind: CommandKind


def misplaced(command: Command, on: CommandKind) -> Raw:
    """``command`` sent on the topic of another kind."""
    return Raw(on, encode(command), command.command_id, command.kind)


@dataclass(frozen=True)
class Case:
    """Commands sent in turn to a fresh chair, the answer each gets, and the patient and the
    e-stop after."""

    steps: tuple[tuple[Callable[[], Command | Raw], bool, str], ...]
    patient: str = ""
    estop: bool = False


def _on(kind: CommandKind) -> str:
    return command_topic(SITE, CHAIR, kind)


ASSIGNED = f"trip trip-1 assigned; vitals as {PATIENT}"
BUSY = "busy with trip trip-1: cancel it first"
CASES: dict[str, Case] = {
    "a trip is assigned with its patient": Case(
        ((lambda: trip("trip-1"), True, ASSIGNED),), PATIENT
    ),
    "a trip without a patient sends no vitals": Case(
        ((lambda: trip("trip-1", None), True, "trip trip-1 assigned; no patient, no vitals"),)
    ),
    "the same trip again is a repeat, not done again": Case(
        (
            (lambda: trip("trip-1"), True, ASSIGNED),
            (
                lambda: trip("trip-1"),
                True,
                "trip trip-1 is already assigned: a repeat, nothing done again",
            ),
        ),
        PATIENT,
    ),
    "the same command id again gets the first answer and what the chair is doing now": Case(
        (
            (lambda: trip("trip-1", command_id="c-once"), True, ASSIGNED),
            (
                lambda: trip("trip-1", command_id="c-once"),
                True,
                f"first answer: {ASSIGNED}. Now: on trip trip-1, vitals as {PATIENT}",
            ),
            (lambda: cancel("trip-1", command_id="c-end"), True, "trip trip-1 cancelled"),
            (
                lambda: trip("trip-1", command_id="c-once"),
                True,
                f"first answer: {ASSIGNED}. Now: no trip assigned",
            ),
            (
                lambda: cancel("trip-1", command_id="c-end"),
                True,
                "first answer: trip trip-1 cancelled. Now: no trip assigned",
            ),
        ),
    ),
    "the same trip id for another patient is refused": Case(
        (
            (lambda: trip("trip-1"), True, ASSIGNED),
            (
                lambda: trip("trip-1", OTHER),
                False,
                "trip trip-1 is already assigned with other details (patient): cancel it first",
            ),
        ),
        PATIENT,
    ),
    "another trip while one is assigned is refused": Case(
        ((lambda: trip("trip-1"), True, ASSIGNED), (lambda: trip("trip-2", OTHER), False, BUSY)),
        PATIENT,
    ),
    "a cancel ends the trip and its patient; the next trip is taken": Case(
        (
            (lambda: trip("trip-1"), True, ASSIGNED),
            (
                lambda: cancel("trip-2"),
                False,
                "trip trip-2 is not assigned here (assigned: trip-1)",
            ),
            (lambda: cancel("trip-1"), True, "trip trip-1 cancelled"),
            (lambda: cancel("trip-1"), False, "trip trip-1 is not assigned here (assigned: none)"),
            (lambda: trip("trip-2", OTHER), True, f"trip trip-2 assigned; vitals as {OTHER}"),
        ),
        OTHER,
    ),
    "a cancel of an unknown trip is refused": Case(
        ((lambda: cancel("trip-9"), False, "trip trip-9 is not assigned here (assigned: none)"),)
    ),
    "a remote stop is accepted once the MCU has set its e-stop": Case(
        ((stop, True, "e-stop set"),), estop=True
    ),
    "a trip on the stop topic acts on nothing; on its own topic it is carried out": Case(
        (
            (
                lambda: misplaced(trip("trip-1", command_id="c-moved"), CommandKind.STOP),
                False,
                f"a trip command on {_on(CommandKind.STOP)}: not carried out",
            ),
            (lambda: trip("trip-1", command_id="c-moved"), True, ASSIGNED),
        ),
        PATIENT,
    ),
    "a stop on the trip topic acts on nothing": Case(
        (
            (
                lambda: misplaced(stop(), CommandKind.TRIP),
                False,
                f"a stop command on {_on(CommandKind.TRIP)}: not carried out",
            ),
        )
    ),
    "a cancel that cannot be read is answered with its id and kind": Case(
        (
            (
                lambda: Raw(
                    CommandKind.CANCEL,
                    b'{"v":1,"command_id":"c-torn","kind":"cancel","chair":"chair-07",'
                    b'"trip_id":"trip-1"}',
                    "c-torn",
                    CommandKind.CANCEL,
                ),
                False,
                "command: cancel.issued_ns: Field required",
            ),
        )
    ),
    "a stop that cannot be read stops the chair, and its id stays free": Case(
        (
            (
                lambda: Raw(
                    CommandKind.STOP,
                    b'{"v":1,"command_id":"c-torn","kind":"stop","chair":"chair-07"}',
                    "c-torn",
                    CommandKind.STOP,
                ),
                True,
                "could not be read; carried out as a stop: e-stop set "
                "(command: stop.issued_ns: Field required)",
            ),
            (lambda: stop("c-torn"), True, "e-stop set"),
        ),
        estop=True,
    ),
    "a limit change is applied once, then is no change": Case(
        (
            (lambda: config(firmware__limits__max_linear_mps=0.9), True, "applied"),
            (lambda: config(firmware__limits__max_linear_mps=0.9), True, "no change"),
        )
    ),
    "a config change that cannot be made says why": Case(
        (
            (
                lambda: config(firmware__limits__warp=1.0, firmware__baud=9600),
                False,
                "unknown parameter firmware.limits.warp; firmware.baud cannot change while the "
                "chair runs",
            ),
            (
                lambda: config(firmware__limits__max_linear_mps="fast"),
                False,
                "firmware.limits.max_linear_mps: expected a number, got 'fast'",
            ),
            (
                lambda: config(firmware__limits__max_linear_mps=9.0),
                False,
                "firmware.limits.max_linear_mps: Input should be less than or equal to 4.17",
            ),
        )
    ),
}


@dataclass
class Chair:
    """A host under test: its trip rules, and the MCU simulator behind it."""

    trips: TripCommands
    mcu: McuSimulator


def _ros_chair(
    graph: Graph, make_bridge: BridgeFactory, broker: Mosquitto, tmp_path: Path
) -> Iterator[TelemetryNode]:
    make_bridge()
    node = TelemetryNode(
        context=graph.context,
        parameter_overrides=chair_parameters(broker, tmp_path),
    )
    graph.add(node)
    assert wait_until(lambda: node.agent.connected, WAIT_S), node.agent.stats().last_error
    for service, kind in (
        ("remote_estop", Trigger),
        ("firmware_bridge/set_parameters_atomically", SetParametersAtomically),
    ):
        assert graph.probe.create_client(kind, service).wait_for_service(timeout_sec=5.0)
    yield node
    graph.remove(node)


def _serial_chair(
    sim: McuSimulator, broker: Mosquitto, tmp_path: Path
) -> Iterator[SerialTelemetryHost]:
    def source(now_ns: int) -> Vitals:
        return Vitals(now_ns, "", 96.0, 70.0, Perfusion.GOOD, False)

    with OximeterSimulator(source, link=tmp_path / "ttyOXI") as oximeter:
        host = SerialTelemetryHost(
            ChairConfig(
                identity=IdentityConfig(chair_id=CHAIR, site=SITE),
                firmware=FirmwareConfig(port=sim.device_path),
                telemetry=telemetry_config(broker, tmp_path),
                oximeter=OximeterConfig(port=oximeter.device_path),
            )
        )
        with host:
            assert host.driver.wait_for_link(5.0), host.driver.stats().last_error
            assert wait_until(lambda: host.agent.connected, 5), host.agent.stats().last_error
            yield host


@pytest.fixture(params=["ros", "serial"])
def chair(
    request: pytest.FixtureRequest, sim: McuSimulator, broker: Mosquitto, tmp_path: Path
) -> Iterator[Chair]:
    if request.param == "ros":
        graph: Graph = request.getfixturevalue("graph")
        make_bridge: BridgeFactory = request.getfixturevalue("make_bridge")
        for node in _ros_chair(graph, make_bridge, broker, tmp_path):
            yield Chair(node.trips, sim)
    else:
        for host in _serial_chair(sim, broker, tmp_path):
            yield Chair(host.trips, sim)


def answers(monitor: Monitor, command_id: str, count: int) -> list[CommandAck]:
    """The chair's first ``count`` answers to ``command_id``, once they have arrived."""

    def found() -> list[CommandAck]:
        messages = monitor.of(Channel.EVENT) + monitor.of(Channel.TRIP)
        return [
            m.ack
            for m in messages
            if isinstance(m, EventMessage | TripMessage)
            and m.ack is not None
            and m.ack.command_id == command_id
        ]

    assert wait_until(lambda: len(found()) >= count, 10), f"no answer to {command_id}"
    return found()


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_both_hosts_answer_the_table_alike(chair: Chair, monitor: Monitor, case: Case) -> None:
    sent: dict[str, int] = {}
    carried: set[str] = set()  # ids sent readable on their own topic: only those remembered
    for build, accepted, reason in case.steps:
        sending = build()
        if isinstance(sending, Raw):
            monitor.publish_raw(sending.on, sending.payload)
            command_id, kind, repeat = sending.command_id, sending.kind, False
        else:
            monitor.command(sending)
            command_id, kind = sending.command_id, sending.kind
            repeat = command_id in carried
            carried.add(command_id)
        sent[command_id] = sent.get(command_id, 0) + 1
        ack = answers(monitor, command_id, sent[command_id])[-1]
        assert (ack.accepted, ack.reason) == (accepted, reason), sending
        assert (ack.kind, ack.duplicate) == (kind, repeat), sending
    assert chair.trips.patient == case.patient
    assert bool(chair.mcu.snapshot().flags & StatusFlag.ESTOP) == case.estop


def test_both_hosts_sample_the_vehicle_and_say_when_the_mcu_goes_quiet(
    chair: Chair, monitor: Monitor
) -> None:
    def latest() -> VehicleSample | None:
        messages = [m for m in monitor.of(Channel.VEHICLE) if isinstance(m, VehicleMessage)]
        return messages[-1].samples[-1] if messages else None

    def now_stale() -> bool:
        sample = latest()
        return sample is not None and "state_stale" in sample.faults

    assert wait_until(lambda: len(monitor.of(Channel.VEHICLE)) >= 3, 5)
    current = latest()
    assert current is not None
    assert (current.mode, current.faults) == ("idle", [])  # the MCU boots disarmed
    chair.mcu.unplug()
    assert wait_until(now_stale, 5)
    stale = latest()
    assert stale is not None
    assert stale.mode == "fault"
