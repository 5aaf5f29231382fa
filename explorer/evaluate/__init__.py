"""Predictions -> metrics (scikit-learn): report, confusion, ROC/PR, calibration, mistakes."""

from explorer.evaluate.run import predict_run
from explorer.metrics import (
    SEED_RESULTS,
    Calibration,
    Confusion,
    Curves,
    Evaluation,
    Report,
    calibration,
    class_names,
    confusion,
    evaluate,
    evaluate_all,
    mistakes,
    most_confused_pairs,
    pr_curves,
    roc_curves,
    seed_result_table,
    top_k_accuracy,
    worst_classes,
)
from explorer.models.inference import probabilities as predict_proba  # the one inference path

__all__ = [
    "SEED_RESULTS",
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
    "predict_proba",
    "predict_run",
    "roc_curves",
    "seed_result_table",
    "top_k_accuracy",
    "worst_classes",
]
