"""One-vs-rest ROC and precision-recall curves per class, with their micro and macro averages."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import auc, precision_recall_curve, roc_curve

from explorer.metrics.inputs import check_predictions, one_hot

__all__ = ['Curves', 'pr_curves', 'roc_curves']


@dataclass
class Curves:
    """ROC or precision-recall curves: long-form points plus one area number per curve."""

    kind: str  # "roc" or "pr"
    points: pd.DataFrame  # curve, x, y  (roc: x=fpr, y=tpr; pr: x=recall, y=precision)
    area: dict[str, float]  # per class name + "micro" (+ "macro"); NaN where undefined
    notes: list[str] = field(default_factory=list)

    def area_frame(self) -> pd.DataFrame:
        """Return (curve, area) rows: the classes, then the averages."""
        return pd.DataFrame({"curve": list(self.area), "area": list(self.area.values())})


def _thin(x: np.ndarray, y: np.ndarray, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    """Keep at most max_points points of a monotone curve (ends kept) for charting."""
    if max_points <= 0 or x.shape[0] <= max_points:
        return x, y
    keep = np.unique(np.linspace(0, x.shape[0] - 1, max_points).round().astype(int))
    return x[keep], y[keep]


def _points(curves: dict[str, tuple[np.ndarray, np.ndarray]], max_points: int) -> pd.DataFrame:
    """Concatenate named curves into one long DataFrame (curve, x, y)."""
    parts = []
    for name, (x, y) in curves.items():
        x2, y2 = _thin(np.asarray(x), np.asarray(y), max_points)
        parts.append(pd.DataFrame({"curve": name, "x": x2, "y": y2}))
    if not parts:
        return pd.DataFrame({"curve": [], "x": [], "y": []})
    return pd.concat(parts, ignore_index=True)


def _absent_note(names: list[str], missing: list[int], what: str) -> str:
    """Explain why a per-class curve is undefined."""
    listed = ", ".join(names[i] for i in missing)
    return f"{what} undefined (NaN) for classes with no positive or no negative test image: {listed}"


def _one_vs_rest(y_true: Any, y_prob: Any, classes: Sequence[str] | int | None
                 ) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray, np.ndarray]:
    """Checked inputs, class names, the one-hot truth and the positives per class (for per-class curves)."""
    y_true, y_prob, names = check_predictions(y_true, y_prob, classes)
    onehot = one_hot(y_true, len(names))
    return y_true, y_prob, names, onehot, onehot.sum(axis=0)


Curve = tuple[np.ndarray, np.ndarray]  # (x, y): (fpr, tpr) for ROC, (recall, precision) for PR


def _per_class(names: list[str], onehot: np.ndarray, y_prob: np.ndarray, missing: list[int],
               curve: Callable[[np.ndarray, np.ndarray], tuple[Curve, float]]
               ) -> tuple[dict[str, Curve], dict[str, float]]:
    """Each class's one-vs-rest curve and area by `curve(truth, scores)`, in class order; the classes in
    `missing` (curve undefined) get no curve and a NaN area."""
    curves: dict[str, Curve] = {}
    area: dict[str, float] = {}
    for c, name in enumerate(names):
        if c in missing:
            area[name] = math.nan
        else:
            curves[name], area[name] = curve(onehot[:, c], y_prob[:, c])
    return curves, area


def _roc(truth: np.ndarray, scores: np.ndarray) -> tuple[Curve, float]:
    """One binary ROC curve (fpr, tpr) and its AUC."""
    fpr, tpr, _ = roc_curve(truth, scores)
    return (fpr, tpr), float(auc(fpr, tpr))


def roc_curves(
    y_true: Any, y_prob: Any, classes: Sequence[str] | int | None = None, max_points: int = 400
) -> Curves:
    """Return one-vs-rest ROC curves per class, micro- and macro-average, with AUC (sklearn)."""
    y_true, y_prob, names, onehot, pos = _one_vs_rest(y_true, y_prob, classes)
    n_classes = len(names)
    missing = [c for c in range(n_classes) if pos[c] == 0 or pos[c] == y_true.shape[0]]
    curves, area = _per_class(names, onehot, y_prob, missing, _roc)
    notes = [_absent_note(names, missing, "ROC")] if missing else []
    # micro: every (sample, class) decision pooled into one binary problem
    micro, area["micro"] = _roc(onehot.ravel(), y_prob.ravel())
    # macro: mean of the per-class curves interpolated on a shared FPR grid (sklearn docs example);
    # the macro AUC is the mean of per-class AUCs = roc_auc_score(..., multi_class="ovr", average="macro")
    defined = [names[c] for c in range(n_classes) if c not in missing]
    if defined:
        grid = np.unique(np.concatenate([curves[n][0] for n in defined]))
        mean_tpr = np.zeros_like(grid)
        for n in defined:
            mean_tpr += np.interp(grid, *curves[n])
        mean_tpr /= len(defined)
        curves["macro"] = (grid, mean_tpr)
        area["macro"] = float(np.mean([area[n] for n in defined]))
    else:
        area["macro"] = math.nan
    curves["micro"] = micro
    return Curves(kind="roc", points=_points(curves, max_points), area=area, notes=notes)


def _average_precision(precision: np.ndarray, recall: np.ndarray) -> float:
    """AP from a precision_recall_curve: sum_n (R_n - R_n-1) P_n, as average_precision_score
    computes it (saves sorting the scores a second time)."""
    return float(-np.sum(np.diff(recall) * np.asarray(precision)[:-1]))


def _pr(truth: np.ndarray, scores: np.ndarray) -> tuple[Curve, float]:
    """One binary precision-recall curve (recall, precision) and its average precision."""
    precision, recall, _ = precision_recall_curve(truth, scores)
    return (recall, precision), _average_precision(precision, recall)


def pr_curves(
    y_true: Any, y_prob: Any, classes: Sequence[str] | int | None = None, max_points: int = 400
) -> Curves:
    """Return precision-recall curves per class and micro-average, with average precision (sklearn)."""
    y_true, y_prob, names, onehot, pos = _one_vs_rest(y_true, y_prob, classes)
    n_classes = len(names)
    missing = [c for c in range(n_classes) if pos[c] == 0]
    curves, area = _per_class(names, onehot, y_prob, missing, _pr)
    notes = []
    if missing:
        notes.append(
            "average precision undefined (NaN) for classes with no test image: "
            + ", ".join(names[i] for i in missing)
        )
    curves["micro"], area["micro"] = _pr(onehot.ravel(), y_prob.ravel())
    defined = [area[names[c]] for c in range(n_classes) if c not in missing]
    area["macro"] = float(np.mean(defined)) if defined else math.nan
    return Curves(kind="pr", points=_points(curves, max_points), area=area, notes=notes)
