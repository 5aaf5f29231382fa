"""Live prediction: one image -> the model's tensor -> top-k letters with probabilities.

The image goes through the one preprocessing path (explorer.data.preprocess_image) and the one
inference path (explorer.models.probabilities), so a canvas drawing, an uploaded photo and a
dataset image reach the model the same way. Run models come from the one cache,
explorer.run_models.load_run_model (re-exported here with WeightsError and check_weights).
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from explorer.data import preprocess_image
from explorer.models.inference import probabilities
from explorer.run_models import WeightsError, check_weights, clear_model_cache, load_run_model
from explorer.runs import Run, RunInfo, list_runs

__all__ = [
    "Prediction",
    "WeightsError",
    "check_weights",
    "clear_model_cache",
    "format_top",
    "load_run_model",
    "predict_image",
    "predict_from_image",
    "runs_for_prediction",
]


@dataclass(frozen=True)
class Prediction:
    """One image's prediction: the top-k classes, every class probability and the time it took."""

    letters: list[str]  # top-k class names, most probable first
    top_probs: list[float]  # their probabilities
    probs: np.ndarray  # (K,) softmax over every class
    classes: list[str]
    latency_ms: float  # wall time of what was measured (preprocess +) forward + softmax
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def top(self) -> tuple[str, float]:
        """The most probable class and its probability."""
        return self.letters[0], self.top_probs[0]

    @property
    def index(self) -> int:
        """Class index of the top prediction."""
        return int(self.probs.argmax())

    def frame(self) -> Any:
        """The top-k as a DataFrame (letter, probability), most probable first."""
        import pandas as pd

        return pd.DataFrame({"letter": self.letters, "probability": self.top_probs})


def format_top(pred: Prediction) -> str:
    """The top letter and its probability as text, e.g. "L 93.1%"."""
    letter, p = pred.top
    return f"{letter} {100 * p:.1f}%"


def _class_names(model: nn.Module, classes: Sequence[str] | None, k: int) -> list[str]:
    if classes is not None and len(classes) == k:
        return list(classes)
    if k == 26:
        return [chr(65 + i) for i in range(26)]
    return [str(i) for i in range(k)]


def predict_image(model: nn.Module, x: torch.Tensor, classes: Sequence[str] | None = None, k: int = 5) -> Prediction:
    """Forward one preprocessed (1, 28, 28) tensor (or (1, 1, 28, 28)) and softmax -> Prediction."""
    t0 = time.perf_counter()
    if x.ndim not in (3, 4) or x.shape[0] != 1 or (x.ndim == 4 and x.shape[1] != 1):
        raise ValueError(f"predict_image takes one 1-channel image (1, 28, 28), got {tuple(x.shape)}")
    probs = probabilities(model, x)[0]  # under the model's lock: not while an explanation hooks it
    ms = (time.perf_counter() - t0) * 1000.0
    names = _class_names(model, classes, probs.shape[0])
    order = np.argsort(-probs, kind="stable")[: min(k, probs.shape[0])]
    return Prediction([names[i] for i in order], [float(probs[i]) for i in order], probs, names, ms,
                      {"forward_ms": ms})  # fmt: skip


def predict_from_image(model: nn.Module, image: Any, classes: Sequence[str] | None = None,
                       k: int = 5) -> tuple[torch.Tensor, Prediction]:
    """Any image (canvas RGBA array, upload bytes, PIL) -> (the (1, 28, 28) tensor, its Prediction).

    Raises explorer.data.ImageError for unusable input, BlankImageError when nothing is drawn.
    """
    t0 = time.perf_counter()
    x = preprocess_image(image)
    pre_ms = (time.perf_counter() - t0) * 1000.0
    pred = predict_image(model, x, classes, k)
    timings = {"preprocess_ms": pre_ms, **pred.timings}
    return x, Prediction(pred.letters, pred.top_probs, pred.probs, pred.classes, pre_ms + pred.latency_ms, timings)


def runs_for_prediction(root: str | os.PathLike | None = None) -> tuple[list[RunInfo], dict[str, str]]:
    """Runs with weights: (readable runs, {run_id: reason} for the unreadable ones), newest first."""
    ok: list[RunInfo] = []
    bad: dict[str, str] = {}
    for info in list_runs(root):
        if info.error:
            bad[info.run_id] = info.error
            continue
        run = Run(info.path)
        try:
            path = run.weights_path("best")
        except FileNotFoundError:
            continue  # no completed epoch yet: nothing to predict with
        try:
            check_weights(path)
        except WeightsError as exc:
            bad[info.run_id] = str(exc)
            continue
        ok.append(info)
    return ok, bad
