"""``make bench``: run every benchmark, print a table, write bench/results.json.

Exits non-zero when a figure misses its target.
"""

from __future__ import annotations

import sys
from pathlib import Path

from bench import broker, firmware, models, ros, sim, telemetry
from bench.figures import Figure, report

RESULTS = Path(__file__).with_name("results.json")


def main() -> int:
    """Run the benchmarks in order and report them."""
    figures: list[Figure] = [
        firmware.decode_frames_per_s(),
        firmware.rtt_p99_ms(),
        ros.cmd_to_serial_p99_ms(),
        sim.scans_per_s(),
        sim.realtime_factor(),
        models.detector_p99_ms(),
        models.segmenter_p99_ms(),
        models.detector_map50(),
        models.person_recall_5m(),
        *telemetry.measure(),
        broker.autosave_ms(),
    ]
    return 0 if report(figures, RESULTS) else 1


if __name__ == "__main__":
    sys.exit(main())
