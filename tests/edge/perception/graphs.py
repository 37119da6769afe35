"""Small real ONNX graphs built with onnx.helper, whose output is fixed by the test.

Each graph reads its image input (so onnxruntime cannot fold it away) but outputs the tensor
the test chose: a way to run the runtime's decoding on exactly known model outputs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from numpy.typing import NDArray
from onnx import TensorProto, helper, numpy_helper


def fixed_output_graph(
    path: Path,
    output: NDArray[np.float32],
    *,
    input_name: str = "images",
    input_shape: tuple[int | str, ...] = (1, 3, 320, 320),
    output_name: str = "output0",
    output_shape: tuple[int | str, ...] | None = None,
) -> Path:
    """Write a graph whose ``output_name`` is always ``output`` (plus 0 x the input's max)."""
    zero = helper.make_node("ReduceMax", [input_name], ["peak"], keepdims=0)
    scaled = helper.make_node("Mul", ["peak", "zero"], ["nothing"])
    result = helper.make_node("Add", ["fixed", "nothing"], [output_name])
    graph = helper.make_graph(
        [zero, scaled, result],
        "fixed-output",
        [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, list(input_shape))],
        [
            helper.make_tensor_value_info(
                output_name, TensorProto.FLOAT, list(output_shape or output.shape)
            )
        ],
        initializer=[
            numpy_helper.from_array(output.astype(np.float32), "fixed"),
            numpy_helper.from_array(np.zeros((), np.float32), "zero"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def yolo_output(
    boxes_cxcywh: list[tuple[float, float, float, float]],
    scores: list[list[float]],
    anchors: int = 2100,
) -> NDArray[np.float32]:
    """A (1, 4 + C, anchors) YOLOv8 head output: the given anchors first, the rest empty."""
    classes = len(scores[0])
    out = np.zeros((1, 4 + classes, anchors), np.float32)
    out[0, :4, :] = [[160.0], [160.0], [10.0], [10.0]]
    for i, (box, score) in enumerate(zip(boxes_cxcywh, scores, strict=True)):
        out[0, :4, i] = box
        out[0, 4:, i] = score
    return out
