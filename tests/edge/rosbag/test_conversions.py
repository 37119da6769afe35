"""The edge -> ROS mapping on its own, without ROS: what each message says for chairlink's values.

(That the bytes equal rclpy's is tests/ros/test_cdr_matches_rclpy.py.)
"""

from __future__ import annotations

import dataclasses
import math
from types import SimpleNamespace

import pytest

from chairlink.interfaces import typestore
from chairlink.wire.payloads import SCHEMA_VERSION, CancelCommand, TripCommand
from chairlink.wire.topics import CommandKind
from edge.diagnostics import Diagnostic, Level
from edge.rosbag.cdr import deserialize, from_header, prepare, serialize, to_clock
from edge.rosbag.conversions import (
    CHAIR_STATUS,
    command_from_twist,
    from_chair_status,
    from_patient_vitals,
    to_battery_state,
    to_chair_status,
    to_diagnostic_array,
    to_odometry,
    to_patient_vitals,
    to_trip_command,
)
from edge.rosbag.errors import ConversionError
from edge.types import DriveCommand, MotorLink, Odometry, Perfusion, Pose2D, Vitals
from firmware_bridge.messages import Fault
from tests.edge.chair_values import HEALTHY_STATUS

STORE = typestore()
STATUS = dataclasses.replace(HEALTHY_STATUS, stamp_ns=5)
HEAD = {"v": SCHEMA_VERSION, "chair": "chair-01", "issued_ns": 1_700_000_000_123_456_789}


def _vector(x: float = 0.0, y: float = 0.0, z: float = 0.0) -> SimpleNamespace:
    return SimpleNamespace(x=x, y=y, z=z)


def _twist(**components: float) -> SimpleNamespace:
    linear = _vector(*(components.get(f"linear_{a}", 0.0) for a in "xyz"))
    angular = _vector(*(components.get(f"angular_{a}", 0.0) for a in "xyz"))
    return SimpleNamespace(linear=linear, angular=angular)


def test_a_velocity_command_stamped_or_not() -> None:
    twist = _twist(linear_x=0.4, angular_z=-0.2)
    assert command_from_twist(twist, 7) == DriveCommand(7, 0.4, -0.2)
    stamped = SimpleNamespace(header=SimpleNamespace(), twist=twist)
    assert command_from_twist(stamped, 7) == DriveCommand(7, 0.4, -0.2)


@pytest.mark.parametrize(
    "components",
    [{"linear_x": math.nan}, {"angular_z": math.inf}, {"linear_y": 0.3}, {"angular_x": 0.1}],
)
def test_a_command_the_chair_cannot_follow_is_refused(components: dict[str, float]) -> None:
    with pytest.raises(ConversionError, match=r"non-finite|cannot follow"):
        command_from_twist(_twist(**components), 0)


def test_odometry_has_heading_twist_frames_and_covariance() -> None:
    odometry = Odometry(5, Pose2D(1.0, 2.0, math.pi / 2), 0.5, 0.1)
    msg = to_odometry(STORE, odometry, "chair_01/odom", "chair_01/base_link")
    assert (msg.header.frame_id, msg.child_frame_id) == ("chair_01/odom", "chair_01/base_link")
    orientation = msg.pose.pose.orientation
    assert 2 * math.atan2(orientation.z, orientation.w) == pytest.approx(math.pi / 2)
    assert msg.pose.covariance[0] == pytest.approx(0.01)
    assert msg.pose.covariance[35] == pytest.approx(0.03)
    assert msg.twist.covariance[14] == pytest.approx(1e6)


def test_battery_current_is_negative_while_discharging_and_health_follows_the_fault() -> None:
    msg = to_battery_state(STORE, STATUS)
    assert (msg.voltage, msg.current, msg.percentage) == pytest.approx((25.1, -2.3, 0.87))
    assert (msg.power_supply_status, msg.power_supply_health) == (2, 1)  # discharging, good
    assert math.isnan(msg.capacity)
    idle = dataclasses.replace(STATUS, current_a=0.0, faults=int(Fault.BATTERY_CRITICAL))
    msg = to_battery_state(STORE, idle)
    assert (msg.power_supply_status, msg.power_supply_health) == (3, 3)  # not charging, dead


