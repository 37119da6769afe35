"""Perception on the chair: ONNX obstacle models on onnxruntime, with pre- and post-processing."""

__all__: list[str] = []
