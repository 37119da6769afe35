"""Constant-velocity Kalman tracks of obstacles in the plane, with gated association.

Each track is a Kalman filter on the state (x, y, vx, vy) in base_link, in metres and metres per
second, moving at constant velocity between updates with white-noise acceleration (a walking
person speeds up, slows and turns). Every update is given its time in integer nanoseconds
(``now_ns``); the tracker never reads a clock, so simulated time and recorded bags replay exactly.

Association: every track is predicted to ``now_ns``, then each (track, detection) pair costs the
squared Mahalanobis distance of the detection from the track's predicted position under the
innovation covariance. A pair is gated out, never assigned, when that distance passes the
chi-square gate or the plain distance passes ``max_jump_m``. scipy's ``linear_sum_assignment``
picks the assignment of least total cost among the pairs left.

Birth and death: a detection no track takes starts a tentative track; it is confirmed after
``confirm_hits`` hits. A tentative track that misses once is dropped (it never showed it was more
than clutter); a confirmed track coasts on its prediction and is dropped after ``max_misses``
updates in a row without a detection or when it has not been seen for ``max_coast_s``.

Class: a track keeps the label of its most recent detection whose confidence reaches
``label_min_confidence`` (a track born of a weaker detection takes that label until a confident
one comes). The most recent confident label follows a segmenter or detector that improves as an
obstacle comes closer, where a vote would hold on to the early, distant guesses.

Bad input never raises: a detection with a non-finite or out-of-range field is dropped, and an
update stamped before the previous one is ignored; each is counted in ``Tracker.rejected`` by
reason.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment

__all__ = ["Detection", "Track", "Tracker", "TrackerConfig"]

_NS_PER_S = 1_000_000_000
_H = np.array([[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0]])


@dataclass(frozen=True)
class Detection:
    """One obstacle seen at one time, in base_link.

    Attributes:
        x: Forward position of the obstacle's centre, metres.
        y: Leftward position of the obstacle's centre, metres.
        label: Its class ("person", "bed", ...).
        size: Its diameter (or largest extent) in the plane, metres.
        confidence: The class's confidence, 0 to 1.
        sensors: The sensors that saw it ("lidar", "camera").
    """

    x: float
    y: float
    label: str
    size: float
    confidence: float
    sensors: frozenset[str]


@dataclass(frozen=True)
class Track:
    """One tracked obstacle after an update.

    Attributes:
        id: Unique for the tracker's life; never reused.
        label: Its class (the most recent confident one).
        x: Estimated forward position, metres (base_link).
        y: Estimated leftward position, metres.
        vx: Estimated forward velocity, m/s.
        vy: Estimated leftward velocity, m/s.
        size: The size of its latest detection, metres.
        confidence: The confidence of its latest detection.
        sensors: The sensors that saw its latest detection.
        age_ns: Time since its first detection, nanoseconds.
        hits: Detections it has taken.
        misses: Updates in a row without a detection (0 when seen in this one).
        confirmed: Whether it has had ``confirm_hits`` hits.
        position_cov: Position covariance (xx, xy, yy), square metres.
    """

    id: int
    label: str
    x: float
    y: float
    vx: float
    vy: float
    size: float
    confidence: float
    sensors: frozenset[str]
    age_ns: int
    hits: int
    misses: int
    confirmed: bool
    position_cov: tuple[float, float, float]

    @property
    def speed(self) -> float:
        """Speed in the plane, m/s."""
        return math.hypot(self.vx, self.vy)

    @property
    def position_std(self) -> float:
        """Standard deviation along the position's least certain axis, metres."""
        xx, xy, yy = self.position_cov
        largest = 0.5 * (xx + yy) + math.sqrt(0.25 * (xx - yy) ** 2 + xy * xy)
        return math.sqrt(max(largest, 0.0))

    def predict(self, dt_s: float = 1.0) -> tuple[float, float]:
        """Position after ``dt_s`` seconds at the estimated velocity (a person's next second)."""
        return self.x + self.vx * dt_s, self.y + self.vy * dt_s


