"""Write an Evaluation's figures to a folder: PNG and self-contained HTML of the same altair charts.

Used by `explorer evaluate`; the files work offline (explorer.charts.save inlines Vega, vl-convert draws the PNG).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from explorer.metrics import Evaluation
from explorer.untrusted import csv_safe_frame

__all__ = ["write_figures", "write_tables"]


def write_figures(ev: Evaluation, out: Path, history: Iterable[Mapping[str, Any]] = ()) -> list[Path]:
    """Write every figure as PNG and offline HTML into ``out``; returns the files written."""
    from explorer.charts import evaluate as charts
    from explorer.charts.curves import PANELS, history_frame, training_curves
    from explorer.charts.save import save_figure

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    history = list(history)
    written: list[Path] = []
    jobs: list[tuple[str, Any]] = [
        ("confusion", charts.confusion_heatmap(ev.confusion, selectable=False)),
        ("confusion_normalized", charts.confusion_heatmap(ev.confusion, normalized=True, selectable=False)),
        ("roc", charts.roc_chart(ev.roc, ev.report.classes)),
        ("pr", charts.pr_chart(ev.pr, ev.report.classes)),
        ("per_class_f1", charts.per_class_chart(ev.report.per_class)),
        ("calibration", charts.calibration_chart(ev.calibration)),
    ]
    if history:
        jobs.append(("training_curves", training_curves(history_frame(history), metrics=list(PANELS))))
    for name, chart in jobs:
        written += save_figure(chart, out, name)  # PNG and offline HTML from the same altair spec
    return written


def _no_nan(obj: Any) -> Any:
    """Replace NaN floats by None so the JSON is strict."""
    if isinstance(obj, float) and obj != obj:
        return None
    if isinstance(obj, dict):
        return {k: _no_nan(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_no_nan(v) for v in obj]
    return obj


def write_tables(ev: Evaluation, out: Path) -> list[Path]:
    """Write the report (JSON), the per-class table and the confused pairs (CSV) into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    report = ev.report.to_dict()
    report["roc_auc"] = ev.roc.area
    report["average_precision"] = ev.pr.area
    report["ece"] = ev.calibration.ece
    paths = [out / "report.json", out / "per_class.csv", out / "confused_pairs.csv"]
    paths[0].write_text(json.dumps(_no_nan(report), indent=1), encoding="utf-8")
    csv_safe_frame(ev.report.per_class).to_csv(paths[1], index=False)  # class names can start with = + - @
    csv_safe_frame(ev.pairs).to_csv(paths[2], index=False)
    return paths
