"""The alarms the chair raises itself: limits, one alarm per episode, probe and silence."""

from __future__ import annotations

import math

from edge.telemetry.vitals_alarms import VitalsAlarms
from edge.types import Perfusion, Vitals


def _v(spo2: float = 97.0, pulse: float = 72.0, **flags: bool) -> Vitals:
    return Vitals(
        0, "pt-7f3a9c2b", spo2, pulse, Perfusion.GOOD, flags.pop("probe_off", False), **flags
    )


def test_each_limit_raises_once_per_episode_and_again_after_it_clears() -> None:
    alarms = VitalsAlarms()
    assert alarms.update(_v()) == []
    assert [a.code for a in alarms.update(_v(spo2=89))] == ["spo2_low"]
    assert alarms.update(_v(spo2=85)) == []
    assert alarms.update(_v(spo2=95)) == []
    assert [a.code for a in alarms.update(_v(spo2=88))] == ["spo2_low"]
    assert [a.code for a in alarms.update(_v(pulse=49))] == ["pulse_low"]
    assert [a.code for a in alarms.update(_v(pulse=121))] == ["pulse_high"]
    assert [a.priority for a in VitalsAlarms().update(_v(spo2=80, pulse=130))] == ["high", "high"]


def test_a_lost_probe_and_a_silent_oximeter_are_alarms_not_normal_readings() -> None:
    alarms = VitalsAlarms()
    (probe,) = alarms.update(_v(math.nan, math.nan, probe_off=True))
    assert (probe.code, probe.priority) == ("probe_off", "medium")
    (silent,) = alarms.update(_v(math.nan, math.nan, stale=True))
    assert silent.code == "oximeter_silent"
    assert alarms.update(_v(math.nan, math.nan, stale=True)) == []
