"""Predictions -> metrics (scikit-learn): report, confusion, ROC/PR, calibration, mistakes.

The names load on first use (PEP 562, explorer.lazy), so the `evaluate` command registers without
importing pandas or torch."""

from __future__ import annotations

from explorer.lazy import lazy_names

_METRICS = [
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
_LAZY = {
    **dict.fromkeys(_METRICS, "explorer.metrics"),
    "predict_run": "run",
    "predict_proba": "explorer.models.inference:probabilities",  # the one inference path
}
__getattr__, __dir__ = lazy_names(__name__, _LAZY)
__all__ = sorted(_LAZY)
