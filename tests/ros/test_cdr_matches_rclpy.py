"""The bytes chairlink publishes are rclpy's: every message type a chairlink node publishes.

The nodes and the bag writer build messages on a rosbags typestore (edge/rosbag/conversions.py)
and serialise them with edge.rosbag.cdr.serialize. Here each of those, made from an edge value
by the function the node calls, is compared byte for byte with rclpy's serialize_message of the
same message built field by field with rclpy, and read back by rclpy and by the typestore.

rclpy leaves CDR's alignment padding uninitialised, so padding bytes (those the typestore's
serialiser never writes) are left out of the comparison; every other byte must be equal.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from builtin_interfaces.msg import Time
from chairlink_interfaces.msg import ChairStatus as ChairStatusMsg
from chairlink_interfaces.msg import PatientVitals
from chairlink_interfaces.msg import TripCommand as TripCommandMsg
from chairlink_ros.sim_node import _QOS as SIM_QOS
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from geometry_msgs.msg import TwistStamped
from nav_msgs.msg import Odometry as OdometryMsg
from rclpy.serialization import deserialize_message, serialize_message
from rosbags.typesys.store import Typestore
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import BatteryState, CameraInfo, CompressedImage, Image, Imu, LaserScan

from chairlink.interfaces import typestore
from chairlink.wire.payloads import SCHEMA_VERSION, CancelCommand, TripCommand
from chairlink.wire.topics import CommandKind
from edge.diagnostics import motor_controller, motor_link
from edge.rosbag import ros_messages
from edge.rosbag.cdr import deserialize, serialize, to_clock
from edge.rosbag.conversions import (
    to_battery_state,
    to_chair_status,
    to_diagnostic_array,
    to_odometry,
    to_patient_vitals,
    to_trip_command,
)
from edge.types import (
    CameraFrame,
    CameraIntrinsics,
    ChairStatus,
    DriveCommand,
    MotorLink,
    Odometry,
    Perfusion,
    Pose2D,
    Scan,
    Tilt,
    Vitals,
)
from firmware_bridge.messages import Fault

STAMP_NS = 1_764_000_000_123_456_789
SEC, NANOSEC = 1_764_000_000, 123_456_789
STORE = typestore()

SCAN = Scan(
    STAMP_NS,
    angle_min=-2.0,
    angle_increment=0.01,
    range_min=0.05,
    range_max=12.0,
    ranges=np.array([1.5, math.inf, math.nan, 0.3, 11.9], dtype=np.float32),
    frame_id="laser",
    scan_time_s=0.1,
)
FRAME = CameraFrame(
    STAMP_NS,
    np.arange(4 * 6 * 3, dtype=np.uint8).reshape(4, 6, 3),
    CameraIntrinsics(6, 4, 5.1, 5.2, 2.5, 1.5),
    Pose2D(0.3, 0.0, 0.0),
    1.1,
    "camera",
)
ODOMETRY = Odometry(STAMP_NS, Pose2D(1.25, -3.5, 2.1), 0.42, -0.17)
STATUS = ChairStatus(
    stamp_ns=STAMP_NS,
    battery_v=25.1,
    current_a=2.3,
    soc=0.87,
    armed=True,
    estop=False,
    faults=int(Fault.BATTERY_CRITICAL | Fault.LINK_LOST),
    seat_occupied=True,
    belt_closed=True,
    motion_refused=False,
    joystick_override=True,
    configured=True,
    braking=True,
    motor_temperature_left_c=31.5,
    motor_temperature_right_c=32.2,
    joystick_x=0.0,
    joystick_y=-0.5,
    seat_load_kg=75.2,
)
LINK = MotorLink(
    connected=True,
    link_up=True,
    frames_received=1000,
    frames_sent=400,
    crc_errors=4,
    resyncs=3,
    frames_dropped=2,
    reconnects=1,
    link_timeouts=5,
    ack_timeouts=6,
    rtt_p99_ms=3.25,
    last_error="",
)
VITALS = Vitals(STAMP_NS, "pt-7f3a9c", 97.0, 72.0, Perfusion.MARGINAL, False, artifact=True)
DOUBTFUL = Vitals(STAMP_NS, "pt-7f3a9c", math.nan, math.nan, Perfusion.GOOD, False, doubtful=True)
TILT = Tilt(STAMP_NS, 0.05, -0.1)
HEAD = {"v": SCHEMA_VERSION, "chair": "chair-01", "issued_ns": 1_700_000_000_000_000_042}
TRIP = TripCommand(
    **HEAD,
    kind=CommandKind.TRIP,
    command_id="c1",
    trip_id="t1",
    origin="ward-3",
    destination="radiology",
    patient="pt-7f3a9c",
    priority="urgent",
)
COMMAND = DriveCommand(STAMP_NS, 0.42, -0.17)
IMAGE, COMPRESSED = "sensor_msgs/msg/Image", "sensor_msgs/msg/CompressedImage"
CANCEL = CancelCommand(**HEAD, kind=CommandKind.CANCEL, command_id="c2", trip_id="t1")


def _time(nanoseconds: int = STAMP_NS) -> Time:
    return Time(sec=nanoseconds // 1_000_000_000, nanosec=nanoseconds % 1_000_000_000)


def _covariance(diagonal: tuple[float, ...]) -> list[float]:
    values = [0.0] * 36
    for i, v in enumerate(diagonal):
        values[i * 7] = v
    return values


def _published(
    store: Typestore, topic: str, value: Any, msgtype: str = "", *, compress: bool = False
) -> Any:
    """The message the simulator and the bag writer make of a value (of ``msgtype``, if given)."""
    messages = ros_messages(store, topic, value, compress_images=compress)
    return next(m for _, t, m in messages if t == msgtype or not msgtype)


# -- the same messages, built with rclpy field by field -----------------------------------------


def rclpy_laser_scan() -> LaserScan:
    msg = LaserScan()
    msg.header.stamp, msg.header.frame_id = _time(), "laser"
    msg.angle_min, msg.angle_max, msg.angle_increment = -2.0, -2.0 + 0.01 * 4, 0.01
    msg.time_increment, msg.scan_time = 0.1 / 5, 0.1
    msg.range_min, msg.range_max = 0.05, 12.0
    msg.ranges = [1.5, math.inf, math.nan, 0.3, 11.9]
    return msg


def rclpy_image() -> Image:
    msg = Image()
    msg.header.stamp, msg.header.frame_id = _time(), "camera"
    msg.height, msg.width, msg.encoding, msg.is_bigendian, msg.step = 4, 6, "rgb8", 0, 18
    msg.data = FRAME.image.tobytes()
    return msg


def rclpy_camera_info() -> CameraInfo:
    msg = CameraInfo()
    msg.header.stamp, msg.header.frame_id = _time(), "camera"
    msg.height, msg.width, msg.distortion_model = 4, 6, "plumb_bob"
    msg.d = [0.0] * 5
    msg.k = [5.1, 0.0, 2.5, 0.0, 5.2, 1.5, 0.0, 0.0, 1.0]
    msg.r = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    msg.p = [5.1, 0.0, 2.5, 0.0, 0.0, 5.2, 1.5, 0.0, 0.0, 0.0, 1.0, 0.0]
    return msg


def rclpy_compressed_image() -> CompressedImage:
    # JPEG bytes are the encoder's; the rest of the message is checked field by field.
    msg = CompressedImage()
    msg.header.stamp, msg.header.frame_id = _time(), "camera"
    msg.format = "rgb8; jpeg compressed bgr8"
    msg.data = bytes(_published(STORE, "/camera/image_raw", FRAME, COMPRESSED, compress=True).data)
    return msg


def rclpy_imu() -> Imu:
    msg = Imu()
    msg.header.stamp, msg.header.frame_id = _time(), "imu"
    # roll 0.05 about x, then nose-up 0.1 (REP 103: -0.1 about y); yaw 0.
    cr, sr = math.cos(0.025), math.sin(0.025)
    cp, sp = math.cos(0.05), math.sin(0.05)
    orientation = msg.orientation
    orientation.x, orientation.y, orientation.z, orientation.w = sr * cp, cr * sp, -sr * sp, cr * cp
    msg.orientation_covariance = [3e-6, 0.0, 0.0, 0.0, 3e-6, 0.0, 0.0, 0.0, 1e6]
    msg.angular_velocity_covariance = [-1.0] + [0.0] * 8
    msg.linear_acceleration_covariance = [-1.0] + [0.0] * 8
    return msg


def rclpy_odometry() -> OdometryMsg:
    msg = OdometryMsg()
    msg.header.stamp, msg.header.frame_id, msg.child_frame_id = _time(), "odom", "base_link"
    msg.pose.pose.position.x, msg.pose.pose.position.y = 1.25, -3.5
    msg.pose.pose.orientation.z = math.sin(2.1 / 2)
    msg.pose.pose.orientation.w = math.cos(2.1 / 2)
    msg.pose.covariance = _covariance((0.01, 0.01, 1e6, 1e6, 1e6, 0.03))
    msg.twist.twist.linear.x, msg.twist.twist.angular.z = 0.42, -0.17
    msg.twist.covariance = _covariance((0.002, 1e6, 1e6, 1e6, 1e6, 0.01))
    return msg


def rclpy_twist_stamped() -> TwistStamped:
    msg = TwistStamped()
    msg.header.stamp, msg.header.frame_id = _time(), "base_link"
    msg.twist.linear.x, msg.twist.angular.z = 0.42, -0.17
    return msg


def rclpy_battery_state() -> BatteryState:
    msg = BatteryState()
    msg.header.stamp, msg.header.frame_id = _time(), "base_link"
    msg.voltage, msg.current, msg.percentage = 25.1, -2.3, 0.87
    msg.temperature = msg.charge = msg.capacity = msg.design_capacity = math.nan
    msg.power_supply_status = BatteryState.POWER_SUPPLY_STATUS_DISCHARGING
    msg.power_supply_health = BatteryState.POWER_SUPPLY_HEALTH_DEAD
    msg.power_supply_technology = BatteryState.POWER_SUPPLY_TECHNOLOGY_UNKNOWN
    msg.present = True
    return msg


def rclpy_chair_status() -> ChairStatusMsg:
    msg = ChairStatusMsg()
    msg.header.stamp, msg.header.frame_id = _time(), "base_link"
    msg.battery_voltage, msg.battery_current, msg.battery_soc = 25.1, 2.3, 0.87
    msg.motor_temperature_left, msg.motor_temperature_right = 31.5, 32.2
    msg.armed, msg.estop, msg.configured, msg.braking = True, False, True, True
    msg.motion_refused, msg.joystick_override = False, True
    msg.joystick_x, msg.joystick_y = 0.0, -0.5
    msg.seat_occupied, msg.seat_load, msg.belt_closed = True, 75.2, True
    msg.faults = ChairStatusMsg.FAULT_BATTERY_CRITICAL | ChairStatusMsg.FAULT_LINK_LOST
    msg.link_up, msg.frames_received, msg.frames_sent = True, 1000, 400
    msg.crc_errors, msg.resyncs, msg.frames_dropped = 4, 3, 2
    msg.reconnects, msg.link_timeouts = 1, 5
    return msg


def rclpy_patient_vitals() -> PatientVitals:
    msg = PatientVitals()
    msg.header.stamp, msg.header.frame_id = _time(), "base_link"
    msg.patient_token, msg.spo2, msg.pulse_rate = "pt-7f3a9c", 97.0, 72.0
    msg.perfusion = PatientVitals.PERFUSION_MARGINAL
    msg.artifact = True
    return msg


def rclpy_doubtful_vitals() -> PatientVitals:
    msg = PatientVitals()
    msg.header.stamp, msg.header.frame_id = _time(), "base_link"
    msg.patient_token, msg.spo2, msg.pulse_rate = "pt-7f3a9c", math.nan, math.nan
    msg.perfusion = PatientVitals.PERFUSION_GOOD
    msg.doubtful = True
    return msg


def rclpy_trip_command() -> TripCommandMsg:
    msg = TripCommandMsg()
    msg.header.stamp, msg.header.frame_id = _time(), "base_link"
    msg.action, msg.command_id, msg.trip_id = TripCommandMsg.ASSIGN, "c1", "t1"
    msg.origin, msg.destination, msg.patient_token = "ward-3", "radiology", "pt-7f3a9c"
    msg.priority = TripCommandMsg.PRIORITY_URGENT
    msg.issued = _time(1_700_000_000_000_000_042)
    return msg


def rclpy_cancel_command() -> TripCommandMsg:
    msg = TripCommandMsg()
    msg.header.stamp, msg.header.frame_id = _time(), "base_link"
    msg.action, msg.command_id, msg.trip_id = TripCommandMsg.CANCEL, "c2", "t1"
    msg.priority = TripCommandMsg.PRIORITY_ROUTINE
    msg.issued = _time(1_700_000_000_000_000_042)
    return msg


def rclpy_diagnostic_array() -> DiagnosticArray:
    link_values = [
        ("port", "/dev/ttyMCU"),
        ("connected", "True"),
        ("link_up", "True"),
        ("frames_received", "1000"),
        ("frames_sent", "400"),
        ("crc_errors", "4"),
        ("resyncs", "3"),
        ("frames_dropped", "2"),
        ("reconnects", "1"),
        ("link_timeouts", "5"),
        ("ack_timeouts", "6"),
        ("rtt_p99_ms", "3.25"),
        ("last_error", ""),
    ]
    msg = DiagnosticArray()
    msg.header.stamp = _time()
    msg.status = [
        DiagnosticStatus(
            level=DiagnosticStatus.WARN,
            name="chairlink: motor serial link",
            message="link up, with errors",
            hardware_id="chair-01/motor-mcu",
            values=[KeyValue(key=k, value=v) for k, v in link_values],
        ),
        DiagnosticStatus(
            level=DiagnosticStatus.ERROR,
            name="chairlink: motor controller",
            message="faults: LINK_LOST,BATTERY_CRITICAL",
            hardware_id="chair-01/motor-mcu",
            values=[
                KeyValue(key="faults", value="LINK_LOST,BATTERY_CRITICAL"),
                KeyValue(key="watchdog_trips", value="2"),
            ],
        ),
    ]
    return msg


def rclpy_clock() -> Clock:
    return Clock(clock=_time())


# -- the project's messages, made as the nodes and the bag writer make them --------------------


@dataclass(frozen=True)
class Case:
    """One published type: the project's message, and rclpy's of the same values."""

    name: str
    ours: Callable[[Typestore], Any]
    theirs: Callable[[], Any]


CASES = [
    # sim_node and the bag writer: ros_messages() of the simulator's values.
    Case("LaserScan", lambda s: _published(s, "/scan", SCAN), rclpy_laser_scan),
    Case("Image", lambda s: _published(s, "/camera/image_raw", FRAME, IMAGE), rclpy_image),
    Case(
        "CameraInfo",
        lambda s: _published(s, "/camera/image_raw", FRAME, "sensor_msgs/msg/CameraInfo"),
        rclpy_camera_info,
    ),
    Case(
        "CompressedImage",
        lambda s: _published(s, "/camera/image_raw", FRAME, COMPRESSED, compress=True),
        rclpy_compressed_image,
    ),
    Case("Imu", lambda s: _published(s, "/imu/data", TILT), rclpy_imu),
    Case("TwistStamped", lambda s: _published(s, "/cmd_vel", COMMAND), rclpy_twist_stamped),
    # firmware_bridge_node (and sim_node through ros_messages, with the same functions).
    Case("Odometry", lambda s: to_odometry(s, ODOMETRY, "odom", "base_link"), rclpy_odometry),
    Case("BatteryState", lambda s: to_battery_state(s, STATUS, "base_link"), rclpy_battery_state),
    Case(
        "ChairStatus",
        lambda s: to_chair_status(s, STATUS, "base_link", LINK),
        rclpy_chair_status,
    ),
    Case(
        "DiagnosticArray",
        lambda s: to_diagnostic_array(
            s,
            STAMP_NS,
            [
                motor_link("chair-01/motor-mcu", "/dev/ttyMCU", LINK),
                motor_controller("chair-01/motor-mcu", STATUS, 2),
            ],
        ),
        rclpy_diagnostic_array,
    ),
    # vitals_node and sim_node.
    Case(
        "PatientVitals", lambda s: to_patient_vitals(s, VITALS, "base_link"), rclpy_patient_vitals
    ),
    Case(
        "PatientVitals (doubtful)",
        lambda s: to_patient_vitals(s, DOUBTFUL, "base_link"),
        rclpy_doubtful_vitals,
    ),
    # telemetry_node.
    Case(
        "TripCommand (assign)",
        lambda s: to_trip_command(s, TRIP, STAMP_NS, "base_link"),
        rclpy_trip_command,
    ),
    Case(
        "TripCommand (cancel)",
        lambda s: to_trip_command(s, CANCEL, STAMP_NS, "base_link"),
        rclpy_cancel_command,
    ),
    # sim_node's /clock.
    Case("Clock", lambda s: to_clock(s, STAMP_NS), rclpy_clock),
]


def _padding(store: Typestore, message: Any) -> set[int]:
    """Offsets of the alignment padding in ``message``'s CDR: what the serialiser never writes."""
    definition = store.get_msgdef(message.__msgtype__)
    size = 4 + definition.getsize_cdr(0, message, store)
    filled = []
    for fill in (0x00, 0xFF):
        buffer = memoryview(bytearray([fill]) * size)
        definition.serialize_cdr_le(buffer[4:], 0, message, store)
        filled.append(bytes(buffer[4:]))
    return {4 + i for i, (a, b) in enumerate(zip(*filled, strict=True)) if a != b}


