"""The training pipeline end to end on a tiny recipe: every step hands the next what it needs.

The quick run trains for one epoch on two short scenarios, so its metrics are meaningless; what
it shows is that data, training, export, the ONNX-versus-torch check, the descriptions, the
runtime and the cards still fit together.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from edge.perception.detector import Detector
from edge.perception.segmenter import Segmenter
from models.training.dataset import stock_scan
from models.training.export import ExportMismatchError, export_onnx
from models.training.networks import Segmenter as SegmenterNet
from models.training.pipeline import run
from models.training.recipe import QUICK


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("models")
    run(QUICK, out, tmp_path_factory.mktemp("data"), report=lambda _: None)
    return out


def test_the_quick_run_writes_models_descriptions_metrics_and_cards(quick_run: Path) -> None:
    names = {p.name for p in quick_run.iterdir()}
    assert {
        "detector.onnx",
        "detector.yaml",
        "detector.md",
        "segmenter.onnx",
        "segmenter.yaml",
        "segmenter.md",
        "metrics.json",
    } <= names
    metrics = json.loads((quick_run / "metrics.json").read_text())
    assert metrics["detector"]["onnx_max_abs_diff"] <= 1e-3
    assert metrics["segmenter"]["onnx_max_abs_diff"] <= 1e-3
    assert metrics["data"]["train_frames"] > 0
    card = (quick_run / "detector.md").read_text()
    assert "All training and evaluation data are simulated" in card
    assert f"{metrics['detector']['map50']:.3f}" in card


def test_the_runtime_loads_what_the_pipeline_wrote(quick_run: Path) -> None:
    detector = Detector(quick_run / "detector.yaml")
    assert detector.classes[0] == "person"
    found = detector.detect(np.zeros((240, 320, 3), np.uint8), score_threshold=0.01)
    assert all(0 <= d.box[0] <= d.box[2] <= 320 for d in found)
    segmenter = Segmenter(quick_run / "segmenter.yaml")
    labels = segmenter.segment(stock_scan(np.full(720, 4.0, np.float32)))
    assert labels.shape == (720,)


def test_an_export_that_disagrees_with_torch_is_refused(tmp_path: Path) -> None:
    class Drifting(SegmenterNet):
        """Answers differently on every call, so no exported graph can match it."""

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return super().forward(x) + torch.rand(1)

    inputs = np.random.default_rng(0).random((2, 2, 720), dtype=np.float32)
    with pytest.raises(ExportMismatchError, match="differs from torch"):
        export_onnx(Drifting(3), tmp_path / "s.onnx", "scan", "logits", held_out=inputs)
