"""The metrics report of one set of predictions: accuracy, macro/weighted P/R/F1, top-k, per-class table."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from explorer.metrics.inputs import check_predictions

__all__ = ['MetricsReport', 'evaluate', 'top_k_accuracy', 'worst_classes']


@dataclass
class MetricsReport:
    """Summary metrics of one set of predictions (fractions in [0, 1], not percent)."""

    accuracy: float
    precision_macro: float
    recall_macro: float
    f1_macro: float
    precision_weighted: float
    recall_weighted: float
    f1_weighted: float
    top_k: dict[int, float]
    n: int
    classes: list[str]
    per_class: pd.DataFrame  # class, precision, recall, f1, support
    confusion: np.ndarray  # (K, K) counts, rows = true class, columns = predicted class
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (per-class rows as records, confusion as nested lists)."""
        return {
            "accuracy": self.accuracy,
            "precision_macro": self.precision_macro,
            "recall_macro": self.recall_macro,
            "f1_macro": self.f1_macro,
            "precision_weighted": self.precision_weighted,
            "recall_weighted": self.recall_weighted,
            "f1_weighted": self.f1_weighted,
            "top_k": {str(k): v for k, v in self.top_k.items()},
            "n": self.n,
            "classes": list(self.classes),
            "per_class": self.per_class.to_dict(orient="records"),
            "confusion": self.confusion.tolist(),
            "notes": list(self.notes),
        }

    def summary_frame(self) -> pd.DataFrame:
        """Return the headline numbers as a two-column (metric, value) DataFrame."""
        rows = [
            ("accuracy", self.accuracy),
            ("precision (macro)", self.precision_macro),
            ("recall (macro)", self.recall_macro),
            ("F1 (macro)", self.f1_macro),
            ("precision (weighted)", self.precision_weighted),
            ("recall (weighted)", self.recall_weighted),
            ("F1 (weighted)", self.f1_weighted),
        ]
        rows += [(f"top-{k} accuracy", v) for k, v in sorted(self.top_k.items())]
        rows.append(("test images", float(self.n)))
        return pd.DataFrame(rows, columns=["metric", "value"])


def worst_classes(per_class: pd.DataFrame, n: int = 5, metric: str = "f1") -> list[str]:
    """Names of the ``n`` classes with the lowest ``metric``, among classes with test images (ties: table order)."""
    if metric not in ("precision", "recall", "f1"):
        raise ValueError(f"metric must be precision, recall or f1, got {metric!r}")
    present = per_class[per_class["support"] > 0]
    return [str(c) for c in present.nsmallest(n, metric)["class"]]


def top_k_accuracy(y_true: Any, y_prob: Any, k: int) -> float:
    """Return the share of samples whose true class is among the k highest probabilities."""
    y_true, y_prob, _ = check_predictions(y_true, y_prob)
    n_classes = y_prob.shape[1]
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if k >= n_classes:
        return 1.0
    # Rank of the true class = number of classes with a strictly higher score (ties favour the
    # true class); one comparison pass, O(N*K).
    true_score = y_prob[np.arange(y_prob.shape[0]), y_true]
    higher = (y_prob > true_score[:, None]).sum(axis=1)
    return float(np.mean(higher < k))


def evaluate(
    y_true: Any,
    y_prob: Any,
    classes: Sequence[str] | int | None = None,
    k: Iterable[int] = (1, 3, 5),
) -> MetricsReport:
    """Return the MetricsReport (accuracy, macro/weighted P/R/F1, top-k, per-class table, confusion)."""
    y_true, y_prob, names = check_predictions(y_true, y_prob, classes)
    n_classes = len(names)
    y_pred = y_prob.argmax(axis=1)
    labels = np.arange(n_classes)
    cm = confusion_matrix(y_true, y_pred, labels=labels)
    notes: list[str] = []

    # Per-class numbers straight from the confusion matrix (same definitions as sklearn;
    # 0/0 -> 0, sklearn's zero_division=0), then the averages with sklearn itself.
    tp = np.diag(cm).astype(np.float64)
    support = cm.sum(axis=1)
    predicted = cm.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(predicted > 0, tp / np.maximum(predicted, 1), 0.0)
        recall = np.where(support > 0, tp / np.maximum(support, 1), 0.0)
        denom = precision + recall
        f1 = np.where(denom > 0, 2 * precision * recall / np.where(denom > 0, denom, 1), 0.0)
    per_class = pd.DataFrame(
        {"class": names, "precision": precision, "recall": recall, "f1": f1, "support": support.astype(int)}
    )
    absent = [names[i] for i in range(n_classes) if support[i] == 0]
    if absent:
        notes.append(
            f"classes absent from the test set: {', '.join(absent)} (left out of the macro averages)"
        )
    # Macro and weighted averages over the classes seen in y_true or y_pred (sklearn's default).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        p_m, r_m, f_m, _ = precision_recall_fscore_support(y_true, y_pred, average="macro", zero_division=0)
        p_w, r_w, f_w, _ = precision_recall_fscore_support(
            y_true, y_pred, average="weighted", zero_division=0
        )
    top = {int(kk): top_k_accuracy(y_true, y_prob, int(kk)) for kk in k}
    return MetricsReport(
        accuracy=float(tp.sum() / y_true.shape[0]),
        precision_macro=float(p_m),
        recall_macro=float(r_m),
        f1_macro=float(f_m),
        precision_weighted=float(p_w),
        recall_weighted=float(r_w),
        f1_weighted=float(f_w),
        top_k=top,
        n=int(y_true.shape[0]),
        classes=names,
        per_class=per_class,
        confusion=cm,
        notes=notes,
    )