@dataclass(frozen=True)
class TrackerConfig:
    """Tracker settings; the defaults suit people and furniture seen by lidar at 10 Hz.

    Attributes:
        accel_std: White-noise acceleration, m/s^2. A person walks at about 1.4 m/s (healthy
            older adults 1.41 usual, 1.74 fast: Brown et al. 2015, docs/references.md) and
            takes a second or two to reach that speed or to turn: 0.7 m/s^2. Larger values
            follow turns sooner but let the velocity jitter with each noisy scan (1.5 m/s^2
            gave about 0.1 m/s of velocity noise at 10 Hz); at 0.5 m/s^2 a walker stopping
            within half a second (2.8 m/s^2) fell out of the gate and started a second track.
            At 0.7 both are met (tested).
        measurement_std: Position noise of a detection, metres: a lidar cluster's centre moves
            a few centimetres as legs swing and beams fall on different points (beam noise alone
            is 0.01-0.02 m), so 0.05 m.
        initial_speed_std: Velocity uncertainty of a new track, m/s: covers a fast walker
            (1.74 m/s) within about one standard deviation.
        gate_chi2: Squared Mahalanobis gate; 18.42 keeps 99.99 % of true detections
            (chi-square, two degrees of freedom). At 99 % (9.21) one scan in a hundred of a
            steadily tracked walker fell outside and started a stray track; a quick stop is not
            white noise either, so the gate is wide and ``max_jump_m`` bounds it in metres.
        max_jump_m: No track moves to a detection farther than this from its prediction, however
            uncertain the track: 1.0 m is well beyond a walker's 0.17 m in one 0.1 s scan, and
            below the spacing of two people passing.
        confirm_hits: Hits that confirm a track: 3 scans (0.3 s at 10 Hz) keeps one-scan
            clutter out.
        max_misses: Updates in a row without a detection that drop a confirmed track: 10 (1 s
            at 10 Hz) carries a person through a brief occlusion by another.
        max_coast_s: Time unseen that drops a track whatever the update rate: 1.5 s, after which
            a constant-velocity guess of a walker is off by more than a metre.
        label_min_confidence: Confidence a detection needs to set its track's label.
        max_position_m: Detections farther than this on either axis are refused as corrupt: no
            sensor on the chair sees beyond 40 m.
    """

    accel_std: float = 0.7
    measurement_std: float = 0.05
    initial_speed_std: float = 1.5
    gate_chi2: float = 18.42
    max_jump_m: float = 1.0
    confirm_hits: int = 3
    max_misses: int = 10
    max_coast_s: float = 1.5
    label_min_confidence: float = 0.5
    max_position_m: float = 1000.0

    def __post_init__(self) -> None:
        positive = {
            "accel_std": self.accel_std,
            "measurement_std": self.measurement_std,
            "initial_speed_std": self.initial_speed_std,
            "gate_chi2": self.gate_chi2,
            "max_jump_m": self.max_jump_m,
            "max_coast_s": self.max_coast_s,
            "max_position_m": self.max_position_m,
        }
        for name, value in positive.items():
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"TrackerConfig.{name} must be finite and > 0, got {value!r}")
        if self.confirm_hits < 1 or self.max_misses < 1:
            raise ValueError(
                f"TrackerConfig.confirm_hits and max_misses must be >= 1, "
                f"got {self.confirm_hits} and {self.max_misses}"
            )
        if not 0.0 <= self.label_min_confidence <= 1.0:
            raise ValueError(
                f"TrackerConfig.label_min_confidence must be in [0, 1], "
                f"got {self.label_min_confidence!r}"
            )


@dataclass
class _Filter:
    """One track's mutable state inside the tracker."""

    id: int
    state: NDArray[np.float64]
    cov: NDArray[np.float64]
    label: str
    size: float
    confidence: float
    sensors: frozenset[str]
    born_ns: int
    last_seen_ns: int
    hits: int = 1
    misses: int = 0


