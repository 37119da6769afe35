"""Vitals limits checked on the chair, for the alarms it raises while its link is down.

Adult defaults of patient monitors (docs/references.md, "Patient monitoring"): SpO2 below
90 %, pulse outside 50-120 bpm. An alarm is raised once when its condition starts and again
only after it has cleared; the probe coming off is an alarm of its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from edge.types import Vitals

__all__ = ["Alarm", "VitalsAlarms", "VitalsLimits"]


@dataclass(frozen=True)
class VitalsLimits:
    """Alarm limits; defaults are adult patient-monitor factory settings."""

    spo2_low_pct: float = 90.0
    pulse_low_bpm: float = 50.0
    pulse_high_bpm: float = 120.0


@dataclass(frozen=True)
class Alarm:
    """An alarm condition that has just started."""

    code: str
    priority: Literal["high", "medium", "low"]
    message: str


@dataclass
class VitalsAlarms:
    """Which alarm conditions hold, reading after reading."""

    limits: VitalsLimits = field(default_factory=VitalsLimits)
    _active: set[str] = field(default_factory=set)

    def update(self, vitals: Vitals) -> list[Alarm]:
        """The alarms that start with this reading."""
        lim = self.limits
        now: dict[str, Alarm] = {}
        if vitals.probe_off:
            now["probe_off"] = Alarm("probe_off", "medium", "oximeter probe off")
        elif vitals.stale:
            now["oximeter_silent"] = Alarm("oximeter_silent", "medium", "no data from oximeter")
        if math.isfinite(vitals.spo2_pct) and vitals.spo2_pct < lim.spo2_low_pct:
            now["spo2_low"] = Alarm(
                "spo2_low", "high", f"SpO2 {vitals.spo2_pct:.0f} % below {lim.spo2_low_pct:.0f} %"
            )
        if math.isfinite(vitals.pulse_bpm) and vitals.pulse_bpm < lim.pulse_low_bpm:
            now["pulse_low"] = Alarm(
                "pulse_low", "high", f"pulse {vitals.pulse_bpm:.0f} below {lim.pulse_low_bpm:.0f}"
            )
        if math.isfinite(vitals.pulse_bpm) and vitals.pulse_bpm > lim.pulse_high_bpm:
            now["pulse_high"] = Alarm(
                "pulse_high",
                "high",
                f"pulse {vitals.pulse_bpm:.0f} above {lim.pulse_high_bpm:.0f}",
            )
        started = [alarm for code, alarm in now.items() if code not in self._active]
        self._active = set(now)
        return started
