"""Exporting the trained networks to ONNX, and checking onnxruntime agrees with torch.

The export is opset 17 with a fixed batch of one, the shape the chair runs. The check runs the
exported file on onnxruntime and the network in torch over held-out inputs and refuses the file
if any output differs by more than the tolerance.
"""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from numpy.typing import NDArray
from torch import nn

__all__ = ["OPSET", "ExportMismatchError", "export_onnx", "sha256_of"]

OPSET = 17


class ExportMismatchError(RuntimeError):
    """onnxruntime's outputs of an exported model differ from torch's."""


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file, hex."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def export_onnx(
    model: nn.Module,
    path: Path,
    input_name: str,
    output_name: str,
    *,
    held_out: NDArray[np.float32],
    tolerance: float = 1e-3,
) -> float:
    """Write ``model`` as ONNX at ``path``; return the largest output difference on ``held_out``.

    ``held_out`` is a stack of single inputs (N, ...); each runs as a batch of one.

    Raises:
        ExportMismatchError: an output differs from torch's by more than ``tolerance``.
    """
    model.eval()
    example = torch.from_numpy(held_out[:1])
    with warnings.catch_warnings():
        # The TorchScript exporter (dynamo=False) needs no onnxscript, and warns that it is
        # deprecated.
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            model,
            (example,),
            str(path),
            input_names=[input_name],
            output_names=[output_name],
            opset_version=OPSET,
            dynamo=False,
        )
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    worst = 0.0
    with torch.no_grad():
        for sample in held_out:
            x = sample[None]
            expected = model(torch.from_numpy(x)).numpy()
            (actual,) = session.run([output_name], {input_name: x})
            worst = max(worst, float(np.max(np.abs(actual - expected))))
    if worst > tolerance:
        raise ExportMismatchError(
            f"{path}: onnxruntime differs from torch by {worst:.2e} (> {tolerance:.0e})"
        )
    return worst
