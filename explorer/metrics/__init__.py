"""Predictions -> metrics: pure functions on arrays, built on scikit-learn (the package face).

Inputs everywhere: ``y_true`` int (N,), ``y_prob`` float (N, K) (rows are class
probabilities), ``classes`` a list of K names (or an int K). Every number the Results
page shows comes from here, so tests can check it against hand-worked fixtures.
inputs.py checks them once; report.py (MetricsReport, evaluate, top-k), confusion.py (matrix, pairs,
mistakes), curves.py (ROC, PR), calibration.py (reliability, ECE), seeds.py (the seed report's table)
and evaluation.py (all of them at once) compute.
"""

from __future__ import annotations

from explorer.metrics.calibration import Calibration, calibration
from explorer.metrics.confusion import Confusion, confusion, mistakes, most_confused_pairs
from explorer.metrics.curves import Curves, pr_curves, roc_curves
from explorer.metrics.evaluation import Evaluation, evaluate_all
from explorer.metrics.inputs import class_names
from explorer.metrics.report import MetricsReport, evaluate, top_k_accuracy, worst_classes
from explorer.metrics.seeds import REPORT, REPORT_TEXT, SEED_RESULTS, seed_result_table

__all__ = [
    "REPORT",
    "REPORT_TEXT",
    "SEED_RESULTS",
    "Calibration",
    "Confusion",
    "Curves",
    "Evaluation",
    "MetricsReport",
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
