"""Altair charts and display tables for the Results page: confusion heatmap (and its clicked cell),
ROC/PR curves, per-class F1, the reliability diagram, styled tables (training curves: explorer.charts.curves).
Pure functions: data in, ``alt.Chart`` / DataFrame / Styler out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from explorer.charts.selection import first_point
from explorer.metrics import Calibration, Confusion, Curves, Evaluation, worst_classes

__all__ = [
    "CONFUSION_SELECTION",
    "calibration_chart",
    "confusion_heatmap",
    "curve_areas",
    "curves_chart",
    "pairs_table",
    "per_class_chart",
    "per_class_table",
    "pr_chart",
    "roc_chart",
    "seed_table_style",
    "selected_cell",
]

# The name of the cell selection in the confusion heatmap; with st.altair_chart(on_select="rerun")
# the page reads event.selection[CONFUSION_SELECTION] -> [{"true": "G", "predicted": "Q", ...}].
CONFUSION_SELECTION = "cell"


def confusion_heatmap(
    cm: Confusion,
    normalized: bool = False,
    size: int = 460,
    selectable: bool = True,
    title: str | None = None,
) -> alt.Chart:
    """Return the K×K confusion heatmap (counts or row shares) with a clickable cell selection."""
    df = cm.to_frame()
    field, fmt, label = ("share", ".2f", "share of true class") if normalized else ("count", "d", "count")
    order = list(cm.classes)
    base = alt.Chart(df)
    title = title or ("Confusion matrix (row-normalised)" if normalized else "Confusion matrix")
    colour = alt.Color(
        f"{field}:Q",
        title=label,
        scale=alt.Scale(scheme="blues", type="sqrt" if not normalized else "linear"),
    )
    every = alt.Axis(labelOverlap=False, labelAngle=0)  # every class on both axes (Vega hides every other one)
    enc: dict[str, Any] = {
        "x": alt.X("predicted:N", sort=order, title="Predicted", axis=every),
        "y": alt.Y("true:N", sort=order, title="True", axis=every),
        "tooltip": [
            alt.Tooltip("true:N"),
            alt.Tooltip("predicted:N"),
            alt.Tooltip("count:Q", format="d"),
            alt.Tooltip("share:Q", format=".3f"),
        ],
    }
    rect = base.mark_rect()
    if selectable:
        sel = alt.selection_point(
            name=CONFUSION_SELECTION, fields=["true", "predicted", "true_index", "predicted_index"], on="click"
        )
        rect = rect.encode(
            color=colour, opacity=alt.condition(sel, alt.value(1.0), alt.value(0.55)), **enc
        ).add_params(sel)
    else:
        rect = rect.encode(color=colour, **enc)
    k = len(order)
    text = base.mark_text(fontSize=8 if k > 12 else 11).encode(
        x=alt.X("predicted:N", sort=order),
        y=alt.Y("true:N", sort=order),
        text=alt.Text(f"{field}:Q", format=fmt),
        color=alt.condition(f"datum.{field} > {_threshold(df[field])}", alt.value("white"), alt.value("black")),
    ).transform_filter("datum.count > 0")
    return (rect + text).properties(width=size, height=size, title=title)


def _threshold(values: pd.Series) -> float:
    """The value above which the cell text turns white (half of the colour range)."""
    hi = float(values.max()) if len(values) else 0.0
    return hi / 2 if hi > 0 else 1.0


def curves_chart(
    curves: Curves,
    classes: Sequence[str] | None = None,
    averages: Sequence[str] = ("micro", "macro"),
    width: int = 420,
    height: int = 380,
) -> alt.Chart:
    """Return ROC or PR curves for the chosen classes and averages; legend shows the area."""
    wanted = list(classes or []) + [a for a in averages if a in curves.area]
    df = curves.points[curves.points["curve"].isin(wanted)].copy()
    label = "AUC" if curves.kind == "roc" else "AP"
    df["label"] = [f"{c} ({label} {curves.area.get(c, float('nan')):.3f})" for c in df["curve"]]
    df["average"] = df["curve"].isin(list(averages))
    x_title, y_title = ("False positive rate", "True positive rate") if curves.kind == "roc" else ("Recall", "Precision")
    lines = (
        alt.Chart(df)
        .mark_line(interpolate="step-after" if curves.kind == "pr" else "linear")
        .encode(
            x=alt.X("x:Q", title=x_title, scale=alt.Scale(domain=[0, 1])),
            y=alt.Y("y:Q", title=y_title, scale=alt.Scale(domain=[0, 1])),
            color=alt.Color("label:N", title="curve", legend=alt.Legend(orient="bottom", columns=2, labelLimit=0)),
            strokeDash=alt.condition("datum.average", alt.value([6, 3]), alt.value([1, 0])),
            tooltip=["curve:N", alt.Tooltip("x:Q", format=".3f"), alt.Tooltip("y:Q", format=".3f")],
        )
    )
    chart = lines
    if curves.kind == "roc":
        diag = alt.Chart(pd.DataFrame({"x": [0, 1], "y": [0, 1]})).mark_line(color="gray", strokeDash=[2, 2]).encode(
            x="x:Q", y="y:Q"
        )
        chart = diag + lines
    title = "ROC curves (one vs rest)" if curves.kind == "roc" else "Precision-recall curves"
    return chart.properties(width=width, height=height, title=title)


def roc_chart(curves: Curves, classes: Sequence[str] | None = None, **kw: Any) -> alt.Chart:
    """Return the ROC chart (see curves_chart)."""
    return curves_chart(curves, classes, **kw)


def pr_chart(curves: Curves, classes: Sequence[str] | None = None, **kw: Any) -> alt.Chart:
    """Return the precision-recall chart (see curves_chart)."""
    return curves_chart(curves, classes, averages=("micro",), **kw)


def per_class_chart(per_class: pd.DataFrame, metric: str = "f1", worst: int = 5,
                    width: int | str = 520) -> alt.Chart:
    """Return a bar per class of one metric (precision/recall/f1), the ``worst`` classes in red."""
    df = per_class.copy()
    df["worst"] = df["class"].isin(worst_classes(per_class, worst, metric))
    return (
        alt.Chart(df)
        .mark_bar()
        .encode(
            x=alt.X("class:N", sort=list(df["class"]), title="Class", axis=alt.Axis(labelOverlap=False, labelAngle=0)),
            y=alt.Y(f"{metric}:Q", title=metric, scale=alt.Scale(domain=[0, 1])),
            color=alt.condition("datum.worst", alt.value("#d62728"), alt.value("#4c78a8")),
            tooltip=[
                "class:N",
                alt.Tooltip("precision:Q", format=".3f"),
                alt.Tooltip("recall:Q", format=".3f"),
                alt.Tooltip("f1:Q", format=".3f"),
                "support:Q",
            ],
        )
        .properties(width=width, height=220, title=f"Per-class {metric} (worst {worst} in red)")
    )


def calibration_chart(cal: Calibration, size: int = 360) -> alt.Chart:
    """Return the reliability diagram: accuracy per confidence bin vs the diagonal, ECE in the title."""
    df = cal.table[cal.table["count"] > 0].copy()
    df["mid"] = (df["lower"] + df["upper"]) / 2
    bars = (
        alt.Chart(df)
        .mark_bar(opacity=0.8)
        .encode(
            x=alt.X("lower:Q", title="confidence", scale=alt.Scale(domain=[0, 1])),
            x2="upper:Q",
            y=alt.Y("accuracy:Q", title="accuracy", scale=alt.Scale(domain=[0, 1])),
            tooltip=[
                alt.Tooltip("lower:Q", format=".2f"),
                alt.Tooltip("upper:Q", format=".2f"),
                "count:Q",
                alt.Tooltip("confidence:Q", format=".3f"),
                alt.Tooltip("accuracy:Q", format=".3f"),
            ],
        )
    )
    conf = alt.Chart(df).mark_tick(color="#d62728", thickness=2).encode(x="mid:Q", y="confidence:Q")
    diag = alt.Chart(pd.DataFrame({"x": [0, 1], "y": [0, 1]})).mark_line(color="gray", strokeDash=[4, 4]).encode(
        x="x:Q", y="y:Q"
    )
    return (bars + conf + diag).properties(
        width=size, height=size, title=f"Reliability diagram (ECE {cal.ece:.4f}, {cal.n_bins} bins)"
    )


# --------------------------------------------------------------------------- tables and selections
def selected_cell(event: Any) -> tuple[int, int] | None:
    """(true index, predicted index) of the clicked confusion cell from st.altair_chart's event, or None."""
    p = first_point(event, CONFUSION_SELECTION)
    if p is not None and "true_index" in p and "predicted_index" in p:
        return int(p["true_index"]), int(p["predicted_index"])
    return None


