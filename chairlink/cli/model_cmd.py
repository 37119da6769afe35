"""``chairlink model``: check an ONNX model against its description and time it here."""

from __future__ import annotations

import argparse
import time

import numpy as np
from rich.console import Console
from rich.table import Table

from edge.perception.description import DetectorDescription, load_description
from edge.perception.detector import Detector
from edge.perception.segmenter import Segmenter
from edge.perception.session import RuntimeOptions
from models.training.dataset import CameraSample, ScanSample, samples, stock_scan

__all__ = ["register"]


def register(parser: argparse.ArgumentParser) -> None:
    """Add the model verbs."""
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    check = verbs.add_parser(
        "check",
        help="load a model by its description, check them, and time it on simulated input",
        description=(
            "Load a detector or segmenter by its description file, check the model's tensors "
            "against it, run it on simulated frames or scans and print what it found and how "
            "long it took (one thread unless --threads)."
        ),
    )
    check.add_argument("description", help="the model's YAML description file")
    check.add_argument("--runs", type=int, default=200, help="timed inferences (default 200)")
    check.add_argument("--threads", type=int, default=1, help="onnxruntime intra-op threads")
    check.add_argument("--seed", type=int, default=9000, help="scenario seed of the inputs")
    check.set_defaults(handler=_check)


def _check(args: argparse.Namespace) -> int:
    console = Console()
    options = RuntimeOptions(threads=args.threads)
    description = load_description(args.description)
    inputs = list(samples(args.seed, frame_hz=2.5, duration_s=30.0))
    if isinstance(description, DetectorDescription):
        detector = Detector(args.description, options)
        frames = [s for s in inputs if isinstance(s, CameraSample)]

        def run(i: int) -> int:
            return len(detector.detect(frames[i % len(frames)].image))

        found = sum(run(i) for i in range(len(frames)))
        what = (
            f"{description.format} detector, {len(description.classes)} classes, input "
            f"{description.input.width}x{description.input.height}, threshold "
            f"{description.score_threshold}: {found} detections in {len(frames)} frames "
            f"holding {sum(len(f.classes) for f in frames)} labelled objects"
        )
    else:
        segmenter = Segmenter(args.description, options)
        scans = [stock_scan(s.ranges) for s in inputs if isinstance(s, ScanSample)]

        def run(i: int) -> int:
            return int(segmenter.segment(scans[i % len(scans)]).max())

        for i in range(len(scans)):
            run(i)
        what = (
            f"segmenter, {len(description.classes)} classes ({', '.join(description.classes)}), "
            f"{description.input.beams} beams, on {len(scans)} stock scans"
        )
    times = []
    for i in range(args.runs):
        start = time.perf_counter()
        run(i)
        times.append(time.perf_counter() - start)
    ms = np.asarray(times) * 1e3
    console.print(f"[bold]{args.description}[/bold]: matches its model. {what}")
    table = Table(title=f"latency, {args.runs} runs, {args.threads} thread(s)")
    for column in ("p50 ms", "p99 ms", "max ms"):
        table.add_column(column)
    table.add_row(*(f"{v:.2f}" for v in (np.median(ms), np.percentile(ms, 99), ms.max())))
    console.print(table)
    return 0
