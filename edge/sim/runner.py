"""The closed loop: world, chair and sensors stepped on simulated time around any stack.

Every 10 ms (the MCU's control period) the plant advances; odometry goes to the stack at 50 Hz,
scans at the lidar's rate, and the stack is asked for a command at 20 Hz. The runner plays the
host's part of the serial link: it configures and arms the MCU, passes each command as a DRIVE,
and sends heartbeats while the stack sends nothing, so the MCU's own rules (drive timeout,
limits) act on the simulated chair exactly as on a real one. Everything is seeded: the same
scenario and seed give the same run, message for message.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from chairlink.config import ChairConfig
from chairlink.site import Site, Waypoint, load_site, stock_site
from edge.firmware_conversions import chair_status_from_plant
from edge.nav.route_planner import NoRouteError, nearest_waypoint, plan_route
from edge.sim.camera import CameraSimulator, CameraSpec, ObjectTruth
from edge.sim.footprint import Footprint
from edge.sim.lidar import BeamTruth, LidarSimulator, LidarSpec
from edge.sim.people import Person, PersonKind, walking_speed
from edge.sim.scenario import FaultKind, ObjectSpec, PoseSpec, Scenario, ScenarioError
from edge.sim.scripted_driver import ScriptedDriver
from edge.sim.shapes import Box, Circle, ObjectClass, Shape
from edge.sim.vitals import TiltScript, VitalsScript
from edge.stack import CONTROL_PERIOD_NS, Stack
from edge.types import (
    CameraFrame,
    ChairStatus,
    DriveCommand,
    Odometry,
    Pose2D,
    Scan,
    Tilt,
    Vitals,
)
from firmware_bridge.driver import configure_message
from firmware_bridge.messages import (
    Drive,
    ErrorCode,
    Fault,
    Heartbeat,
    HostMessage,
    Rearm,
)
from firmware_bridge.plant import CONTROL_PERIOD_NS as PHYSICS_PERIOD_NS
from firmware_bridge.plant import Plant, PlantState

__all__ = ["Collision", "Message", "RunResult", "SimRunner", "resolve_site"]

Message = Scan | Odometry | DriveCommand | CameraFrame | ChairStatus | Tilt | Vitals
"""What the runner reports: every message a chair's stack sees or sends."""

ODOMETRY_PERIOD_NS = 20_000_000
STATUS_PERIOD_NS = 100_000_000
TILT_PERIOD_NS = 20_000_000
VITALS_PERIOD_NS = 1_000_000_000
HEARTBEAT_PERIOD_NS = 200_000_000
GOAL_TOLERANCE_M = 0.3
MOVING_MPS = 0.05
STOPPED_MPS = 0.01
PERSON_ID_BASE = 1000


@dataclass(frozen=True, slots=True)
class Collision:
    """The footprint started to overlap something (id 0: a wall), when and where the chair was."""

    t_s: float
    with_id: int
    cls: ObjectClass
    x: float
    y: float


@dataclass
class RunResult:
    """Ground truth of one run."""

    scenario: str
    seed: int
    sim_time_s: float
    wall_time_s: float
    reached_goal: bool
    time_to_goal_s: float | None
    collisions: list[Collision] = field(default_factory=list)
    min_clearance_m: float = math.inf
    stops: int = 0
    distance_m: float = 0.0
    watchdog_trips: int = 0
    final_pose: Pose2D = field(default_factory=Pose2D)

    @property
    def realtime_factor(self) -> float:
        """Simulated seconds per wall-clock second."""
        return self.sim_time_s / self.wall_time_s if self.wall_time_s > 0 else math.inf


@dataclass
class _Loop:
    """The state of a run between steps."""

    plant: Plant
    pose: Pose2D
    result: RunResult
    end_ns: int
    shapes: list[Shape]
    wall_start: float
    t: int = 0
    odom: Pose2D = field(default_factory=Pose2D)
    left: float = 0.0
    right: float = 0.0
    next_frame: int = 0
    next_scan: int = 0
    last_heartbeat: int = 0
    previous_faults: Fault = Fault.NONE
    moving: bool = False
    done: bool = False


def resolve_site(scenario: Scenario) -> Site:
    """The scenario's site: ``stock``, or a folder relative to the scenario file."""
    if scenario.site == "stock":
        return stock_site()
    return load_site(scenario.base_dir / scenario.site)


