"""Calibration: the reliability table and the expected (and maximum) calibration error."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from explorer.metrics.inputs import check_predictions

__all__ = ['Calibration', 'calibration']


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
    y_true, y_prob, _ = check_predictions(y_true, y_prob)
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
