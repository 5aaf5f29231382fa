"""Altair charts for the Compare-runs page (and the Draw page's top-k bars); training curves are
explorer.charts.curves. Pure functions: DataFrames from explorer.compare / explorer.predict in, ``alt.Chart`` out.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

__all__ = [
    "confusion_diff_heatmap",
    "confusion_share_heatmap",
    "cost_scatter",
    "f1_diff_chart",
    "f1_grouped_chart",
    "roc_compare_chart",
    "topk_chart",
]


# legends under the plot (on its right they took half of an 800 px window's column); every letter on the axis
BELOW = alt.Legend(orient="bottom", direction="horizontal")
EVERY_CLASS = alt.Axis(labelOverlap=False, labelAngle=0)


def f1_grouped_chart(f1: pd.DataFrame, width: int = 760, height: int = 220) -> alt.Chart:
    """Grouped bars: per-class F1 (index class, one column per run), one bar per run in each class."""
    long = f1.reset_index().melt(id_vars="class", var_name="run", value_name="f1")
    order = list(f1.index)
    return (
        alt.Chart(long).mark_bar()
        .encode(x=alt.X("class:N", sort=order, title="Class", axis=EVERY_CLASS), xOffset=alt.XOffset("run:N"),
                y=alt.Y("f1:Q", title="F1", scale=alt.Scale(domain=[0, 1])),
                color=alt.Color("run:N", title="run", scale=alt.Scale(scheme="category10"), legend=BELOW),
                tooltip=["class:N", "run:N", alt.Tooltip("f1:Q", format=".3f")])
        .properties(width=width, height=height, title="Per-class F1")
    )  # fmt: skip


def f1_diff_chart(diff: pd.DataFrame, base: str, width: int = 760, height: int = 200) -> alt.Chart:
    """Bars of F1(run) - F1(base) per class: green = better than the base run, red = worse."""
    df = diff.copy()
    df["change"] = np.where(df["diff"] > 0, "better", np.where(df["diff"] < 0, "worse", "same"))
    order = list(dict.fromkeys(df["class"]))
    chart = (
        alt.Chart(df).mark_bar()
        .encode(x=alt.X("class:N", sort=order, title="Class", axis=EVERY_CLASS), y=alt.Y("diff:Q", title="F1 change", axis=alt.Axis(format="+.2f")),
                color=alt.Color("change:N", scale=alt.Scale(domain=["better", "worse", "same"],
                                                             range=["#2ca02c", "#d62728", "#999999"]), title="",
                                legend=BELOW),
                tooltip=["class:N", "run:N", alt.Tooltip("base_f1:Q", format=".3f", title=f"F1 {base}"),
                         alt.Tooltip("f1:Q", format=".3f", title="F1"), alt.Tooltip("diff:Q", format="+.3f")])
        .properties(width=width, height=height)
    )  # fmt: skip
    if df["run"].nunique() > 1:
        return chart.facet(row=alt.Row("run:N", title=None)).properties(title=f"Per-class F1 change vs {base}")
    return chart.properties(title=f"Per-class F1 change: {df['run'].iloc[0] if len(df) else ''} vs {base}")


def confusion_share_heatmap(frame: pd.DataFrame, title: str | list[str], size: int = 320) -> alt.Chart:
    """A compact row-share confusion heatmap (long frame with true, predicted, share, count), no cell text."""
    order = list(dict.fromkeys(frame["true"]))
    every = alt.Axis(labelOverlap=False, labelAngle=0, labelFontSize=10)  # all 26 letters on both axes
    return alt.Chart(frame).mark_rect().encode(
        x=alt.X("predicted:N", sort=order, title="Predicted", axis=every),
        y=alt.Y("true:N", sort=order, title="True", axis=every),
        color=alt.Color("share:Q", title="share", scale=alt.Scale(scheme="blues", domain=[0, 1])),
        tooltip=["true:N", "predicted:N", alt.Tooltip("count:Q", format="d"), alt.Tooltip("share:Q", format=".3f")],
    ).properties(width=size, height=size, title=title)


def confusion_diff_heatmap(df: pd.DataFrame, a: str, b: str, size: int = 320) -> alt.Chart:
    """Heatmap of row-share differences (b - a): blue = b predicts this cell more often, red = less."""
    order = list(dict.fromkeys(df["true"]))
    lim = max(float(np.abs(df["diff"]).max()), 1e-6)
    every = alt.Axis(labelOverlap=False, labelAngle=0, labelFontSize=11)  # all 26 letters on both axes
    rect = alt.Chart(df).mark_rect().encode(
        x=alt.X("predicted:N", sort=order, title="Predicted", axis=every),
        y=alt.Y("true:N", sort=order, title="True", axis=every),
        color=alt.Color("diff:Q", title="Δ share", scale=alt.Scale(scheme="redblue", domain=[-lim, lim])),
        tooltip=["true:N", "predicted:N", alt.Tooltip("share_a:Q", format=".3f", title=f"share {a}"),
                 alt.Tooltip("share_b:Q", format=".3f", title=f"share {b}"), alt.Tooltip("diff:Q", format="+.3f")],
    )
    title = alt.TitleParams("Difference of row shares", subtitle=[f"{b}", f"minus {a}",
                                                                  "blue: the first predicts it more often"])
    return rect.properties(width=size, height=size, title=title)


def roc_compare_chart(points: pd.DataFrame, areas: pd.DataFrame, width: int = 420, height: int = 380) -> alt.Chart:
    """Micro/macro-average ROC curves of every run; legend labels carry the AUC."""
    df = points.merge(areas, on=["run", "curve"], how="left")
    df["label"] = [f"{r} {c} (AUC {a:.3f})" for r, c, a in zip(df["run"], df["curve"], df["auc"], strict=True)]
    diag = alt.Chart(pd.DataFrame({"x": [0, 1], "y": [0, 1]})).mark_line(color="gray", strokeDash=[2, 2]).encode(
        x="x:Q", y="y:Q")
    lines = alt.Chart(df).mark_line().encode(
        x=alt.X("x:Q", title="False positive rate", scale=alt.Scale(domain=[0, 1])),
        y=alt.Y("y:Q", title="True positive rate", scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("label:N", title="run, average"),
        strokeDash=alt.StrokeDash("curve:N", title="average", legend=None),  # the colour legend names it
        tooltip=["run:N", "curve:N", alt.Tooltip("auc:Q", format=".4f")],
    )
    return (diag + lines).properties(width=width, height=height, title="ROC (micro and macro average)")


def cost_scatter(metrics: pd.DataFrame, x: str = "params", width: int = 360, height: int = 280) -> alt.Chart:
    """Test accuracy against parameters or MACs (log scale), one labelled point per run."""
    if x not in ("params", "macs"):
        raise ValueError(f"x must be 'params' or 'macs', got {x!r}")
    df = metrics.dropna(subset=[x, "test_acc"])
    title = "parameters" if x == "params" else "MACs (1×28×28)"
    base = alt.Chart(df).encode(
        x=alt.X(f"{x}:Q", title=f"{title} (log)", scale=alt.Scale(type="log")),
        y=alt.Y("test_acc:Q", title="test accuracy", scale=alt.Scale(zero=False)),
        tooltip=["run:N", "model:N", alt.Tooltip(f"{x}:Q", format=",.0f"), alt.Tooltip("test_acc:Q", format=".4f")],
    )
    pts = base.mark_point(filled=True, size=90).encode(color=alt.Color("run:N", legend=None))
    # labels stay inside the plot (clipped, at most 120 px): a long run title never widens the page
    text = base.mark_text(align="left", dx=7, dy=-6, limit=120, clip=True).encode(text="run:N")
    return (pts + text).properties(width=width, height=height, title=f"Accuracy vs {title}")


def topk_chart(frame: pd.DataFrame, width: int | str = 300, height: int | None = None) -> alt.Chart:
    """Horizontal bars of the top-k letters (columns letter, probability), most probable on top.

    Every bar keeps its letter: labelOverlap is off (Vega's default hides every other label when it
    judges two too close) and the height gives each bar at least 30 px unless `height` is set.
    """
    order = list(frame["letter"])
    height = height if height is not None else max(150, 30 * len(order))
    bars = alt.Chart(frame).mark_bar(color="#2563eb").encode(
        y=alt.Y("letter:N", sort=order, title=None,
                axis=alt.Axis(labelFontSize=14, labelOverlap=False, labelPadding=4, ticks=False)),
        x=alt.X("probability:Q", title="probability", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")),
        tooltip=["letter:N", alt.Tooltip("probability:Q", format=".1%")],
    )
    text = bars.mark_text(align="left", dx=3).encode(text=alt.Text("probability:Q", format=".1%"))
    return (bars + text).properties(width=width, height=height)