def pairs_table(pairs: pd.DataFrame) -> pd.DataFrame:
    """The most-confused pairs as shown: pair, each direction, total and share (percent)."""
    out = pairs[["pair", "a_as_b", "b_as_a", "total", "share"]].copy()
    out = out.rename(columns={"a_as_b": "first as second", "b_as_a": "second as first", "share": "share %"})
    out["share %"] = (100 * out["share %"]).round(2)
    return out


def curve_areas(ev: Evaluation) -> pd.DataFrame:
    """One row per class and average: ROC AUC and average precision."""
    roc, pr = ev.roc.area, ev.pr.area
    names = list(dict.fromkeys([*roc, *pr]))
    return pd.DataFrame({"curve": names, "ROC AUC": [roc.get(n, np.nan) for n in names],
                         "average precision": [pr.get(n, np.nan) for n in names]})


def per_class_table(per_class: Any, worst: int = 5) -> Any:
    """A Styler of the per-class report: the ``worst`` classes by F1 shaded red (st.dataframe sorts it)."""
    bad = set(worst_classes(per_class, worst, "f1"))

    def shade(row: Any) -> list[str]:
        return ["background-color: #f8d7da" if row["class"] in bad else ""] * len(row)

    return per_class.style.apply(shade, axis=1).format({"precision": "{:.4f}", "recall": "{:.4f}", "f1": "{:.4f}"})


def seed_table_style(table: pd.DataFrame) -> Any:
    """A Styler of the EMNIST-letters report's table: two decimals, — for unpublished figures, your runs shaded."""
    shown = table.drop(columns=["run_id"])

    def shade(row: Any) -> list[str]:
        return ["background-color: #e8f0fe" if row["source"] == "your run" else ""] * len(row)

    return shown.style.apply(shade, axis=1).format("{:.2f}", subset=["accuracy", "precision", "recall", "f1"],
                                                   na_rep="—")
