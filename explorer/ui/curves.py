"""The training-curves view of every page: explorer.charts.curves' panels side by side, wrapping on a narrow window."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

from explorer.charts.curves import curve_panels
from explorer.ui.layout import render_wrapping_charts

CURVE_WIDTH = 210  # plot width of one panel: three beside each other at 1400 px, one or two per row at 800 px


def render_training_curves(frame: pd.DataFrame, key: str | None = None, x: str = "epoch",
                         metrics: Sequence[str] = ("loss", "accuracy", "lr")) -> None:
    """Draw a history or runs frame (explorer.charts.curves) as one panel per metric, side by side."""
    metrics = [m for m in metrics if (frame["metric"] == m).any()]
    if not metrics:
        st.info("No completed epochs to plot yet.")
        return
    render_wrapping_charts(curve_panels(frame, x, metrics, width=CURVE_WIDTH, height=200), key=key, width=CURVE_WIDTH)
