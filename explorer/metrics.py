"""Predictions -> metrics: pure functions on arrays, built on scikit-learn.

Inputs everywhere: ``y_true`` int (N,), ``y_prob`` float (N, K) (rows are class
probabilities), ``classes`` a list of K names (or an int K). Every number the Results
page shows comes from here, so tests can check it against hand-worked fixtures.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import (
    auc,
    confusion_matrix,
    precision_recall_curve,
    precision_recall_fscore_support,
    roc_curve,
)

__all__ = [
    "Calibration",
    "Confusion",
    "Curves",
    "Evaluation",
    "Report",
    "calibration",
    "class_names",
    "confusion",
    "evaluate",
    "evaluate_all",
    "mistakes",
    "most_confused_pairs",
    "pr_curves",
    "roc_curves",
    "seed_result_table",
    "top_k_accuracy",
    "worst_classes",
]


# --------------------------------------------------------------------------- inputs
def class_names(classes: Sequence[str] | int, n_columns: int | None = None) -> list[str]:
    """Return the class names as a list (an int K gives "0".."K-1"); checks the column count."""
    names = [str(i) for i in range(classes)] if isinstance(classes, int) else [str(c) for c in classes]
    if n_columns is not None and len(names) != n_columns:
        raise ValueError(f"{len(names)} class names for {n_columns} probability columns")
    return names


def _check(y_true: Any, y_prob: Any, classes: Sequence[str] | int | None = None):
    """Validate and convert inputs -> (y_true int64 (N,), y_prob float64 (N, K), names)."""
    y_true = np.asarray(y_true)
    y_prob = np.asarray(y_prob, dtype=np.float64)
    if y_prob.ndim != 2:
        raise ValueError(f"y_prob must be 2-D (N, K), got shape {y_prob.shape}")
    if y_true.ndim != 1 or y_true.shape[0] != y_prob.shape[0]:
        raise ValueError(f"y_true must be 1-D with {y_prob.shape[0]} entries, got shape {y_true.shape}")
    if y_true.size == 0:
        raise ValueError("no predictions to evaluate (empty test set)")
    if not np.issubdtype(y_true.dtype, np.integer) and not np.all(np.mod(y_true, 1) == 0):
        raise ValueError("y_true must hold integer class indices")
    y_true = y_true.astype(np.int64)
    k = y_prob.shape[1]
    if y_true.min() < 0 or y_true.max() >= k:
        raise ValueError(f"y_true holds class indices outside 0..{k - 1}")
    names = class_names(classes if classes is not None else k, k)
    return y_true, y_prob, names


def _one_hot(y_true: np.ndarray, k: int) -> np.ndarray:
    """Return a (N, K) 0/1 int8 matrix."""
    out = np.zeros((y_true.shape[0], k), dtype=np.int8)
    out[np.arange(y_true.shape[0]), y_true] = 1
    return out


# --------------------------------------------------------------------------- report
@dataclass
class Report:
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
    y_true, y_prob, _ = _check(y_true, y_prob)
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
) -> Report:
    """Return the Report (accuracy, macro/weighted P/R/F1, top-k, per-class table, confusion)."""
    y_true, y_prob, names = _check(y_true, y_prob, classes)
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
    return Report(
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


# --------------------------------------------------------------------------- confusion
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
    y_true, y_prob, _ = _check(y_true, y_prob)
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


# --------------------------------------------------------------------------- curves
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
    y_true, y_prob, names = _check(y_true, y_prob, classes)
    onehot = _one_hot(y_true, len(names))
    return y_true, y_prob, names, onehot, onehot.sum(axis=0)


def roc_curves(
    y_true: Any, y_prob: Any, classes: Sequence[str] | int | None = None, max_points: int = 400
) -> Curves:
    """Return one-vs-rest ROC curves per class, micro- and macro-average, with AUC (sklearn)."""
    y_true, y_prob, names, onehot, pos = _one_vs_rest(y_true, y_prob, classes)
    n_classes = len(names)
    curves: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    area: dict[str, float] = {}
    missing: list[int] = []
    for c in range(n_classes):
        if pos[c] == 0 or pos[c] == y_true.shape[0]:
            missing.append(c)
            area[names[c]] = math.nan
            continue
        fpr, tpr, _ = roc_curve(onehot[:, c], y_prob[:, c])
        curves[names[c]] = (fpr, tpr)
        area[names[c]] = float(auc(fpr, tpr))
    notes = [_absent_note(names, missing, "ROC")] if missing else []
    # micro: every (sample, class) decision pooled into one binary problem
    fpr, tpr, _ = roc_curve(onehot.ravel(), y_prob.ravel())
    micro = (fpr, tpr)
    area["micro"] = float(auc(fpr, tpr))
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


def pr_curves(
    y_true: Any, y_prob: Any, classes: Sequence[str] | int | None = None, max_points: int = 400
) -> Curves:
    """Return precision-recall curves per class and micro-average, with average precision (sklearn)."""
    y_true, y_prob, names, onehot, pos = _one_vs_rest(y_true, y_prob, classes)
    n_classes = len(names)
    curves: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    area: dict[str, float] = {}
    missing: list[int] = []
    for c in range(n_classes):
        if pos[c] == 0:
            missing.append(c)
            area[names[c]] = math.nan
            continue
        precision, recall, _ = precision_recall_curve(onehot[:, c], y_prob[:, c])
        curves[names[c]] = (recall, precision)
        area[names[c]] = _average_precision(precision, recall)
    notes = []
    if missing:
        notes.append(
            "average precision undefined (NaN) for classes with no test image: "
            + ", ".join(names[i] for i in missing)
        )
    precision, recall, _ = precision_recall_curve(onehot.ravel(), y_prob.ravel())
    curves["micro"] = (recall, precision)
    area["micro"] = _average_precision(precision, recall)
    defined = [area[names[c]] for c in range(n_classes) if c not in missing]
    area["macro"] = float(np.mean(defined)) if defined else math.nan
    return Curves(kind="pr", points=_points(curves, max_points), area=area, notes=notes)


# --------------------------------------------------------------------------- calibration
@dataclass
class Calibration:
    """Reliability table (one row per confidence bin) and expected calibration error."""

    table: pd.DataFrame  # bin, lower, upper, count, confidence, accuracy, gap
    ece: float
    mce: float  # maximum calibration error over non-empty bins
    n_bins: int


def calibration(y_true: Any, y_prob: Any, n_bins: int = 15) -> Calibration:
    """Return the reliability table and ECE = sum_b |B_b|/N * |acc(B_b) - conf(B_b)|.

    Confidence = the top probability; bins are equal-width (lower, upper] on [0, 1]
    (a confidence of exactly 0 goes to the first bin).
    """
    y_true, y_prob, _ = _check(y_true, y_prob)
    if n_bins < 1:
        raise ValueError(f"n_bins must be >= 1, got {n_bins}")
    pred = y_prob.argmax(axis=1)
    conf = y_prob[np.arange(y_prob.shape[0]), pred]
    correct = (pred == y_true).astype(np.float64)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    b = np.clip(np.searchsorted(edges, conf, side="left") - 1, 0, n_bins - 1)
    count = np.bincount(b, minlength=n_bins)
    conf_sum = np.bincount(b, weights=conf, minlength=n_bins)
    acc_sum = np.bincount(b, weights=correct, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.where(count > 0, conf_sum / np.maximum(count, 1), np.nan)
        mean_acc = np.where(count > 0, acc_sum / np.maximum(count, 1), np.nan)
    gap = np.abs(mean_acc - mean_conf)
    n = y_true.shape[0]
    nonempty = count > 0
    ece = float(np.sum(count[nonempty] / n * gap[nonempty]))
    mce = float(gap[nonempty].max()) if nonempty.any() else 0.0
    table = pd.DataFrame(
        {
            "bin": np.arange(n_bins),
            "lower": edges[:-1],
            "upper": edges[1:],
            "count": count.astype(int),
            "confidence": mean_conf,
            "accuracy": mean_acc,
            "gap": gap,
        }
    )
    return Calibration(table=table, ece=ece, mce=mce, n_bins=n_bins)


# --------------------------------------------------------------------------- seed table
# The EMNIST-letters seed report's published comparison table (percent; NaN = not published).
REPORT = "EMNIST-letters report"  # how the app names the report of ResNet-18 / DenseNet-121 / Xception results
SEED_RESULTS: list[dict[str, Any]] = [
    {"model": "Xception", "accuracy": 85.12, "precision": math.nan, "recall": math.nan, "f1": math.nan},
    {"model": "ResNet-18", "accuracy": 94.17, "precision": 95.21, "recall": 95.05, "f1": 95.06},
    {"model": "DenseNet-121", "accuracy": 95.18, "precision": math.nan, "recall": math.nan, "f1": math.nan},
    {"model": "Xception fine-tuning", "accuracy": 92.6, "precision": 92.9, "recall": 92.7, "f1": 92.7},
    {"model": "DenseNet fine-tuning", "accuracy": 95.39, "precision": 95.43, "recall": 95.41, "f1": 95.4},
]


def seed_result_table(
    rows: Iterable[Mapping[str, Any] | tuple[str, Report]] = (), average: str = "macro"
) -> pd.DataFrame:
    """Return the seed report's result table (percent) with the user's runs appended beneath it.

    ``rows``: (model label, Report) pairs, or mappings with "model" and fractions "accuracy",
    "precision", "recall", "f1" (optional "run_id"). ``average`` picks macro or weighted P/R/F1.
    """
    if average not in ("macro", "weighted"):
        raise ValueError(f"average must be 'macro' or 'weighted', got {average!r}")
    out = [{**r, "source": REPORT, "dataset": "emnist-letters", "run_id": None} for r in SEED_RESULTS]
    for row in rows:
        if isinstance(row, tuple):
            label, rep = row
            vals = {
                "model": label,
                "accuracy": rep.accuracy,
                "precision": getattr(rep, f"precision_{average}"),
                "recall": getattr(rep, f"recall_{average}"),
                "f1": getattr(rep, f"f1_{average}"),
                "run_id": None,
                "dataset": None,
            }
        else:
            vals = {key: row.get(key, math.nan) for key in ("model", "accuracy", "precision", "recall", "f1")}
            vals["run_id"] = row.get("run_id")
            vals["dataset"] = row.get("dataset")
        for key in ("accuracy", "precision", "recall", "f1"):
            v = vals[key]
            vals[key] = math.nan if v is None else 100.0 * float(v)
        out.append({**vals, "source": "your run"})
    columns = ["model", "source", "dataset", "accuracy", "precision", "recall", "f1", "run_id"]
    return pd.DataFrame(out, columns=columns)


# --------------------------------------------------------------------------- everything at once
@dataclass
class Evaluation:
    """Every metric of one run's predictions, as the Results page and the CLI show them."""

    report: Report
    confusion: Confusion
    pairs: pd.DataFrame
    roc: Curves
    pr: Curves
    calibration: Calibration


def evaluate_all(
    y_true: Any,
    y_prob: Any,
    classes: Sequence[str] | int | None = None,
    k: Iterable[int] = (1, 3, 5),
    n_bins: int = 15,
    top_pairs: int = 10,
) -> Evaluation:
    """Return report, confusion, most-confused pairs, ROC, PR and calibration in one call."""
    y_true, y_prob, names = _check(y_true, y_prob, classes)
    report = evaluate(y_true, y_prob, names, k=k)
    counts = report.confusion
    rows = counts.sum(axis=1, keepdims=True)
    normalized = np.divide(counts, rows, out=np.zeros(counts.shape, dtype=np.float64), where=rows > 0)
    conf = Confusion(counts=counts, normalized=normalized, classes=names)
    return Evaluation(
        report=report,
        confusion=conf,
        pairs=most_confused_pairs(counts, names, top=top_pairs),
        roc=roc_curves(y_true, y_prob, names),
        pr=pr_curves(y_true, y_prob, names),
        calibration=calibration(y_true, y_prob, n_bins=n_bins),
    )
