"""rosbag2 written by the simulator reads back message for message, in both storages."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from rosbags.rosbag2 import StoragePlugin, Writer

from chairlink.config import ChairConfig
from chairlink.geometry import CameraCalibration, CameraConfig, Mount
from chairlink.interfaces import typestore
from edge.rosbag import BagError, BagReader, BagWriter, Storage
from edge.sim.runner import Message, SimRunner
from edge.sim.scenario import Scenario
from edge.types import (
    CameraFrame,
    CameraIntrinsics,
    ChairStatus,
    Odometry,
    Pose2D,
    Scan,
    Tilt,
    Vitals,
)


@pytest.fixture(autouse=True)
def _data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAIRLINK_DATA", str(tmp_path_factory.getbasetemp() / "chairlink-data"))


def record(path: Path, storage: Storage, *, compress: bool = False) -> list[tuple[str, Message]]:
    scenario = Scenario.model_validate(
        {
            "name": "bag",
            "seed": 5,
            "duration_s": 4,
            "chair": {"start": "lobby", "goal": "a-101"},
            "random_people": 3,
        }
    )
    sent: list[tuple[str, Message]] = []
    with BagWriter(path, storage=storage, compress_images=compress) as bag:

        def both(topic: str, value: Message) -> None:
            sent.append((topic, value))
            bag.write_value(topic, value)

        SimRunner(scenario).run(on_message=both)
    return sent


def close(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)


def same(a: Message, b: Message) -> bool:
    if isinstance(a, ChairStatus) and isinstance(b, ChairStatus):
        floats = tuple(f for f in ChairStatus.__slots__ if isinstance(getattr(a, f), float))
        return all(close(getattr(a, f), getattr(b, f)) for f in floats) and all(
            getattr(a, f) == getattr(b, f) for f in ChairStatus.__slots__ if f not in floats
        )
    if isinstance(a, Tilt) and isinstance(b, Tilt):
        return (
            a.stamp_ns == b.stamp_ns
            and close(a.roll_rad, b.roll_rad)
            and close(a.pitch_rad, b.pitch_rad)
        )
    if isinstance(a, Vitals) and isinstance(b, Vitals):
        return (
            (a.stamp_ns, a.patient_token, a.perfusion, a.probe_off)
            == (b.stamp_ns, b.patient_token, b.perfusion, b.probe_off)
            and close(a.spo2_pct, b.spo2_pct)
            and close(a.pulse_bpm, b.pulse_bpm)
        )
    if isinstance(a, CameraFrame) and isinstance(b, CameraFrame):
        return (a.stamp_ns, a.frame_id, a.intrinsics) == (
            b.stamp_ns,
            b.frame_id,
            b.intrinsics,
        ) and np.array_equal(a.image, b.image)
    if isinstance(a, Scan) and isinstance(b, Scan):
        # LaserScan's scalar fields are float32.
        scalars = ("angle_min", "angle_increment", "range_min", "range_max", "scan_time_s")
        return (
            (a.stamp_ns, a.frame_id) == (b.stamp_ns, b.frame_id)
            and all(
                math.isclose(getattr(a, name), getattr(b, name), rel_tol=1e-6) for name in scalars
            )
            and np.array_equal(a.ranges, b.ranges, equal_nan=True)
        )
    if isinstance(a, Odometry) and isinstance(b, Odometry):
        return (
            a.stamp_ns == b.stamp_ns
            and math.isclose(a.pose.x, b.pose.x, abs_tol=1e-9)
            and math.isclose(a.pose.y, b.pose.y, abs_tol=1e-9)
            and math.isclose(a.pose.yaw, b.pose.yaw, abs_tol=1e-9)
            and (a.linear_mps, a.angular_radps) == (b.linear_mps, b.angular_radps)
        )
    return a == b


@pytest.mark.parametrize("storage", ["mcap", "sqlite3"])
def test_a_recorded_bag_reads_back_message_for_message(tmp_path: Path, storage: Storage) -> None:
    sent = record(tmp_path / "bag", storage)
    with BagReader(tmp_path / "bag") as reader:
        got = [(m.topic, m.value) for m in reader.messages()]
        info = reader.info()
    assert len(got) == len(sent) > 200
    # Order within one timestamp may differ across topics; per topic it is kept.
    topics = (
        "/scan",
        "/odom",
        "/cmd_vel",
        "/camera/image_raw",
        "/imu/data",
        "/chair/status",
        "/patient/vitals",
    )
    for topic in topics:
        mine = [v for t, v in sent if t == topic]
        theirs = [v for t, v in got if t == topic]
        assert len(mine) == len(theirs)
        assert all(same(a, b) for a, b in zip(mine, theirs, strict=True)), topic
    assert info.storage == storage
    assert {t.name for t in info.topics} == {*topics, "/camera/camera_info", "/battery"}
    frames = sum(1 for topic, _ in sent if topic == "/camera/image_raw")
    statuses = sum(1 for topic, _ in sent if topic == "/chair/status")
    assert frames > 50
    # Each frame brings its camera_info, each chair status its battery state.
    assert info.message_count == len(sent) + frames + statuses
    assert all(t.supported for t in info.topics if t.name not in {"/battery"})


def test_compressed_images_decode_close_to_the_original(tmp_path: Path) -> None:
    sent = record(tmp_path / "bag", "mcap", compress=True)
    originals = [v for t, v in sent if t == "/camera/image_raw"]
    with BagReader(tmp_path / "bag") as reader:
        decoded = [m.value for m in reader.messages() if m.topic == "/camera/image_raw/compressed"]
    assert len(decoded) == len(originals)
    for a, b in zip(originals, decoded, strict=True):
        assert isinstance(a, CameraFrame)
        assert isinstance(b, CameraFrame)
        assert b.intrinsics == a.intrinsics
        error = np.abs(a.image.astype(int) - b.image.astype(int)).mean()
        assert error < 4.0


def test_unknown_topics_are_skipped_and_malformed_messages_reported(tmp_path: Path) -> None:
    store = typestore()
    path = tmp_path / "mixed"
    scan = store.types["sensor_msgs/msg/LaserScan"]
    with Writer(path, version=9, storage_plugin=StoragePlugin.MCAP) as writer:
        text = writer.add_connection("/chatter", "std_msgs/msg/String", typestore=store)
        scans = writer.add_connection("/scan", "sensor_msgs/msg/LaserScan", typestore=store)
        writer.write(
            text,
            1,
            store.serialize_cdr(
                store.types["std_msgs/msg/String"](data="hi"), "std_msgs/msg/String"
            ),
        )
        writer.write(scans, 2, b"\x00\x01\x00\x00\xff")  # cut short: not a LaserScan
        good = scan(
            header=store.types["std_msgs/msg/Header"](
                stamp=store.types["builtin_interfaces/msg/Time"](sec=0, nanosec=3), frame_id="laser"
            ),
            angle_min=-1.0,
            angle_max=1.0,
            angle_increment=1.0,
            time_increment=0.0,
            scan_time=0.1,
            range_min=0.1,
            range_max=5.0,
            ranges=np.array([1.0, 2.0, 3.0], dtype=np.float32),
            intensities=np.zeros(0, dtype=np.float32),
        )
        writer.write(scans, 3, store.serialize_cdr(good, "sensor_msgs/msg/LaserScan"))
    with BagReader(path) as reader:
        messages = list(reader.messages())
    assert [m.topic for m in messages] == ["/scan"]
    assert isinstance(messages[0].value, Scan)
    assert list(messages[0].value.ranges) == [1.0, 2.0, 3.0]
    assert reader.skipped == {"/chatter": 1}
    assert len(reader.issues) == 1
    assert (reader.issues[0].topic, reader.issues[0].stamp_ns) == ("/scan", 2)


def test_missing_and_broken_bags_are_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(BagError, match="no such bag"), BagReader(tmp_path / "nothing"):
        pass
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "metadata.yaml").write_text("rosbag2_bagfile_information: [1, 2\n")
    with pytest.raises(BagError, match="cannot open bag"), BagReader(broken):
        pass


def test_the_writer_refuses_to_overwrite(tmp_path: Path) -> None:
    (tmp_path / "bag").mkdir()
    with pytest.raises(BagError, match="already exists"), BagWriter(tmp_path / "bag"):
        pass


def test_imu_pitch_follows_rep_103_with_nose_up_positive_in_tilt() -> None:
    from edge.rosbag.conversions import from_imu, to_imu  # noqa: PLC0415

    message = to_imu(typestore(), Tilt(0, 0.0, math.radians(5.0)))
    q = message.orientation
    # The chair's forward axis, rotated by the orientation, points up for a nose-up tilt.
    forward_z = 2 * (q.x * q.z - q.w * q.y)
    assert forward_z > 0
    assert math.degrees(from_imu(message).pitch_rad) == pytest.approx(5.0)


def test_a_damaged_bag_gives_bag_errors_or_read_issues_never_anything_else(tmp_path: Path) -> None:
    record(tmp_path / "bag", "mcap")
    data_file = next((tmp_path / "bag").glob("*.mcap"))
    original = data_file.read_bytes()
    rng = np.random.default_rng(0)
    outcomes: list[str] = []
    errors: list[str] = []
    for trial in range(20):
        # A recording cut short, with bytes flipped before the cut.
        cut = int(rng.integers(len(original) // 20, len(original)))
        damaged = bytearray(original[:cut])
        for position in rng.integers(0, cut, 5 + trial):
            damaged[position] ^= 0xFF
        data_file.write_bytes(bytes(damaged))
        try:
            with BagReader(tmp_path / "bag") as reader:
                list(reader.messages())
            outcomes.append("issues" if reader.issues else "clean")
        except BagError as err:
            outcomes.append("error")
            errors.append(str(err))
    assert {"issues", "error"} & set(outcomes)
    assert all(str(tmp_path / "bag") in message for message in errors)


def test_images_without_camera_info_take_the_calibration_of_chair_yaml(tmp_path: Path) -> None:
    from edge.rosbag.conversions import IMAGE, to_image  # noqa: PLC0415

    frame = CameraFrame(
        7, np.zeros((48, 64, 3), dtype=np.uint8), CameraIntrinsics(1, 1, 1, 1, 0, 0), Pose2D(), 0
    )
    with BagWriter(tmp_path / "bag") as bag:
        bag.write("/front/image_raw", IMAGE, to_image(bag.store, frame), 7)
    chair = ChairConfig(
        camera=CameraConfig(
            mount=Mount(x_m=0.6, y_m=0.1, z_m=1.2, yaw_rad=0.2),
            calibration=CameraCalibration(width=64, height=48, fx=40.0, fy=41.0, cx=31.5, cy=23.5),
        )
    )
    with BagReader(tmp_path / "bag", chair=chair) as reader:
        (message,) = reader.messages()
    assert isinstance(message.value, CameraFrame)
    assert message.value.intrinsics == CameraIntrinsics(64, 48, 40.0, 41.0, 31.5, 23.5)
    assert (message.value.mount, message.value.height_m) == (Pose2D(0.6, 0.1, 0.2), 1.2)
    assert reader.assumed_calibration == {"/front"}
    assert not reader.issues
    with BagReader(tmp_path / "bag") as stock:
        (message,) = stock.messages()
    assert isinstance(message.value, CameraFrame)
    assert message.value.intrinsics == CameraIntrinsics(320, 240, 160.0, 160.0, 159.5, 119.5)