def _place(site: Site, place: str | PoseSpec, what: str) -> tuple[Pose2D, Waypoint]:
    if isinstance(place, PoseSpec):
        pose = Pose2D(place.x, place.y, place.yaw)
        if not site.map.is_free(pose.x, pose.y):
            raise ScenarioError(f"{what} ({pose.x}, {pose.y}) is not in free space")
        return pose, nearest_waypoint(site.graph, pose.x, pose.y)
    waypoint = site.graph.waypoints.get(place)
    if waypoint is None:
        raise ScenarioError(f"{what}: unknown waypoint {place!r} in site {site.name}")
    return Pose2D(waypoint.x, waypoint.y, waypoint.yaw), waypoint


def _object(index: int, spec: ObjectSpec) -> Shape:
    try:
        cls = ObjectClass[spec.cls.upper()]
    except KeyError as err:
        names = ", ".join(c.name.lower() for c in ObjectClass if c.value > 0)
        raise ScenarioError(
            f"objects[{index}]: unknown class {spec.cls!r} (one of {names})"
        ) from err
    if spec.radius is not None:
        return Circle(index + 1, cls, spec.x, spec.y, spec.radius, spec.z_min, spec.z_max)
    assert spec.length is not None
    assert spec.width is not None
    return Box(
        index + 1, cls, spec.x, spec.y, spec.yaw, spec.length, spec.width, spec.z_min, spec.z_max
    )


