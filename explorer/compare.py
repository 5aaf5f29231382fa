"""Compare saved runs: config differences, final metrics, per-class F1 and confusion differences,
ROC/AUC, cost (parameters, MACs) and which comparisons apply; export as CSV and Markdown.

Plain data in, DataFrames out: the Compare-runs page and the tests use the same functions.
"""

from __future__ import annotations

import io
import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from explorer.config import used_settings
from explorer.runs import Predictions, Run, open_run
from explorer.untrusted import csv_safe_frame, md_code, md_text

__all__ = [
    "COMPARISONS",
    "Comparison",
    "ConfigDiff",
    "RunData",
    "applicability",
    "build_comparison",
    "config_diff",
    "confusion_diff",
    "curves_frame",
    "f1_diff",
    "flatten_config",
    "load_run_data",
    "metrics_table",
    "model_cost",
    "per_class_f1",
    "roc_frame",
    "to_csv",
    "to_markdown",
]

# The comparisons the page shows; applicability() says for each whether it applies to the chosen runs.
COMPARISONS = {
    "metrics": "final metrics",
    "curves": "training curves",
    "per_class": "per-class F1 and its difference",
    "confusion": "confusion matrices and their difference",
    "roc": "ROC / AUC",
    "cost": "accuracy against parameters and MACs",
}
MISSING = "—"


class RunData(Run):
    """A run as compared: a Run whose results are read once (status, history, metrics and predictions kept, so
    every table of one comparison sees one state; its settings come from the record, read once per change of
    config.json), with the title it is shown by (explorer.names) and its model's cost."""

    def __init__(self, path: str | os.PathLike, title: str | None = None, with_cost: bool = True) -> None:
        super().__init__(path)
        self.title = title or self.record.name
        self._status, self._history = Run.status.fget(self), Run.history(self)  # type: ignore[attr-defined]
        self._metrics, self._predictions = Run.metrics(self), Run.predictions(self)
        self.params: int | None = None
        self.macs: int | None = None
        if with_cost:
            try:
                spec = self.model_spec()
                self.params, self.macs = model_cost(json.dumps(self.record.train_record, sort_keys=True),
                                                    self.num_classes, json.dumps(spec, sort_keys=True) if spec else "")
            except Exception:  # an unknown/removed model: the cost columns stay empty
                self.params = self.record.model.get("params")

    @property
    def status(self) -> dict[str, Any]:
        """The effective status as read when the comparison loaded the run."""
        return self._status

    def history(self) -> list[dict[str, Any]]:
        """Per-epoch records as read when the comparison loaded the run."""
        return self._history

    def metrics(self) -> dict[str, Any] | None:
        """Final test metrics as read when the comparison loaded the run."""
        return self._metrics

    def predictions(self) -> Predictions | None:
        """Test predictions as read when the comparison loaded the run."""
        return self._predictions

    @property
    def test_size(self) -> int | None:
        """Number of test images (from predictions, else metrics)."""
        if self._predictions is not None:
            return len(self._predictions.y_true)
        return (self._metrics or {}).get("test_size")


@lru_cache(maxsize=64)
def model_cost(train_json: str, num_classes: int, spec_json: str = "") -> tuple[int, int]:
    """(parameters, MACs) of the model a TrainConfig describes, on 1x28x28 letters (built on the meta device)."""
    import torch

    from explorer.config import TrainConfig
    from explorer.inspect import summarize
    from explorer.models import build_from_config

    cfg = TrainConfig.from_dict(json.loads(train_json))
    with torch.device("meta"):
        model, _ = build_from_config(cfg, num_classes, load_pretrained=False,
                                     spec=json.loads(spec_json) if spec_json else None)
    s = summarize(model, (1, 28, 28))
    return int(s.params), int(s.macs)


def load_run_data(ref: str | os.PathLike | Run, root: str | os.PathLike | None = None, title: str | None = None,
                  with_cost: bool = True) -> RunData:
    """Read one run's history, metrics and predictions once (and its model's params/MACs)."""
    return RunData(open_run(ref, root).path, title=title, with_cost=with_cost)


def distinct_titles(runs: Sequence[RunData]) -> list[str]:
    """Run titles made unique (a title used twice gets its run id appended): the column and legend names."""
    titles = [r.title for r in runs]
    return [f"{r.title} ({r.run_id})" if titles.count(r.title) > 1 else r.title for r in runs]


