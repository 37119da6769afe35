"""Scripted patient vitals and chair tilt: baselines, events with ramps, sensor noise.

A scenario says what the patient's SpO2 and pulse do (a desaturation at minute 3, a
tachycardia, the probe slipping off) and where the floor tilts (a ramp). The values are what
the oximeter and the IMU would report; the telemetry issue turns vitals into an oximeter's
bytes. Seeded: the same scenario gives the same readings.
"""

from __future__ import annotations

import math

import numpy as np

from edge.sim.scenario import TiltSpec, VitalsEventKind, VitalsSpec
from edge.types import Perfusion, Tilt, Vitals

__all__ = ["TiltScript", "VitalsScript"]


def _envelope(t_s: float, at_s: float, duration_s: float, ramp_s: float) -> float:
    """0 before and after an event, 1 in its middle, linear ramps of ``ramp_s`` at both ends."""
    if t_s < at_s or t_s > at_s + duration_s:
        return 0.0
    if ramp_s <= 0:
        return 1.0
    return min(1.0, (t_s - at_s) / ramp_s, (at_s + duration_s - t_s) / ramp_s)


class VitalsScript:
    """The oximeter's readings over a run."""

    def __init__(self, spec: VitalsSpec, rng: np.random.Generator) -> None:
        self._spec = spec
        self._rng = rng

    def sample(self, stamp_ns: int) -> Vitals:
        """The reading at a time."""
        spec = self._spec
        t_s = stamp_ns / 1e9
        spo2, pulse = spec.spo2_pct, spec.pulse_bpm
        probe_off = False
        for event in spec.events:
            weight = _envelope(t_s, event.at_s, event.duration_s, event.ramp_s)
            if weight == 0.0:
                continue
            if event.kind == VitalsEventKind.PROBE_OFF:
                probe_off = True
            if event.spo2_pct is not None:
                spo2 += weight * (event.spo2_pct - spec.spo2_pct)
            if event.pulse_bpm is not None:
                pulse += weight * (event.pulse_bpm - spec.pulse_bpm)
        if probe_off:
            return Vitals(stamp_ns, spec.patient_token, math.nan, math.nan, Perfusion.LOW, True)
        spo2 = float(np.clip(spo2 + self._rng.normal(0.0, 0.4), 50.0, 100.0))
        pulse = float(np.clip(pulse + self._rng.normal(0.0, 1.5), 20.0, 250.0))
        perfusion = Perfusion.GOOD if spo2 >= 90 else Perfusion.MARGINAL
        return Vitals(
            stamp_ns, spec.patient_token, float(round(spo2)), float(round(pulse)), perfusion, False
        )


class TiltScript:
    """The IMU's roll and pitch over a run: level, except on the scripted stretches."""

    def __init__(self, spans: list[TiltSpec], rng: np.random.Generator) -> None:
        self._spans = spans
        self._rng = rng

    def sample(self, stamp_ns: int) -> Tilt:
        """The tilt at a time, with 0.1 degree of sensor noise."""
        t_s = stamp_ns / 1e9
        roll = pitch = 0.0
        for span in self._spans:
            weight = _envelope(t_s, span.at_s, span.duration_s, span.ramp_s)
            roll += weight * math.radians(span.roll_deg)
            pitch += weight * math.radians(span.pitch_deg)
        noise = self._rng.normal(0.0, math.radians(0.1), 2)
        return Tilt(stamp_ns, roll + float(noise[0]), pitch + float(noise[1]))
