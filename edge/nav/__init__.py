"""Navigation: routes over the site's nav graph, path following, trips, docking."""

from edge.nav.route_planner import NoRouteError, Route, nearest_waypoint, plan_route

__all__ = ["NoRouteError", "Route", "nearest_waypoint", "plan_route"]
