"""The closed loop: determinism, collisions, the MCU's drive timeout, and scenario errors."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from chairlink.config import load_chair_config
from chairlink.site import Site, Waypoint
from edge.sim.errors import SimError
from edge.sim.runner import SimRunner
from edge.sim.scenario import Scenario, ScenarioError, load_scenario
from edge.sim.shapes import ObjectClass
from edge.stack import SensorMessage
from edge.types import CameraFrame, DriveCommand, Odometry, Pose2D

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def _data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAIRLINK_DATA", str(tmp_path_factory.getbasetemp() / "chairlink-data"))


class Constant:
    """A test stack: one fixed command, recording the odometry it is given."""

    def __init__(self, linear: float, angular: float = 0.0) -> None:
        self.command = (linear, angular)
        self.odometry: list[Odometry] = []

    def on_sensor(self, now_ns: int, message: SensorMessage) -> None:
        if isinstance(message, Odometry):
            self.odometry.append(message)

    def step(self, now_ns: int) -> DriveCommand | None:
        return DriveCommand(now_ns, *self.command)


def scenario(**fields: object) -> Scenario:
    values: dict[str, object] = {"name": "test", "seed": 1, "duration_s": 10.0}
    values.update(fields)
    return Scenario.model_validate(values)


def test_the_same_seed_gives_identical_runs() -> None:
    def run(seed: int) -> tuple[list[np.ndarray], list[DriveCommand], object]:
        sc = scenario(chair={"start": "lobby", "goal": "a-103"}, random_people=4, duration_s=15)
        runner = SimRunner(sc.with_seed(seed))
        result = runner.run()
        return [s.ranges for s, _ in runner.scans], runner.commands, result.final_pose

    scans_a, commands_a, pose_a = run(3)
    scans_b, commands_b, pose_b = run(3)
    assert len(scans_a) == len(scans_b) > 100
    for a, b in zip(scans_a, scans_b, strict=True):
        np.testing.assert_array_equal(a, b)
    assert commands_a == commands_b
    assert pose_a == pose_b
    scans_c, _, _ = run(4)
    assert any(not np.array_equal(a, c) for a, c in zip(scans_a, scans_c, strict=False))


def test_the_scripted_driver_reaches_its_goal_through_a_door_without_touching_anything() -> None:
    result = SimRunner(scenario(chair={"start": "lobby-a", "goal": "a-102"}, duration_s=90)).run()
    assert result.reached_goal
    assert result.collisions == []
    assert result.min_clearance_m > 0.1
    assert result.time_to_goal_s is not None
    assert result.time_to_goal_s < 60
    assert result.realtime_factor > 1


def test_a_chair_driven_into_a_wall_registers_a_collision() -> None:
    def into_the_wall(site: Site, start: Pose2D, goal: Waypoint | None) -> Constant:
        return Constant(0.6)

    # In corridor A facing south: the wall is 1.2 m away.
    sc = scenario(chair={"start": {"x": 30.0, "y": 10.2, "yaw": -math.pi / 2}}, duration_s=6)
    result = SimRunner(sc, stack_factory=into_the_wall).run()
    walls = [c for c in result.collisions if c.cls == ObjectClass.WALL]
    assert len(walls) == 1
    assert walls[0].with_id == 0
    # The front (0.85 m ahead of the axle) meets the wall 1.2 m away after about 0.35 m.
    assert walls[0].y == pytest.approx(10.2 - (1.2 - 0.85), abs=0.06)
    assert result.min_clearance_m == 0.0


def test_the_mcu_stops_the_chair_when_the_stack_goes_silent() -> None:
    stack = Constant(0.5)
    sc = scenario(
        chair={"start": {"x": 20.0, "y": 10.2, "yaw": 0.0}},
        faults=[{"kind": "stack_silent", "at_s": 4.0, "duration_s": 3.0}],
        duration_s=8,
    )
    result = SimRunner(sc, stack_factory=lambda site, start, goal: stack).run()
    assert result.watchdog_trips == 1

    def speed_at(t_s: float) -> float:
        return next(o.linear_mps for o in reversed(stack.odometry) if o.stamp_ns <= t_s * 1e9)

    assert speed_at(3.95) == pytest.approx(0.5)  # moving just before the silence
    # The last command went out at 3.95 s: drive timeout 0.2 s plus a 10 ms control period,
    # then 0.5 m/s at 1.2 m/s^2 takes 0.42 s; one odometry period of slack.
    stopped_by = 3.95 + 0.2 + 0.01 + 0.5 / 1.2 + 0.02
    assert speed_at(stopped_by - 0.1) > 0.0
    assert all(speed_at(stopped_by + k * 0.1) == 0.0 for k in range(35))


def test_a_lost_link_stops_the_chair_too() -> None:
    stack = Constant(0.5)
    sc = scenario(
        chair={"start": {"x": 20.0, "y": 10.2, "yaw": 0.0}},
        faults=[{"kind": "link_loss", "at_s": 3.0, "duration_s": 2.0}],
        duration_s=6,
    )
    result = SimRunner(sc, stack_factory=lambda site, start, goal: stack).run()
    assert result.watchdog_trips == 1
    assert stack.odometry[-1].linear_mps == 0.0


def test_the_lidar_sees_the_people_and_says_who_they_are() -> None:
    sc = scenario(
        chair={"start": {"x": 20.0, "y": 10.2, "yaw": 0.0}},
        people=[{"start": "a-door-a-101", "goal": "a-door-a-101", "speed_mps": 0.0}],
        duration_s=1,
    )
    runner = SimRunner(sc, stack_factory=lambda site, start, goal: Constant(0.0))
    runner.run()
    _, truth = runner.scans[0]
    person = runner.people[0]
    seen = truth.ids == person.id
    assert seen.any()
    assert (truth.classes[seen] == ObjectClass.PERSON).all()
    distance = math.hypot(person.x - 20.25, person.y - 10.2) - 0.25
    assert truth.ranges[seen].min() == pytest.approx(distance, abs=0.02)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: x\nchair: [", "not valid YAML"),
        ("name: x\nchair: {start: lobby}\nspeed: 3\n", "speed"),
        ("name: x\nchair: {start: pharmacy}\n", "unknown waypoint 'pharmacy'"),
        (
            "name: x\nchair: {start: lobby}\nobjects: [{cls: piano, x: 5, y: 5, radius: 1}]\n",
            "unknown class 'piano'",
        ),
        ("name: x\nchair: {start: lobby}\nobjects: [{cls: bed, x: 5, y: 5}]\n", "radius"),
        (
            "name: x\nchair: {start: lobby}\npeople: [{start: lobby, goal: a-101, kind: ghost}]\n",
            "unknown kind 'ghost'",
        ),
        ("name: x\nchair: {start: {x: 0.1, y: 0.1}}\n", "not in free space"),
        (
            "name: x\nchair: {start: lobby}\nfaults: [{kind: meteor, at_s: 1, duration_s: 1}]\n",
            "faults",
        ),
    ],
)
def test_malformed_scenarios_get_a_clear_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError, match=message) as err:
        SimRunner(load_scenario(path))
    if "YAML" in message or "invalid" in str(err.value):
        assert str(path) in str(err.value)


def test_the_shipped_scenario_loads() -> None:
    sc = load_scenario(REPO / "scenarios" / "corridor-walk.yaml")
    assert sc.name == "corridor-walk"
    assert SimRunner(sc).people


def test_a_frozen_camera_repeats_its_last_image_under_new_stamps() -> None:
    frames: list[CameraFrame] = []
    sc = scenario(
        chair={"start": {"x": 20.0, "y": 10.2, "yaw": 0.0}},
        faults=[{"kind": "camera_frozen", "at_s": 1.0, "duration_s": 1.0}],
        duration_s=3,
    )
    runner = SimRunner(sc, stack_factory=lambda site, start, goal: Constant(0.3))
    runner.run(
        on_message=lambda topic, value: (
            frames.append(value) if isinstance(value, CameraFrame) else None
        )
    )
    frozen = [f for f in frames if 1.0 < f.stamp_ns / 1e9 < 2.0]
    assert len(frozen) > 10
    assert all(np.array_equal(f.image, frozen[0].image) for f in frozen)
    assert len({f.stamp_ns for f in frozen}) == len(frozen)
    after = [f for f in frames if f.stamp_ns / 1e9 > 2.1]
    assert not np.array_equal(after[-1].image, frozen[0].image)


def test_a_goal_given_as_a_pose_is_driven_to() -> None:
    sc = scenario(chair={"start": "lobby-a", "goal": {"x": 30.0, "y": 10.5}}, duration_s=60)
    result = SimRunner(sc).run()
    assert result.reached_goal
    assert math.dist((result.final_pose.x, result.final_pose.y), (30.0, 10.5)) < 0.3


def test_a_lidar_rate_off_the_10_ms_grid_still_scans_at_its_rate() -> None:
    sc = scenario(chair={"start": {"x": 20.0, "y": 10.2, "yaw": 0.0}}, duration_s=3)
    chair = load_chair_config(None, lidar={"rate_hz": 15.0})
    runner = SimRunner(sc, chair=chair, stack_factory=lambda *_: Constant(0.0))
    runner.run()
    assert len(runner.scans) == pytest.approx(45, abs=2)


def test_cli_overrides_are_validated() -> None:
    sc = scenario(chair={"start": "lobby"})
    with pytest.raises(ScenarioError, match="duration_s"):
        sc.changed(duration_s=-5)
    with pytest.raises(ScenarioError, match="seed"):
        sc.with_seed(-1)


def test_a_wider_chair_hits_a_pole_the_stock_chair_passes() -> None:
    # A thin pole 0.5 m left of the chair's path: the stock chair (0.35 m half-width) passes
    # it 0.10 m away; a chair 0.6 m wide each side strikes it.
    sc = scenario(
        chair={"start": {"x": 20.0, "y": 10.2, "yaw": 0.0}},
        objects=[{"cls": "pole", "x": 22.0, "y": 10.7, "radius": 0.05, "z_max": 1.8}],
        duration_s=8,
    )
    wide = load_chair_config(
        None, footprint={"polygon": [[0.85, 0.6], [-0.35, 0.6], [-0.35, -0.6], [0.85, -0.6]]}
    )
    results = {
        name: SimRunner(sc, chair=chair, stack_factory=lambda *_: Constant(0.5)).run()
        for name, chair in (("stock", None), ("wide", wide))
    }
    assert results["stock"].collisions == []
    assert results["stock"].min_clearance_m == pytest.approx(0.10, abs=0.03)
    assert [c.cls for c in results["wide"].collisions] == [ObjectClass.POLE]


def test_a_lidar_mounted_further_forward_sees_an_obstacle_nearer() -> None:
    sc = scenario(
        chair={"start": {"x": 20.0, "y": 10.2, "yaw": 0.0}},
        objects=[{"cls": "pole", "x": 24.0, "y": 10.2, "radius": 0.1, "z_max": 1.8}],
        duration_s=0.5,
    )
    ahead: dict[float, float] = {}
    for x_m in (0.25, 0.85):
        chair = load_chair_config(None, lidar={"mount": {"x_m": x_m, "z_m": 0.30}})
        runner = SimRunner(sc, chair=chair, stack_factory=lambda *_: Constant(0.0))
        runner.run()
        scan, truth = runner.scans[0]
        beam = int(np.argmin(np.abs(scan.angles)))
        assert truth.classes[beam] == ObjectClass.POLE
        ahead[x_m] = float(truth.ranges[beam])
    assert ahead[0.25] == pytest.approx(4.0 - 0.1 - 0.25, abs=0.01)
    assert ahead[0.85] == pytest.approx(ahead[0.25] - 0.6, abs=0.01)


def test_a_chair_whose_camera_the_simulator_cannot_render_is_refused() -> None:
    tilted = load_chair_config(None, camera={"mount": {"z_m": 1.0, "pitch_rad": 0.2}})
    with pytest.raises(SimError, match=r"camera\.mount\.pitch_rad"):
        SimRunner(scenario(chair={"start": "lobby"}), chair=tilted)
