"""Layout helpers that keep every page within the window and every chart readable.

`render_chart` is the one way a page shows an altair chart. Streamlit's default autosize ("fit") makes a
chart's width and height the size of the WHOLE figure, so its title, axes and legend eat the plot area
(a 110 px deletion curve drew a flat line, a 320 px scatter with its legend below drew a 15 px strip).
Here width and height are always the PLOT's: a chart whose width is "container" (or unset) fills its
column (autosize fit-x, the figure grows downwards for axes and legend); a chart of a fixed width keeps
it (autosize pad). `render_wrapping_charts` shows side-by-side panels that wrap on a narrow screen."""

from __future__ import annotations

from typing import Any

import altair as alt
import streamlit as st

PANEL_WIDTH = 320  # plot width of one panel: two fit beside each other at 1400 px, one per row at 800 px
FIT_WIDTH = alt.AutoSizeParams(type="fit-x", contains="padding")  # width = the column's, height = the plot's
PAD = alt.AutoSizeParams(type="pad", contains="padding")  # width and height = the plot's; the figure adds axes
LEGEND_LABEL_LIMIT = 260  # px: a 36-character run title (Vega's default of 160 px cut them)
COMPOSED = (alt.HConcatChart, alt.VConcatChart, alt.ConcatChart, alt.FacetChart, alt.RepeatChart)


def plot_width(chart: Any) -> Any:
    """The plot width a chart asks for: an int, "container", or alt.Undefined (a layer's first width counts)."""
    width = getattr(chart, "width", alt.Undefined)
    if width is alt.Undefined and isinstance(chart, alt.LayerChart):
        for layer in chart.layer:
            if getattr(layer, "width", alt.Undefined) is not alt.Undefined:
                return layer.width
    return width


def stretches(chart: Any) -> bool:
    """True when the chart fills its column (width "container" or unset); False for a fixed width or a
    composition (concat, facet, repeat), which Vega can only lay out at its own size."""
    if isinstance(chart, COMPOSED):
        return False
    encoding = getattr(chart, "encoding", alt.Undefined)
    if encoding is not alt.Undefined and any(getattr(encoding, f, alt.Undefined) is not alt.Undefined
                                             for f in ("row", "column", "facet")):
        return False
    return plot_width(chart) in (alt.Undefined, "container")


def sized(chart: Any) -> tuple[Any, str]:
    """(chart with an explicit autosize, the Streamlit width for it): see the module docstring."""
    if stretches(chart):
        return chart.properties(width="container", autosize=FIT_WIDTH), "stretch"
    return chart.properties(autosize=PAD), "content"


def render_chart(chart: Any, key: str | None = None, where: Any = None, **kwargs: Any) -> Any:
    """Show an altair chart with its plot area at the size it asks for (never squashed by its axes or legend).

    `where` is a column, container or placeholder (default: the current one); kwargs go to st.altair_chart
    (on_select, selection_mode). Returns what st.altair_chart returns (the selection event, if any)."""
    chart, width = sized(chart)
    if getattr(getattr(chart, "config", alt.Undefined), "legend", alt.Undefined) is alt.Undefined:
        chart = chart.configure_legend(labelLimit=LEGEND_LABEL_LIMIT)  # names.short_titles keeps run names shorter
    return (where or st).altair_chart(chart, width=width, key=key, **kwargs)


def render_spec(spec: dict[str, Any], key: str | None = None) -> Any:
    """Show a cached Vega-Lite spec (a chart's to_dict(), e.g. from st.cache_data) the way render_chart shows a chart of
    a fixed size: its width and height are the plot area's (autosize pad), never squashed."""
    return st.vega_lite_chart(spec={**spec, "autosize": {"type": "pad"}}, width="content", key=key)


def tiles(count: int, width: int, gap: str = "medium") -> list[Any]:
    """`count` containers of `width` px side by side that wrap onto the next line on a narrow window
    (st.columns squeeze instead: at 800 px five columns left 80 px for a chart and an image overlapped a caption)."""
    row = st.container(horizontal=True, gap=gap)
    return [row.container(width=width) for _ in range(count)]


def panels(chart: Any) -> list[Any]:
    """The panels of an hconcat chart (its shared data given to each), or the chart itself."""
    subs = list(getattr(chart, "hconcat", None) or [])
    if not subs:
        return [chart]
    data = getattr(chart, "data", alt.Undefined)
    return [p.properties(data=data) if data is not alt.Undefined and p.data is alt.Undefined else p for p in subs]


def render_wrapping_charts(chart: Any, key: str | None = None, width: int = PANEL_WIDTH, legend_below: bool = True) -> None:
    """Show an (hconcat) altair chart, or a list of charts, as panels of `width` px in a row that wraps;
    legends below, never clipped."""
    with st.container(horizontal=True, gap="medium"):
        for i, p in enumerate(chart if isinstance(chart, list) else panels(chart)):
            p = p.properties(width=width)
            if legend_below:
                p = p.configure_legend(orient="bottom", labelLimit=0, titleLimit=0, columns=1)
            render_chart(p, key=f"{key}_{i}" if key else None)
