"""``chairlink site``: build the stock hospital floor, and summarise any site."""

from __future__ import annotations

import argparse
from collections import Counter

import numpy as np

from chairlink.site import FREE, build_hospital_floor, load_site, stock_site, write_site
from chairlink.site.hospital import STOCK_SITE, data_dir

__all__ = ["register"]


def register(parser: argparse.ArgumentParser) -> None:
    """Add the site verbs."""
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    build = verbs.add_parser(
        "build",
        help="generate the stock hospital floor (map + nav graph)",
        description=f"Generate the stock site {STOCK_SITE} into a folder.",
    )
    build.add_argument(
        "-o", "--output", help=f"folder (default: {data_dir() / 'sites' / STOCK_SITE})"
    )
    build.set_defaults(handler=_build)
    info = verbs.add_parser("info", help="check a site and summarise it")
    info.add_argument("site", nargs="?", help="site folder or site.yaml (default: the stock site)")
    info.set_defaults(handler=_info)


def _build(args: argparse.Namespace) -> int:
    if args.output:
        folder = write_site(build_hospital_floor(), args.output)
        load_site(folder)
    else:
        stock_site(rebuild=True)
        folder = data_dir() / "sites" / STOCK_SITE
    print(folder)
    return 0


def _info(args: argparse.Namespace) -> int:
    site = load_site(args.site) if args.site else stock_site()
    grid = site.map
    free_m2 = float(np.count_nonzero(grid.cells == FREE)) * grid.resolution**2
    kinds = Counter(w.kind.value for w in site.graph.spec.waypoints)
    length = sum(site.graph.lane_length(lane) for lane in site.graph.lanes)
    print(f"site {site.name}: {site.description}")
    print(
        f"  map {grid.width_m:.1f} m x {grid.height_m:.1f} m at {grid.resolution * 100:.0f} cm "
        f"({grid.cells.shape[1]} x {grid.cells.shape[0]} cells), {free_m2:.0f} m2 free"
    )
    print(
        f"  nav graph: {len(site.graph.spec.waypoints)} waypoints "
        f"({', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))}), "
        f"{len(site.graph.lanes)} lanes, {length:.0f} m of lanes, "
        f"{len(site.graph.components())} connected component(s)"
    )
    return 0
