"""chairlink's ONNX obstacle models and the pipeline that makes them (models/training/)."""
