"""Model cards (Mitchell et al., 2019, "Model Cards for Model Reporting") from a run's metrics."""

from __future__ import annotations

import math
from typing import Any

from models.training.networks import DETECTOR_STRIDE

__all__ = ["detector_card", "segmenter_card"]

_SIMULATED = (
    "**All training and evaluation data are simulated.** Frames and scans come from chairlink's "
    "own simulator (edge/sim): flat-shaded walls, people as coloured cylinders, boxes for beds "
    "and carts. No real camera image or lidar scan has been used, and no figure below says "
    "anything about performance on a real chair. A site must measure a model on its own "
    "recordings before the model carries any safety weight."
)


def _seeds(seeds: list[int]) -> str:
    return f"{seeds[0]}-{seeds[1] - 1}"


def _data(metrics: dict[str, Any]) -> str:
    r, d = metrics["recipe"], metrics["data"]
    return (
        f"- Scenarios: the stock floor (`hospital-floor-v1`), a route between two random rooms, "
        f"8-20 walking or standing people, 8-15 objects parked beside the route "
        f"(models/training/dataset.py), {r['duration_s']:g} s each.\n"
        f"- Training seeds {_seeds(r['train_seeds'])}, threshold-choice seeds "
        f"{_seeds(r['validation_seeds'])}, held-out seeds {_seeds(r['heldout_seeds'])} "
        f"(never trained or tuned on). Every number below is from the held-out seeds.\n"
        f"- Camera frames at {r['frame_hz']:g} Hz and scans at {r['scan_hz']:g} Hz of each: "
        f"{d['train_frames']} training frames, {d['train_scans']} training scans, "
        f"{d['heldout_frames']} held-out frames, {d['heldout_scans']} held-out scans.\n"
        f"- Weights initialised and batches ordered from seed {r['seed']}; "
        f"`make models` remakes everything from these seeds.\n"
    )


def detector_card(metrics: dict[str, Any]) -> str:
    """The detector's card, in Markdown."""
    det, r = metrics["detector"], metrics["recipe"]
    counts = metrics["data"]["train_objects"]
    calibration = metrics["chair"]["camera"]["calibration"]
    height, width = calibration["height"], calibration["width"]
    cells = f"{math.ceil(height / DETECTOR_STRIDE)}, {math.ceil(width / DETECTOR_STRIDE)}"
    rows = "\n".join(
        f"| {name} | {int(c['objects'])} | {c['ap50']:.3f} | {c['precision']:.3f} | "
        f"{c['recall']:.3f} | {counts[name]} |"
        for name, c in det["per_class"].items()
    )
    return f"""# Model card: camera obstacle detector (`detector.onnx`)

{_SIMULATED}

## What it is
A CenterNet-style detector ("Objects as Points", Zhou et al., 2019) trained from scratch: a
plain convolutional backbone (16-32-64-128 channels, batch norm, ReLU) down to stride 32, a
top-down merge to stride 8 as in a feature pyramid, and three 1x1 heads.
{det["parameters"]:,} parameters, {det["bytes"] / 1e6:.2f} MB, ONNX opset {metrics["opset"]}.
Source: models/training/networks.py.

## Input
`image`: float32 (1, 3, {height}, {width}), RGB, pixel values / 255 (no mean or std). Frames
of another size are letterboxed (scaled to fit, centred, padded with 114) by the runtime.

## Output
`heads`: float32 (1, 10, {cells}), one cell per {DETECTOR_STRIDE} x {DETECTOR_STRIDE} input
pixels. Channels 0-5: per class a centre heatmap in [0, 1] for person, wheelchair, bed, cart,
pole, other; 6-7: the centre's offset within its cell (x, y, in cells); 8-9: box width and
height in input pixels. The runtime
(edge/perception/decoding.py) keeps 3 x 3 heatmap peaks at or above the score threshold, then
class-wise non-maximum suppression at IoU 0.5. Shipped score threshold:
**{det["threshold"]:.2f}**, chosen on the threshold-choice seeds safety first: of the
thresholds that find at least 95 % of the half-visible people within 5 m (or, if none does, as
many as any threshold finds), the one with the best mean F1 over the classes. It trades some
precision for near people.

## Training data
{_data(metrics)}- Objects a few pixels across (under 8 px tall or 4 px wide) or less than a
  quarter visible are marked difficult, as PASCAL VOC does: not required, not penalised.
- Training: AdamW, one-cycle learning rate to 2e-3, batch 32, {r["detector_epochs"]} epochs,
  horizontal flips, on 2 CPU cores in {det["train_s"] / 60:.1f} min.

## Metrics on the held-out seeds ({det["frames"]} frames)
mAP@0.5 (VOC all-point interpolation, over the classes present): **{det["map50"]:.3f}**.
Person recall within 5 m (people at most 5 m away, at least half visible, IoU >= 0.5, at the
shipped threshold): **{det["person_recall_5m"]:.3f}** of {det["near_people"]} people.

| class | held-out objects | AP@0.5 | precision | recall | training objects |
|---|---|---|---|---|---|
{rows}

Precision and recall are at the shipped threshold. ONNX on onnxruntime matches torch within
{det["onnx_max_abs_diff"]:.1e} on held-out frames. Latency is measured by `make bench`
(models.detector_p99_ms).

## Limits
- Simulated data only (above). Lighting, motion blur, reflections, glass doors, crowds
  and real clothing are not in it.
- Classes other than person come from a handful of shapes each; a real bed or cart will
  look different. "other" is an overhanging box (a shelf, a screen).
- The detector informs; it does not guard. The chair's stop decisions rest on the lidar and the
  safety layer, never on a detection alone (docs/hazards.md).
"""


