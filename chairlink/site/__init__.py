"""Sites: a floor's occupancy map (ROS map_server format) and its nav graph, shared by chair and
monitor; and the stock hospital floor."""

from chairlink.site.hospital import STOCK_SITE, build_hospital_floor, stock_site
from chairlink.site.nav_graph import Lane, NavGraph, NavGraphSpec, Waypoint, WaypointKind
from chairlink.site.occupancy import FREE, OCCUPIED, UNKNOWN, OccupancyMap, read_map, write_map
from chairlink.site.site import Site, load_site, write_site

__all__ = [
    "FREE",
    "OCCUPIED",
    "STOCK_SITE",
    "UNKNOWN",
    "Lane",
    "NavGraph",
    "NavGraphSpec",
    "OccupancyMap",
    "Site",
    "Waypoint",
    "WaypointKind",
    "build_hospital_floor",
    "load_site",
    "read_map",
    "stock_site",
    "write_map",
    "write_site",
]
