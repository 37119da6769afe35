"""``chairlink sim``: run a scenario in the simulated hospital and print its ground truth.

``sim run --telemetry chair.yaml`` also feeds the telemetry agent, so the monitor sees the
simulated chair as it would a real one: vehicle samples and vitals at the chair's rates of
simulated time, sent to the broker chair.yaml names.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from chairlink.config import load_chair_config
from edge.rosbag import BagWriter, SimTopics
from edge.sim.runner import Message, RunResult, SimRunner
from edge.sim.scenario import Scenario, load_scenario

__all__ = ["register"]


def register(parser: argparse.ArgumentParser) -> None:
    """Add the sim verbs."""
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    run = verbs.add_parser(
        "run",
        help="run a scenario with the scripted driver and print its ground truth",
        description=(
            "Run a scenario in simulated time, faster than real time, with the scripted driver "
            "(route following, no avoidance) until the real stack exists."
        ),
    )
    run.add_argument("scenario", help="scenario YAML, e.g. scenarios/corridor-walk.yaml")
    run.add_argument("--seed", type=int, help="override the scenario's seed")
    run.add_argument("--duration", type=float, help="override the scenario's duration (s)")
    _add_config(run)
    run.add_argument(
        "--telemetry",
        metavar="CHAIR_YAML",
        help=(
            "also send the run's vehicle samples and vitals to the monitor through the "
            "telemetry agent of this chair.yaml (identity, broker, outbox, rates)"
        ),
    )
    run.set_defaults(handler=_run)
    record = verbs.add_parser(
        "record",
        help="run a scenario and record what the chair saw and did as a rosbag2",
        description=(
            "Run a scenario and record /scan, /camera/image_raw (+ camera_info), /odom, "
            "/cmd_vel, /tf, /tf_static and /map to a rosbag2."
        ),
    )
    record.add_argument("scenario", help="scenario YAML")
    record.add_argument("-o", "--output", required=True, help="bag folder to create")
    record.add_argument("--storage", choices=("mcap", "sqlite3"), default="mcap")
    record.add_argument(
        "--compress-images", action="store_true", help="JPEG CompressedImage instead of raw Image"
    )
    record.add_argument("--seed", type=int, help="override the scenario's seed")
    record.add_argument("--duration", type=float, help="override the scenario's duration (s)")
    _add_config(record)
    record.set_defaults(handler=_record)


def _add_config(verb: argparse.ArgumentParser) -> None:
    verb.add_argument(
        "--config",
        metavar="CHAIR_YAML",
        help=(
            "the simulated chair's chair.yaml: footprint, lidar and camera mounts and layout, "
            "firmware limits (default: the stock chair)"
        ),
    )


def _runner(args: argparse.Namespace) -> SimRunner:
    return SimRunner(_scenario(args), chair=load_chair_config(args.config))


def _scenario(args: argparse.Namespace) -> Scenario:
    scenario = load_scenario(args.scenario)
    if args.seed is not None:
        scenario = scenario.with_seed(args.seed)
    if args.duration is not None:
        scenario = scenario.changed(duration_s=args.duration)
    return scenario


def _run_with_progress(
    runner: SimRunner,
    console: Console,
    on_message: Callable[[str, Message], None] | None = None,
) -> RunResult:
    scenario = runner.scenario
    with Progress(
        TextColumn(f"[bold]{scenario.name}[/bold] seed {scenario.seed}"),
        BarColumn(),
        TextColumn("{task.completed:.0f}/{task.total:.0f} s simulated"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("run", total=scenario.duration_s)
        return runner.run(
            on_progress=lambda t: progress.update(task, completed=t), on_message=on_message
        )


def _run(args: argparse.Namespace) -> int:
    console = Console()
    runner = _runner(args)
    if args.telemetry is None:
        result = _run_with_progress(runner, console)
        console.print(_table(result))
        return 0
    # Imported here: a run without telemetry needs no MQTT client.
    from chairlink.config import outbox_file  # noqa: PLC0415
    from chairlink.identity import require_own_identity  # noqa: PLC0415
    from edge.telemetry.agent import TelemetryAgent  # noqa: PLC0415
    from edge.telemetry.feed import TelemetryFeed  # noqa: PLC0415

    chair = load_chair_config(args.telemetry)
    require_own_identity(chair)
    telemetry = chair.telemetry
    with TelemetryAgent(chair.identity, telemetry) as agent:
        # Connected before the run, the messages go out live as they are made; made before
        # the connection, they would wait as a backlog drained at drain_msgs_per_s.
        if not _wait(lambda: agent.connected, _CONNECT_WAIT_S):
            console.print(
                f"[yellow]broker {telemetry.broker_host}:{telemetry.broker_port} not reachable "
                f"({agent.stats().last_error or 'no answer'}): messages wait in the outbox "
                f"{outbox_file(chair.identity, telemetry)}[/yellow]"
            )
        # Simulated time zero is now on the wire, so the samples read as a run that started
        # when the command did (and runs faster than the wall clock).
        feed = TelemetryFeed.for_chair(agent, chair, stamp_offset_ns=time.time_ns())
        result = _run_with_progress(runner, console, lambda _topic, value: feed.take(value))
        agent.wait_sent(_FLUSH_WAIT_S)
        stats = agent.stats()
    console.print(_table(result))
    sent = feed.stats()
    console.print(
        f"telemetry as {chair.identity.site}/{chair.identity.chair_id} to "
        f"{telemetry.broker_host}:{telemetry.broker_port}: {sent.vehicle_samples} vehicle "
        f"samples, {sent.vitals} vitals readings; {stats.acked} messages acknowledged, "
        f"{stats.outbox_messages} left in the outbox",
        soft_wrap=True,
    )
    return 0


_CONNECT_WAIT_S = 10.0
_FLUSH_WAIT_S = 10.0


def _wait(condition: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _record(args: argparse.Namespace) -> int:
    console = Console()
    runner = _runner(args)
    with BagWriter(args.output, storage=args.storage) as bag:
        topics = SimTopics(
            bag.store, runner.chair, runner.site.map, compress_images=args.compress_images
        )
        bag.write_all(topics.latched(), 0, latched=True)
        result = _run_with_progress(
            runner,
            console,
            lambda topic, value: bag.write_all(
                topics.messages(topic, value, runner.pose), value.stamp_ns
            ),
        )
    console.print(_table(result))
    console.print(f"recorded {bag.count} messages to {args.output} ({args.storage})")
    return 0


def _table(result: RunResult) -> Table:
    table = Table(title=f"ground truth: {result.scenario} (seed {result.seed})", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value")
    goal = f"yes, at {result.time_to_goal_s:.1f} s" if result.reached_goal else "no"
    table.add_row("reached goal", goal)
    table.add_row("collisions", str(len(result.collisions)))
    for c in result.collisions:
        table.add_row(
            "", f"{c.t_s:7.2f} s  {c.cls.name.lower()} #{c.with_id} at ({c.x:.2f}, {c.y:.2f})"
        )
    table.add_row("min clearance", f"{result.min_clearance_m:.2f} m")
    table.add_row("stops", str(result.stops))
    table.add_row("distance", f"{result.distance_m:.1f} m")
    table.add_row("MCU watchdog trips", str(result.watchdog_trips))
    table.add_row(
        "time",
        f"{result.sim_time_s:.1f} s simulated in {result.wall_time_s:.1f} s "
        f"({result.realtime_factor:.0f}x real time)",
    )
    return table
