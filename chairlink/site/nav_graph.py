"""The nav graph: named waypoints and the lanes between them, with widths and speed limits.

Both the chair (route planning) and the monitor (dispatch, travel times) plan over it, so it
lives here, in the shared contract.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["Lane", "NavGraph", "NavGraphSpec", "Waypoint", "WaypointKind"]

Name = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]


class WaypointKind(StrEnum):
    """What a waypoint is for."""

    ROOM = "room"
    WARD = "ward"
    CORRIDOR = "corridor"
    DOOR = "door"
    LOBBY = "lobby"
    LIFT = "lift"
    DOCK = "dock"
    STATION = "station"


class Waypoint(BaseModel):
    """A named place on the map, in metres in the map frame; yaw is the pose to stop in."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    name: Name
    kind: WaypointKind
    x: float
    y: float
    yaw: float = 0.0


class Lane(BaseModel):
    """A drivable connection between two waypoints."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    a: Name
    b: Name
    width_m: Annotated[float, Field(gt=0.5, le=10.0)]
    """Clear width along the lane; the loader checks the map gives at least this much."""

    speed_limit_mps: Annotated[float, Field(gt=0, le=4.17)] = 1.1
    one_way: bool = False
    """Drivable from a to b only."""


class NavGraphSpec(BaseModel):
    """The nav graph file's schema."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    frame_id: str = "map"
    waypoints: Annotated[list[Waypoint], Field(min_length=1)]
    lanes: list[Lane]

    @model_validator(mode="after")
    def _check_references(self) -> NavGraphSpec:
        names = [w.name for w in self.waypoints]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"waypoint names used twice: {', '.join(duplicates)}")
        known = set(names)
        for i, lane in enumerate(self.lanes):
            for end in (lane.a, lane.b):
                if end not in known:
                    raise ValueError(
                        f"lanes[{i}] ({lane.a} - {lane.b}) names unknown waypoint {end}"
                    )
            if lane.a == lane.b:
                raise ValueError(f"lanes[{i}] joins {lane.a} to itself")
        return self


@dataclass(frozen=True)
class NavGraph:
    """A validated nav graph with lookups."""

    spec: NavGraphSpec

    @property
    def waypoints(self) -> dict[str, Waypoint]:
        """Waypoints by name."""
        return {w.name: w for w in self.spec.waypoints}

    @property
    def lanes(self) -> list[Lane]:
        """All lanes."""
        return list(self.spec.lanes)

    def of_kind(self, kind: WaypointKind) -> list[Waypoint]:
        """The waypoints of one kind, in file order."""
        return [w for w in self.spec.waypoints if w.kind == kind]

    def neighbours(self, name: str) -> list[tuple[str, Lane]]:
        """Where one can drive from a waypoint, and by which lane."""
        out: list[tuple[str, Lane]] = []
        for lane in self.spec.lanes:
            if lane.a == name:
                out.append((lane.b, lane))
            elif lane.b == name and not lane.one_way:
                out.append((lane.a, lane))
        return out

    def lane_length(self, lane: Lane) -> float:
        """Straight-line length of a lane in metres."""
        a, b = self.waypoints[lane.a], self.waypoints[lane.b]
        return math.hypot(b.x - a.x, b.y - a.y)

    def components(self) -> list[set[str]]:
        """Groups of waypoints connected by lanes in either direction."""
        adjacency: dict[str, set[str]] = {w.name: set() for w in self.spec.waypoints}
        for lane in self.spec.lanes:
            adjacency[lane.a].add(lane.b)
            adjacency[lane.b].add(lane.a)
        seen: set[str] = set()
        groups: list[set[str]] = []
        for start in adjacency:
            if start in seen:
                continue
            group, stack = set(), [start]
            while stack:
                node = stack.pop()
                if node in group:
                    continue
                group.add(node)
                stack.extend(adjacency[node] - group)
            seen |= group
            groups.append(group)
        return groups
