"""Confusion matrices, the most confused class pairs and the mistakes of one set of predictions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import confusion_matrix

from explorer.metrics.inputs import check_predictions, class_names

__all__ = ['Confusion', 'confusion', 'mistakes', 'most_confused_pairs']


@dataclass
class Confusion:
    """A confusion matrix: counts and row-normalised shares (rows = true class)."""

    counts: np.ndarray  # (K, K) int
    normalized: np.ndarray  # (K, K) float, each row sums to 1 (0 for a class absent from y_true)
    classes: list[str]

    def to_frame(self) -> pd.DataFrame:
        """Return the long form (true, predicted, count, share) used by the heatmap chart."""
        k = len(self.classes)
        t, p = np.meshgrid(np.arange(k), np.arange(k), indexing="ij")
        return pd.DataFrame(
            {
                "true": np.asarray(self.classes)[t.ravel()],
                "predicted": np.asarray(self.classes)[p.ravel()],
                "true_index": t.ravel(),
                "predicted_index": p.ravel(),
                "count": self.counts.ravel().astype(int),
                "share": self.normalized.ravel(),
            }
        )


def confusion(y_true: Any, y_pred_or_prob: Any, classes: Sequence[str] | int) -> Confusion:
    """Return counts and row-normalised confusion (y_pred int (N,) or y_prob (N, K))."""
    names = class_names(classes)
    y_pred = np.asarray(y_pred_or_prob)
    if y_pred.ndim == 2:
        y_pred = y_pred.argmax(axis=1)
    counts = confusion_matrix(np.asarray(y_true), y_pred, labels=np.arange(len(names)))
    rows = counts.sum(axis=1, keepdims=True)
    normalized = np.divide(counts, rows, out=np.zeros(counts.shape, dtype=np.float64), where=rows > 0)
    return Confusion(counts=counts, normalized=normalized, classes=names)


def most_confused_pairs(cm: Any, classes: Sequence[str] | int, top: int = 10) -> pd.DataFrame:
    """Return the unordered class pairs with the most mix-ups in either direction (G↔Q style)."""
    counts = np.asarray(cm.counts if isinstance(cm, Confusion) else cm)
    names = class_names(classes, counts.shape[0])
    off = counts.astype(np.int64).copy()
    np.fill_diagonal(off, 0)
    sym = np.triu(off + off.T, k=1)
    a_idx, b_idx = np.nonzero(sym)
    totals = sym[a_idx, b_idx]
    order = np.lexsort((b_idx, a_idx, -totals))[:top]
    support = counts.sum(axis=1)
    rows = []
    for i in order:
        a, b = int(a_idx[i]), int(b_idx[i])
        rows.append(
            {
                "pair": f"{names[a]}↔{names[b]}",
                "a": names[a],
                "b": names[b],
                "a_index": a,
                "b_index": b,
                "a_as_b": int(off[a, b]),
                "b_as_a": int(off[b, a]),
                "total": int(totals[i]),
                # share of the two classes' test images that went to the other class of the pair
                "share": float(totals[i] / max(int(support[a] + support[b]), 1)),
            }
        )
    columns = ["pair", "a", "b", "a_index", "b_index", "a_as_b", "b_as_a", "total", "share"]
    return pd.DataFrame(rows, columns=columns)


def mistakes(
    y_true: Any,
    y_prob: Any,
    top: int | None = None,
    true_class: int | None = None,
    pred_class: int | None = None,
) -> np.ndarray:
    """Return indices of misclassified samples, most confident (highest predicted prob) first.

    ``true_class``/``pred_class`` restrict to one cell of the confusion matrix.
    """
    y_true, y_prob, _ = check_predictions(y_true, y_prob)
    y_pred = y_prob.argmax(axis=1)
    mask = y_pred != y_true
    if true_class is not None:
        mask &= y_true == int(true_class)
    if pred_class is not None:
        mask &= y_pred == int(pred_class)
    idx = np.flatnonzero(mask)
    conf = y_prob[idx, y_pred[idx]]
    idx = idx[np.argsort(-conf, kind="stable")]
    return idx if top is None else idx[:top]