def segmenter_card(metrics: dict[str, Any]) -> str:
    """The segmenter's card, in Markdown."""
    seg, r = metrics["segmenter"], metrics["recipe"]
    lidar = metrics["chair"]["lidar"]
    beams = lidar["beams"]
    layout = (
        f"from {math.degrees(lidar['angle_min_rad']):g} degrees in "
        f"{math.degrees(lidar['fov_rad'] / beams):g} degree steps"
    )
    rows = "\n".join(f"| {name} | {v:.3f} |" for name, v in seg["iou"].items())
    return f"""# Model card: lidar beam segmenter (`segmenter.onnx`)

{_SIMULATED}

## What it is
A 1D convolutional network over one 360-degree scan: a 5-beam stem and four residual blocks of
dilated convolutions (dilation 1, 2, 4, 8; 32 channels; circular padding, since the first and
last beams are neighbours), then a 1x1 classifier. It labels every beam free, static or person.
{seg["parameters"]:,} parameters, {seg["bytes"] / 1e3:.0f} kB, ONNX opset {metrics["opset"]}.
Source: models/training/networks.py.

## Input
`scan`: float32 (1, 2, {beams}), the lidar's beams {layout}. Channel 0:
range / {lidar["range_max_m"]:g} m, clipped to [0, 1], 1 for no return (+inf). Channel 1: 1
where the beam measured (a range or no return), 0 for NaN, below range_min, or not covered. A
scan of another length or field of view is resampled to these beams by nearest beam, and the
classes mapped back the same way (edge/perception/segmenter.py).

## Output
`logits`: float32 (1, 3, {beams}), per beam the logits of free (nothing within range),
static (walls, beds, carts, poles, wheelchairs) and person.

## Training data
{_data(metrics)}- Labels are the simulator's per-beam ground truth: what each beam hit.
- Training: AdamW, one-cycle learning rate to 3e-3, batch 64, {r["segmenter_epochs"]} epochs,
  each scan rotated by a random number of beams and mirrored half the time, class-weighted
  cross-entropy; {seg["train_s"]:.0f} s on 2 CPU cores.

## Metrics on the held-out seeds
Per-class IoU over all beams (mean {seg["mean_iou"]:.3f}):

| class | IoU |
|---|---|
{rows}

ONNX on onnxruntime matches torch within {seg["onnx_max_abs_diff"]:.1e} on held-out scans.
Latency is measured by `make bench` (models.segmenter_p99_ms).

## Limits
- Simulated data only (above): one lidar model, 1 cm noise, flat walls, people as 0.5 m
  cylinders rather than pairs of legs. Real legs, dresses, wheelchair spokes and glass will
  differ.
- At the lidar's height a person and a pole are both arcs of a circle, told apart only by
  their width against their range. The person class has the lowest IoU; the class weights
  favour finding people, so most of its errors are static beams labelled person.
- Labels mark what a beam hit, not whether it matters: the safety layer decides that.
"""
