"""Evaluate a saved run now: predictions for a run that has weights but no predictions.npz."""

from __future__ import annotations

from typing import Any

import numpy as np

from explorer.models.inference import probabilities


def predict_run(run: Any, which: str = "best", save: bool = True, batch_size: int = 512, device: Any = None) -> Any:
    """Run the run's saved model over its test split; write predictions.npz (if ``save``) and return
    the runs store's Predictions. The model comes from the one cache (explorer.run_models); raises
    NoWeightsError (a FileNotFoundError) when the run has no saved weights, WeightsError when they are unusable.
    `device` (e.g. "cuda"): run the model there (a fresh copy, not the shared CPU cache)."""
    from explorer.devices import resolve_device
    from explorer.run_models import load_run_model  # imports the model zoo: only when needed

    dev = resolve_device(device or "cpu")
    model = load_run_model(run, which) if dev.type == "cpu" else run.load_model(which, device=str(dev))
    test = run.splits().test
    images = test.images.numpy() if hasattr(test.images, "numpy") else np.asarray(test.images)
    labels = test.labels.numpy() if hasattr(test.labels, "numpy") else np.asarray(test.labels)
    indices = getattr(test, "indices", None)
    indices = np.arange(len(images)) if indices is None else np.asarray(indices)
    y_prob = probabilities(model, images, batch_size=batch_size)
    if not save:
        from explorer.runs import Predictions

        return Predictions(labels.astype(np.int64), y_prob.astype(np.float32), indices.astype(np.int64),
                           list(run.config.get("classes") or []))
    return run.write_predictions(labels, y_prob, indices)
