"""Confusion over epochs: the validation predictions the training loop stores every epoch (predicted
class and its probability, Run.derived.write_val_epoch) turned into a confusion matrix per epoch and the
per-class accuracy by epoch ("which letters were learned when")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from explorer.runs import open_run


@dataclass(frozen=True)
class EpochPredictions:
    """A run's stored validation predictions of every epoch."""

    epochs: list[int]
    y_true: dict[int, np.ndarray]
    pred: dict[int, np.ndarray]
    prob: dict[int, np.ndarray]
    classes: list[str]
    bytes_on_disk: int

    def confusion(self, epoch: int) -> np.ndarray:
        """Counts (K, K) of epoch `epoch`: rows true class, columns predicted class."""
        k = len(self.classes)
        t, p = self.y_true[epoch], self.pred[epoch]
        keep = (t >= 0) & (t < k) & (p >= 0) & (p < k)
        return np.bincount(t[keep] * k + p[keep], minlength=k * k).reshape(k, k)

    def per_class_accuracy(self) -> pd.DataFrame:
        """Long table (epoch, class, accuracy, images) of the accuracy on each class's validation images."""
        rows = []
        for e in self.epochs:
            cm = self.confusion(e)
            n = cm.sum(1)
            for i, name in enumerate(self.classes):
                rows.append({"epoch": e, "class": name, "accuracy": float(cm[i, i] / n[i]) if n[i] else np.nan,
                             "images": int(n[i])})
        return pd.DataFrame(rows, columns=["epoch", "class", "accuracy", "images"])

    def learned_at(self, threshold: float = 0.9) -> pd.DataFrame:
        """First epoch at which each class's accuracy reached `threshold` (and stayed there), or NaN."""
        table = self.per_class_accuracy().pivot(index="class", columns="epoch", values="accuracy")
        out = []
        for name, row in table.iterrows():
            above = row.to_numpy() >= threshold
            first = next((e for i, e in enumerate(row.index) if above[i:].all()), None)
            out.append({"class": name, "learned at epoch": first, "final accuracy": row.iloc[-1]})
        return pd.DataFrame(out)


def epoch_predictions(ref: Any) -> EpochPredictions | None:
    """The run's per-epoch validation predictions, or None when it has none (trained before they were kept)."""
    run = open_run(ref)
    stored = run.derived.val_epochs(int(r["epoch"]) for r in run.history())
    if not stored:
        return None
    k = run.num_classes
    classes = run.classes if len(run.classes) == k else [str(i) for i in range(k)]
    epochs = sorted(stored)
    return EpochPredictions(epochs, {e: stored[e]["y_true"] for e in epochs}, {e: stored[e]["pred"] for e in epochs},
                            {e: stored[e]["prob"] for e in epochs}, classes, run.derived.val_epochs_bytes())


def bytes_per_epoch(ep: EpochPredictions) -> float:
    """Mean stored bytes per epoch."""
    return ep.bytes_on_disk / max(1, len(ep.epochs))
