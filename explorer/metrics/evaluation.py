"""Every metric of one run's predictions in one call, as the Results page and the CLI show them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from explorer.metrics.calibration import Calibration, calibration
from explorer.metrics.confusion import Confusion, most_confused_pairs
from explorer.metrics.curves import Curves, pr_curves, roc_curves
from explorer.metrics.inputs import check_predictions
from explorer.metrics.report import MetricsReport, evaluate

__all__ = ['Evaluation', 'evaluate_all']


@dataclass
class Evaluation:
    """Every metric of one run's predictions, as the Results page and the CLI show them."""

    report: MetricsReport
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
    y_true, y_prob, names = check_predictions(y_true, y_prob, classes)
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
