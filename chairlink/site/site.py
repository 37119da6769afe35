"""A site: the occupancy map and the nav graph of one hospital floor, loaded and cross-checked.

On disk a site is a folder::

    site.yaml        name, and the two files below (paths relative to it)
    floor.yaml       map_server YAML
    floor.pgm        its image
    nav_graph.yaml   waypoints and lanes
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chairlink.errors import SiteError
from chairlink.site.nav_graph import NavGraph, NavGraphSpec
from chairlink.site.occupancy import OccupancyMap, read_map, write_map
from chairlink.yaml_file import read_yaml

__all__ = ["Site", "load_site", "write_site"]


class _SiteYaml(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    map: str = "floor.yaml"
    nav_graph: str = "nav_graph.yaml"
    description: str = ""


@dataclass(frozen=True, eq=False)
class Site:
    """One floor: its name, occupancy map and nav graph, checked against each other."""

    name: str
    map: OccupancyMap
    graph: NavGraph
    description: str = ""

    def clearance(self) -> NDArray[np.float32]:
        """Distance from each cell to the nearest obstacle, metres (cached)."""
        cached = self.__dict__.get("_clearance")
        if cached is None:
            cached = self.map.clearance()
            object.__setattr__(self, "_clearance", cached)
        return cached

    def problems(self) -> list[str]:
        """Where map and graph disagree: waypoints off free space, lanes narrower than declared."""
        found: list[str] = []
        clearance = self.clearance()
        rows, cols = clearance.shape
        for w in self.graph.spec.waypoints:
            if not self.map.is_free(w.x, w.y):
                found.append(f"waypoint {w.name} at ({w.x:.2f}, {w.y:.2f}) is not in free space")
        waypoints = self.graph.waypoints
        step = self.map.resolution
        for lane in self.graph.lanes:
            a, b = waypoints[lane.a], waypoints[lane.b]
            length = self.graph.lane_length(lane)
            samples = max(2, int(length / step) + 1)
            narrowest = np.inf
            for t in np.linspace(0.0, 1.0, samples):
                ix, iy = self.map.cell_of(a.x + t * (b.x - a.x), a.y + t * (b.y - a.y))
                if not (0 <= ix < cols and 0 <= iy < rows):
                    narrowest = 0.0
                    break
                narrowest = min(narrowest, float(clearance[iy, ix]))
            # Two cells of slack: the distance transform measures to cell centres.
            if 2 * narrowest + 2 * step < lane.width_m:
                found.append(
                    f"lane {lane.a} - {lane.b} declares {lane.width_m:.2f} m but the map leaves "
                    f"{2 * narrowest:.2f} m"
                )
        return found


def _load_yaml(path: Path) -> Any:
    return read_yaml(path, "site file", SiteError)


def _describe(err: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in err.errors()
    )


def load_site(path: str | Path) -> Site:
    """Load a site from its folder (or its site.yaml) and check map and graph agree.

    Raises:
        SiteError: a file is missing or malformed, or the graph does not fit the map; the
            message names the file and every problem.
    """
    path = Path(path)
    site_file = path / "site.yaml" if path.is_dir() else path
    try:
        meta = _SiteYaml.model_validate(_load_yaml(site_file))
    except ValidationError as err:
        raise SiteError(f"{site_file}: invalid site file: {_describe(err)}") from err
    grid = read_map(site_file.parent / meta.map)
    graph_file = site_file.parent / meta.nav_graph
    try:
        spec = NavGraphSpec.model_validate(_load_yaml(graph_file))
    except ValidationError as err:
        raise SiteError(f"{graph_file}: invalid nav graph: {_describe(err)}") from err
    site = Site(meta.name, grid, NavGraph(spec), meta.description)
    problems = site.problems()
    if problems:
        raise SiteError(f"{graph_file}: does not fit {meta.map}:\n  " + "\n  ".join(problems))
    return site


def write_site(site: Site, folder: str | Path) -> Path:
    """Write a site as a folder; return the folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    write_map(site.map, folder / "floor.yaml")
    graph = site.graph.spec.model_dump(mode="json")
    (folder / "nav_graph.yaml").write_text(yaml.safe_dump(graph, sort_keys=False), encoding="utf-8")
    meta = _SiteYaml(name=site.name, description=site.description).model_dump()
    (folder / "site.yaml").write_text(yaml.safe_dump(meta, sort_keys=False), encoding="utf-8")
    return folder
