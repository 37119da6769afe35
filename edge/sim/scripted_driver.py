"""A stand-in stack for the simulator until the real one exists: drives the route, no avoidance."""

from __future__ import annotations

import math

from edge.nav.path_follower import PathFollower
from edge.nav.route_planner import Route
from edge.stack import SensorMessage
from edge.types import DriveCommand, Odometry, Pose2D

__all__ = ["ScriptedDriver"]


class ScriptedDriver:
    """Follows a route by pure pursuit on odometry; sees no obstacle, so it stops for none.

    Odometry's frame is the map frame shifted to the chair's start pose.
    """

    def __init__(
        self, route: Route, start: Pose2D, goal: tuple[float, float] | None = None
    ) -> None:
        """Follow ``route`` from ``start``; end at ``goal`` when it is a pose off the graph.

        The route begins at the waypoint nearest the start: the chair goes there first unless
        it already stands on it, so it joins the graph where a lane allows.
        """
        points = [(start.x, start.y)]
        limits: list[float] = []
        first = route.waypoints[0]
        if math.hypot(first.x - start.x, first.y - start.y) > 0.3:
            points.append((first.x, first.y))
            limits.append(0.5)
        points += [(w.x, w.y) for w in route.waypoints[1:]]
        limits += list(route.speed_limits)
        if goal is not None and math.dist(points[-1], goal) > 0.05:
            points.append(goal)
            limits.append(0.5)
        if len(points) < 2:
            points.append(points[0])
            limits = [0.0]
        self._follower = PathFollower(points, limits)
        self._start = start
        self._pose: Pose2D | None = None
        self.done = False

    def on_sensor(self, now_ns: int, message: SensorMessage) -> None:
        """Track the pose from odometry; scans are ignored."""
        if isinstance(message, Odometry):
            self._pose = self._start.compose(message.pose)

    def step(self, now_ns: int) -> DriveCommand | None:
        """Zero until a pose is known, then the follower's command."""
        if self._pose is None:
            return DriveCommand.stop(now_ns)
        command = self._follower.command(self._pose)
        self.done = command.done
        return DriveCommand(now_ns, command.linear_mps, command.angular_radps)
