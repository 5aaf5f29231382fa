"""Layout helpers that keep every page within the window: side-by-side chart panels that wrap on a narrow
screen (each panel its own chart, its legend below it, labels never cut)."""

from __future__ import annotations

from typing import Any

import altair as alt
import streamlit as st

PANEL_WIDTH = 320  # plot width of one panel: two fit beside each other at 1400 px, one per row at 800 px


def panels(chart: Any) -> list[Any]:
    """The panels of an hconcat chart (its shared data given to each), or the chart itself."""
    subs = list(getattr(chart, "hconcat", None) or [])
    if not subs:
        return [chart]
    data = getattr(chart, "data", alt.Undefined)
    return [p.properties(data=data) if data is not alt.Undefined and p.data is alt.Undefined else p for p in subs]


def wrapping_charts(chart: Any, key: str | None = None, width: int = PANEL_WIDTH, legend_below: bool = True) -> None:
    """Show an (hconcat) altair chart as panels of `width` px in a row that wraps; legends below, never clipped."""
    with st.container(horizontal=True, gap="medium"):
        for i, p in enumerate(panels(chart)):
            p = p.properties(width=width)
            if legend_below:
                p = p.configure_legend(orient="bottom", labelLimit=0, titleLimit=0, columns=1)
            st.altair_chart(p, width="content", key=f"{key}_{i}" if key else None)
