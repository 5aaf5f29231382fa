"""Altair charts for the Data page: class balance and pixel heatmaps with values on hover."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

SPLIT_ORDER = ["train", "val", "test"]


def class_balance_chart(counts: pd.DataFrame, title: str = "Images per class") -> alt.Chart:
    """Grouped bars of images per class and split, from view.class_counts (class, split, count, fraction)."""
    classes = list(dict.fromkeys(counts["class"]))
    splits = [s for s in SPLIT_ORDER if s in set(counts["split"])] + sorted(set(counts["split"]) - set(SPLIT_ORDER))
    return (
        alt.Chart(counts, title=title)
        .mark_bar()
        .encode(
            x=alt.X("class:N", sort=classes, title="class"),
            xOffset=alt.XOffset("split:N", sort=splits),
            y=alt.Y("count:Q", title="images"),
            color=alt.Color("split:N", sort=splits, scale=alt.Scale(scheme="tableau10")),
            tooltip=["class", "split", "count", alt.Tooltip("fraction:Q", format=".2%")],
        )
        .properties(height=260)
    )


def pixel_frame(image: np.ndarray) -> pd.DataFrame:
    """Long table (row, col, value) of a 2-D array, for heatmaps."""
    image = np.asarray(image, dtype=np.float64)
    rows, cols = np.indices(image.shape)
    return pd.DataFrame({"row": rows.ravel(), "col": cols.ravel(), "value": image.ravel()})


def pixel_heatmap(image: np.ndarray, title: str = "", size: int = 280, scheme: str = "greys") -> alt.Chart:
    """A heatmap of a 2-D array at full resolution (one rect per pixel), the value shown on hover.

    Pixels are square and a whole number of screen pixels each (about `size` px across the wider side):
    nearest-neighbour, never stretched, no seams between the rects."""
    image = np.asarray(image)
    if image.ndim != 2:
        raise ValueError(f"pixel_heatmap takes a 2-D array, got shape {image.shape}")
    h, w = image.shape
    cell = max(1, round(size / max(h, w)))  # screen pixels per image pixel
    lo, hi = float(np.min(image)), float(np.max(image))
    reverse = scheme == "greys"  # light = high value, as the letters are drawn
    frame = pixel_frame(image)
    data = frame if len(frame) <= 5000 else alt.InlineData(values=frame.to_dict("records"))  # past altair's row cap
    return (
        alt.Chart(data, title=title)
        .mark_rect()
        .encode(
            x=alt.X("col:O", axis=None, scale=alt.Scale(paddingInner=0, paddingOuter=0)),
            y=alt.Y("row:O", axis=None, scale=alt.Scale(paddingInner=0, paddingOuter=0)),
            color=alt.Color(
                "value:Q",
                scale=alt.Scale(scheme=scheme, domain=[lo, hi if hi > lo else lo + 1], reverse=reverse),
                legend=alt.Legend(title="value"),
            ),
            tooltip=["row:O", "col:O", alt.Tooltip("value:Q", format=".4f")],
        )
        .properties(width=cell * w, height=cell * h)
    )
