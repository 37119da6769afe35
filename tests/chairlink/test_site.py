"""Sites: the map_server format, the nav graph, their cross-checks, and the stock floor."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from chairlink.errors import SiteError
from chairlink.site import (
    FREE,
    OCCUPIED,
    STOCK_SITE,
    OccupancyMap,
    Site,
    WaypointKind,
    build_hospital_floor,
    load_site,
    read_map,
    stock_site,
    write_map,
    write_site,
)


@pytest.fixture(scope="module")
def floor() -> Site:
    return build_hospital_floor()


@pytest.fixture
def site_dir(tmp_path: Path, floor: Site) -> Path:
    return write_site(floor, tmp_path / "site")


def test_stock_floor_is_80_by_40_m_at_5_cm_and_connected(floor: Site) -> None:
    assert floor.map.cells.shape == (800, 1600)
    assert (floor.map.width_m, floor.map.height_m) == (80.0, 40.0)
    assert floor.problems() == []
    assert len(floor.graph.components()) == 1
    kinds = {w.kind for w in floor.graph.spec.waypoints}
    assert {WaypointKind.ROOM, WaypointKind.DOCK, WaypointKind.LIFT, WaypointKind.LOBBY} <= kinds
    assert len(floor.graph.of_kind(WaypointKind.DOCK)) == 3
    assert len(floor.graph.of_kind(WaypointKind.ROOM)) >= 30


def test_corridors_and_doors_have_their_reference_widths(floor: Site) -> None:
    clearance = floor.clearance()
    # Corridor A's centreline at x = 30 m: 2.4 m wide, so 1.2 m to either wall.
    ix, iy = floor.map.cell_of(30.0, 10.2)
    assert 2 * clearance[iy, ix] == pytest.approx(2.4, abs=0.1)
    # A room door: 1.1 m, so the chair's 0.7 m passes with 0.2 m a side.
    door = floor.graph.waypoints["a-door-a-100"]
    ix, iy = floor.map.cell_of(door.x, 8.9)
    assert 2 * clearance[iy, ix] == pytest.approx(1.1, abs=0.1)


def test_site_round_trips_through_its_files(site_dir: Path, floor: Site) -> None:
    loaded = load_site(site_dir)
    assert loaded.name == STOCK_SITE
    assert np.array_equal(loaded.map.cells, floor.map.cells)
    assert loaded.graph.spec == floor.graph.spec


def test_pgm_is_written_as_map_saver_does(tmp_path: Path) -> None:
    cells = np.full((4, 6), FREE, dtype=np.int8)
    cells[0, :] = OCCUPIED  # the lowest row in y
    write_map(OccupancyMap(cells, 0.5, (1.0, 2.0, 0.0)), tmp_path / "m.yaml")
    image = cv2.imread(str(tmp_path / "m.pgm"), cv2.IMREAD_GRAYSCALE)
    assert image is not None
    assert list(image[-1]) == [0] * 6  # PGM's last row is the lowest y
    assert list(image[0]) == [254] * 6
    meta = yaml.safe_load((tmp_path / "m.yaml").read_text())
    assert meta["origin"] == [1.0, 2.0, 0.0]
    grid = read_map(tmp_path / "m.yaml")
    assert np.array_equal(grid.cells, cells)
    assert grid.is_free(1.3, 2.6)
    assert not grid.is_free(1.3, 2.2)
    assert not grid.is_free(-5.0, 2.6)


def test_stock_site_is_built_on_first_use_then_loaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHAIRLINK_DATA", str(tmp_path))
    site = stock_site()
    pgm = tmp_path / "sites" / STOCK_SITE / "floor.pgm"
    assert pgm.exists()
    built = pgm.stat().st_mtime_ns
    assert stock_site().name == site.name
    assert pgm.stat().st_mtime_ns == built


def _edit_graph(site_dir: Path, change: object) -> None:
    path = site_dir / "nav_graph.yaml"
    graph = yaml.safe_load(path.read_text())
    change(graph)  # type: ignore[operator]
    path.write_text(yaml.safe_dump(graph))


def test_lane_to_an_unknown_waypoint_is_named(site_dir: Path) -> None:
    _edit_graph(
        site_dir, lambda g: g["lanes"].append({"a": "lobby", "b": "pharmacy", "width_m": 2})
    )
    with pytest.raises(SiteError, match=r"nav_graph.yaml.*unknown waypoint pharmacy"):
        load_site(site_dir)


def test_waypoint_inside_a_wall_is_named(site_dir: Path) -> None:
    def move(graph: dict) -> None:  # type: ignore[type-arg]
        graph["waypoints"][0]["y"] = 0.1

    _edit_graph(site_dir, move)
    with pytest.raises(SiteError, match="is not in free space"):
        load_site(site_dir)


def test_lane_through_a_wall_is_refused(site_dir: Path) -> None:
    _edit_graph(site_dir, lambda g: g["lanes"].append({"a": "a-100", "b": "a-101", "width_m": 1.0}))
    with pytest.raises(SiteError, match=r"lane a-100 - a-101 declares 1.00 m but the map leaves"):
        load_site(site_dir)


def test_duplicate_waypoint_names_are_refused(site_dir: Path) -> None:
    _edit_graph(site_dir, lambda g: g["waypoints"].append(dict(g["waypoints"][0])))
    with pytest.raises(SiteError, match="used twice"):
        load_site(site_dir)


@pytest.mark.parametrize(
    ("file", "text", "message"),
    [
        ("site.yaml", "name: [unclosed", "not valid YAML"),
        ("site.yaml", "name: Hospital With Spaces\n", "invalid site file"),
        ("floor.yaml", "image: floor.pgm\nresolution: -1\norigin: [0, 0, 0]\n", "resolution"),
        (
            "floor.yaml",
            "image: missing.pgm\nresolution: 0.05\norigin: [0, 0, 0]\n",
            "cannot read map image",
        ),
        ("nav_graph.yaml", "waypoints: 3\nlanes: []\n", "invalid nav graph"),
    ],
)
def test_malformed_files_get_a_clear_error(
    site_dir: Path, file: str, text: str, message: str
) -> None:
    (site_dir / file).write_text(text)
    with pytest.raises(SiteError, match=message) as err:
        load_site(site_dir)
    assert file in str(err.value)


def test_missing_site_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(SiteError, match="cannot read"):
        load_site(tmp_path / "nowhere")


def test_a_site_can_live_anywhere(site_dir: Path, tmp_path: Path) -> None:
    moved = tmp_path / "elsewhere" / "floor-2"
    shutil.copytree(site_dir, moved)
    assert load_site(moved / "site.yaml").name == STOCK_SITE
    lane = load_site(moved).graph.lanes[0]
    assert load_site(moved).graph.lane_length(lane) > 0
    assert math.isfinite(lane.speed_limit_mps)
