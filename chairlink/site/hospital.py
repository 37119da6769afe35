"""The stock site: one realistic hospital floor, 80 m x 40 m at 5 cm per cell.

Two wards along two 2.4 m corridors (IHFG Part C recommends 2.45 m clear for beds and trolleys;
an older edition 2.3-2.4 m), patient rooms of 6 m x 8 m either side with 1.1 m doors (a US code
quote gives 1118 mm for bed and stretcher doors), a lobby with three charging docks and a
reception desk, a cross corridor with the nurse station, and a lift landing with two
stretcher lifts of 1.4 m x 2.0 m (UBC 1997: at least 1372 x 2032 mm). Sources in
docs/references.md.

The floor is generated, not committed: ``stock_site()`` builds it on first use into the data
folder (``$CHAIRLINK_DATA`` or ``~/.cache/chairlink``) and loads it from there after.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from chairlink.site.nav_graph import Lane, NavGraph, NavGraphSpec, Waypoint, WaypointKind
from chairlink.site.occupancy import FREE, OCCUPIED, OccupancyMap
from chairlink.site.site import Site, load_site, write_site

__all__ = ["STOCK_SITE", "build_hospital_floor", "data_dir", "stock_site"]

STOCK_SITE = "hospital-floor-v1"
RESOLUTION = 0.05
WIDTH, HEIGHT = 80.0, 40.0
OUTER, INNER = 0.3, 0.2
CORRIDOR = 2.4
DOOR = 1.1
ROOM = 6.0
CORRIDOR_A = (9.0, 9.0 + CORRIDOR)  # south corridor, y from..to
CORRIDOR_B = (28.6, 28.6 + CORRIDOR)  # north corridor
WARDS_X = (16.0, 76.0)  # rooms along the corridors
CROSS_X = (46.0, 46.0 + CORRIDOR)  # cross corridor between the two
LIFT_HALL_X = 72.4


class _Floor:
    """A grid being drawn in metres: walls are filled rectangles, doors are carved gaps."""

    def __init__(self) -> None:
        self.cells = np.full(
            (round(HEIGHT / RESOLUTION), round(WIDTH / RESOLUTION)), FREE, dtype=np.int8
        )

    def _slice(self, x0: float, y0: float, x1: float, y1: float) -> tuple[slice, slice]:
        return (
            slice(round(min(y0, y1) / RESOLUTION), round(max(y0, y1) / RESOLUTION)),
            slice(round(min(x0, x1) / RESOLUTION), round(max(x0, x1) / RESOLUTION)),
        )

    def wall(self, x0: float, y0: float, x1: float, y1: float) -> None:
        self.cells[self._slice(x0, y0, x1, y1)] = OCCUPIED

    def carve(self, x0: float, y0: float, x1: float, y1: float) -> None:
        self.cells[self._slice(x0, y0, x1, y1)] = FREE

    def horizontal_door(self, x: float, y_wall: float, thickness: float = INNER) -> None:
        self.carve(x - DOOR / 2, y_wall, x + DOOR / 2, y_wall + thickness)

    def vertical_door(self, x_wall: float, y: float, thickness: float = INNER) -> None:
        self.carve(x_wall, y - DOOR / 2, x_wall + thickness, y + DOOR / 2)


def _room_centres(x0: float, x1: float) -> list[float]:
    count = round((x1 - x0) / ROOM)
    return [x0 + ROOM * (i + 0.5) for i in range(count)]


def build_hospital_floor() -> Site:
    """Draw the stock floor and its nav graph."""
    f = _Floor()
    waypoints: list[Waypoint] = []
    lanes: list[Lane] = []

    def point(name: str, kind: WaypointKind, x: float, y: float, yaw: float = 0.0) -> str:
        waypoints.append(Waypoint(name=name, kind=kind, x=x, y=y, yaw=yaw))
        return name

    def lane(a: str, b: str, width: float, speed: float = 1.1) -> None:
        lanes.append(Lane(a=a, b=b, width_m=width, speed_limit_mps=speed))

    # Shell.
    f.wall(0, 0, WIDTH, OUTER)
    f.wall(0, HEIGHT - OUTER, WIDTH, HEIGHT)
    f.wall(0, 0, OUTER, HEIGHT)
    f.wall(WIDTH - OUTER, 0, WIDTH, HEIGHT)

    a_lo, a_hi = CORRIDOR_A
    b_lo, b_hi = CORRIDOR_B
    a_mid, b_mid = (a_lo + a_hi) / 2, (b_lo + b_hi) / 2
    corridor_stops: dict[str, list[tuple[float, str]]] = {"a": [], "b": []}

    # Rooms south of corridor A and north of corridor B: walls along the corridor, partitions.
    f.wall(WARDS_X[0], a_lo - INNER, WIDTH, a_lo)
    f.wall(WARDS_X[0], b_hi, WIDTH, b_hi + INNER)
    for x in np.arange(WARDS_X[0], WARDS_X[1] + 0.1, ROOM):
        f.wall(x - INNER / 2, OUTER, x + INNER / 2, a_lo)
        f.wall(x - INNER / 2, b_hi, x + INNER / 2, HEIGHT - OUTER)
    for i, x in enumerate(_room_centres(*WARDS_X)):
        f.horizontal_door(x, a_lo - INNER)
        f.horizontal_door(x, b_hi)
        south = point(f"a-1{i:02d}", WaypointKind.ROOM, x, (OUTER + a_lo) / 2, -math.pi / 2)
        north = point(f"b-3{i:02d}", WaypointKind.ROOM, x, (b_hi + HEIGHT) / 2, math.pi / 2)
        corridor_stops["a"].append((x, south))
        corridor_stops["b"].append((x, north))

    # Middle block between the corridors, split by the cross corridor; its rooms face a corridor.
    middle_lo, middle_hi = a_hi + INNER, b_lo - INNER
    f.wall(WARDS_X[0] - INNER, a_hi, LIFT_HALL_X, middle_lo)
    f.wall(WARDS_X[0] - INNER, middle_hi, LIFT_HALL_X, b_lo)
    f.wall(WARDS_X[0] - INNER, a_hi, WARDS_X[0], b_lo)
    f.wall(LIFT_HALL_X - INNER, a_hi, LIFT_HALL_X, b_lo)
    core_lo, core_hi = 17.0, 23.0
    f.wall(WARDS_X[0], core_lo - INNER / 2, LIFT_HALL_X, core_lo + INNER / 2)
    f.wall(WARDS_X[0], core_hi - INNER / 2, LIFT_HALL_X, core_hi + INNER / 2)
    f.carve(CROSS_X[0], a_hi, CROSS_X[1], b_lo)
    f.wall(CROSS_X[0] - INNER, middle_lo, CROSS_X[0], middle_hi)
    f.wall(CROSS_X[1], middle_lo, CROSS_X[1] + INNER, middle_hi)
    blocks = ((WARDS_X[0], CROSS_X[0]), (CROSS_X[1], LIFT_HALL_X))
    number = 0
    for x0, x1 in blocks:
        for x in np.arange(x0 + ROOM, x1 - 0.1, ROOM):
            f.wall(x - INNER / 2, middle_lo, x + INNER / 2, middle_hi)
        for x in _room_centres(x0, x1):
            f.horizontal_door(x, a_hi)
            f.horizontal_door(x, middle_hi)
            facing_a = point(f"a-2{number:02d}", WaypointKind.ROOM, x, (middle_lo + core_lo) / 2)
            facing_b = point(f"b-2{number:02d}", WaypointKind.ROOM, x, (core_hi + middle_hi) / 2)
            corridor_stops["a"].append((x, facing_a))
            corridor_stops["b"].append((x, facing_b))
            number += 1

    # Nurse station in the core, opening onto the cross corridor.
    station_x0 = CROSS_X[0] - ROOM
    f.wall(station_x0 - INNER / 2, core_lo, station_x0 + INNER / 2, core_hi)
    f.vertical_door(CROSS_X[0] - INNER, (core_lo + core_hi) / 2)
    cross_mid = (CROSS_X[0] + CROSS_X[1]) / 2
    cross_a = point("cross-a", WaypointKind.CORRIDOR, cross_mid, a_mid)
    cross_b = point("cross-b", WaypointKind.CORRIDOR, cross_mid, b_mid)
    cross_core = point("cross-core", WaypointKind.CORRIDOR, cross_mid, (core_lo + core_hi) / 2)
    station = point(
        "nurse-station", WaypointKind.STATION, CROSS_X[0] - 2.0, (core_lo + core_hi) / 2, math.pi
    )
    lane(cross_a, cross_core, CORRIDOR)
    lane(cross_core, cross_b, CORRIDOR)
    lane(cross_core, station, DOOR - 0.1, 0.5)
    corridor_stops["a"].append((cross_mid, cross_a))
    corridor_stops["b"].append((cross_mid, cross_b))

    # Lobby: the west block, with offices in its corners, docks and a reception desk.
    f.wall(OUTER, 6.0 - INNER, WARDS_X[0], 6.0)
    f.wall(OUTER, 34.0, WARDS_X[0], 34.0 + INNER)
    f.horizontal_door(8.0, 6.0 - INNER)
    f.horizontal_door(8.0, 34.0)
    f.wall(WARDS_X[0] - INNER, OUTER, WARDS_X[0], a_lo - INNER)
    f.wall(WARDS_X[0] - INNER, b_hi + INNER, WARDS_X[0], HEIGHT - OUTER)
    f.wall(3.0, 25.0, 6.0, 26.0)
    lobby = point("lobby", WaypointKind.LOBBY, 8.0, 18.0)
    lobby_a = point("lobby-a", WaypointKind.LOBBY, 12.0, a_mid)
    lobby_b = point("lobby-b", WaypointKind.LOBBY, 12.0, b_mid)
    lane(lobby, lobby_a, 2.0)
    lane(lobby, lobby_b, 2.0)
    corridor_stops["a"].append((12.0, lobby_a))
    corridor_stops["b"].append((12.0, lobby_b))
    for i, y in enumerate((14.0, 16.0, 18.0)):
        dock = point(f"dock-{i + 1}", WaypointKind.DOCK, 1.5, y, math.pi)
        lane(dock, lobby, 1.5, 0.3)

    # Lift landing at the east end, two stretcher lifts in their shafts.
    shaft_x = WIDTH - OUTER - 2.3
    f.wall(shaft_x, a_hi, WIDTH - OUTER, b_lo)
    landing_x = (LIFT_HALL_X + shaft_x) / 2
    landing = point("lift-landing", WaypointKind.CORRIDOR, landing_x, (a_hi + b_lo) / 2)
    landing_a = point("landing-a", WaypointKind.CORRIDOR, landing_x, a_mid)
    landing_b = point("landing-b", WaypointKind.CORRIDOR, landing_x, b_mid)
    lane(landing_a, landing, CORRIDOR)
    lane(landing, landing_b, CORRIDOR)
    corridor_stops["a"].append((landing_x, landing_a))
    corridor_stops["b"].append((landing_x, landing_b))
    for i, y in enumerate((16.0, 24.0)):
        f.carve(shaft_x + 0.2, y - 0.7, shaft_x + 2.2, y + 0.7)
        f.vertical_door(shaft_x, y)
        front = point(f"lift-{i + 1}-front", WaypointKind.CORRIDOR, landing_x, y, 0.0)
        car = point(f"lift-{i + 1}", WaypointKind.LIFT, shaft_x + 1.2, y, math.pi)
        lane(landing, front, 4.0)
        lane(front, car, DOOR - 0.1, 0.3)

    # Corridors: a waypoint in front of every door and junction, chained along the centreline.
    for corridor, y in (("a", a_mid), ("b", b_mid)):
        stops = sorted(corridor_stops[corridor])
        previous: str | None = None
        for x, target in stops:
            if target.startswith(("lobby", "cross", "landing")):
                here = target
            else:
                here = point(f"{corridor}-door-{target}", WaypointKind.DOOR, x, y)
                lane(here, target, DOOR - 0.1, 0.5)
            if previous is not None:
                lane(previous, here, CORRIDOR)
            previous = here

    grid = OccupancyMap(f.cells, RESOLUTION, (0.0, 0.0, 0.0))
    graph = NavGraph(NavGraphSpec(waypoints=waypoints, lanes=lanes))
    return Site(
        STOCK_SITE,
        grid,
        graph,
        "Stock hospital floor: two wards on 2.4 m corridors, lobby with docks, lift landing",
    )


def data_dir() -> Path:
    """Where generated data (sites, sample bags) lives: $CHAIRLINK_DATA or ~/.cache/chairlink."""
    configured = os.environ.get("CHAIRLINK_DATA")
    return Path(configured) if configured else Path.home() / ".cache" / "chairlink"


def stock_site(*, rebuild: bool = False) -> Site:
    """The stock floor, built into the data folder on first use and loaded from there."""
    folder = data_dir() / "sites" / STOCK_SITE
    if rebuild or not (folder / "site.yaml").exists():
        write_site(build_hospital_floor(), folder)
    return load_site(folder)