class SimRunner:
    """Runs one scenario around a stack (the scripted driver when none is given)."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        chair: ChairConfig | None = None,
        stack_factory: Callable[[Site, Pose2D, Waypoint | None], Stack] | None = None,
    ) -> None:
        """Build the world of a scenario around a chair.

        Args:
            scenario: what happens in the run.
            chair: the simulated chair's config: its footprint, lidar and camera (mounts,
                beams, calibration, rates) and its MCU's firmware settings; None for the stock
                chair.
            stack_factory: builds the stack that drives the chair from the site, the start
                pose and the goal; None for the scripted driver.

        Raises:
            ScenarioError: the scenario does not fit its site.
            SimError: the chair's camera is one the simulator cannot render (tilted or
                distorting).
        """
        chair = chair or ChairConfig()
        # The sensors first: a camera the renderer cannot draw is refused before any work.
        lidar_spec, camera_spec = LidarSpec(chair.lidar), CameraSpec(chair.camera)
        self.scenario = scenario
        self.chair = chair
        self.site = resolve_site(scenario)
        # One stream per part, so a change in one (a fault that draws more numbers, a bigger
        # camera) leaves the others' draws as they were and runs stay comparable.
        streams = [np.random.default_rng(s) for s in np.random.SeedSequence(scenario.seed).spawn(6)]
        self._rng, lidar_rng, camera_rng, vitals_rng, tilt_rng, self._fault_rng = streams
        self._firmware = chair.firmware
        self._footprint = Footprint(chair.footprint)
        self.start_pose, start_waypoint = _place(self.site, scenario.chair.start, "chair.start")
        self.goal: Waypoint | None = None
        goal_pose: Pose2D | None = None
        if scenario.chair.goal is not None:
            goal_pose, self.goal = _place(self.site, scenario.chair.goal, "chair.goal")
        self._goal_xy = (goal_pose.x, goal_pose.y) if goal_pose is not None else None
        self.objects = [_object(i, spec) for i, spec in enumerate(scenario.objects)]
        self.people = self._people(start_waypoint)
        self.lidar = LidarSimulator(lidar_spec, self.site.map, lidar_rng)
        self.camera = CameraSimulator(camera_spec, self.site.map, camera_rng)
        self.vitals = VitalsScript(scenario.vitals, vitals_rng)
        self.tilt = TiltScript(scenario.tilt, tilt_rng)
        if stack_factory is None:
            self.stack: Stack = self._scripted(start_waypoint)
        else:
            self.stack = stack_factory(self.site, self.start_pose, self.goal)
        self.scans: list[tuple[Scan, BeamTruth]] = []
        # Frames are not kept (230 kB each); their ground truth is, by stamp.
        self.frame_truths: list[tuple[int, list[ObjectTruth]]] = []
        self.commands: list[DriveCommand] = []
        self._touching: set[int] = set()
        self._on_message: Callable[[str, Message], None] | None = None
        self._loop: _Loop | None = None
        self._last_frame: CameraFrame | None = None
        self._scan_period = round(1e9 / chair.lidar.rate_hz)
        self._frame_period = round(1e9 / chair.camera.rate_hz)
        self._clearance = self.site.clearance()

    def _scripted(self, start_waypoint: Waypoint) -> Stack:
        goal = self.goal or start_waypoint
        try:
            route = plan_route(self.site.graph, start_waypoint.name, goal.name)
        except NoRouteError as err:
            raise ScenarioError(f"chair: {err}") from err
        return ScriptedDriver(route, self.start_pose, goal=self._goal_xy)

    def _people(self, chair_waypoint: Waypoint) -> list[Person]:
        people: list[Person] = []
        graph = self.site.graph
        for i, spec in enumerate(self.scenario.people):
            try:
                kind = PersonKind(spec.kind)
            except ValueError as err:
                kinds = ", ".join(k.value for k in PersonKind)
                raise ScenarioError(
                    f"people[{i}]: unknown kind {spec.kind!r} (one of {kinds})"
                ) from err
            try:
                route = plan_route(graph, spec.start, spec.goal)
            except NoRouteError as err:
                raise ScenarioError(f"people[{i}]: {err}") from err
            speed = spec.speed_mps if spec.speed_mps is not None else walking_speed(kind, self._rng)
            people.append(
                self._walker(PERSON_ID_BASE + i, kind, route.waypoints, speed, spec.start_s)
            )
        names = [w.name for w in graph.spec.waypoints if w.name != chair_waypoint.name]
        if self.scenario.random_people and len(names) < 2:
            raise ScenarioError(f"random_people: site {self.site.name} has too few waypoints")
        for j in range(self.scenario.random_people):
            start, goal = self._rng.choice(names, size=2, replace=False)
            kind = PersonKind(self._rng.choice([k.value for k in PersonKind]))
            try:
                route = plan_route(graph, str(start), str(goal))
            except NoRouteError:
                route = plan_route(graph, str(start), str(start))
            # One in five stands and talks; the others set off within ten seconds, some of
            # them stepping out of a room's doorway into the corridor.
            speed = 0.0 if self._rng.random() < 0.2 else walking_speed(kind, self._rng)
            start_s = float(self._rng.uniform(0.0, 10.0))
            person_id = PERSON_ID_BASE + len(self.scenario.people) + j
            people.append(self._walker(person_id, kind, route.waypoints, speed, start_s))
        return people

    def _walker(
        self,
        person_id: int,
        kind: PersonKind,
        waypoints: tuple[Waypoint, ...],
        speed: float,
        start_s: float,
    ) -> Person:
        offset = float(self._rng.uniform(-0.5, 0.5))
        path = []
        for k, w in enumerate(waypoints):
            ahead = waypoints[min(k + 1, len(waypoints) - 1)]
            behind = waypoints[max(k - 1, 0)]
            heading = math.atan2(ahead.y - behind.y, ahead.x - behind.x)
            shifted = (w.x - math.sin(heading) * offset, w.y + math.cos(heading) * offset)
            path.append(shifted if self.site.map.is_free(*shifted) else (w.x, w.y))
        return Person(person_id, kind, path, speed, start_s)

    def shapes(self) -> list[Shape]:
        """Everything but the walls, as it stands now."""
        return [*self.objects, *(p.shape() for p in self.people)]

    def run(
        self,
        *,
        on_progress: Callable[[float], None] | None = None,
        on_message: Callable[[str, Message], None] | None = None,
    ) -> RunResult:
        """Run to the scenario's end, or until the goal is reached and the chair stands.

        ``on_message`` gets every message the stack sees or sends, with its ROS topic
        (/scan, /camera/image_raw, /odom, /imu/data, /chair/status, /patient/vitals,
        /cmd_vel), in time order: what a chair would record.
        """
        self.start(on_message=on_message)
        while not self.step():
            if on_progress is not None and self.now_ns % 1_000_000_000 == 0:
                on_progress(self.now_ns / 1e9)
        return self.result()

    def start(self, *, on_message: Callable[[str, Message], None] | None = None) -> None:
        """Power the chair up (configure and arm its MCU) at time zero; then call step()."""
        self._on_message = on_message
        scenario = self.scenario
        plant = Plant(configure_message(self._firmware), start_ns=0, initial_soc=scenario.chair.soc)
        plant.set_seat(scenario.chair.seat_kg, scenario.chair.belt_closed)
        if plant.step(0, configure_message(self._firmware)).reply != ErrorCode.OK:
            raise ScenarioError("the simulated MCU refused the firmware configuration")
        plant.step(0, Rearm())
        self._loop = _Loop(
            plant=plant,
            pose=self.start_pose,
            result=RunResult(scenario.name, scenario.seed, 0.0, 0.0, False, None),
            end_ns=round(scenario.duration_s * 1e9),
            shapes=self.shapes(),
            wall_start=time.perf_counter(),
        )

    @property
    def now_ns(self) -> int:
        """Simulated time."""
        return self._loop.t if self._loop is not None else 0

    @property
    def pose(self) -> Pose2D:
        """The chair's true pose in the map now."""
        return self._loop.pose if self._loop is not None else self.start_pose

    def step(self) -> bool:
        """Advance one 10 ms period; return whether the run is over."""
        loop = self._loop
        if loop is None:
            raise RuntimeError("start() the runner first")
        if loop.done:
            return True
        scenario = self.scenario
        t = loop.t
        t_s = t / 1e9
        state = loop.plant.state()
        if t % ODOMETRY_PERIOD_NS == 0:
            odometry = Odometry(t, loop.odom, state.linear_mps, state.angular_radps)
            self.stack.on_sensor(t, odometry)
            self._emit("/odom", odometry)
        if t % TILT_PERIOD_NS == 0:
            self._sense("/imu/data", self.tilt.sample(t))
        if t % STATUS_PERIOD_NS == 0:
            self._sense("/chair/status", chair_status_from_plant(state, t))
        if t % VITALS_PERIOD_NS == 0:
            self._sense("/patient/vitals", self.vitals.sample(t))
        if t >= loop.next_scan:
            self._scan(t, loop.pose, loop.shapes)
            loop.next_scan += self._scan_period
        if t >= loop.next_frame:
            # A rate whose period is no multiple of the 10 ms step (the camera's 15 Hz) goes
            # out on the step after each due time, stamped with the step's time, as a
            # driver's would be.
            self._frame(t, loop.pose, loop.shapes)
            loop.next_frame += self._frame_period
        message: HostMessage | None = None
        if t % CONTROL_PERIOD_NS == 0:
            command = self.stack.step(t)
            if command is not None and not scenario.fault_active(FaultKind.STACK_SILENT, t_s):
                self.commands.append(command)
                self._emit("/cmd_vel", command)
                message = Drive(command.linear_mps, command.angular_radps)
        if message is None and t - loop.last_heartbeat >= HEARTBEAT_PERIOD_NS:
            message = Heartbeat(t // 1_000_000 & 0xFFFFFFFF)
        if message is not None:
            loop.last_heartbeat = t
            if scenario.fault_active(FaultKind.LINK_LOSS, t_s):
                message = None
        t += PHYSICS_PERIOD_NS
        loop.t = t
        state = loop.plant.step(t, message)
        self._account(loop, state)
        if (loop.result.reached_goal and not state.moving) or t > loop.end_ns:
            loop.done = True
        return loop.done

    def _account(self, loop: _Loop, state: PlantState) -> None:
        result = loop.result
        t = loop.t
        if state.faults & Fault.DRIVE_TIMEOUT and not loop.previous_faults & Fault.DRIVE_TIMEOUT:
            result.watchdog_trips += 1
        loop.previous_faults = state.faults
        dl, dr = state.left_m - loop.left, state.right_m - loop.right
        loop.left, loop.right = state.left_m, state.right_m
        separation = self._firmware.wheels.separation_m
        ds, dtheta = (dl + dr) / 2.0, (dr - dl) / separation
        loop.pose = _advance(loop.pose, ds, dtheta)
        loop.odom = _advance(loop.odom, ds, dtheta)
        result.distance_m += abs(ds)
        for person in self.people:
            person.step(t / 1e9, PHYSICS_PERIOD_NS / 1e9)
        loop.shapes = self.shapes()
        self._judge(result, t / 1e9, loop.pose, loop.shapes, self._clearance)
        speed = abs(state.linear_mps)
        if speed > MOVING_MPS:
            loop.moving = True
        elif loop.moving and speed < STOPPED_MPS and not result.reached_goal:
            loop.moving = False
            result.stops += 1
        near_goal = self._goal_xy is not None and (
            math.dist((loop.pose.x, loop.pose.y), self._goal_xy) < GOAL_TOLERANCE_M
        )
        if near_goal and not result.reached_goal:
            result.reached_goal = True
            result.time_to_goal_s = t / 1e9

    def result(self) -> RunResult:
        """The ground truth so far."""
        loop = self._loop
        if loop is None:
            raise RuntimeError("start() the runner first")
        result = loop.result
        result.sim_time_s = min(loop.t, loop.end_ns) / 1e9
        result.wall_time_s = time.perf_counter() - loop.wall_start
        result.final_pose = loop.pose
        return result

    def _scan(self, t: int, pose: Pose2D, shapes: list[Shape]) -> None:
        scan, truth = self.lidar.scan(t, pose, shapes)
        t_s = t / 1e9
        if self.scenario.fault_active(FaultKind.LIDAR_BLINDED, t_s):
            scan = _replace_ranges(scan, np.full_like(scan.ranges, np.nan))
        dropout = self.scenario.fault_active(FaultKind.LIDAR_DROPOUT, t_s)
        if dropout is not None:
            ranges = scan.ranges.copy()
            ranges[self._fault_rng.random(len(ranges)) < dropout.rate] = np.nan
            scan = _replace_ranges(scan, ranges)
        self.scans.append((scan, truth))
        self.stack.on_sensor(t, scan)
        self._emit("/scan", scan)

    def _frame(self, t: int, pose: Pose2D, shapes: list[Shape]) -> None:
        frame, truth = self.camera.render(t, pose, shapes)
        if self.scenario.fault_active(FaultKind.CAMERA_FROZEN, t / 1e9) and self._last_frame:
            # A frozen camera keeps sending its last image under new stamps.
            stale = self._last_frame
            frame = CameraFrame(
                t, stale.image, stale.intrinsics, stale.mount, stale.height_m, stale.frame_id
            )
            truth = self.frame_truths[-1][1]
        self._last_frame = frame
        self.frame_truths.append((t, truth))
        self.stack.on_sensor(t, frame)
        self._emit("/camera/image_raw", frame)

    def _sense(self, topic: str, value: ChairStatus | Tilt | Vitals) -> None:
        self.stack.on_sensor(value.stamp_ns, value)
        self._emit(topic, value)

    def _emit(self, topic: str, value: Message) -> None:
        if self._on_message is not None:
            self._on_message(topic, value)

    def _judge(
        self,
        result: RunResult,
        t_s: float,
        pose: Pose2D,
        shapes: list[Shape],
        clearance: np.ndarray,
    ) -> None:
        contact = self._footprint.contact(pose, self.site.map, clearance, shapes)
        result.min_clearance_m = min(result.min_clearance_m, contact.clearance_m)
        classes = {s.id: s.cls for s in shapes}
        # One collision per contact: it counts when the footprint starts touching something.
        for touched in set(contact.touching) - self._touching:
            cls = ObjectClass.WALL if touched == 0 else classes[touched]
            result.collisions.append(Collision(t_s, touched, cls, pose.x, pose.y))
        self._touching = set(contact.touching)


def _advance(pose: Pose2D, ds: float, dtheta: float) -> Pose2D:
    heading = pose.yaw + dtheta / 2.0
    yaw = pose.yaw + dtheta
    return Pose2D(
        pose.x + ds * math.cos(heading),
        pose.y + ds * math.sin(heading),
        math.atan2(math.sin(yaw), math.cos(yaw)),
    )


def _replace_ranges(scan: Scan, ranges: np.ndarray) -> Scan:
    return Scan(
        scan.stamp_ns,
        scan.angle_min,
        scan.angle_increment,
        scan.range_min,
        scan.range_max,
        ranges.astype(np.float32),
        scan.frame_id,
        scan.scan_time_s,
    )
