"""Fixtures for tests that run chairlink's ROS 2 nodes with real rclpy over real DDS.

The graph and its DDS settings (this machine only, the run's own domain) are in
tests/ros/graph.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rclpy.parameter import Parameter

from firmware_bridge.mcu_sim import McuSimulator
from tests.ros.graph import BridgeFactory, FirmwareBridgeNode, Graph
from tests.wait import WAIT_S


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


LOADED_WATCHDOGS = {
    "firmware.drive_timeout_s": 1.0,
    "firmware.mcu_link_timeout_s": 2.0,
    "firmware.host_link_timeout_s": 2.0,
}
"""On a loaded machine the node's threads can stand still for longer than the chair's 0.2 s
drive timeout, and the MCU would rightly brake a chair a test is driving: the watchdogs' own
timing is tested on simulated time (tests/firmware_bridge/test_plant.py)."""


@pytest.fixture
def make_bridge(graph: Graph, sim: McuSimulator) -> Iterator[BridgeFactory]:
    """Start a firmware_bridge_node on the simulator's port, with extra parameter overrides.

    The nodes stop before the simulator does, as a chair's software stops before its MCU.
    """
    nodes: list[FirmwareBridgeNode] = []

    def make(overrides: dict[str, Any] | None = None) -> FirmwareBridgeNode:
        values = {"firmware.port": sim.device_path, **LOADED_WATCHDOGS, **(overrides or {})}
        params = [Parameter(name, value=value) for name, value in values.items()]
        node = FirmwareBridgeNode(context=graph.context, parameter_overrides=params)
        nodes.append(node)
        graph.add(node)
        assert node.driver.wait_for_link(WAIT_S), node.driver.stats().last_error
        return node

    yield make
    for node in nodes:
        graph.remove(node)
