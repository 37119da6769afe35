"""The camera detector: a frame in, boxes with classes and scores out, on onnxruntime."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from chairlink.errors import ModelError
from edge.perception.decoding import Candidates, decode_centernet, decode_yolov8
from edge.perception.description import DetectorDescription, load_description_of
from edge.perception.letterbox import to_input
from edge.perception.nms import nms
from edge.perception.session import EMBEDDED, RuntimeOptions, check_tensor, open_session

__all__ = ["Detection", "Detector"]


@dataclass(frozen=True, slots=True)
class Detection:
    """One object found in a frame: a box (x0, y0, x1, y1) in frame pixels, class and score."""

    box: tuple[float, float, float, float]
    class_id: int
    label: str
    score: float


class Detector:
    """A detector model and its description, ready to run on frames."""

    def __init__(self, description_path: str | Path, options: RuntimeOptions = EMBEDDED):
        """Load the description, then its model, and check they agree.

        Raises:
            ModelError: the description is invalid or not a detector's, the model file is
                missing or corrupt, or its tensors differ from what the description declares.
        """
        path = Path(description_path)
        description = load_description_of(path, DetectorDescription)
        self.description = description
        self.model_path = path.parent / description.model
        self._session = open_session(self.model_path, description.sha256, options)
        spec = description.input
        check_tensor(
            self.model_path,
            "input",
            self._session.get_inputs(),
            spec.name,
            [1, 3, spec.height, spec.width],
        )
        classes = len(description.classes)
        if description.format == "centernet":
            stride = description.stride or 1
            expected: list[int | None] = [
                1,
                classes + 4,
                spec.height // stride,
                spec.width // stride,
            ]
        else:
            expected = [1, 4 + classes, None]
        check_tensor(
            self.model_path, "output", self._session.get_outputs(), description.output, expected
        )

    @property
    def classes(self) -> list[str]:
        """Class names, by class index."""
        return self.description.classes

    def detect(
        self, image: NDArray[np.uint8], score_threshold: float | None = None
    ) -> list[Detection]:
        """Objects in an RGB frame (h, w, 3), best first.

        ``score_threshold`` overrides the description's, for evaluation over all thresholds.
        """
        d = self.description
        tensor, placement = to_input(image, d.input)
        (output,) = self._session.run([d.output], {d.input.name: tensor})
        if output.shape[0] != 1:
            raise ModelError(f"{self.model_path}: output batch {output.shape[0]}, expected 1")
        threshold = d.score_threshold if score_threshold is None else score_threshold
        boxes, scores, classes = self._decode(output[0], threshold)
        keep = nms(boxes, scores, classes, d.nms_iou, d.max_detections)
        h, w = image.shape[:2]
        frame_boxes = placement.to_frame(boxes[keep])
        frame_boxes[:, [0, 2]] = np.clip(frame_boxes[:, [0, 2]], 0, w)
        frame_boxes[:, [1, 3]] = np.clip(frame_boxes[:, [1, 3]], 0, h)
        return [
            Detection(
                (float(b[0]), float(b[1]), float(b[2]), float(b[3])),
                int(c),
                d.classes[int(c)],
                float(s),
            )
            for b, c, s in zip(frame_boxes, classes[keep], scores[keep], strict=True)
        ]

    def _decode(self, output: NDArray[np.float32], threshold: float) -> Candidates:
        d = self.description
        if d.format == "centernet":
            return decode_centernet(
                output, len(d.classes), d.stride or 1, threshold, 4 * d.max_detections
            )
        return decode_yolov8(output, len(d.classes), threshold)
