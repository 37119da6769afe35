"""Occupancy maps in the ROS map_server format: a YAML file beside a PGM image.

In memory the grid's row 0 is the lowest y (``cells[iy, ix]``), so world and array axes agree;
the PGM stores the highest y first, as map_server and map_saver do.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import yaml
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chairlink.errors import SiteError

__all__ = ["FREE", "OCCUPIED", "UNKNOWN", "OccupancyMap", "read_map", "write_map"]

FREE, OCCUPIED, UNKNOWN = 0, 100, -1
"""Cell values of ``OccupancyMap.cells``, as nav_msgs/OccupancyGrid uses them."""

# The grey levels map_saver writes in trinary mode.
_PGM_FREE, _PGM_OCCUPIED, _PGM_UNKNOWN = 254, 0, 205


class _MapYaml(BaseModel):
    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)

    image: str
    resolution: float = Field(gt=0, le=1.0)
    origin: tuple[float, float, float]
    negate: int = Field(default=0, ge=0, le=1)
    occupied_thresh: float = Field(default=0.65, gt=0, lt=1)
    free_thresh: float = Field(default=0.25, ge=0, lt=1)
    mode: str = "trinary"


@dataclass(frozen=True, eq=False)
class OccupancyMap:
    """A 2D occupancy grid: cells of FREE, OCCUPIED or UNKNOWN, square, ``resolution`` m wide.

    ``origin`` is the world pose (x, y, yaw) of cell (0, 0)'s outer corner; chairlink maps use
    yaw 0.
    """

    cells: NDArray[np.int8]
    resolution: float
    origin: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def __post_init__(self) -> None:
        if self.cells.ndim != 2:
            raise SiteError(f"occupancy grid must be 2-D, got shape {self.cells.shape}")
        if self.origin[2] != 0.0:
            raise SiteError(f"map origin yaw must be 0, got {self.origin[2]}")

    @property
    def width_m(self) -> float:
        """Extent along x in metres."""
        return float(self.cells.shape[1] * self.resolution)

    @property
    def height_m(self) -> float:
        """Extent along y in metres."""
        return float(self.cells.shape[0] * self.resolution)

    @property
    def occupied(self) -> NDArray[np.bool_]:
        """Cells an obstacle fills; unknown cells count as occupied for safety (computed once)."""
        cached = self.__dict__.get("_occupied")
        if cached is None:
            cached = np.asarray(self.cells != FREE)
            cached.setflags(write=False)
            object.__setattr__(self, "_occupied", cached)
        return cached

    def cell_of(self, x: float, y: float) -> tuple[int, int]:
        """(ix, iy) of the cell holding world point (x, y); may be outside the grid."""
        return (
            math.floor((x - self.origin[0]) / self.resolution),
            math.floor((y - self.origin[1]) / self.resolution),
        )

    def is_free(self, x: float, y: float) -> bool:
        """Whether (x, y) lies in a free cell inside the grid."""
        ix, iy = self.cell_of(x, y)
        rows, cols = self.cells.shape
        return 0 <= ix < cols and 0 <= iy < rows and bool(self.cells[iy, ix] == FREE)

    def clearance(self) -> NDArray[np.float32]:
        """Per cell, the distance in metres from its centre to the nearest non-free cell."""
        free = (self.cells == FREE).astype(np.uint8)
        # Pad with obstacles so the grid's edge counts as a wall.
        padded = cv2.copyMakeBorder(free, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
        distance = cv2.distanceTransform(padded, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
        return np.asarray(distance[1:-1, 1:-1] * self.resolution, dtype=np.float32)


def read_map(path: str | Path) -> OccupancyMap:
    """Read a map_server YAML and its image.

    Raises:
        SiteError: the YAML or the image is missing or malformed; the message names the file.
    """
    path = Path(path)
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise SiteError(f"{path}: cannot read map: {err.strerror}") from err
    except yaml.YAMLError as err:
        raise SiteError(f"{path}: not valid YAML: {err}") from err
    try:
        meta = _MapYaml.model_validate(raw)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in err.errors()
        )
        raise SiteError(f"{path}: invalid map YAML: {problems}") from err
    if meta.mode != "trinary":
        raise SiteError(f"{path}: map mode {meta.mode!r} is not supported (use trinary)")
    image_path = (path.parent / meta.image).resolve()
    image = cv2.imread(str(image_path), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise SiteError(f"{path}: cannot read map image {image_path}")
    value = image.astype(np.float32) / 255.0
    occupancy = value if meta.negate else 1.0 - value
    cells = np.full(image.shape, UNKNOWN, dtype=np.int8)
    cells[occupancy > meta.occupied_thresh] = OCCUPIED
    cells[occupancy < meta.free_thresh] = FREE
    return OccupancyMap(np.ascontiguousarray(np.flipud(cells)), meta.resolution, meta.origin)


def write_map(grid: OccupancyMap, path: str | Path) -> Path:
    """Write ``path`` (YAML) and its PGM beside it, as map_saver would."""
    path = Path(path)
    image_path = path.with_suffix(".pgm")
    image = np.full(grid.cells.shape, _PGM_UNKNOWN, dtype=np.uint8)
    image[grid.cells == FREE] = _PGM_FREE
    image[grid.cells == OCCUPIED] = _PGM_OCCUPIED
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(image_path), np.flipud(image)):
        raise SiteError(f"{image_path}: cannot write map image")
    meta = {
        "image": image_path.name,
        "mode": "trinary",
        "resolution": grid.resolution,
        "origin": list(grid.origin),
        "negate": 0,
        "occupied_thresh": 0.65,
        "free_thresh": 0.25,
    }
    path.write_text(yaml.safe_dump(meta, sort_keys=False), encoding="utf-8")
    return path
