"""A private ROS graph for a test: one context, an executor on a thread, a probe node.

DDS stays on this machine (ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST) and in a domain of the test
run's own, so two runs, or a run and a demo, never see each other. Both are set on import,
before rclpy creates a participant. The nodes come from ros2_ws/install (built by `make ros`);
`make test` runs pytest with that workspace sourced.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

import rclpy
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.utilities import try_shutdown

from tests.wait import wait_until

try:
    from chairlink_ros.firmware_bridge_node import FirmwareBridgeNode
except ImportError as err:  # pragma: no cover - a setup error, reported loudly
    raise ImportError(
        "chairlink_ros is not importable: build it with `make ros` and run the tests with "
        "`make test` (which sources ros2_ws/install/setup.sh)"
    ) from err

__all__ = ["BridgeFactory", "FirmwareBridgeNode", "Graph"]

# Read when rclpy.init() creates the DDS participant, which no test does before this runs.
os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
os.environ["ROS_DOMAIN_ID"] = os.environ.get(
    "CHAIRLINK_TEST_ROS_DOMAIN_ID", str(1 + os.getpid() % 100)
)


class Graph:
    """One ROS context, an executor spinning on a thread, and a probe node for the test."""

    def __init__(self) -> None:
        self.context = Context()
        rclpy.init(context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.probe = Node("test_probe", context=self.context)
        self.executor.add_node(self.probe)
        self._nodes: list[Node] = [self.probe]
        self._thread = threading.Thread(target=self.executor.spin, daemon=True)
        self._thread.start()

    def add(self, node: Node) -> Node:
        """Spin another node on the executor; it is destroyed at teardown."""
        self._nodes.append(node)
        self.executor.add_node(node)
        return node

    def remove(self, node: Node) -> None:
        """Stop spinning a node and destroy it now."""
        if node in self._nodes:
            self._nodes.remove(node)
            self.executor.remove_node(node)
            node.destroy_node()

    def collect(self, msg_type: Any, topic: str, qos: Any) -> list[Any]:
        """Subscribe the probe node to a topic; the returned list fills as messages arrive."""
        received: list[Any] = []
        self.probe.create_subscription(msg_type, topic, received.append, qos)
        return received

    def call(self, srv_type: Any, name: str, request: Any, timeout: float = 3.0) -> Any:
        """Call a service and wait for its response."""
        client = self.probe.create_client(srv_type, name)
        assert client.wait_for_service(timeout_sec=timeout), f"service {name} not available"
        future = client.call_async(request)
        assert wait_until(future.done, timeout), f"no response from {name}"
        return future.result()

    def close(self) -> None:
        # The spin thread must be out of every callback before a node is destroyed under it.
        self.executor.shutdown(timeout_sec=5.0)
        self._thread.join(timeout=5.0)
        for node in reversed(self._nodes):
            node.destroy_node()
        try_shutdown(context=self.context)


BridgeFactory = Callable[..., FirmwareBridgeNode]
"""Starts a firmware_bridge_node on the simulator's port, with parameter overrides."""
