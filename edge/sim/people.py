"""People who walk the corridors: along nav-graph routes towards goals, at reference speeds.

Walking speeds follow the reference figures (docs/references.md): visitors and staff
N(1.3, 0.3) m/s (mean pedestrian speed 1.32 m/s, SD 0.31), patients and the elderly
N(0.75, 0.1) m/s (0.76 m/s for older adults at risk of disability, 0.64 m/s when frail). Each
walks a little off the lane's centre line, waits before setting off (stepping out of a
doorway), and stands at the goal. People do not avoid the chair: avoiding them is the stack's
job, and the simulator's ground truth counts it when the stack fails.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from edge.sim.shapes import Circle, ObjectClass

__all__ = ["Person", "PersonKind", "walking_speed"]

BODY_RADIUS_M = 0.25


class PersonKind(StrEnum):
    """Who walks, which sets how fast."""

    VISITOR = "visitor"
    STAFF = "staff"
    PATIENT = "patient"
    ELDERLY = "elderly"


def walking_speed(kind: PersonKind, rng: np.random.Generator) -> float:
    """A walking speed drawn for one person of this kind, m/s."""
    if kind in (PersonKind.PATIENT, PersonKind.ELDERLY):
        return float(np.clip(rng.normal(0.75, 0.1), 0.4, 1.1))
    return float(np.clip(rng.normal(1.3, 0.3), 0.6, 2.0))


@dataclass
class Person:
    """One person: a path of points to walk at a speed, after a wait."""

    id: int
    kind: PersonKind
    path: list[tuple[float, float]]
    speed_mps: float
    start_s: float = 0.0
    x: float = 0.0
    y: float = 0.0
    _leg: int = 0

    def __post_init__(self) -> None:
        self.x, self.y = self.path[0]

    @property
    def arrived(self) -> bool:
        """Whether the person stands at the end of their path."""
        return self._leg >= len(self.path) - 1

    def step(self, now_s: float, dt_s: float) -> None:
        """Walk for ``dt_s`` seconds (nothing before the start time or after arriving)."""
        if now_s < self.start_s or self.speed_mps <= 0.0:
            return
        budget = self.speed_mps * dt_s
        while budget > 0.0 and not self.arrived:
            tx, ty = self.path[self._leg + 1]
            gap = math.hypot(tx - self.x, ty - self.y)
            if gap <= budget:
                self.x, self.y = tx, ty
                self._leg += 1
                budget -= gap
            else:
                self.x += (tx - self.x) / gap * budget
                self.y += (ty - self.y) / gap * budget
                budget = 0.0

    def shape(self) -> Circle:
        """The person as the sensors see them."""
        return Circle(self.id, ObjectClass.PERSON, self.x, self.y, BODY_RADIUS_M, 0.0, 1.7)
