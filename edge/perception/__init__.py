"""Perception on the chair: lidar geometry, and ONNX obstacle models on onnxruntime."""

__all__: list[str] = []
