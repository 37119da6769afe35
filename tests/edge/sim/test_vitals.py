"""Scripted vitals and tilt: baselines, ramped events, the probe coming off."""

from __future__ import annotations

import math

import numpy as np
import pytest

from edge.sim.scenario import TiltSpec, VitalsSpec
from edge.sim.vitals import TiltScript, VitalsScript
from edge.types import Perfusion

S = 1_000_000_000


def script() -> VitalsScript:
    spec = VitalsSpec.model_validate(
        {
            "patient_token": "pt-7f3a9c",
            "spo2_pct": 97,
            "pulse_bpm": 72,
            "events": [
                {
                    "kind": "desaturation",
                    "at_s": 180,
                    "duration_s": 60,
                    "ramp_s": 20,
                    "spo2_pct": 86,
                },
                {"kind": "tachycardia", "at_s": 190, "duration_s": 40, "pulse_bpm": 125},
                {"kind": "probe_off", "at_s": 300, "duration_s": 8},
            ],
        }
    )
    return VitalsScript(spec, np.random.default_rng(0))


def test_a_desaturation_ramps_down_holds_and_recovers() -> None:
    vitals = script()
    assert vitals.sample(100 * S).spo2_pct == pytest.approx(97, abs=1)
    assert vitals.sample(190 * S).spo2_pct == pytest.approx(97 - 11 / 2, abs=1.5)
    middle = vitals.sample(210 * S)
    assert middle.spo2_pct == pytest.approx(86, abs=1)
    assert middle.perfusion == Perfusion.MARGINAL
    assert middle.pulse_bpm == pytest.approx(125, abs=5)
    assert vitals.sample(260 * S).spo2_pct == pytest.approx(97, abs=1)
    assert middle.patient_token == "pt-7f3a9c"


def test_the_probe_coming_off_gives_no_values_and_says_so() -> None:
    reading = script().sample(303 * S)
    assert reading.probe_off
    assert math.isnan(reading.spo2_pct)
    assert math.isnan(reading.pulse_bpm)
    assert reading.perfusion == Perfusion.LOW


def test_tokens_that_look_like_names_are_refused() -> None:
    with pytest.raises(ValueError, match="patient_token"):
        VitalsSpec.model_validate({"patient_token": "John Smith"})


def test_tilt_follows_its_ramp() -> None:
    tilt = TiltScript(
        [TiltSpec(at_s=10, duration_s=12, ramp_s=2, pitch_deg=4.8)], np.random.default_rng(0)
    )
    assert math.degrees(tilt.sample(5 * S).pitch_rad) == pytest.approx(0, abs=0.5)
    assert math.degrees(tilt.sample(15 * S).pitch_rad) == pytest.approx(4.8, abs=0.5)
    assert math.degrees(tilt.sample(11 * S).pitch_rad) == pytest.approx(2.4, abs=0.5)
