"""Charts of the inside views (altair, no streamlit): the embedding map with point and region
selection, robustness curves (one run or several on the same axes), per-class accuracy by epoch."""

from __future__ import annotations

import altair as alt
import pandas as pd

POINT, REGION = "point", "region"


def embedding_chart(frame: pd.DataFrame, centroids: pd.DataFrame, title: str = "", size: int = 520,
                    selectable: bool = True) -> alt.LayerChart:
    """Test images on the 2-D map (as wide as its column, `size` px high) coloured by true class,
    misclassified ones ringed, each class's letter at its centroid; a click selects a point (field
    "index"), a drag selects a region."""
    colour = alt.Color("true:N", title="true class", scale=alt.Scale(scheme="category20"), legend=None)
    tooltip = [alt.Tooltip("index:Q", title="test image"), "true:N", "predicted:N",
               alt.Tooltip("confidence:Q", format=".2f")]
    base = alt.Chart(frame).encode(x=alt.X("x:Q", title=None, axis=alt.Axis(labels=False, ticks=False)),
                                   y=alt.Y("y:Q", title=None, axis=alt.Axis(labels=False, ticks=False)))
    dots = base.mark_circle(size=18, opacity=0.75).encode(color=colour, tooltip=tooltip)
    if selectable:
        point = alt.selection_point(name=POINT, fields=["index"], on="click", nearest=True)
        region = alt.selection_interval(name=REGION, encodings=["x", "y"])
        dots = dots.add_params(point, region).encode(
            size=alt.condition(point, alt.value(90), alt.value(18)))
    rings = base.transform_filter(alt.datum.wrong).mark_point(shape="circle", size=60, filled=False,
                                                             color="black", strokeWidth=1.2).encode(tooltip=tooltip)
    letters = alt.Chart(centroids).mark_text(fontSize=16, fontWeight="bold", color="black").encode(
        x="x:Q", y="y:Q", text="true:N")
    return alt.layer(dots, rings, letters).properties(width="container", height=size, title=title or "Embedding map")


def robustness_panels(table: pd.DataFrame, width: int = 190, height: int = 150) -> list[alt.Chart]:
    """Accuracy against severity, one chart per transform (a page wraps them to its width); colour = run
    when the table has a "run" column, with the runs' legend under the last panel only."""
    data = table if "run" in table.columns else table.assign(run="this run")
    runs = list(dict.fromkeys(data["run"]))
    labels = list(dict.fromkeys(data["label"]))
    panels = []
    for i, label in enumerate(labels):
        legend = alt.Legend(orient="bottom", columns=1, title="run") if len(runs) > 1 and i == len(labels) - 1 else None
        panels.append(alt.Chart(data[data["label"] == label], title=label).mark_line(point=True).encode(
            x=alt.X("severity:O", title="severity (0 = untouched)", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("accuracy:Q", title="accuracy", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")),
            color=alt.Color("run:N", sort=runs, legend=legend),
            tooltip=["run:N", "label:N", "severity:O", "parameter:Q", "unit:N",
                     alt.Tooltip("accuracy:Q", format=".2%")],
        ).properties(width=width, height=height))
    return panels


def robustness_chart(table: pd.DataFrame, columns: int = 4) -> alt.ConcatChart:
    """robustness_panels in one chart, `columns` per row (for a static file)."""
    return alt.concat(*robustness_panels(table), columns=columns)


def class_accuracy_chart(table: pd.DataFrame, width: int | str = "container") -> alt.Chart:
    """Per-class validation accuracy by epoch: a class x epoch heatmap ("which letters were learned when")."""
    order = list(dict.fromkeys(table["class"]))
    return alt.Chart(table).mark_rect().encode(
        x=alt.X("epoch:O", title="epoch"),
        y=alt.Y("class:N", sort=order, title="class", axis=alt.Axis(labelOverlap=False)),
        color=alt.Color("accuracy:Q", scale=alt.Scale(scheme="viridis", domain=[0, 1]), title="accuracy"),
        tooltip=["class:N", "epoch:O", alt.Tooltip("accuracy:Q", format=".1%"), "images:Q"],
    ).properties(width=width, height=max(200, 18 * len(order)),
                 title="Validation accuracy per class and epoch")