def test_chair_status_carries_the_link_and_reads_back() -> None:
    status = dataclasses.replace(STATUS, joystick_y=-0.5, seat_load_kg=75.2, braking=True)
    link = MotorLink(connected=True, link_up=False, crc_errors=4, reconnects=2)
    msg = to_chair_status(STORE, status, "base_link", link)
    assert (msg.crc_errors, msg.reconnects, msg.link_up) == (4, 2, False)
    back = from_chair_status(deserialize(STORE, serialize(STORE, msg), CHAIR_STATUS))
    assert back.braking
    assert (back.joystick_y, back.seat_load_kg) == pytest.approx((-0.5, 75.2))
    simulated = to_chair_status(STORE, STATUS)
    assert simulated.link_up
    assert simulated.frames_received == 0
    assert math.isnan(simulated.motor_temperature_left)


def test_a_doubtful_reading_keeps_its_flag_through_ros_and_old_bags_read_as_not_doubtful() -> None:
    doubtful = Vitals(5, "pt-7f3a9c", math.nan, math.nan, Perfusion.GOOD, False, doubtful=True)
    message = deserialize(
        STORE,
        serialize(STORE, to_patient_vitals(STORE, doubtful)),
        "chairlink_interfaces/msg/PatientVitals",
    )
    back = from_patient_vitals(message)
    assert back.doubtful
    assert math.isnan(back.spo2_pct)
    assert math.isnan(back.pulse_bpm)
    # A message of the definition before `doubtful` existed, as an old bag holds it.
    old = SimpleNamespace(**{k: v for k, v in vars(message).items() if k != "doubtful"})
    assert not from_patient_vitals(old).doubtful


def test_trip_and_cancel_become_assign_and_cancel() -> None:
    trip = TripCommand(
        **HEAD,
        kind=CommandKind.TRIP,
        command_id="c1",
        trip_id="t1",
        origin="ward-3",
        destination="radiology",
    )
    msg = to_trip_command(STORE, trip, 5, "base_link")
    assert (msg.action, msg.origin, msg.destination, msg.patient_token) == (
        0,
        "ward-3",
        "radiology",
        "",
    )
    assert msg.priority == 0
    assert from_header(SimpleNamespace(stamp=msg.issued)) == HEAD["issued_ns"]
    cancel = CancelCommand(**HEAD, kind=CommandKind.CANCEL, command_id="c2", trip_id="t1")
    msg = to_trip_command(STORE, cancel, 5, "base_link")
    assert (msg.action, msg.trip_id, msg.origin) == (1, "t1", "")


def test_diagnostics_keep_level_name_and_values() -> None:
    diagnostic = Diagnostic(Level.STALE, "chairlink: x", "no status yet", "c/x", (("k", "v"),))
    msg = to_diagnostic_array(STORE, 1_500_000_000, [diagnostic])
    assert (msg.header.stamp.sec, msg.header.stamp.nanosec) == (1, 500_000_000)
    (status,) = msg.status
    assert (status.level, status.name, status.message, status.hardware_id) == (
        3,
        "chairlink: x",
        "no status yet",
        "c/x",
    )
    assert [(v.key, v.value) for v in status.values] == [("k", "v")]


def test_clock_and_what_cannot_be_serialised() -> None:
    assert from_header(SimpleNamespace(stamp=to_clock(STORE, 3_000_000_001).clock)) == (
        3_000_000_001
    )
    with pytest.raises(ConversionError, match="not a typestore message"):
        serialize(STORE, object())
    with pytest.raises(ConversionError, match="not a rosgraph_msgs/msg/Clock"):
        deserialize(STORE, b"\x00\x01", "rosgraph_msgs/msg/Clock")


def test_prepare_generates_the_serialisers_before_the_first_message() -> None:
    store = typestore()
    odometry = "nav_msgs/msg/Odometry"
    assert odometry not in store.cache
    prepare(store, [odometry])
    assert odometry in store.cache
    with pytest.raises(ConversionError, match="unknown message type nav_msgs/msg/Nothing"):
        prepare(store, ["nav_msgs/msg/Nothing"])
