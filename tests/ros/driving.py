"""Driving a chair through its ROS graph in tests: /cmd_vel messages at the nodes' rate, arming."""

from __future__ import annotations

import threading
import time

from geometry_msgs.msg import TwistStamped
from rclpy.publisher import Publisher
from std_srvs.srv import Trigger

from tests.ros.graph import Graph
from tests.wait import WAIT_S, wait_until

__all__ = ["PERIOD_S", "drive_while", "publish_for", "rearm", "twist"]

PERIOD_S = 0.05


def twist(linear: float, angular: float = 0.0) -> TwistStamped:
    """A /cmd_vel command in base_link."""
    msg = TwistStamped()
    msg.header.frame_id = "base_link"
    msg.twist.linear.x = linear
    msg.twist.angular.z = angular
    return msg


def publish_for(publisher: Publisher, message: object, seconds: float) -> None:
    """Publish at 20 Hz for a while, once the node's subscription has matched.

    Messages published before DDS discovery matches the two ends are lost, and a slow
    discovery on a loaded machine would eat into the time the test means to drive.
    """
    assert wait_until(lambda: publisher.get_subscription_count() > 0, WAIT_S), "no subscriber"
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        publisher.publish(message)
        time.sleep(PERIOD_S)


def drive_while(publisher: Publisher, driving: threading.Event) -> None:
    """Publish 0.5 m/s at 20 Hz while ``driving`` is set."""
    while driving.is_set():
        publisher.publish(twist(0.5))
        time.sleep(PERIOD_S)


def rearm(graph: Graph) -> None:
    """Arm the chair through the bridge's rearm service; fail with the bridge's reason."""
    response = graph.call(Trigger, "rearm", Trigger.Request())
    assert response.success, response.message
