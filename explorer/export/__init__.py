"""Runs leave the app: ONNX export verified by onnxruntime (with a model card), and MLflow push."""