@dataclass
class Tracker:
    """Tracks obstacles across detection sets given with their times.

    ``update`` returns the confirmed tracks; ``tracks`` returns every track, tentative too.
    """

    config: TrackerConfig = field(default_factory=TrackerConfig)
    rejected: Counter[str] = field(default_factory=Counter)
    _filters: list[_Filter] = field(default_factory=list)
    _next_id: int = 1
    _last_ns: int | None = None

    def update(self, detections: Sequence[Detection], now_ns: int) -> list[Track]:
        """Take the detections seen at ``now_ns`` and return the confirmed tracks."""
        if self._last_ns is not None and now_ns < self._last_ns:
            self.rejected["update before the previous one"] += 1
            return self.confirmed()
        good = [d for d in detections if self._accept(d)]
        dt_s = 0.0 if self._last_ns is None else (now_ns - self._last_ns) / _NS_PER_S
        self._last_ns = now_ns
        for f in self._filters:
            self._predict(f, dt_s)
        pairs = self._associate(good)
        taken_tracks = {t for t, _ in pairs}
        taken_detections = {d for _, d in pairs}
        for track_index, detection_index in pairs:
            self._correct(self._filters[track_index], good[detection_index], now_ns)
        for i, f in enumerate(self._filters):
            if i not in taken_tracks:
                f.misses += 1
        self._filters = [f for f in self._filters if not self._expired(f, now_ns)]
        for i, detection in enumerate(good):
            if i not in taken_detections:
                self._birth(detection, now_ns)
        return self.confirmed()

    def confirmed(self) -> list[Track]:
        """The confirmed tracks as of the last update."""
        return [t for t in self.tracks() if t.confirmed]

    def tracks(self) -> list[Track]:
        """Every track, tentative ones included, as of the last update."""
        now = self._last_ns if self._last_ns is not None else 0
        return [self._snapshot(f, now) for f in self._filters]

    def _accept(self, d: Detection) -> bool:
        limit = self.config.max_position_m
        reason = None
        if not (math.isfinite(d.x) and math.isfinite(d.y)):
            reason = "position not finite"
        elif abs(d.x) > limit or abs(d.y) > limit:
            reason = f"position beyond {limit} m"
        elif not (math.isfinite(d.size) and d.size >= 0):
            reason = "size not finite and >= 0"
        elif not (math.isfinite(d.confidence) and 0.0 <= d.confidence <= 1.0):
            reason = "confidence not in [0, 1]"
        elif not d.label:
            reason = "empty label"
        if reason is not None:
            self.rejected[f"detection: {reason}"] += 1
            return False
        return True

    def _predict(self, f: _Filter, dt_s: float) -> None:
        if dt_s <= 0:
            return
        transition = np.eye(4)
        transition[0, 2] = transition[1, 3] = dt_s
        # Discrete white-noise acceleration, per axis: [dt^4/4, dt^3/2; dt^3/2, dt^2] * q.
        q = self.config.accel_std**2
        a, b, c = dt_s**4 / 4 * q, dt_s**3 / 2 * q, dt_s**2 * q
        noise = np.array([[a, 0, b, 0], [0, a, 0, b], [b, 0, c, 0], [0, b, 0, c]])
        f.state = transition @ f.state
        f.cov = transition @ f.cov @ transition.T + noise

    def _innovation_cov(self, f: _Filter) -> NDArray[np.float64]:
        r = self.config.measurement_std**2
        s: NDArray[np.float64] = f.cov[:2, :2] + r * np.eye(2)
        return s

    def _associate(self, good: list[Detection]) -> list[tuple[int, int]]:
        """Pairs (track index, detection index) of least total cost, gated pairs never made."""
        if not self._filters or not good:
            return []
        points = np.array([[d.x, d.y] for d in good])
        cost = np.full((len(self._filters), len(good)), np.inf)
        for i, f in enumerate(self._filters):
            residual = points - f.state[:2]
            inv = np.linalg.inv(self._innovation_cov(f))
            mahalanobis = np.einsum("ni,ij,nj->n", residual, inv, residual)
            distance = np.hypot(residual[:, 0], residual[:, 1])
            inside = (mahalanobis <= self.config.gate_chi2) & (distance <= self.config.max_jump_m)
            cost[i, inside] = mahalanobis[inside]
        allowed = np.isfinite(cost)
        if not allowed.any():
            return []
        # A gated pair costs more than every allowed assignment together, so the solver makes
        # as many allowed pairs as it can; the gated pairs it is forced into are then dropped.
        forbidden = self.config.gate_chi2 * (min(cost.shape) + 1) + 1.0
        rows, cols = linear_sum_assignment(np.where(allowed, cost, forbidden))
        return [(int(r), int(c)) for r, c in zip(rows, cols, strict=True) if allowed[r, c]]

    def _correct(self, f: _Filter, d: Detection, now_ns: int) -> None:
        s = self._innovation_cov(f)
        gain = f.cov @ _H.T @ np.linalg.inv(s)
        f.state = f.state + gain @ (np.array([d.x, d.y]) - f.state[:2])
        # Joseph form keeps the covariance symmetric and positive over long runs.
        keep = np.eye(4) - gain @ _H
        r = self.config.measurement_std**2 * np.eye(2)
        f.cov = keep @ f.cov @ keep.T + gain @ r @ gain.T
        f.hits += 1
        f.misses = 0
        f.last_seen_ns = now_ns
        f.size, f.confidence, f.sensors = d.size, d.confidence, d.sensors
        if d.confidence >= self.config.label_min_confidence:
            f.label = d.label

    def _expired(self, f: _Filter, now_ns: int) -> bool:
        if f.misses == 0:
            return False
        if f.hits < self.config.confirm_hits:
            return True
        unseen_s = (now_ns - f.last_seen_ns) / _NS_PER_S
        return f.misses >= self.config.max_misses or unseen_s > self.config.max_coast_s

    def _birth(self, d: Detection, now_ns: int) -> None:
        pos_var = self.config.measurement_std**2
        vel_var = self.config.initial_speed_std**2
        self._filters.append(
            _Filter(
                id=self._next_id,
                state=np.array([d.x, d.y, 0.0, 0.0]),
                cov=np.diag([pos_var, pos_var, vel_var, vel_var]),
                label=d.label,
                size=d.size,
                confidence=d.confidence,
                sensors=d.sensors,
                born_ns=now_ns,
                last_seen_ns=now_ns,
            )
        )
        self._next_id += 1

    def _snapshot(self, f: _Filter, now_ns: int) -> Track:
        x, y, vx, vy = (float(v) for v in f.state)
        return Track(
            id=f.id,
            label=f.label,
            x=x,
            y=y,
            vx=vx,
            vy=vy,
            size=f.size,
            confidence=f.confidence,
            sensors=f.sensors,
            age_ns=now_ns - f.born_ns,
            hits=f.hits,
            misses=f.misses,
            confirmed=f.hits >= self.config.confirm_hits,
            position_cov=(float(f.cov[0, 0]), float(f.cov[0, 1]), float(f.cov[1, 1])),
        )
