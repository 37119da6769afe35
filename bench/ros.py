"""ROS figures: from a command published on /cmd_vel to its drive frame on the serial port.

Needs the colcon workspace sourced (``make bench`` does it).
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from bench.figures import Figure
from firmware_bridge.framing import Frame
from firmware_bridge.mcu_sim import McuSimulator
from firmware_bridge.messages import Drive

__all__ = ["cmd_to_serial_p99_ms"]


def cmd_to_serial_p99_ms(commands: int = 600, rate_hz: float = 50.0) -> Figure:
    """[ros.cmd_to_serial_p99_ms]: TwistStamped published -> its DRIVE frame read off the pty.

    The node and the MCU simulator run in this process over real DDS and a real pty; the tap
    stamps each frame when its bytes come off the pty, before the simulated UART's pacing.
    """
    os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
    os.environ.setdefault("ROS_DOMAIN_ID", str(1 + os.getpid() % 100))
    import rclpy  # noqa: PLC0415 - ROS loads only for this figure
    from chairlink_ros import qos  # noqa: PLC0415
    from chairlink_ros.firmware_bridge_node import FirmwareBridgeNode  # noqa: PLC0415
    from geometry_msgs.msg import TwistStamped  # noqa: PLC0415
    from rclpy.executors import SingleThreadedExecutor  # noqa: PLC0415
    from rclpy.parameter import Parameter  # noqa: PLC0415
    from rclpy.utilities import try_shutdown  # noqa: PLC0415

    arrived: dict[int, int] = {}

    def tap(read_ns: int, frame: Frame) -> None:
        if isinstance(frame.message, Drive):
            key = round(frame.message.linear_mps * 1e4)
            arrived.setdefault(key, read_ns)

    sent: dict[int, int] = {}
    with tempfile.TemporaryDirectory(prefix="chairlink-bench-") as tmp:
        sim = McuSimulator(link=Path(tmp) / "ttyMCU", frame_observer=tap)
        sim.start()
        rclpy.init()
        executor = SingleThreadedExecutor()
        node = FirmwareBridgeNode(
            parameter_overrides=[Parameter("firmware.port", value=sim.device_path)]
        )
        probe = rclpy.create_node("bench_probe")
        executor.add_node(node)
        executor.add_node(probe)
        spinner = threading.Thread(target=executor.spin, daemon=True)
        spinner.start()
        try:
            if not node.driver.wait_for_link(5.0):
                raise RuntimeError(f"no link: {node.driver.stats().last_error}")
            publisher = probe.create_publisher(TwistStamped, "cmd_vel", qos.COMMANDS)
            deadline = time.monotonic() + 5.0
            while publisher.get_subscription_count() == 0 and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(0.5)
            message = TwistStamped()
            for i in range(1, commands + 1):
                message.twist.linear.x = i * 1e-4
                sent[i] = time.monotonic_ns()
                publisher.publish(message)
                time.sleep(1.0 / rate_hz)
            time.sleep(0.2)
        finally:
            executor.shutdown()
            node.destroy_node()
            probe.destroy_node()
            try_shutdown()
            sim.stop()
    latencies = np.array([(arrived[k] - sent[k]) / 1e6 for k in sent if k in arrived])
    if len(latencies) < commands * 0.95:
        raise RuntimeError(f"only {len(latencies)} of {commands} commands reached the port")
    return Figure(
        "ros.cmd_to_serial_p99_ms",
        float(np.percentile(latencies, 99)),
        "ms",
        "<=",
        10.0,
        f"{len(latencies)} commands, p50 {np.percentile(latencies, 50):.2f} ms, "
        f"max {latencies.max():.2f} ms",
    )
