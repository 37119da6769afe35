"""From a stream of edge values to the telemetry agent's calls, at the configured rates.

A host (the simulator's runner, ``chairlink edge agent``) hands every value it has to
``TelemetryFeed.take()``. Odometry and the MCU's status update a ``VehicleState``; a vehicle
sample goes to the agent once every ``1 / vehicle_hz`` of the stream's own time, read from the
values' stamps, so a simulation running twenty times faster than real time still gives samples
ten simulated times a second. A host on a live clock also calls ``tick(now)``: when the MCU
goes quiet, samples go on at the same rate, marked stale (fault ``state_stale``, mode
``fault``) once odometry or the status is older than ``STALE_AFTER_NS``, rather than stop or
repeat old values as current. Every host samples the vehicle through this one feed.
Vitals go to the agent at most ``publish_hz`` times a second of stream time. Scans, camera
frames, drive commands and tilt are not telemetry and are dropped; anything else is a host's
bug and is refused with a TypeError.

Pure Python on given time: no threads, no clock. Not thread-safe; a host feeding it from
several threads serialises the calls.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from pydantic import ValidationError

from chairlink.config import ChairConfig
from chairlink.wire.payloads import PayloadError, VehicleSample, describe
from edge.telemetry.vehicle_state import VehicleState
from edge.types import CameraFrame, ChairStatus, DriveCommand, Odometry, Scan, Tilt, Vitals

__all__ = ["STALE_AFTER_NS", "FeedStats", "TelemetryFeed", "TelemetrySink"]

_log = logging.getLogger(__name__)

_NOT_TELEMETRY = (Scan, CameraFrame, DriveCommand, Tilt)

STALE_AFTER_NS = 1_000_000_000
"""Odometry or MCU status older than this (they come at 50 and 10 Hz) makes a sample stale."""


class TelemetrySink(Protocol):
    """What the feed calls: the part of ``TelemetryAgent`` a host feeds."""

    def vehicle(self, sample: VehicleSample) -> None:
        """Take a vehicle sample."""

    def vitals(self, vitals: Vitals) -> None:
        """Take a vitals reading; raises PayloadError for one no message can carry."""


@dataclass(frozen=True)
class FeedStats:
    """What the feed has passed on and held back."""

    vehicle_samples: int = 0
    """Vehicle samples given to the agent."""
    vitals: int = 0
    """Vitals readings given to the agent."""
    vitals_without_patient: int = 0
    """Readings due but held back because no patient token was set (nobody on the chair)."""
    refused: int = 0
    """Samples or readings no message could carry (logged with the reason)."""


class _Rate:
    """Due times on a fixed grid of stream time, anchored at the first value.

    At most one value per period is due; after a gap the grid skips the missed periods rather
    than bursting to catch up, and it never drifts with the spacing of the values.
    """

    def __init__(self, period_ns: int) -> None:
        self.period_ns = period_ns
        self._next: int | None = None
        self._latest: int | None = None

    def due(self, stamp_ns: int) -> bool:
        # Values from two sources interleave slightly out of order; only a jump back of more
        # than a period (a bag played again, a simulation restarted) starts a new grid, or the
        # feed would wait for the old stream time to come round again.
        if self._latest is not None and stamp_ns < self._latest - self.period_ns:
            self._next = None
        self._latest = stamp_ns
        if self._next is None:
            self._next = stamp_ns + self.period_ns
            return True
        if stamp_ns < self._next:
            return False
        missed = (stamp_ns - self._next) // self.period_ns
        self._next += (missed + 1) * self.period_ns
        return True


class TelemetryFeed:
    """Turns odometry, MCU status and vitals into agent calls at the configured rates."""

    def __init__(
        self,
        sink: TelemetrySink,
        *,
        vehicle_hz: float,
        vitals_hz: float,
        stamp_offset_ns: int = 0,
        stale_after_ns: int = STALE_AFTER_NS,
    ) -> None:
        """Feed ``sink`` (a ``TelemetryAgent``).

        Args:
            sink: what the samples and readings go to.
            vehicle_hz: vehicle samples per second of stream time.
            vitals_hz: the most vitals readings per second of stream time.
            stamp_offset_ns: added to a value's stamp to give the sample's ``stamp_ns`` on the
                wire, which is Unix time: the wall clock minus the steady clock for a host that
                stamps with the steady clock, the run's wall-clock start for a simulation.
            stale_after_ns: how old odometry or status may be in a sample before it says so.

        Raises:
            ValueError: a rate is not a positive finite number.
        """
        for name, hz in (("vehicle_hz", vehicle_hz), ("vitals_hz", vitals_hz)):
            if not 0 < hz < float("inf"):
                raise ValueError(f"{name} must be a positive number of Hz, got {hz}")
        self._sink = sink
        self._offset_ns = stamp_offset_ns
        self.state = VehicleState()
        self._stale_after_ns = stale_after_ns
        self._odometry_at = 0
        self._status_at = 0
        self._vehicle_rate = _Rate(round(1e9 / vehicle_hz))
        self._vitals_rate = _Rate(round(1e9 / vitals_hz))
        self._vehicle_samples = 0
        self._vitals = 0
        self._without_patient = 0
        self._refused = 0
        self._patient_present: bool | None = None
        self._last_refusal = ""

    @classmethod
    def for_chair(
        cls, sink: TelemetrySink, config: ChairConfig, *, stamp_offset_ns: int = 0
    ) -> TelemetryFeed:
        """A feed at the chair's rates: ``telemetry.vehicle_hz`` and ``oximeter.publish_hz``."""
        return cls(
            sink,
            vehicle_hz=config.telemetry.vehicle_hz,
            vitals_hz=config.oximeter.publish_hz,
            stamp_offset_ns=stamp_offset_ns,
        )

    def take(self, value: object) -> None:
        """Take one value of the stream; pass on what is due.

        Raises:
            TypeError: ``value`` is not one of the edge types a chair's stream carries.
        """
        if isinstance(value, Odometry):
            self.state.odometry = value
            self._odometry_at = value.stamp_ns
            self._vehicle(value.stamp_ns)
        elif isinstance(value, ChairStatus):
            self.state.status = value
            self._status_at = value.stamp_ns
            self._vehicle(value.stamp_ns)
        elif isinstance(value, Vitals):
            self._vitals_reading(value)
        elif not isinstance(value, _NOT_TELEMETRY):
            raise TypeError(
                f"TelemetryFeed takes edge values (edge.types), got {type(value).__module__}."
                f"{type(value).__qualname__}"
            )

    def tick(self, now_ns: int) -> None:
        """The stream's time is ``now_ns`` with nothing new: send a sample if one is due.

        For hosts on a live clock, called more often than ``vehicle_hz``: without it a quiet
        MCU would stop the samples instead of making them say so.
        """
        self._vehicle(now_ns)

    def stats(self) -> FeedStats:
        """The counters so far."""
        return FeedStats(
            vehicle_samples=self._vehicle_samples,
            vitals=self._vitals,
            vitals_without_patient=self._without_patient,
            refused=self._refused,
        )

    def _vehicle(self, stamp_ns: int) -> None:
        # The grid starts with the first complete state, not the first value: a status alone
        # makes no sample, and its slot would delay the first one by a period.
        if self.state.odometry is None or self.state.status is None:
            return
        if not self._vehicle_rate.due(stamp_ns):
            return
        try:
            oldest = min(self._odometry_at, self._status_at)
            stale = stamp_ns - oldest > self._stale_after_ns
            sample = self.state.sample(stamp_ns + self._offset_ns, stale=stale)
        except ValidationError as err:
            self._refuse(f"vehicle sample at {stamp_ns} ns", describe(err))
            return
        if sample is not None:
            self._sink.vehicle(sample)
            self._vehicle_samples += 1

    def _vitals_reading(self, vitals: Vitals) -> None:
        # The rate first, so the counter below counts readings that were due, not a host's polls.
        if not self._vitals_rate.due(vitals.stamp_ns):
            return
        present = bool(vitals.patient_token)
        if present != self._patient_present:
            self._patient_present = present
            if not present:
                # Once per stretch without a patient, not once a second.
                _log.info("no patient token: vitals are not sent until a patient is named")
        if not present:
            self._without_patient += 1
            return
        try:
            self._sink.vitals(vitals)
        except PayloadError as err:
            self._refuse(f"vitals at {vitals.stamp_ns} ns", str(err))
            return
        self._vitals += 1

    def _refuse(self, what: str, reason: str) -> None:
        self._refused += 1
        # The same fault repeats at the stream's rate; say it when it starts or changes.
        if reason != self._last_refusal:
            self._last_refusal = reason
            _log.warning("%s refused: %s", what, reason)
