"""The EMNIST-letters seed report's published results, with the user's runs beneath them."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from explorer.metrics.report import MetricsReport

__all__ = ['REPORT', 'REPORT_TEXT', 'SEED_RESULTS', 'seed_result_table']


# The EMNIST-letters seed report's published comparison table (percent; NaN = not published).
REPORT = "EMNIST-letters report"  # how the app names the report of ResNet-18 / DenseNet-121 / Xception results
REPORT_TEXT = ("The EMNIST-letters report trained ResNet-18, DenseNet-121 and Xception on EMNIST letters (the "
               "three report recipes on the Train page) and published these test figures, in percent; — = the "
               "report gives no figure.")
SEED_RESULTS: list[dict[str, Any]] = [
    {"model": "Xception", "accuracy": 85.12, "precision": math.nan, "recall": math.nan, "f1": math.nan},
    {"model": "ResNet-18", "accuracy": 94.17, "precision": 95.21, "recall": 95.05, "f1": 95.06},
    {"model": "DenseNet-121", "accuracy": 95.18, "precision": math.nan, "recall": math.nan, "f1": math.nan},
    {"model": "Xception fine-tuning", "accuracy": 92.6, "precision": 92.9, "recall": 92.7, "f1": 92.7},
    {"model": "DenseNet fine-tuning", "accuracy": 95.39, "precision": 95.43, "recall": 95.41, "f1": 95.4},
]


def seed_result_table(
    rows: Iterable[Mapping[str, Any] | tuple[str, MetricsReport]] = (), average: str = "macro"
) -> pd.DataFrame:
    """Return the seed report's result table (percent) with the user's runs appended beneath it.

    ``rows``: (model label, MetricsReport) pairs, or mappings with "model" and fractions "accuracy",
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
