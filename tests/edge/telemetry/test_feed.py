"""TelemetryFeed: the rates on the stream's own time, and a real agent behind it."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from chairlink.config import ChairConfig, OximeterConfig, TelemetryConfig
from chairlink.wire.payloads import PatientMessage, PayloadError, VehicleMessage, VehicleSample
from chairlink.wire.topics import Channel
from edge.telemetry.agent import TelemetryAgent
from edge.telemetry.feed import TelemetryFeed
from edge.types import (
    CameraFrame,
    CameraIntrinsics,
    ChairStatus,
    DriveCommand,
    Odometry,
    Perfusion,
    Pose2D,
    Scan,
    Tilt,
    Vitals,
)
from tests.monitor import CHAIR, IDENTITY, TOKEN, USERS, Monitor
from tests.mosquitto import Mosquitto
from tests.wait import wait_until

MS = 1_000_000
S = 1_000_000_000


class RecordingSink:
    """Test double of the agent: records what the feed passes on; can refuse vitals."""

    def __init__(self, refuse_vitals: str = "") -> None:
        self.samples: list[VehicleSample] = []
        self.readings: list[Vitals] = []
        self.refuse_vitals = refuse_vitals

    def vehicle(self, sample: VehicleSample) -> None:
        self.samples.append(sample)

    def vitals(self, vitals: Vitals) -> None:
        if self.refuse_vitals:
            raise PayloadError(self.refuse_vitals)
        self.readings.append(vitals)


def status(stamp_ns: int, *, estop: bool = False) -> ChairStatus:
    return ChairStatus(
        stamp_ns=stamp_ns,
        battery_v=25.0,
        current_a=2.0,
        soc=0.8,
        armed=True,
        estop=estop,
        faults=0,
        seat_occupied=True,
        belt_closed=True,
        motion_refused=False,
        joystick_override=False,
    )


def odometry(stamp_ns: int, x: float = 0.0) -> Odometry:
    return Odometry(stamp_ns, Pose2D(x, 0.0, 0.0), 0.5, 0.0)


def vitals(stamp_ns: int, token: str = TOKEN) -> Vitals:
    return Vitals(stamp_ns, token, 97.0, 72.0, Perfusion.GOOD, False)


def chair_stream(start_ns: int, end_ns: int) -> Iterator[Odometry | ChairStatus | Vitals]:
    """What the simulator sends: odometry at 50 Hz, status at 10 Hz, vitals at 1 Hz."""
    for t in range(start_ns, end_ns, 10 * MS):
        if t % (20 * MS) == 0:
            yield odometry(t, x=t / S)
        if t % (100 * MS) == 0:
            yield status(t)
        if t % S == 0:
            yield vitals(t)


def make_feed(sink: RecordingSink, **changes: float) -> TelemetryFeed:
    rates = {"vehicle_hz": 10.0, "vitals_hz": 1.0, **changes}
    return TelemetryFeed(sink, vehicle_hz=rates["vehicle_hz"], vitals_hz=rates["vitals_hz"])


def test_vehicle_samples_follow_the_streams_time_not_the_wall_clock() -> None:
    sink = RecordingSink()
    feed = make_feed(sink)
    # Three seconds of stream time, fed in well under a millisecond of wall time.
    for value in chair_stream(0, 3 * S):
        feed.take(value)
    stamps = [s.stamp_ns for s in sink.samples]
    assert stamps == list(range(0, 3 * S, 100 * MS))
    assert sink.samples[-1].x_m == pytest.approx(2.9)
    assert feed.stats().vehicle_samples == 30


def test_a_sample_needs_both_odometry_and_status_and_comes_with_the_first_complete_state() -> None:
    sink = RecordingSink()
    feed = make_feed(sink)
    for t in range(0, 500 * MS, 20 * MS):
        feed.take(odometry(t))
    assert sink.samples == []
    feed.take(status(510 * MS))
    assert [s.stamp_ns for s in sink.samples] == [510 * MS]
    feed.take(odometry(520 * MS))
    feed.take(odometry(609 * MS))
    feed.take(odometry(610 * MS))
    assert [s.stamp_ns for s in sink.samples] == [510 * MS, 610 * MS]


def test_after_a_gap_one_sample_and_the_grid_goes_on_without_a_burst() -> None:
    sink = RecordingSink()
    feed = make_feed(sink)
    for value in chair_stream(0, S):
        feed.take(value)
    assert len(sink.samples) == 10
    feed.take(odometry(5 * S + 30 * MS))  # four seconds without a frame (a cable pulled)
    assert len(sink.samples) == 11
    feed.take(odometry(5 * S + 90 * MS))
    feed.take(odometry(5 * S + 100 * MS))  # the grid of the first second, continued
    assert [s.stamp_ns for s in sink.samples[-2:]] == [5 * S + 30 * MS, 5 * S + 100 * MS]


def test_values_slightly_out_of_order_keep_the_grid_and_a_rewound_stream_restarts_it() -> None:
    sink = RecordingSink()
    feed = make_feed(sink)
    for value in chair_stream(0, S):
        feed.take(value)
    feed.take(status(990 * MS))  # a little late, from another source
    feed.take(odometry(1000 * MS))
    assert len(sink.samples) == 11
    # The simulation starts again from zero: samples resume at once, not at 1.1 s.
    feed.take(odometry(0))
    feed.take(odometry(100 * MS))
    assert [s.stamp_ns for s in sink.samples[-2:]] == [0, 100 * MS]


def test_vitals_go_at_most_at_publish_hz() -> None:
    sink = RecordingSink()
    feed = make_feed(sink, vitals_hz=1.0)
    # A host polling its reader at 20 Hz: one reading a second goes on.
    for t in range(0, 3 * S, 50 * MS):
        feed.take(vitals(t))
    assert [v.stamp_ns for v in sink.readings] == [0, S, 2 * S]
    fast = RecordingSink()
    feed = make_feed(fast, vitals_hz=2.0)
    for t in range(0, 2 * S, S // 2):
        feed.take(vitals(t))
    assert len(fast.readings) == 4
    assert feed.stats().vitals == 4


def test_vitals_without_a_patient_are_held_back_and_said_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sink = RecordingSink()
    feed = make_feed(sink)
    with caplog.at_level(logging.INFO, logger="edge.telemetry.feed"):
        for t in range(0, 5 * S, S):
            feed.take(vitals(t, token=""))
        feed.take(vitals(5 * S))
        feed.take(vitals(6 * S, token=""))
    assert [v.stamp_ns for v in sink.readings] == [5 * S]
    assert feed.stats().vitals_without_patient == 6
    said = [r for r in caplog.records if "no patient token" in r.getMessage()]
    assert len(said) == 2  # once per stretch without a patient


def test_a_reading_the_agent_refuses_is_counted_and_logged_once_per_reason(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sink = RecordingSink(refuse_vitals="patient message refused: patient: bad token")
    feed = make_feed(sink)
    with caplog.at_level(logging.WARNING, logger="edge.telemetry.feed"):
        for t in range(0, 4 * S, S):
            feed.take(vitals(t))
    assert feed.stats().refused == 4
    assert feed.stats().vitals == 0
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1
    assert "bad token" in warnings[0]


def test_other_edge_values_are_dropped_and_anything_else_is_refused() -> None:
    sink = RecordingSink()
    feed = make_feed(sink)
    intrinsics = CameraIntrinsics.from_fov(4, 3, math.radians(90))
    feed.take(Scan(0, 0.0, 0.1, 0.1, 10.0, np.ones(3, dtype=np.float32)))
    feed.take(CameraFrame(0, np.zeros((3, 4, 3), np.uint8), intrinsics, Pose2D(), 1.0))
    feed.take(DriveCommand.stop(0))
    feed.take(Tilt(0, 0.0, 0.0))
    assert sink.samples == []
    assert sink.readings == []
    with pytest.raises(TypeError, match=r"TelemetryFeed takes edge values .*, got builtins\.dict"):
        feed.take({"linear": 0.5})


@pytest.mark.parametrize(
    "rates", [{"vehicle_hz": 0.0}, {"vitals_hz": -1.0}, {"vehicle_hz": math.inf}]
)
def test_a_rate_that_is_not_positive_is_refused(rates: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must be a positive number of Hz"):
        make_feed(RecordingSink(), **rates)


def test_the_stamp_offset_and_the_chairs_rates_come_from_for_chair() -> None:
    sink = RecordingSink()
    config = ChairConfig(
        telemetry=TelemetryConfig(vehicle_hz=5.0), oximeter=OximeterConfig(publish_hz=0.5)
    )
    feed = TelemetryFeed.for_chair(sink, config, stamp_offset_ns=1_700_000_000 * S)
    for value in chair_stream(0, 4 * S):
        feed.take(value)
    assert [s.stamp_ns - 1_700_000_000 * S for s in sink.samples[:3]] == [0, 200 * MS, 400 * MS]
    assert len(sink.samples) == 20
    assert [v.stamp_ns for v in sink.readings] == [0, 2 * S]


# -- end to end: a real agent against a real Mosquitto --------------------------------------------


def vehicle_messages(monitor: Monitor) -> list[VehicleMessage]:
    return [m for m in monitor.of(Channel.VEHICLE) if isinstance(m, VehicleMessage)]


def test_a_stream_through_a_real_agent_reaches_the_monitor(
    broker: Mosquitto, tmp_path: Path
) -> None:
    (tmp_path / "password").write_text(USERS[CHAIR], encoding="utf-8")
    config = TelemetryConfig(
        broker_host="127.0.0.1",
        broker_port=broker.port,
        password_file=str(tmp_path / "password"),
        outbox_path=str(tmp_path / "outbox.db"),
        vehicle_hz=10.0,
    )
    monitor = Monitor(broker)
    try:
        with TelemetryAgent(IDENTITY, config) as agent:
            assert wait_until(lambda: agent.connected, 5)
            epoch = 1_750_000_000 * S
            feed = TelemetryFeed(agent, vehicle_hz=10.0, vitals_hz=1.0, stamp_offset_ns=epoch)
            for value in chair_stream(0, 3 * S):
                feed.take(value)
            agent.flush()
            assert wait_until(lambda: agent.stats().outbox_messages == 0, 5)
        assert wait_until(lambda: len(monitor.of(Channel.PATIENT)) == 3, 5)
        assert wait_until(lambda: sum(len(m.samples) for m in vehicle_messages(monitor)) == 30, 5)
    finally:
        monitor.close()
    vehicle = vehicle_messages(monitor)
    stamps = [s.stamp_ns - epoch for m in vehicle for s in m.samples]
    assert stamps == list(range(0, 3 * S, 100 * MS))
    patients = [m for m in monitor.of(Channel.PATIENT) if isinstance(m, PatientMessage)]
    assert {p.patient for p in patients} == {TOKEN}
    assert monitor.seqs(Channel.PATIENT) == [0, 1, 2]
    assert monitor.seqs(Channel.VEHICLE) == list(range(len(vehicle)))


def test_ticks_keep_samples_going_marked_stale_once_the_mcu_goes_quiet() -> None:
    sink = RecordingSink()
    feed = make_feed(sink)
    for value in chair_stream(0, S):  # the last status at 0.9 s, the last odometry at 0.98 s
        feed.take(value)
    assert len(sink.samples) == 10
    # The MCU says nothing more; a host on a live clock tells the feed the time every 25 ms.
    for t in range(S, 3 * S, 25 * MS):
        feed.tick(t)
    quiet = sink.samples[10:]
    assert [s.stamp_ns for s in quiet] == list(range(S, 3 * S, 100 * MS))
    # Up to a second after the last status the samples are current; after it they say so.
    assert [("state_stale" in s.faults, s.mode) for s in quiet] == [(False, "autonomous")] * 10 + [
        (True, "fault")
    ] * 10
    feed.take(status(3 * S))
    feed.take(odometry(3 * S + 100 * MS))
    assert "state_stale" not in sink.samples[-1].faults
    assert sink.samples[-1].stamp_ns == 3 * S + 100 * MS
