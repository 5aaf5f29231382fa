"""The training-curves view of every page: explorer.charts.curves' panels, one column each (fits any width)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

from explorer.charts.curves import curve_panels


def show_training_curves(frame: pd.DataFrame, key: str | None = None, x: str = "epoch",
                         metrics: Sequence[str] = ("loss", "accuracy", "lr")) -> None:
    """Draw a history or runs frame (explorer.charts.curves) as one panel per metric, side by side."""
    metrics = [m for m in metrics if (frame["metric"] == m).any()]
    if not metrics:
        st.info("No completed epochs to plot yet.")
        return
    for i, (col, panel) in enumerate(zip(st.columns(len(metrics)), curve_panels(frame, x, metrics, width="container"),
                                         strict=True)):
        col.altair_chart(panel, key=None if key is None else f"{key}_{i}")
