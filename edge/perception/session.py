"""Opening an ONNX model on onnxruntime's CPU provider, as an embedded board wants it run.

One intra-op thread by default and no spinning: the board's two or four cores are shared with
the drive loop, the lidar and the telemetry, and a spinning worker thread steals a core between
inferences to save tens of microseconds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import onnxruntime as ort

from chairlink.errors import ModelError

__all__ = ["EMBEDDED", "RuntimeOptions", "check_tensor", "open_session"]


@dataclass(frozen=True)
class RuntimeOptions:
    """How onnxruntime runs a model."""

    threads: int = 1
    """Intra-op threads: 1 keeps inference on one core."""
    allow_spinning: bool = False
    """Whether idle worker threads busy-wait for the next inference."""
    optimise: bool = True
    """Apply all of onnxruntime's graph optimisations at load."""


EMBEDDED = RuntimeOptions()
"""The chair's defaults: one thread, no spinning, all optimisations."""


def open_session(
    path: Path, sha256: str | None, options: RuntimeOptions = EMBEDDED
) -> ort.InferenceSession:
    """Load a model file on the CPU provider.

    Raises:
        ModelError: the file is missing, its digest differs from ``sha256``, or onnxruntime
            cannot load it.
    """
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ModelError(f"{path}: cannot read the model: {err.strerror}") from err
    if sha256 is not None and (digest := hashlib.sha256(data).hexdigest()) != sha256.lower():
        raise ModelError(
            f"{path}: corrupt or replaced: SHA-256 {digest[:16]}... is not the "
            f"{sha256[:16]}... its description names"
        )
    session_options = ort.SessionOptions()
    session_options.intra_op_num_threads = options.threads
    session_options.inter_op_num_threads = 1
    session_options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    session_options.graph_optimization_level = (
        ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if options.optimise
        else ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    )
    session_options.add_session_config_entry(
        "session.intra_op.allow_spinning", "1" if options.allow_spinning else "0"
    )
    try:
        return ort.InferenceSession(
            data, sess_options=session_options, providers=["CPUExecutionProvider"]
        )
    except Exception as err:  # onnxruntime raises its own untyped errors for a bad graph
        raise ModelError(f"{path}: not a model onnxruntime can load: {err}") from err


def check_tensor(
    path: Path,
    role: str,
    tensors: Sequence[ort.NodeArg],
    name: str,
    expected: Sequence[int | None],
) -> None:
    """Check that the graph has tensor ``name`` of the expected shape (None: any size).

    Symbolic (dynamic) dimensions in the graph match anything.

    Raises:
        ModelError: no tensor of that name, or its rank or a fixed size differs.
    """
    by_name = {t.name: t for t in tensors}
    if name not in by_name:
        raise ModelError(
            f"{path}: the description names {role} {name!r}, the model has {sorted(by_name)}"
        )
    shape = list(by_name[name].shape)
    if len(shape) != len(expected):
        raise ModelError(
            f"{path}: {role} {name!r} has shape {shape}, the description implies {_show(expected)}"
        )
    for actual, want in zip(shape, expected, strict=True):
        if isinstance(actual, int) and want is not None and actual != want:
            raise ModelError(
                f"{path}: {role} {name!r} has shape {shape}, the description implies "
                f"{_show(expected)}"
            )


def _show(shape: Sequence[int | None]) -> str:
    return "[" + ", ".join("?" if d is None else str(d) for d in shape) + "]"
