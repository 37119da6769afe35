"""Routes over the nav graph: the fastest chain of lanes between two waypoints (Dijkstra).

A lane costs its length over its speed limit (capped by the chair's own), so a route prefers a
clear corridor over a slow lane through a door, as a porter would.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

from chairlink.errors import ChairlinkError
from chairlink.site import NavGraph, Waypoint

__all__ = ["NoRouteError", "Route", "nearest_waypoint", "plan_route"]


class NoRouteError(ChairlinkError):
    """No chain of lanes joins the two waypoints (or one of them does not exist)."""


@dataclass(frozen=True)
class Route:
    """Waypoints to visit in order, with the speed limit of each leg and the expected time."""

    waypoints: tuple[Waypoint, ...]
    speed_limits: tuple[float, ...]
    duration_s: float

    @property
    def length_m(self) -> float:
        """Total length along the legs."""
        return sum(
            math.hypot(b.x - a.x, b.y - a.y)
            for a, b in zip(self.waypoints, self.waypoints[1:], strict=False)
        )


def plan_route(graph: NavGraph, start: str, goal: str, max_speed_mps: float = 1.1) -> Route:
    """The fastest route from ``start`` to ``goal``.

    Raises:
        NoRouteError: a name is unknown, or the goal cannot be reached.
    """
    waypoints = graph.waypoints
    for name in (start, goal):
        if name not in waypoints:
            raise NoRouteError(f"unknown waypoint {name!r}")
    best: dict[str, float] = {start: 0.0}
    previous: dict[str, tuple[str, float]] = {}
    queue: list[tuple[float, str]] = [(0.0, start)]
    while queue:
        cost, name = heapq.heappop(queue)
        if name == goal:
            break
        if cost > best.get(name, math.inf):
            continue
        for neighbour, lane in graph.neighbours(name):
            speed = min(lane.speed_limit_mps, max_speed_mps)
            candidate = cost + graph.lane_length(lane) / speed
            if candidate < best.get(neighbour, math.inf):
                best[neighbour] = candidate
                previous[neighbour] = (name, speed)
                heapq.heappush(queue, (candidate, neighbour))
    if goal not in best:
        raise NoRouteError(f"no lanes lead from {start} to {goal}")
    names, speeds = [goal], []
    while names[-1] != start:
        name, speed = previous[names[-1]]
        names.append(name)
        speeds.append(speed)
    names.reverse()
    speeds.reverse()
    return Route(tuple(waypoints[n] for n in names), tuple(speeds), best[goal])


def nearest_waypoint(graph: NavGraph, x: float, y: float) -> Waypoint:
    """The waypoint closest to (x, y) in a straight line."""
    return min(graph.spec.waypoints, key=lambda w: math.hypot(w.x - x, w.y - y))
