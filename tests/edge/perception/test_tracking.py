"""The obstacle tracker on simulated walkers at 10 Hz, with seeded noise."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.perception.tracking import Detection, Track, Tracker, TrackerConfig

SCAN_NS = 100_000_000  # 10 Hz
LIDAR = frozenset({"lidar"})


def person(x: float, y: float, confidence: float = 0.9, label: str = "person") -> Detection:
    """A lidar-seen person at (x, y)."""
    return Detection(x, y, label, 0.5, confidence, LIDAR)


def only(tracks: list[Track]) -> Track:
    """The one track in ``tracks``."""
    assert len(tracks) == 1, tracks
    return tracks[0]


def test_a_walker_keeps_one_id_and_its_velocity_is_found_within_a_second() -> None:
    rng = np.random.default_rng(7)
    tracker = Tracker()
    ids = set()
    # Noise of an RPLidar-class scanner (0.01-0.02 m, docs/references.md); with
    # it, 195 seeds in 200 hold 0.1 m/s at every scan from 1 s to 3 s (0.03 m: about half).
    for k in range(31):
        x, y = -2.0 + 1.4 * k * 0.1, 1.0
        seen = person(x + rng.normal(0, 0.02), y + rng.normal(0, 0.02))
        tracks = tracker.update([seen], k * SCAN_NS)
        assert len(tracker.tracks()) == 1
        ids |= {t.id for t in tracks}
        if k >= 10:
            track = only(tracks)
            assert math.hypot(track.vx - 1.4, track.vy) < 0.1, (k, track)
            # Its next second is where the walker will be, to a few centimetres per scan.
            px, py = track.predict(1.0)
            assert math.hypot(px - (x + 1.4), py - y) < 0.25
    assert ids == {1}
    assert tracker.rejected == {}


def test_a_track_is_confirmed_after_the_configured_hits() -> None:
    tracker = Tracker(TrackerConfig(confirm_hits=3))
    assert tracker.update([person(1.0, 0.0)], 0) == []
    assert tracker.update([person(1.0, 0.0)], SCAN_NS) == []
    track = only(tracker.update([person(1.0, 0.0)], 2 * SCAN_NS))
    assert (track.hits, track.misses, track.age_ns, track.confirmed) == (3, 0, 2 * SCAN_NS, True)
    assert track.position_std < 0.05


def test_two_crossing_people_keep_their_ids() -> None:
    rng = np.random.default_rng(3)
    tracker = Tracker()
    # A walks along +x, B along +y; their paths cross near the origin at about t = 2 s,
    # B a step (0.3 m) behind A, as two people avoid each other.
    for k in range(41):
        t = k * 0.1
        a = (-2.8 + 1.4 * t, 0.0)
        b = (0.0, -3.1 + 1.4 * t)
        seen = [person(p[0] + rng.normal(0, 0.03), p[1] + rng.normal(0, 0.03)) for p in (a, b)]
        tracks = {tr.id: tr for tr in tracker.update(seen, k * SCAN_NS)}
        if k >= 3:
            assert set(tracks) == {1, 2}, (k, tracks)
            assert math.hypot(tracks[1].x - a[0], tracks[1].y - a[1]) < 0.15, (k, tracks)
            assert math.hypot(tracks[2].x - b[0], tracks[2].y - b[1]) < 0.15, (k, tracks)
    assert tracks[1].vx > 1.2
    assert abs(tracks[1].vy) < 0.2
    assert tracks[2].vy > 1.2
    assert abs(tracks[2].vx) < 0.2


def test_a_detection_beyond_the_gate_starts_a_new_track_rather_than_jumping() -> None:
    tracker = Tracker()
    for k in range(5):
        tracker.update([person(2.0, 0.0)], k * SCAN_NS)
    tracker.update([person(2.0, 1.5)], 5 * SCAN_NS)
    old, new = sorted(tracker.tracks(), key=lambda t: t.id)
    assert (old.id, old.misses) == (1, 1)
    assert math.hypot(old.x - 2.0, old.y) < 0.01
    assert (new.id, new.hits, new.confirmed) == (2, 1, False)


def test_a_walker_who_stops_within_half_a_second_keeps_the_track() -> None:
    rng = np.random.default_rng(11)
    tracker = Tracker()
    x, speed = 0.0, 1.4
    for k in range(40):
        if k >= 20:
            speed = max(0.0, speed - 0.28)  # 2.8 m/s^2: standing still 0.5 s later
        x += speed * 0.1
        seen = person(x + rng.normal(0, 0.03), 2.0 + rng.normal(0, 0.03))
        tracks = tracker.update([seen], k * SCAN_NS)
        assert len(tracker.tracks()) == 1, (k, tracker.tracks())
    track = only(tracks)
    assert track.id == 1
    assert track.speed < 0.15


def test_a_confirmed_track_missing_for_max_misses_updates_is_dropped() -> None:
    tracker = Tracker(TrackerConfig(max_misses=4, max_coast_s=10.0))
    for k in range(5):
        tracker.update([person(1.0, 1.0)], k * SCAN_NS)
    for k in range(5, 8):
        track = only(tracker.update([], k * SCAN_NS))
    assert track.misses == 3
    assert tracker.update([], 8 * SCAN_NS) == []
    assert tracker.tracks() == []


def test_a_track_unseen_for_max_coast_is_dropped_whatever_the_rate() -> None:
    tracker = Tracker(TrackerConfig(max_misses=100, max_coast_s=1.5))
    for k in range(5):
        tracker.update([person(1.0, 1.0)], k * SCAN_NS)
    last_seen = 4 * SCAN_NS
    assert only(tracker.update([], last_seen + 1_500_000_000)).misses == 1
    assert tracker.update([], last_seen + 1_600_000_000) == []


def test_a_tentative_track_that_misses_is_dropped_at_once() -> None:
    tracker = Tracker()
    tracker.update([person(1.0, 1.0)], 0)
    tracker.update([], SCAN_NS)
    assert tracker.tracks() == []


def test_the_label_is_the_latest_confident_one() -> None:
    tracker = Tracker(TrackerConfig(label_min_confidence=0.5))
    tracker.update([person(1.0, 0.0, 0.3, "static")], 0)
    tracker.update([person(1.0, 0.0, 0.8, "person")], SCAN_NS)
    tracker.update([person(1.0, 0.0, 0.4, "bed")], 2 * SCAN_NS)
    track = only(tracker.tracks())
    assert (track.label, track.confidence) == ("person", 0.4)


def test_bad_detections_and_late_updates_are_counted_not_raised() -> None:
    tracker = Tracker()
    bad = [
        person(math.nan, 0.0),
        person(1e6, 0.0),
        Detection(1.0, 0.0, "person", -1.0, 0.9, LIDAR),
        person(1.0, 0.0, confidence=1.5),
        person(1.0, 0.0, label=""),
    ]
    tracker.update([*bad, person(3.0, 3.0)], SCAN_NS)
    assert len(tracker.tracks()) == 1
    assert sum(tracker.rejected.values()) == 5
    assert tracker.rejected["detection: position not finite"] == 1
    tracker.update([person(5.0, 5.0)], 0)
    assert tracker.rejected["update before the previous one"] == 1
    assert len(tracker.tracks()) == 1


def test_a_config_out_of_range_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="gate_chi2"):
        TrackerConfig(gate_chi2=0.0)
    with pytest.raises(ValueError, match="confirm_hits"):
        TrackerConfig(confirm_hits=0)


_coordinate = st.floats(-20, 20) | st.sampled_from([math.nan, math.inf, 1e300])
_detection = st.builds(
    Detection,
    x=_coordinate,
    y=_coordinate,
    label=st.sampled_from(["person", "bed", ""]),
    size=st.floats(0, 2),
    confidence=st.floats(0, 1),
    sensors=st.just(LIDAR),
)
_scans = st.lists(
    st.tuples(st.integers(-SCAN_NS, 20 * SCAN_NS), st.lists(_detection, max_size=6)),
    max_size=25,
)


@settings(deadline=None)
@given(_scans)
def test_ids_are_unique_and_nothing_is_nan_for_any_detection_sets(
    scans: list[tuple[int, list[Detection]]],
) -> None:
    tracker = Tracker()
    now = 0
    alive: set[int] = set()
    gone: set[int] = set()
    for gap, seen in scans:
        now += gap
        tracker.update(seen, now)
        tracks = tracker.tracks()
        ids = {t.id for t in tracks}
        assert len(ids) == len(tracks)
        # An id, once dropped, never comes back for another obstacle.
        assert not ids & gone
        gone |= alive - ids
        alive = ids
        for t in tracks:
            values = (t.x, t.y, t.vx, t.vy, *t.position_cov, t.position_std, *t.predict(1.0))
            assert all(math.isfinite(v) for v in values), t
            assert t.hits >= 1
            assert t.misses >= 0
            assert t.age_ns >= 0
