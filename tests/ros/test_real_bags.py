"""Bags as real ROS 2 records them, read without ROS.

No rosbag2_py wheel exists, so the test writes a bag the way Humble's ``ros2 bag record`` lays
out sqlite3 storage (metadata version 5, no message definitions in it), with each message
serialised by real rclpy, and checks chairlink reads it with its standard and own types.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest
import yaml
from builtin_interfaces.msg import Time
from geometry_msgs.msg import Twist, TwistStamped
from nav_msgs.msg import Odometry as OdometryMsg
from rclpy.serialization import serialize_message
from sensor_msgs.msg import BatteryState, LaserScan

from edge.rosbag import BagReader
from edge.types import DriveCommand, Odometry, Scan


def humble_sqlite_bag(path: Path, messages: list[tuple[str, str, int, bytes]]) -> None:
    """Write a rosbag2 as Humble does: sqlite3, metadata version 5, no definitions stored."""
    path.mkdir()
    db = sqlite3.connect(path / "bag_0.db3")
    db.executescript(
        "CREATE TABLE schema(schema_version INTEGER PRIMARY KEY,ros_distro TEXT NOT NULL);"
        "INSERT INTO schema VALUES (3, 'humble');"
        "CREATE TABLE topics(id INTEGER PRIMARY KEY,name TEXT NOT NULL,type TEXT NOT NULL,"
        "serialization_format TEXT NOT NULL,offered_qos_profiles TEXT NOT NULL);"
        "CREATE TABLE messages(id INTEGER PRIMARY KEY,topic_id INTEGER NOT NULL,"
        "timestamp INTEGER NOT NULL, data BLOB NOT NULL);"
    )
    topics: dict[str, tuple[int, str]] = {}
    for topic, msgtype, stamp, data in messages:
        if topic not in topics:
            topics[topic] = (len(topics) + 1, msgtype)
            db.execute(
                "INSERT INTO topics VALUES (?, ?, ?, 'cdr', '')", (topics[topic][0], topic, msgtype)
            )
        db.execute(
            "INSERT INTO messages(topic_id, timestamp, data) VALUES (?, ?, ?)",
            (topics[topic][0], stamp, data),
        )
    db.commit()
    db.close()
    stamps = [m[2] for m in messages]
    counts = {t: sum(1 for m in messages if m[0] == t) for t in topics}
    metadata = {
        "rosbag2_bagfile_information": {
            "version": 5,
            "storage_identifier": "sqlite3",
            "duration": {"nanoseconds": max(stamps) - min(stamps)},
            "starting_time": {"nanoseconds_since_epoch": min(stamps)},
            "message_count": len(messages),
            "topics_with_message_count": [
                {
                    "topic_metadata": {
                        "name": t,
                        "type": topics[t][1],
                        "serialization_format": "cdr",
                        "offered_qos_profiles": "",
                    },
                    "message_count": counts[t],
                }
                for t in topics
            ],
            "compression_format": "",
            "compression_mode": "",
            "relative_file_paths": ["bag_0.db3"],
            "files": [
                {
                    "path": "bag_0.db3",
                    "starting_time": {"nanoseconds_since_epoch": min(stamps)},
                    "duration": {"nanoseconds": max(stamps) - min(stamps)},
                    "message_count": len(messages),
                }
            ],
        }
    }
    (path / "metadata.yaml").write_text(yaml.safe_dump(metadata), encoding="utf-8")


T0 = 1_764_000_000_000_000_000


def test_a_humble_sqlite_bag_without_definitions_reads_into_edge_types(tmp_path: Path) -> None:
    scan = LaserScan()
    scan.header.stamp = Time(sec=T0 // 10**9, nanosec=5)
    scan.header.frame_id = "laser"
    scan.angle_min, scan.angle_increment = -np.pi, np.pi / 360
    scan.angle_max = scan.angle_min + scan.angle_increment * 719
    scan.range_min, scan.range_max, scan.scan_time = 0.15, 12.0, 0.1
    scan.ranges = [float(r) for r in np.linspace(0.5, 6.0, 720)]
    odom = OdometryMsg()
    odom.header.stamp = Time(sec=T0 // 10**9, nanosec=20_000_000)
    odom.pose.pose.position.x = 1.5
    odom.pose.pose.orientation.z, odom.pose.pose.orientation.w = np.sin(0.25), np.cos(0.25)
    odom.twist.twist.linear.x = 0.4
    stamped = TwistStamped()
    stamped.header.stamp = Time(sec=T0 // 10**9, nanosec=30_000_000)
    stamped.twist.linear.x = 0.3
    plain = Twist()
    plain.angular.z = -0.2
    battery = BatteryState()
    battery.voltage = 25.0
    humble_sqlite_bag(
        tmp_path / "humble",
        [
            ("/scan", "sensor_msgs/msg/LaserScan", T0 + 5, serialize_message(scan)),
            ("/odom", "nav_msgs/msg/Odometry", T0 + 20_000_000, serialize_message(odom)),
            (
                "/cmd_vel",
                "geometry_msgs/msg/TwistStamped",
                T0 + 30_000_000,
                serialize_message(stamped),
            ),
            (
                "/cmd_vel_plain",
                "geometry_msgs/msg/Twist",
                T0 + 40_000_000,
                serialize_message(plain),
            ),
            (
                "/battery",
                "sensor_msgs/msg/BatteryState",
                T0 + 50_000_000,
                serialize_message(battery),
            ),
        ],
    )
    with BagReader(tmp_path / "humble") as reader:
        info = reader.info()
        values = {m.topic: m.value for m in reader.messages()}
    assert info.storage == "sqlite3"
    assert info.message_count == 5
    assert reader.issues == []
    assert reader.skipped == {"/battery": 1}
    read_scan = values["/scan"]
    assert isinstance(read_scan, Scan)
    assert read_scan.stamp_ns == T0 + 5
    np.testing.assert_allclose(read_scan.ranges, np.linspace(0.5, 6.0, 720), rtol=1e-6)
    read_odom = values["/odom"]
    assert isinstance(read_odom, Odometry)
    assert read_odom.pose.x == pytest.approx(1.5)
    assert read_odom.pose.yaw == pytest.approx(0.5)
    assert values["/cmd_vel"] == DriveCommand(T0 + 30_000_000, 0.3, 0.0)
    assert values["/cmd_vel_plain"] == DriveCommand(T0 + 40_000_000, 0.0, -0.2)
