"""The detector runtime on generated ONNX graphs: the YOLOv8 layout, letterboxing, and errors."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import yaml

from chairlink.errors import ModelError
from edge.perception.detector import Detector
from tests.edge.perception.graphs import fixed_output_graph, yolo_output

CLASSES = ["person", "bicycle", "car"]


def _describe(path: Path, model: str, **overrides: object) -> Path:
    description: dict[str, object] = {
        "kind": "detector",
        "format": "yolov8",
        "model": model,
        "input": {"name": "images", "width": 320, "height": 320},
        "output": "output0",
        "classes": CLASSES,
        "score_threshold": 0.25,
        "nms_iou": 0.45,
    }
    description.update(overrides)
    path.write_text(yaml.safe_dump(description), encoding="utf-8")
    return path


@pytest.fixture
def yolo(tmp_path: Path) -> Path:
    out = yolo_output(
        [(160, 200, 40, 80), (164, 200, 40, 80), (60, 100, 20, 20), (300, 300, 10, 10)],
        [[0.9, 0.0, 0.1], [0.7, 0.1, 0.0], [0.0, 0.0, 0.6], [0.1, 0.2, 0.05]],
    )
    fixed_output_graph(tmp_path / "yolo.onnx", out, output_shape=(1, 7, "anchors"))
    return _describe(tmp_path / "yolo.yaml", "yolo.onnx")


def test_a_yolov8_layout_model_decodes_suppresses_and_unletterboxes(yolo: Path) -> None:
    detector = Detector(yolo)
    # A 640 x 480 frame lands in the 320 x 320 input at half scale, 40 px down.
    found = detector.detect(np.zeros((480, 640, 3), np.uint8))
    assert [(d.label, round(d.score, 2)) for d in found] == [("person", 0.9), ("car", 0.6)]
    np.testing.assert_allclose(found[0].box, [(140 * 2), (160 - 40) * 2, 180 * 2, (240 - 40) * 2])
    np.testing.assert_allclose(found[1].box, [100, 100, 140, 140])


def test_the_threshold_can_be_lowered_for_evaluation(yolo: Path) -> None:
    found = Detector(yolo).detect(np.zeros((320, 320, 3), np.uint8), score_threshold=0.15)
    assert [d.label for d in found] == ["person", "car", "bicycle"]


def test_a_missing_model_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"nothing\.onnx: cannot read the model"):
        Detector(_describe(tmp_path / "d.yaml", "nothing.onnx"))


def test_a_missing_description_is_named(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"absent\.yaml: cannot read the model description"):
        Detector(tmp_path / "absent.yaml")


def test_a_corrupt_model_file_is_refused(tmp_path: Path, yolo: Path) -> None:
    data = (tmp_path / "yolo.onnx").read_bytes()
    (tmp_path / "cut.onnx").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelError, match="not a model onnxruntime can load"):
        Detector(_describe(tmp_path / "cut.yaml", "cut.onnx"))


def test_a_model_that_differs_from_its_digest_is_refused(tmp_path: Path, yolo: Path) -> None:
    digest = hashlib.sha256((tmp_path / "yolo.onnx").read_bytes()).hexdigest()
    assert Detector(_describe(tmp_path / "ok.yaml", "yolo.onnx", sha256=digest))
    flipped = ("0" if digest[0] != "0" else "1") + digest[1:]
    with pytest.raises(ModelError, match="corrupt or replaced"):
        Detector(_describe(tmp_path / "bad.yaml", "yolo.onnx", sha256=flipped))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"output": "boxes"}, r"names output 'boxes', the model has \['output0'\]"),
        (
            {"classes": ["person", "car"]},
            r"output 'output0' has shape \[1, 7, 2100\], the description implies \[1, 6, \?\]",
        ),
        (
            {"input": {"name": "images", "width": 640, "height": 640}},
            r"input 'images' has shape \[1, 3, 320, 320\], the description implies \[1, 3, 640",
        ),
        ({"input": {"name": "pixels", "width": 320, "height": 320}}, "names input 'pixels'"),
        ({"format": "centernet", "stride": 8}, r"description implies \[1, 7, 40, 40\]"),
    ],
)
def test_a_model_that_disagrees_with_its_description_is_refused(
    tmp_path: Path, yolo: Path, overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(ModelError, match=message):
        Detector(_describe(tmp_path / "other.yaml", "yolo.onnx", **overrides))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"format": "ssd"}, r"format: Input should be 'centernet' or 'yolov8'"),
        ({"format": "centernet"}, "format centernet needs a stride"),
        ({"score_threshold": 1.5}, "score_threshold: Input should be less than 1"),
        ({"classes": ["a", "a", "b"]}, "class names repeat"),
        ({"colour": "rgb"}, "colour: Extra inputs are not permitted"),
    ],
)
def test_an_invalid_description_names_the_field(
    tmp_path: Path, overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(ModelError, match=message):
        Detector(_describe(tmp_path / "bad.yaml", "yolo.onnx", **overrides))


def test_a_description_that_is_not_yaml_or_not_a_detector_is_refused(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("kind: [detector\n", encoding="utf-8")
    with pytest.raises(ModelError, match="not valid YAML"):
        Detector(tmp_path / "broken.yaml")
    segmenter = {
        "kind": "segmenter",
        "model": "s.onnx",
        "input": {"name": "scan", "beams": 720, "angle_min": -3.14, "fov": 6.28, "range_max": 12},
        "output": "logits",
        "classes": ["free", "static", "person"],
    }
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(segmenter), encoding="utf-8")
    with pytest.raises(ModelError, match="describes a segmenter, not a detector"):
        Detector(tmp_path / "s.yaml")
