"""Training data from the simulator: reproducible from seeds, labels that match the truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edge.sim.shapes import ObjectClass
from models.training.dataset import (
    CameraSample,
    ScanSample,
    beam_labels,
    read_shard,
    samples,
    training_scenario,
    write_shard,
)


@pytest.fixture(autouse=True)
def _data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAIRLINK_DATA", str(tmp_path_factory.getbasetemp() / "chairlink-data"))


def test_beam_labels_map_truth_to_free_static_person() -> None:
    truth = np.array(
        [ObjectClass.NONE, ObjectClass.WALL, ObjectClass.PERSON, ObjectClass.BED, ObjectClass.POLE],
        dtype=np.int8,
    )
    assert list(beam_labels(truth)) == [0, 1, 2, 1, 1]


def test_samples_are_reproducible_from_their_seed() -> None:
    a = list(samples(5, duration_s=4))
    b = list(samples(5, duration_s=4))
    assert len(a) == len(b) > 10
    for x, y in zip(a, b, strict=True):
        if isinstance(x, CameraSample):
            assert isinstance(y, CameraSample)
            np.testing.assert_array_equal(x.image, y.image)
            np.testing.assert_array_equal(x.boxes, y.boxes)
        else:
            assert isinstance(x, ScanSample)
            assert isinstance(y, ScanSample)
            np.testing.assert_array_equal(x.labels, y.labels)


def test_boxes_lie_in_the_image_and_scans_are_stock_sized() -> None:
    items = list(samples(8, duration_s=10))
    frames = [s for s in items if isinstance(s, CameraSample)]
    scans = [s for s in items if isinstance(s, ScanSample)]
    assert frames
    assert scans
    boxes = np.concatenate([f.boxes for f in frames])
    assert len(boxes) > 0
    assert (boxes[:, 0] >= 0).all()
    assert (boxes[:, 2] < 320).all()
    assert (boxes[:, 1] >= 0).all()
    assert (boxes[:, 3] < 240).all()
    assert (boxes[:, 2] >= boxes[:, 0]).all()
    assert all(s.ranges.shape == (720,) and s.labels.shape == (720,) for s in scans)
    visible = np.concatenate([f.visible for f in frames])
    difficult = np.concatenate([f.difficult for f in frames])
    assert (visible > 0).all()
    assert difficult[visible < 0.25].all()
    assert not difficult.all()


def test_scenarios_differ_by_seed_and_keep_objects_off_walls() -> None:
    from chairlink.site import stock_site  # noqa: PLC0415

    site = stock_site()
    one, two = training_scenario(site, 1), training_scenario(site, 2)
    assert one != two
    for obj in one.objects:
        assert site.map.is_free(obj.x, obj.y)


def test_a_shard_round_trips(tmp_path: Path) -> None:
    items = list(samples(3, duration_s=3))
    frames, scans = read_shard(write_shard(tmp_path / "shard.npz", items))
    assert len(frames) == sum(isinstance(s, CameraSample) for s in items) > 0
    assert len(scans) == sum(isinstance(s, ScanSample) for s in items) > 0
    originals = [s for s in items if isinstance(s, CameraSample)]
    for read, original in zip(frames, originals, strict=True):
        np.testing.assert_array_equal(read.image, original.image)
        np.testing.assert_array_equal(read.boxes, original.boxes)
        np.testing.assert_array_equal(read.difficult, original.difficult)


def test_an_empty_shard_round_trips(tmp_path: Path) -> None:
    assert read_shard(write_shard(tmp_path / "empty.npz", [])) == ([], [])


def test_another_chairs_sensors_make_its_own_data_under_its_own_name(tmp_path: Path) -> None:
    from chairlink.config import load_chair_config  # noqa: PLC0415
    from models.training.dataset import DATA_VERSION, build_split  # noqa: PLC0415

    small = load_chair_config(
        None,
        camera={
            "calibration": {"width": 160, "height": 120, "fx": 80, "fy": 80, "cx": 79.5, "cy": 59.5}
        },
        lidar={"beams": 360},
    )
    (stock_path,) = build_split(tmp_path, [3], duration_s=2, workers=1)
    (small_path,) = build_split(tmp_path, [3], duration_s=2, workers=1, chair=small)
    assert stock_path.name == f"v{DATA_VERSION}-seed3-f2.5-s5-d2.npz"
    assert small_path.name.startswith(f"v{DATA_VERSION}-seed3-f2.5-s5-d2-g")
    frames, scans = read_shard(small_path)
    assert frames
    assert scans
    assert all(f.image.shape == (120, 160, 3) for f in frames)
    assert all(s.ranges.shape == (360,) for s in scans)
    stock_frames, _ = read_shard(stock_path)
    assert stock_frames[0].image.shape == (240, 320, 3)
    empty = read_shard(write_shard(tmp_path / "empty.npz", [], chair=small))
    assert empty == ([], [])
