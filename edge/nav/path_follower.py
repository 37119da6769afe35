"""Pure pursuit along a polyline: a curvature towards a point a lookahead ahead on the path.

Plain maths on given poses, no state but the progress along the path. Speed is the leg's limit,
ramped down near the goal and sharp corners; a heading error beyond 45 degrees turns the chair
in place first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from edge.types import Pose2D

__all__ = ["FollowerCommand", "PathFollower"]


@dataclass(frozen=True, slots=True)
class FollowerCommand:
    """Velocity to drive at, and whether the goal is reached."""

    linear_mps: float
    angular_radps: float
    done: bool


class PathFollower:
    """Follows ``points`` (x, y) with per-leg speed limits (one fewer than points)."""

    def __init__(
        self,
        points: list[tuple[float, float]],
        speed_limits: list[float],
        *,
        lookahead_m: float = 0.8,
        goal_tolerance_m: float = 0.2,
        max_angular_radps: float = 0.8,
        decel_mps2: float = 0.4,
    ) -> None:
        if len(points) < 2 or len(speed_limits) != len(points) - 1:
            raise ValueError("a path needs two points or more and one speed limit per leg")
        self._points = points
        self._limits = speed_limits
        self._lookahead = lookahead_m
        self._tolerance = goal_tolerance_m
        self._max_angular = max_angular_radps
        self._decel = decel_mps2
        self._leg = 0
        self._turning = False

    def command(self, pose: Pose2D) -> FollowerCommand:
        """The velocity for the chair at ``pose``."""
        goal = self._points[-1]
        remaining = math.hypot(goal[0] - pose.x, goal[1] - pose.y)
        if remaining < self._tolerance:
            return FollowerCommand(0.0, 0.0, True)
        self._advance(pose)
        target = self._lookahead_point(pose)
        dx, dy = target[0] - pose.x, target[1] - pose.y
        heading_error = math.atan2(dy, dx) - pose.yaw
        heading_error = math.atan2(math.sin(heading_error), math.cos(heading_error))
        # Turn in place past 45 degrees of heading error, and keep turning down to 8: driving
        # off with a large error would swing the chair's front across a door frame.
        limit = math.radians(8) if self._turning else math.radians(45)
        self._turning = abs(heading_error) > limit
        if self._turning:
            turn = math.copysign(
                min(self._max_angular * 0.6, 1.5 * abs(heading_error)), heading_error
            )
            return FollowerCommand(0.0, turn, False)
        distance_left = remaining + sum(
            math.dist(a, b)
            for a, b in zip(
                self._points[self._leg + 1 :], self._points[self._leg + 2 :], strict=False
            )
        )
        speed = min(self._limits[self._leg], math.sqrt(2 * self._decel * max(remaining, 0.0)))
        speed = min(speed, math.sqrt(2 * self._decel * distance_left))
        if self._leg < len(self._limits) - 1 and self._turn_at(self._leg + 1) >= math.radians(30):
            # Arrive at a sharp corner at a standstill: the chair turns there in place.
            corner = self._points[self._leg + 1]
            to_corner = math.hypot(corner[0] - pose.x, corner[1] - pose.y)
            speed = min(speed, math.sqrt(2 * self._decel * to_corner))
        chord = max(math.hypot(dx, dy), 1e-6)
        curvature = 2.0 * math.sin(heading_error) / chord
        angular = max(-self._max_angular, min(self._max_angular, speed * curvature))
        if abs(speed * curvature) > self._max_angular:
            speed = self._max_angular / abs(curvature)
        return FollowerCommand(speed, angular, False)

    def _advance(self, pose: Pose2D) -> None:
        while self._leg < len(self._limits) - 1:
            ax, ay = self._points[self._leg]
            bx, by = self._points[self._leg + 1]
            # Round a gentle bend early; at a sharp one (into a door) arrive first, then turn.
            if self._turn_at(self._leg + 1) < math.radians(30):
                switch = (
                    math.hypot(bx - ax - (pose.x - ax), by - ay - (pose.y - ay)) < self._lookahead
                )
            else:
                length = max(math.hypot(bx - ax, by - ay), 1e-9)
                along = ((pose.x - ax) * (bx - ax) + (pose.y - ay) * (by - ay)) / length
                switch = along >= length - 0.03
            if not switch:
                break
            self._leg += 1

    def _turn_at(self, index: int) -> float:
        ax, ay = self._points[index - 1]
        bx, by = self._points[index]
        cx, cy = self._points[index + 1]
        turn = math.atan2(cy - by, cx - bx) - math.atan2(by - ay, bx - ax)
        return abs(math.atan2(math.sin(turn), math.cos(turn)))

    def _lookahead_point(self, pose: Pose2D) -> tuple[float, float]:
        """A carrot on the current leg, a lookahead past the chair's projection onto it."""
        ax, ay = self._points[self._leg]
        bx, by = self._points[self._leg + 1]
        length = math.hypot(bx - ax, by - ay)
        if length < 1e-9:
            return bx, by
        ux, uy = (bx - ax) / length, (by - ay) / length
        along = (pose.x - ax) * ux + (pose.y - ay) * uy
        ahead = min(length, max(0.0, along) + self._lookahead)
        return ax + ux * ahead, ay + uy * ahead