# ------------------------------------------------------------------------------ config diff
def flatten_config(d: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts/lists -> {"a.b.0.c": value}; lists of scalars stay one value."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping):
            if v:
                out.update(flatten_config(v, key + "."))
            else:
                out[key] = "{}"
        elif isinstance(v, list | tuple) and any(isinstance(i, Mapping | list | tuple) for i in v):
            out.update(flatten_config({str(i): item for i, item in enumerate(v)}, key + "."))
        elif isinstance(v, list | tuple):
            out[key] = ", ".join(str(i) for i in v) if v else "[]"
        else:
            out[key] = v
    return out


def comparable_config(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """The parts of config.json worth comparing: training settings (as the run used them: a value config.json
    leaves out is its default, written out), model, data split, classes, versions."""
    data = cfg.get("data") or {}
    classes = list(cfg.get("classes") or [])
    return {
        "train": used_settings(cfg.get("train", {})),
        "model": cfg.get("model", {}),
        "data": {"dataset": data.get("dataset"), "counts": data.get("counts"),
                 "val_indices_sha256": data.get("val_indices_sha256")},
        "classes": "".join(classes) if all(len(c) == 1 for c in classes) else ",".join(classes),
        "versions": cfg.get("versions", {}),
    }


@dataclass
class ConfigDiff:
    """Flattened settings side by side: the ones that differ, and the ones equal in every run."""

    differ: pd.DataFrame  # index setting, one column per run
    equal: pd.DataFrame  # index setting, column "value"


def _same(values: list[Any]) -> bool:
    return len({json.dumps(v, sort_keys=True, default=str) for v in values}) == 1


def config_diff(configs: Mapping[str, Mapping[str, Any]], comparable: bool = True) -> ConfigDiff:
    """Compare configs {label: config}: keep only the keys whose values differ; list the equal ones apart."""
    flat = {label: flatten_config(comparable_config(c) if comparable else c) for label, c in configs.items()}
    keys: list[str] = []
    for f in flat.values():
        keys += [k for k in f if k not in keys]
    differ, equal = {}, {}
    for k in keys:
        values = [f.get(k, MISSING) for f in flat.values()]
        if _same(values):
            equal[k] = values[0]
        else:
            differ[k] = values
    diff_df = pd.DataFrame.from_dict(differ, orient="index", columns=list(flat)) if differ else \
        pd.DataFrame(columns=list(flat))
    diff_df.index.name = "setting"
    eq_df = pd.DataFrame({"value": [_text(v) for v in equal.values()]}, index=pd.Index(list(equal), name="setting"))
    return ConfigDiff(diff_df.map(_text) if len(diff_df) else diff_df, eq_df)


def _text(v: Any) -> str:
    if v is None:
        return MISSING  # a setting that does not apply (images per class outside the built-in letters)
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


# ------------------------------------------------------------------------------ applicability
def applicability(runs: Sequence[RunData]) -> dict[str, str | None]:
    """For each comparison in COMPARISONS: None when it applies to these runs, else the reason it does not."""
    out: dict[str, str | None] = dict.fromkeys(COMPARISONS)
    datasets = {r.dataset for r in runs}
    class_sets = {tuple(r.classes) for r in runs}
    labels = distinct_titles(runs)
    no_preds = [lab for lab, r in zip(labels, runs, strict=True) if r.predictions() is None]
    no_hist = [lab for lab, r in zip(labels, runs, strict=True) if not r.history()]
    if len(class_sets) > 1:
        counts = ", ".join(f"{lab}: {len(r.classes)}" for lab, r in zip(labels, runs, strict=True))
        why = f"the runs have different classes ({counts} classes"
        why += f"; datasets {', '.join(sorted(datasets))})" if len(datasets) > 1 else ")"
        out["per_class"] = f"Per-class F1 differences do not apply: {why}."
        out["confusion"] = f"Confusion matrices cannot be subtracted: {why}."
        out["roc"] = (f"ROC curves and AUC are shown per run, but they measure different tasks: {why}; "
                      "a higher AUC here does not mean a better model.")
    if len(datasets) > 1:
        out["metrics"] = (f"Test metrics come from different datasets ({', '.join(sorted(datasets))}): "
                          "the numbers are not comparable as better/worse.")
        out["cost"] = "Accuracy against cost mixes datasets: compare the cost axis only."
    if no_preds:
        msg = f"no test predictions for {', '.join(no_preds)} (training not finished)"
        for key in ("per_class", "confusion", "roc"):
            out[key] = out[key] or f"Not available: {msg}."
    if len(no_hist) == len(runs):
        out["curves"] = "No run has a completed epoch yet: no training curves."
    return out


# ------------------------------------------------------------------------------ metrics
def metrics_table(runs: Sequence[RunData]) -> pd.DataFrame:
    """One row per run: model, dataset, classes, epochs, final accuracies, F1, AUC, time, params, MACs."""
    from explorer.evaluate import evaluate, roc_curves

    rows = []
    for label, r in zip(distinct_titles(runs), runs, strict=True):
        m, history, preds = r.metrics() or {}, r.history(), r.predictions()
        vals = [h.get("val_acc") for h in history if h.get("val_acc") is not None]
        row: dict[str, Any] = {"run": label, "run_id": r.run_id, "model": r.model_name, "dataset": r.dataset,
                               "classes": len(r.classes), "status": r.status["status"], "epochs": len(history),
                               "test_acc": m.get("test_acc"), "best_val_acc": max(vals) if vals else None,
                               "f1_macro": None, "auc_macro": None, "train_time_s": m.get("train_time_s"),
                               "params": r.params, "macs": r.macs, "test_images": r.test_size}
        if preds is not None and len(preds.y_true):
            names = r.classes or None
            rep = evaluate(preds.y_true, preds.y_prob, names)
            row["test_acc"] = rep.accuracy
            row["f1_macro"] = rep.f1_macro
            row["auc_macro"] = roc_curves(preds.y_true, preds.y_prob, names, max_points=2).area["macro"]
        rows.append(row)
    return pd.DataFrame(rows)


def per_class_f1(runs: Sequence[RunData]) -> pd.DataFrame:
    """Per-class F1 of each run with predictions: index class, one column per run (classes of the first run)."""
    from explorer.evaluate import evaluate

    cols = {}
    index: list[str] = []
    for label, r in zip(distinct_titles(runs), runs, strict=True):
        preds = r.predictions()
        if preds is None:
            continue
        rep = evaluate(preds.y_true, preds.y_prob, r.classes or None)
        series = pd.Series(rep.per_class["f1"].to_numpy(), index=rep.per_class["class"].astype(str))
        index = index or list(series.index)
        cols[label] = series
    df = pd.DataFrame(cols).reindex(index) if cols else pd.DataFrame()
    df.index.name = "class"
    return df


def f1_diff(f1: pd.DataFrame, base: str | None = None) -> pd.DataFrame:
    """Long table class, run, f1, base_f1, diff (= run - base) for every run other than `base` (default: first)."""
    if f1.empty:
        return pd.DataFrame(columns=["class", "run", "f1", "base_f1", "diff"])
    base = base or str(f1.columns[0])
    rows = []
    for col in f1.columns:
        if col == base:
            continue
        for cls, v in f1[col].items():
            rows.append({"class": cls, "run": col, "f1": float(v), "base_f1": float(f1.at[cls, base]),
                         "diff": float(v) - float(f1.at[cls, base])})
    return pd.DataFrame(rows, columns=["class", "run", "f1", "base_f1", "diff"])


def confusion_diff(a: RunData, b: RunData) -> pd.DataFrame:
    """Row-normalised confusion of b minus a (shares of each true class), long form for a heatmap."""
    from explorer.evaluate import confusion

    pa, pb = a.predictions(), b.predictions()
    if pa is None or pb is None:
        raise ValueError("both runs need test predictions for a confusion difference")
    if a.classes != b.classes:
        raise ValueError(f"runs have different classes ({len(a.classes)} vs {len(b.classes)}): no confusion difference")
    ca = confusion(pa.y_true, pa.y_prob, a.classes)
    cb = confusion(pb.y_true, pb.y_prob, b.classes)
    df = ca.to_frame().rename(columns={"share": "share_a", "count": "count_a"})
    df["share_b"] = cb.normalized.ravel()
    df["count_b"] = cb.counts.ravel().astype(int)
    df["diff"] = df["share_b"] - df["share_a"]
    return df


def roc_frame(runs: Sequence[RunData], averages: Sequence[str] = ("micro", "macro"), max_points: int = 200) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(points: run, curve, x, y; areas: run, curve, auc) of each run's average ROC curves."""
    from explorer.evaluate import roc_curves

    pts, areas = [], []
    for label, r in zip(distinct_titles(runs), runs, strict=True):
        preds = r.predictions()
        if preds is None:
            continue
        c = roc_curves(preds.y_true, preds.y_prob, r.classes or None, max_points=max_points)
        p = c.points[c.points["curve"].isin(list(averages))].copy()
        p.insert(0, "run", label)
        pts.append(p)
        areas += [{"run": label, "curve": a, "auc": c.area.get(a, math.nan)} for a in averages]
    points = pd.concat(pts, ignore_index=True) if pts else pd.DataFrame(columns=["run", "curve", "x", "y"])
    return points, pd.DataFrame(areas, columns=["run", "curve", "auc"])


def curves_frame(runs: Sequence[RunData]) -> pd.DataFrame:
    """Training history of every run in one long table (explorer.charts.curves.histories_frame, run = its title)."""
    from explorer.charts.curves import histories_frame

    return histories_frame({label: r.history() for label, r in zip(distinct_titles(runs), runs, strict=True)})


# ------------------------------------------------------------------------------ everything + export
@dataclass
class Comparison:
    """Everything the page shows, ready to export."""

    runs: list[RunData]
    titles: list[str]  # the runs' titles, made distinct (distinct_titles): column and legend names
    config: ConfigDiff
    metrics: pd.DataFrame
    f1: pd.DataFrame
    f1_diff: pd.DataFrame
    notes: dict[str, str | None] = field(default_factory=dict)


def build_comparison(runs: Sequence[RunData]) -> Comparison:
    """Compute the config diff, metrics table, per-class F1 (+ diff) and applicability notes of 2+ runs."""
    if len(runs) < 2:
        raise ValueError(f"pick two or more runs to compare (got {len(runs)})")
    labels = distinct_titles(runs)
    notes = applicability(runs)
    f1 = per_class_f1(runs) if notes["per_class"] is None else pd.DataFrame()
    return Comparison(list(runs), labels, config_diff({lab: r.config for lab, r in zip(labels, runs, strict=True)}),
                      metrics_table(runs), f1, f1_diff(f1), notes)


METRIC_ROWS = [("model", "model"), ("dataset", "dataset"), ("classes", "classes"), ("status", "status"),
                ("epochs", "epochs"), ("test_acc", "test accuracy"), ("best_val_acc", "best validation accuracy"),
                ("f1_macro", "F1 (macro)"), ("auc_macro", "ROC AUC (macro)"), ("train_time_s", "training time (s)"),
                ("params", "parameters"), ("macs", "MACs (1x28x28)"), ("test_images", "test images")]  # fmt: skip


def side_by_side(comp: Comparison) -> pd.DataFrame:
    """One table: rows (section, item), one column per run: metrics, differing settings, per-class F1."""
    rows: list[dict[str, Any]] = []
    m = comp.metrics.set_index("run")
    for key, title in METRIC_ROWS:
        rows.append({"section": "metric", "item": title, **{lab: _cell(m.at[lab, key]) for lab in comp.titles}})
    for setting, vals in comp.config.differ.iterrows():
        rows.append({"section": "config (differs)", "item": setting, **{lab: vals[lab] for lab in comp.titles}})
    for cls, vals in comp.f1.iterrows():
        rows.append({"section": "per-class F1", "item": cls,
                     **{lab: _cell(vals[lab]) if lab in vals else "" for lab in comp.titles}})
    return pd.DataFrame(rows, columns=["section", "item", *comp.titles])


def _cell(v: Any) -> Any:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, float | np.floating):
        return round(float(v), 6)
    if isinstance(v, np.integer):
        return int(v)
    return v


def to_csv(comp: Comparison) -> str:
    """The comparison as CSV text: section, item, one column per run (metrics, differing settings, per-class F1);
    text cells that a spreadsheet would run as a formula (= + - @ tab CR) start with a quote."""
    buf = io.StringIO()
    csv_safe_frame(side_by_side(comp)).to_csv(buf, index=False)
    return buf.getvalue()


def _md_table(df: pd.DataFrame) -> str:
    head = [md_text(c) for c in df.columns]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for row in df.itertuples(index=False):
        lines.append("| " + " | ".join(_md(v) for v in row) + " |")
    return "\n".join(lines)


def _md(v: Any) -> str:
    v = _cell(v)
    if isinstance(v, float):
        return f"{v:.4f}"
    return md_text(v)  # run strings are text: no HTML, links or images in the report


def to_markdown(comp: Comparison) -> str:
    """The comparison as a Markdown report: metrics, differing settings, equal settings, F1 changes, notes."""
    parts = [f"# Comparison of {len(comp.runs)} runs", ""]
    parts += [f"- **{md_text(lab)}**: {md_code(r.run_id)} ({md_text(r.model_name)} on {md_text(r.dataset)})" for lab, r in zip(comp.titles, comp.runs, strict=True)]
    table = side_by_side(comp)
    parts += ["", "## Final metrics", "", _md_table(table[table.section == "metric"].drop(columns="section"))]
    diff = table[table.section == "config (differs)"].drop(columns="section")
    parts += ["", "## Settings that differ", ""]
    parts += [_md_table(diff) if len(diff) else "All compared settings are equal."]
    eq = comp.config.equal
    parts += ["", f"## Settings equal in every run ({len(eq)})", ""]
    parts += [", ".join(f"{md_code(k)}={md_text(v)}" for k, v in eq["value"].items()) if len(eq) else "none"]
    if len(comp.f1_diff):
        parts += ["", f"## Per-class F1 change against {md_text(comp.titles[0])}", ""]
        d = comp.f1_diff.sort_values("diff")
        shown = pd.concat([d.head(5), d.tail(5)]).drop_duplicates()
        parts += [_md_table(shown.rename(columns={"base_f1": f"F1 {comp.titles[0]}"}))]
    skipped = {COMPARISONS[k]: why for k, why in comp.notes.items() if why}
    if skipped:
        parts += ["", "## Comparisons that do not apply", ""]
        parts += [f"- {md_text(what)}: {md_text(why)}" for what, why in skipped.items()]
    return "\n".join(parts) + "\n"
