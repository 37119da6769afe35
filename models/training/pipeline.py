"""The training pipeline end to end: data, training, ONNX export and check, evaluation, cards.

``make models`` runs :func:`run` with the stock :data:`RECIPE`; the tests run it with
:data:`QUICK` to show that every step still fits the next.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml

from chairlink.config import ChairConfig
from edge.perception.description import (
    DetectorDescription,
    ImageInput,
    ScanInput,
    SegmenterDescription,
)
from edge.perception.detector import Detector
from edge.perception.segmenter import Segmenter
from models.training.cards import detector_card, segmenter_card
from models.training.dataset import (
    DETECTOR_CLASSES,
    SEGMENTER_CLASSES,
    build_split,
    load_split,
)
from models.training.detector_training import train_detector
from models.training.evaluate import (
    choose_threshold,
    detector_metrics,
    segmenter_iou,
    tally_detections,
)
from models.training.export import OPSET, export_onnx, sha256_of
from models.training.networks import DETECTOR_STRIDE
from models.training.recipe import QUICK, RECIPE, Recipe
from models.training.segmenter_training import scan_tensor, train_segmenter

__all__ = ["QUICK", "RECIPE", "Recipe", "run"]

Report = Callable[[str], None]


def _split(
    recipe: Recipe, data: Path, name: str, seeds: tuple[int, int], chair: ChairConfig
) -> list[Path]:
    return build_split(
        data / name,
        range(*seeds),
        frame_hz=recipe.frame_hz,
        scan_hz=recipe.scan_hz,
        duration_s=recipe.duration_s,
        workers=recipe.workers,
        chair=chair,
    )


def _write_yaml(path: Path, description: DetectorDescription | SegmenterDescription) -> None:
    path.write_text(
        yaml.safe_dump(description.model_dump(mode="json", exclude_none=True), sort_keys=False),
        encoding="utf-8",
    )


def run(
    recipe: Recipe,
    out: Path,
    data: Path,
    report: Report = print,
    chair: ChairConfig | None = None,
) -> dict[str, Any]:
    """Make the data, train both models, export and check them, evaluate, write the cards.

    The data comes from ``chair``'s sensors (None: the stock chair's, which the shipped models
    were trained on), and the models' descriptions declare its image size and beam layout.
    Writes into ``out``: detector.onnx, detector.yaml, detector.md, segmenter.onnx,
    segmenter.yaml, segmenter.md and metrics.json. Returns the metrics.
    """
    chair = chair or ChairConfig()
    started = time.monotonic()
    torch.set_num_threads(recipe.workers)
    out.mkdir(parents=True, exist_ok=True)
    report("making the data set")
    train_frames, train_scans = load_split(_split(recipe, data, "train", recipe.train_seeds, chair))
    val_frames, _ = load_split(_split(recipe, data, "validation", recipe.validation_seeds, chair))
    test_frames, test_scans = load_split(
        _split(recipe, data, "heldout", recipe.heldout_seeds, chair)
    )
    report(
        f"  {len(train_frames)} training frames, {len(train_scans)} training scans, "
        f"{len(test_frames)} held-out frames, {len(test_scans)} held-out scans"
    )

    def progress(what: str) -> Callable[[int, int, float], None]:
        def tick(step: int, steps: int, loss: float) -> None:
            if step % 50 == 0 or step == steps:
                report(f"  {what} step {step}/{steps} loss {loss:.4f}")

        return tick

    lidar = chair.lidar
    scan_spec = ScanInput(
        name="scan",
        beams=lidar.beams,
        angle_min=lidar.angle_min_rad,
        fov=lidar.fov_rad,
        range_max=lidar.range_max_m,
    )
    report("training the segmenter")
    t0 = time.monotonic()
    segmenter = train_segmenter(
        train_scans,
        len(SEGMENTER_CLASSES),
        scan_spec,
        epochs=recipe.segmenter_epochs,
        seed=recipe.seed,
        progress=progress("segmenter"),
    )
    segmenter_s = time.monotonic() - t0
    held_scans = np.stack([scan_tensor(s.ranges, scan_spec) for s in test_scans[:32]])
    segmenter_diff = export_onnx(
        segmenter, out / "segmenter.onnx", "scan", "logits", held_out=held_scans
    )
    _write_yaml(
        out / "segmenter.yaml",
        SegmenterDescription(
            kind="segmenter",
            model="segmenter.onnx",
            sha256=sha256_of(out / "segmenter.onnx"),
            input=scan_spec,
            output="logits",
            classes=list(SEGMENTER_CLASSES),
        ),
    )

    report("training the detector")
    t0 = time.monotonic()
    detector = train_detector(
        train_frames,
        len(DETECTOR_CLASSES),
        epochs=recipe.detector_epochs,
        seed=recipe.seed,
        progress=progress("detector"),
    )
    detector_s = time.monotonic() - t0
    camera = chair.camera.calibration
    held_images = np.stack([f.image for f in test_frames[:16]]).transpose(0, 3, 1, 2)
    detector_diff = export_onnx(
        detector,
        out / "detector.onnx",
        "image",
        "heads",
        held_out=held_images.astype(np.float32) / 255.0,
    )
    description = DetectorDescription(
        kind="detector",
        format="centernet",
        model="detector.onnx",
        sha256=sha256_of(out / "detector.onnx"),
        input=ImageInput(name="image", width=camera.width, height=camera.height),
        output="heads",
        stride=DETECTOR_STRIDE,
        classes=list(DETECTOR_CLASSES),
    )
    _write_yaml(out / "detector.yaml", description)
    report("choosing the score threshold on the validation seeds")
    threshold = choose_threshold(tally_detections(Detector(out / "detector.yaml"), val_frames))
    _write_yaml(
        out / "detector.yaml", description.model_copy(update={"score_threshold": threshold})
    )

    report("evaluating on the held-out seeds")
    detector_result = detector_metrics(Detector(out / "detector.yaml"), test_frames, threshold)
    iou = segmenter_iou(Segmenter(out / "segmenter.yaml"), test_scans)
    metrics: dict[str, Any] = {
        "recipe": asdict(recipe),
        "opset": OPSET,
        "chair": chair.model_dump(mode="json", include={"footprint", "lidar", "camera"}),
        "data": {
            "train_frames": len(train_frames),
            "train_scans": len(train_scans),
            "validation_frames": len(val_frames),
            "heldout_frames": len(test_frames),
            "heldout_scans": len(test_scans),
            "train_objects": _class_counts(train_frames),
        },
        "detector": {
            **asdict(detector_result),
            "onnx_max_abs_diff": detector_diff,
            "train_s": detector_s,
            "parameters": sum(p.numel() for p in detector.parameters()),
            "bytes": (out / "detector.onnx").stat().st_size,
        },
        "segmenter": {
            "iou": iou,
            "mean_iou": float(np.mean(list(iou.values()))),
            "onnx_max_abs_diff": segmenter_diff,
            "train_s": segmenter_s,
            "parameters": sum(p.numel() for p in segmenter.parameters()),
            "bytes": (out / "segmenter.onnx").stat().st_size,
        },
        "pipeline_s": time.monotonic() - started,
    }
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    (out / "detector.md").write_text(detector_card(metrics), encoding="utf-8")
    (out / "segmenter.md").write_text(segmenter_card(metrics), encoding="utf-8")
    report(
        f"done in {metrics['pipeline_s']:.0f} s: detector mAP@0.5 {detector_result.map50:.3f}, "
        f"person recall within 5 m {detector_result.person_recall_5m:.3f}, "
        f"segmenter mean IoU {metrics['segmenter']['mean_iou']:.3f}"
    )
    return metrics


def _class_counts(frames: list[Any]) -> dict[str, int]:
    counts = np.bincount(
        np.concatenate([f.classes[~f.difficult] for f in frames] or [np.zeros(0, np.int64)]),
        minlength=len(DETECTOR_CLASSES),
    )
    return {name: int(c) for name, c in zip(DETECTOR_CLASSES, counts, strict=True)}
