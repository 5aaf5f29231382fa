"""Write an Evaluation's figures to a folder: PNG (matplotlib) and interactive HTML (altair).

Used by `python -m explorer evaluate`; PNG is drawn with matplotlib because exporting altair
to PNG needs vl-convert, which the project does not install.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from explorer.metrics import Evaluation, worst_classes
from explorer.untrusted import csv_safe_frame

__all__ = ["write_figures", "write_tables"]


def _plt():
    """Return pyplot on the non-interactive Agg backend."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _confusion_png(ev: Evaluation, path: Path, normalized: bool) -> None:
    """Draw the confusion matrix heatmap."""
    plt = _plt()
    cm = ev.confusion
    data = cm.normalized if normalized else cm.counts
    k = len(cm.classes)
    fig, ax = plt.subplots(figsize=(0.34 * k + 2.5, 0.34 * k + 2))
    im = ax.imshow(data, cmap="Blues")
    ax.set_xticks(range(k), cm.classes, fontsize=7)
    ax.set_yticks(range(k), cm.classes, fontsize=7)
    ax.set_xlabel("Predicted")
    ax.set_ylabel("True")
    hi = float(data.max()) or 1.0
    for i in range(k):
        for j in range(k):
            if cm.counts[i, j]:
                txt = f"{data[i, j]:.2f}" if normalized else str(int(data[i, j]))
                ax.text(j, i, txt, ha="center", va="center", fontsize=5 if k > 12 else 8,
                        color="white" if data[i, j] > hi / 2 else "black")
    ax.set_title("Confusion matrix" + (" (row-normalised)" if normalized else ""))
    fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _curves_png(ev: Evaluation, path: Path, kind: str) -> None:
    """Draw ROC or PR curves: the averages plus every class, thin."""
    plt = _plt()
    curves = ev.roc if kind == "roc" else ev.pr
    label = "AUC" if kind == "roc" else "AP"
    fig, ax = plt.subplots(figsize=(6, 5.5))
    for name, grp in curves.points.groupby("curve", sort=False):
        avg = name in ("micro", "macro")
        ax.plot(grp["x"], grp["y"], lw=2 if avg else 0.6, alpha=1 if avg else 0.45,
                ls="--" if avg else "-", label=f"{name} ({label} {curves.area[name]:.3f})" if avg else None)
    if kind == "roc":
        ax.plot([0, 1], [0, 1], color="gray", lw=0.8, ls=":")
        ax.set_xlabel("False positive rate")
        ax.set_ylabel("True positive rate")
        ax.set_title("ROC curves (one vs rest)")
    else:
        ax.set_xlabel("Recall")
        ax.set_ylabel("Precision")
        ax.set_title("Precision-recall curves")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.legend(loc="lower right" if kind == "roc" else "lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _per_class_png(ev: Evaluation, path: Path, worst: int = 5) -> None:
    """Draw per-class F1 bars, the worst classes in red."""
    plt = _plt()
    df = ev.report.per_class
    bad = set(worst_classes(df, worst, "f1"))
    fig, ax = plt.subplots(figsize=(max(6, 0.3 * len(df)), 3))
    ax.bar(df["class"], df["f1"], color=["#d62728" if c in bad else "#4c78a8" for c in df["class"]])
    ax.set_ylim(0, 1)
    ax.set_ylabel("F1")
    ax.set_title(f"Per-class F1 (worst {worst} in red)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _calibration_png(ev: Evaluation, path: Path) -> None:
    """Draw the reliability diagram."""
    plt = _plt()
    t = ev.calibration.table
    t = t[t["count"] > 0]
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.bar(t["lower"], t["accuracy"], width=t["upper"] - t["lower"], align="edge", alpha=0.8,
           edgecolor="white", label="accuracy")
    ax.plot((t["lower"] + t["upper"]) / 2, t["confidence"], "r_", ms=12, mew=2, label="mean confidence")
    ax.plot([0, 1], [0, 1], color="gray", ls="--", lw=0.8)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence")
    ax.set_ylabel("accuracy")
    ax.set_title(f"Reliability diagram (ECE {ev.calibration.ece:.4f})")
    ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _history_png(frame: Any, path: Path) -> None:
    """Draw the training curves of explorer.charts.curves (same table, same panels) with matplotlib."""
    from explorer.charts.curves import PANELS, SPLIT_COLOURS

    plt = _plt()
    fig, axes = plt.subplots(1, len(PANELS), figsize=(13, 3.5))
    for ax, (metric, (title, _)) in zip(axes, PANELS.items(), strict=True):
        for split, rows in frame[frame["metric"] == metric].groupby("split", sort=False):
            ax.plot(rows["epoch"], rows["value"], marker="o", color=SPLIT_COLOURS[split],
                    label=None if metric == "lr" else split)
        ax.set_title(title)
        ax.set_xlabel("epoch")
        if metric != "lr":
            ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_figures(ev: Evaluation, out: Path, history: Iterable[Mapping[str, Any]] = ()) -> list[Path]:
    """Write every figure as PNG and HTML into ``out``; returns the files written."""
    from explorer.charts import evaluate as charts
    from explorer.charts.curves import PANELS, history_frame, training_curves

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    history = list(history)
    written: list[Path] = []
    jobs: list[tuple[str, Any, Any]] = [
        ("confusion", lambda p: _confusion_png(ev, p, False), charts.confusion_heatmap(ev.confusion, selectable=False)),
        (
            "confusion_normalized",
            lambda p: _confusion_png(ev, p, True),
            charts.confusion_heatmap(ev.confusion, normalized=True, selectable=False),
        ),
        ("roc", lambda p: _curves_png(ev, p, "roc"), charts.roc_chart(ev.roc, ev.report.classes)),
        ("pr", lambda p: _curves_png(ev, p, "pr"), charts.pr_chart(ev.pr, ev.report.classes)),
        ("per_class_f1", lambda p: _per_class_png(ev, p), charts.per_class_chart(ev.report.per_class)),
        ("calibration", lambda p: _calibration_png(ev, p), charts.calibration_chart(ev.calibration)),
    ]
    if history:
        frame = history_frame(history)
        jobs.append(("training_curves", lambda p: _history_png(frame, p), training_curves(frame, metrics=list(PANELS))))
    for name, draw, chart in jobs:
        png, html = out / f"{name}.png", out / f"{name}.html"
        draw(png)
        chart.save(str(html))
        written += [png, html]
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
