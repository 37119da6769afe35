"""Model description files: what an ONNX model takes, what it gives, and how to read it.

Every model ships with a YAML description beside it, so that a hospital can drop in its own
detector without code: the file names the model, its input tensor and normalisation, its output
tensor and layout, its classes and the thresholds the runtime decodes with. The runtime checks
the model against its description when it loads it and refuses a mismatch.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from chairlink.errors import ModelError
from chairlink.yaml_file import read_yaml

__all__ = [
    "DetectorDescription",
    "ImageInput",
    "ScanInput",
    "SegmenterDescription",
    "load_description",
    "load_description_of",
]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ImageInput(_Spec):
    """The image tensor: (1, 3, height, width), planar, float32."""

    name: str
    """The graph's input name."""
    width: Annotated[int, Field(gt=0)]
    height: Annotated[int, Field(gt=0)]
    colour: Literal["rgb", "bgr"] = "rgb"
    """Channel order the model expects; frames arrive as RGB."""
    scale: Annotated[float, Field(gt=0)] = 1 / 255
    """Pixel values are multiplied by this, then ``mean`` is subtracted and ``std`` divides."""
    mean: tuple[float, float, float] = (0.0, 0.0, 0.0)
    std: tuple[
        Annotated[float, Field(gt=0)], Annotated[float, Field(gt=0)], Annotated[float, Field(gt=0)]
    ] = (1.0, 1.0, 1.0)
    pad_value: Annotated[int, Field(ge=0, le=255)] = 114
    """Letterbox padding, in pixel values before scaling (114 is Ultralytics' grey)."""


class DetectorDescription(_Spec):
    """A camera detector.

    Layouts of the output tensor:

    - ``centernet`` (ours): (1, C + 4, height / stride, width / stride): per class a centre
      heatmap in [0, 1], the centre's offset in its cell (x, y, 0..1), then box width and height
      in input pixels.
    - ``yolov8`` (Ultralytics YOLOv8 and YOLO11 exports): (1, 4 + C, N): box centre x, y, width,
      height in input pixels, then one score per class in [0, 1].
    """

    kind: Literal["detector"]
    format: Literal["centernet", "yolov8"]
    model: str
    """The ONNX file, relative to the description file."""
    sha256: str | None = None
    """The model file's SHA-256; when given, a file that differs is refused as corrupt."""
    input: ImageInput
    output: str
    """The graph's output name."""
    stride: Annotated[int, Field(gt=0)] | None = None
    """Input pixels per output cell; required by ``centernet``."""
    classes: Annotated[list[str], Field(min_length=1)]
    score_threshold: Annotated[float, Field(gt=0, lt=1)] = 0.3
    nms_iou: Annotated[float, Field(gt=0, le=1)] = 0.5
    max_detections: Annotated[int, Field(gt=0)] = 100

    @model_validator(mode="after")
    def _check_layout(self) -> DetectorDescription:
        if self.format == "centernet":
            if self.stride is None:
                raise ValueError("format centernet needs a stride")
            if self.input.width % self.stride or self.input.height % self.stride:
                raise ValueError(
                    f"input {self.input.width}x{self.input.height} is no multiple of "
                    f"stride {self.stride}"
                )
        if len(set(self.classes)) != len(self.classes):
            raise ValueError("class names repeat")
        return self


class ScanInput(_Spec):
    """The scan tensor: (1, 2, beams): scaled range and validity per beam, float32."""

    name: str
    beams: Annotated[int, Field(gt=0)]
    angle_min: float
    """Angle of the first beam, radians, in the laser frame."""
    fov: Annotated[float, Field(gt=0, le=2 * math.pi + 1e-9)]
    """Angle the beams span, radians; beam i points at angle_min + i * fov / beams."""
    range_max: Annotated[float, Field(gt=0)]
    """Ranges are divided by this and clipped to [0, 1]; no return reads as 1."""


class SegmenterDescription(_Spec):
    """A lidar segmenter: output (1, C, beams) of class logits per beam."""

    kind: Literal["segmenter"]
    model: str
    sha256: str | None = None
    input: ScanInput
    output: str
    classes: Annotated[list[str], Field(min_length=1)]


class _File(BaseModel):
    description: Annotated[DetectorDescription | SegmenterDescription, Field(discriminator="kind")]


D = TypeVar("D", DetectorDescription, SegmenterDescription)


def load_description_of(path: str | Path, kind: type[D]) -> D:
    """Read a description that must be of ``kind``.

    Raises:
        ModelError: as :func:`load_description`, or the file describes another kind of model.
    """
    description = load_description(path)
    if not isinstance(description, kind):
        wanted = "detector" if kind is DetectorDescription else "segmenter"
        raise ModelError(f"{path}: describes a {description.kind}, not a {wanted}")
    return description


def load_description(path: str | Path) -> DetectorDescription | SegmenterDescription:
    """Read and validate a description file.

    Raises:
        ModelError: the file is missing, is not YAML, or a field is wrong (the message names it).
    """
    path = Path(path)
    raw = read_yaml(path, "the model description", ModelError)
    try:
        return _File.model_validate({"description": raw}).description
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'][1:]) or 'file'}: {e['msg']}" for e in err.errors()
        )
        raise ModelError(f"{path}: invalid model description: {problems}") from err
