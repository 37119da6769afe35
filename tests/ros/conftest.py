"""Fixtures for tests that run chairlink's ROS 2 nodes with real rclpy over real DDS.

DDS stays on this machine (ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST) and in a domain of the test
run's own, so two runs, or a run and a demo, never see each other. Both are set before rclpy
creates a participant. The nodes come from ros2_ws/install (built by `make ros`); `make test`
runs pytest with that workspace sourced.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import rclpy
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.utilities import try_shutdown

from firmware_bridge.mcu_sim import McuSimulator
from tests.firmware_bridge.conftest import wait_until

try:
    from chairlink_ros.firmware_bridge_node import FirmwareBridgeNode
except ImportError as err:  # pragma: no cover - a setup error, reported loudly
    raise ImportError(
        "chairlink_ros is not importable: build it with `make ros` and run the tests with "
        "`make test` (which sources ros2_ws/install/setup.sh)"
    ) from err


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


@pytest.fixture
def graph() -> Iterator[Graph]:
    """A private ROS graph for one test."""
    g = Graph()
    yield g
    g.close()


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[McuSimulator]:
    """The MCU simulator on a pty behind a stable link."""
    with McuSimulator(link=tmp_path / "ttyMCU") as simulator:
        yield simulator


BridgeFactory = Callable[..., FirmwareBridgeNode]


@pytest.fixture
def make_bridge(graph: Graph, sim: McuSimulator) -> Iterator[BridgeFactory]:
    """Start a firmware_bridge_node on the simulator's port, with extra parameter overrides.

    The nodes stop before the simulator does, as a chair's software stops before its MCU.
    """
    nodes: list[FirmwareBridgeNode] = []

    def make(overrides: dict[str, Any] | None = None) -> FirmwareBridgeNode:
        params = [Parameter("firmware.port", value=sim.device_path)]
        params += [Parameter(name, value=value) for name, value in (overrides or {}).items()]
        node = FirmwareBridgeNode(context=graph.context, parameter_overrides=params)
        nodes.append(node)
        graph.add(node)
        assert node.driver.wait_for_link(3.0), node.driver.stats().last_error
        return node

    yield make
    for node in nodes:
        graph.remove(node)
