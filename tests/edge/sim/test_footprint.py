"""The footprint: chair.yaml's polygon, whatever its shape, against walls and shapes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from chairlink.geometry import FootprintConfig
from chairlink.site import FREE, OCCUPIED, OccupancyMap
from edge.sim.footprint import Footprint
from edge.sim.shapes import Box, Circle, ObjectClass
from edge.types import Pose2D

RES = 0.05

# The stock outline with a notch between the footrests, 0.3 m wide and 0.4 m deep.
NOTCHED = FootprintConfig(
    polygon=(
        (0.85, 0.35),
        (-0.35, 0.35),
        (-0.35, -0.35),
        (0.85, -0.35),
        (0.85, -0.15),
        (0.45, -0.15),
        (0.45, 0.15),
        (0.85, 0.15),
    )
)


@pytest.fixture(scope="module")
def room() -> tuple[OccupancyMap, np.ndarray]:
    """A 10 m x 6 m room whose walls fill the outermost ring of cells, and its clearance."""
    cells = np.full((round(6 / RES), round(10 / RES)), FREE, dtype=np.int8)
    cells[0, :] = cells[-1, :] = OCCUPIED
    cells[:, 0] = cells[:, -1] = OCCUPIED
    grid = OccupancyMap(cells, RES)
    return grid, grid.clearance()


def test_a_pole_in_the_notch_touches_a_notched_chair_only_where_a_rectangle_would(
    room: tuple[OccupancyMap, np.ndarray],
) -> None:
    grid, clearance = room
    # The chair at (5, 3) facing +y: its local +x is the world's +y.
    at = Pose2D(5.0, 3.0, math.pi / 2)
    in_notch = Circle(1, ObjectClass.POLE, 5.0, 3.0 + 0.70, 0.05)
    in_footrest = Circle(2, ObjectClass.POLE, 5.0 - 0.25, 3.0 + 0.60, 0.05)
    notched, stock = Footprint(NOTCHED), Footprint()
    contact = notched.contact(at, grid, clearance, [in_notch])
    assert contact.touching == ()
    # 0.15 m to either side of the notch's centre line, less the pole's radius.
    assert contact.clearance_m == pytest.approx(0.10, abs=0.01)
    assert stock.contact(at, grid, clearance, [in_notch]).touching == (1,)
    assert notched.contact(at, grid, clearance, [in_footrest]).touching == (2,)
    assert stock.contact(at, grid, clearance, [in_footrest]).touching == (2,)


def test_a_box_overlapping_a_triangle_touches_it_and_one_beside_it_does_not(
    room: tuple[OccupancyMap, np.ndarray],
) -> None:
    grid, clearance = room
    triangle = Footprint(FootprintConfig(polygon=((1.0, 0.0), (-0.5, 0.5), (-0.5, -0.5))))
    at = Pose2D(5.0, 3.0, 0.0)
    # The tip reaches x = 6.0 on y = 3: a cart across it touches, one beside the slanted edge
    # (inside the triangle's bounding box) does not.
    across_the_tip = Box(1, ObjectClass.CART, 5.9, 3.0, 0.0, 0.4, 0.2)
    beside = Box(2, ObjectClass.CART, 5.8, 3.4, 0.0, 0.2, 0.2)
    assert triangle.contact(at, grid, clearance, [across_the_tip]).touching == (1,)
    contact = triangle.contact(at, grid, clearance, [beside])
    assert contact.touching == ()
    assert contact.clearance_m > 0.0
    assert Footprint().contact(at, grid, clearance, [beside]).touching == (2,)
    assert triangle.circumradius_m == pytest.approx(1.0)


def test_a_footprint_past_the_wall_touches_it(room: tuple[OccupancyMap, np.ndarray]) -> None:
    grid, clearance = room
    wide = Footprint(FootprintConfig(polygon=((0.5, 1.5), (-0.5, 1.5), (-0.5, -1.5), (0.5, -1.5))))
    # 1.4 m from the wall's face at y = 0.05: the stock chair (0.35 m half-width) is clear of it.
    at = Pose2D(5.0, 1.45, 0.0)
    assert wide.contact(at, grid, clearance, []).touching == (0,)
    stock = Footprint().contact(at, grid, clearance, [])
    assert stock.touching == ()
    assert stock.clearance_m == pytest.approx(1.45 - 0.05 - 0.35, abs=RES)
