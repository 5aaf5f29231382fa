"""Altair charts for many runs (Compare runs): parallel coordinates (settings -> accuracy) and the
effect of each setting (mean ± std per value). Pure functions over explorer.runs_table's tables."""

from __future__ import annotations

import altair as alt
import pandas as pd

MAX_LINES = 2000  # runs drawn in parallel coordinates (the table keeps them all)


def parallel_coordinates(lines: pd.DataFrame, ticks: pd.DataFrame, metric: str = "test_acc",
                         height: int = 320) -> alt.LayerChart:
    """One line per run across the setting axes to the metric axis, coloured by the metric."""
    order = list(dict.fromkeys(lines["axis"]))
    runs = list(dict.fromkeys(lines["run"]))[:MAX_LINES]
    data = lines[lines["run"].isin(runs)]
    x = alt.X("axis:N", sort=order, title=None, axis=alt.Axis(labelAngle=0, orient="top", labelLimit=120))
    y = alt.Y("pos:Q", axis=None, scale=alt.Scale(domain=[-0.05, 1.05]))
    lines_c = alt.Chart(data).mark_line(opacity=0.5, strokeWidth=1.2).encode(
        x=x, y=y, detail="run:N",
        color=alt.Color(f"{metric}:Q", title=metric, scale=alt.Scale(scheme="viridis")),
        tooltip=[alt.Tooltip("run:N", title="run"), alt.Tooltip("axis:N", title="setting"),
                 alt.Tooltip("label:N", title="value"), alt.Tooltip(f"{metric}:Q", format=".4f")])
    rules = alt.Chart(pd.DataFrame({"axis": order})).mark_rule(color="#888").encode(x=alt.X("axis:N", sort=order))
    labels = alt.Chart(ticks).mark_text(align="left", dx=4, fontSize=11, color="#333").encode(
        x=alt.X("axis:N", sort=order), y=y, text="label:N")
    return alt.layer(rules, lines_c, labels).properties(height=height, width="container",
                                                        title="Settings → " + metric)


def effect_chart(effects: pd.DataFrame, metric: str = "test_acc", columns: int = 2) -> alt.FacetChart:
    """Per setting, the metric's mean (point) ± std (bar) for each value; one small panel per setting."""
    data = effects.assign(lo=effects["mean"] - effects["std"].fillna(0), hi=effects["mean"] + effects["std"].fillna(0),
                          value=effects["value"].astype(str))
    base = alt.Chart().encode(x=alt.X("value:N", title=None, sort=None, axis=alt.Axis(labelAngle=0)))
    bars = base.mark_rule(strokeWidth=2, color="#4c78a8").encode(y=alt.Y("lo:Q", title=f"{metric} (mean ± std)",
                                                                           scale=alt.Scale(zero=False)), y2="hi:Q")
    points = base.mark_point(filled=True, size=60, color="#e45756").encode(
        y="mean:Q", tooltip=["setting:N", "value:N", alt.Tooltip("mean:Q", format=".4f"),
                             alt.Tooltip("std:Q", format=".4f"), "runs:Q"])
    return (alt.layer(bars, points, data=data).properties(width=150, height=150)
            .facet(facet=alt.Facet("setting:N", title=None), columns=columns)
            .resolve_scale(x="independent"))