def _differences(ours: bytes, theirs: bytes, padding: set[int]) -> list[int]:
    assert len(ours) == len(theirs)
    return [i for i in range(len(ours)) if ours[i] != theirs[i] and i not in padding]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_our_bytes_are_rclpys(case: Case) -> None:
    message = case.ours(STORE)
    ours = serialize(STORE, message)
    reference = case.theirs()
    padding = _padding(STORE, message)
    different = _differences(ours, serialize_message(reference), padding)
    assert not different, f"{case.name}: bytes differ at {different[:10]}"
    # And back: rclpy reads ours as the message it writes (NaN fields compare by their bytes),
    # and the typestore reads rclpy's bytes as ours.
    read_by_rclpy = serialize_message(deserialize_message(ours, type(reference)))
    assert not _differences(ours, read_by_rclpy, padding)
    assert (
        serialize(STORE, deserialize(STORE, serialize_message(reference), message.__msgtype__))
        == ours
    )


def test_every_type_the_nodes_publish_is_covered() -> None:
    # sim_node publishes whatever ros_messages() gives, with a QoS from its table.
    assert set(SIM_QOS) <= {c.ours(STORE).__msgtype__ for c in CASES}
    published = {
        "sensor_msgs/msg/LaserScan",
        "sensor_msgs/msg/Image",
        "sensor_msgs/msg/CompressedImage",
        "sensor_msgs/msg/CameraInfo",
        "sensor_msgs/msg/Imu",
        "sensor_msgs/msg/BatteryState",
        "nav_msgs/msg/Odometry",
        "geometry_msgs/msg/TwistStamped",
        "chairlink_interfaces/msg/ChairStatus",
        "chairlink_interfaces/msg/PatientVitals",
        "chairlink_interfaces/msg/TripCommand",
        "diagnostic_msgs/msg/DiagnosticArray",
        "rosgraph_msgs/msg/Clock",
    }
    assert {c.ours(STORE).__msgtype__ for c in CASES} == published
