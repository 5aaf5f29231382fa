"""Evaluate a saved run now: predictions for a run that has weights but no predictions.npz."""

from __future__ import annotations

from typing import Any

import numpy as np

from explorer.evaluate.predict import predict_proba


def predict_run(run: Any, which: str = "best", save: bool = True, batch_size: int = 512) -> Any:
    """Run the run's saved model over its test split; write predictions.npz (if ``save``) and return
    the runs store's Predictions. Raises FileNotFoundError when the run has no saved weights."""
    model = run.load_model(which=which)
    test = run.splits().test
    images = test.images.numpy() if hasattr(test.images, "numpy") else np.asarray(test.images)
    labels = test.labels.numpy() if hasattr(test.labels, "numpy") else np.asarray(test.labels)
    indices = getattr(test, "indices", None)
    indices = np.arange(len(images)) if indices is None else np.asarray(indices)
    y_prob = predict_proba(model, images, batch_size=batch_size)
    if not save:
        from explorer.runs import Predictions

        return Predictions(labels.astype(np.int64), y_prob.astype(np.float32), indices.astype(np.int64),
                           list(run.config.get("classes") or []))
    return run.write_predictions(labels, y_prob, indices)
