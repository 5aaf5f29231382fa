"""Charts of one network (where parameters and compute sit, how shapes evolve) and of the zoo
(accuracy against compute)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from explorer.inspect.summary import Summary


def stage_table(summary: Summary) -> pd.DataFrame:
    """Parameters and MACs per stage: the top-level blocks of the network (inside the letters
    wrapper, if any), in execution order, with their share of the total."""
    rows = [r for r in summary.layers if r.called or r.params]
    prefix = ""
    top = [r for r in rows if r.depth == 1]
    if len(top) <= 2 and any(r.name == "net" for r in top):  # a LettersModel: look inside `net`
        prefix = "net."
        top = [r for r in rows if r.depth == 2 and r.name.startswith(prefix)]
    df = pd.DataFrame({
        "stage": [r.name[len(prefix):] for r in top],
        "type": [r.type for r in top],
        "order": range(len(top)),
        "params": [r.params for r in top],
        "macs": [r.macs for r in top],
    })
    df["params %"] = 100 * df["params"] / max(summary.params, 1)
    df["MACs %"] = 100 * df["macs"] / max(summary.macs, 1)
    return df


def cost_by_stage_chart(summary: Summary) -> alt.HConcatChart:
    """Two bar charts side by side: each stage's share of the parameters and of the MACs."""
    df = stage_table(summary)

    def panel(measure: str, value: str, share: str) -> alt.Chart:
        data = pd.DataFrame({"stage": df["stage"], "order": df["order"], "value": df[value], "share": df[share]})
        return alt.Chart(data, title=measure).mark_bar(color="#2563eb" if measure == "Parameters" else "#ea580c") \
            .encode(x=alt.X("stage:N", sort=alt.SortField("order"), title=None),
                    y=alt.Y("share:Q", title="share of total (%)"),
                    tooltip=["stage", alt.Tooltip("value:Q", format=",.0f", title=measure),
                             alt.Tooltip("share:Q", format=".1f", title="share (%)")]) \
            .properties(width=320, height=240)

    return alt.hconcat(panel("Parameters", "params", "params %"), panel("MACs", "macs", "MACs %"))


def shape_table(summary: Summary) -> pd.DataFrame:
    """Spatial size and channels after every leaf layer with a 4-D output, in execution order."""
    rows = [r for r in summary.rows() if r.called and r.output_shape and len(r.output_shape) == 4]
    return pd.DataFrame({
        "step": range(len(rows)),
        "layer": [r.name for r in rows],
        "type": [r.type for r in rows],
        "height": [r.output_shape[2] for r in rows],
        "width": [r.output_shape[3] for r in rows],
        "channels": [r.output_shape[1] for r in rows],
    })


def shape_evolution_chart(summary: Summary) -> alt.Chart:
    """Spatial size (H) and channel count against depth: the classic 'shrink and deepen' picture."""
    df = shape_table(summary)
    base = alt.Chart(df).encode(
        x=alt.X("step:Q", title="layer (execution order)"),
        tooltip=["layer", "type", "height", "width", "channels"],
    )
    spatial = base.mark_line(point=True, color="#2563eb").encode(
        y=alt.Y("height:Q", title="spatial size (H)", scale=alt.Scale(type="log", base=2)))
    channels = base.mark_line(point=True, color="#ea580c").encode(
        y=alt.Y("channels:Q", title="channels", scale=alt.Scale(type="log", base=2)))
    return alt.hconcat(spatial.properties(title="Spatial size", width=330, height=240),
                       channels.properties(title="Channels", width=330, height=240))


def accuracy_vs_compute_chart(df: pd.DataFrame) -> alt.Chart:
    """Reference top-1 accuracy against GMACs and against parameters (log scales), one point per model.

    `df` needs columns model, family, year, gmacs, params_m, top1."""
    data = df.dropna(subset=["top1"])
    base = alt.Chart(data).encode(
        y=alt.Y("top1:Q", title="ImageNet top-1 (%)", scale=alt.Scale(zero=False)),
        color=alt.Color("family:N"),
        tooltip=["model", "family", "year", alt.Tooltip("gmacs:Q", format=".3f"),
                 alt.Tooltip("params_m:Q", format=".2f"), "top1"],
    )

    def panel(x: str, title: str) -> alt.LayerChart:
        enc = alt.X(f"{x}:Q", title=title, scale=alt.Scale(type="log"))
        pts = base.mark_circle(size=90).encode(x=enc)
        shown = data[label_fits(data, x, "top1")]  # a label that would overlap another is left to the tooltip
        labels = alt.Chart(shown).mark_text(align="left", dx=6, fontSize=9, color="#334155").encode(
            x=enc, y="top1:Q", text="model:N")
        return (pts + labels).properties(width=360, height=320)

    return alt.hconcat(panel("gmacs", "GMACs (log)"), panel("params_m", "parameters, millions (log)"))


def label_fits(df: pd.DataFrame, x: str, y: str, width: float = 360, height: float = 320,
               char_px: float = 5.5, line_px: float = 12) -> pd.Series:
    """Which points' text labels (drawn right of the point, log x) fit without overlapping an earlier one.

    Greedy, highest `y` first, on a `width` x `height` plot; the rest are left to the tooltip.
    """
    import numpy as np

    ok = pd.Series(False, index=df.index)
    d = df.dropna(subset=[x, y])
    d = d[d[x] > 0]
    if d.empty:
        return ok
    lx = np.log10(d[x].astype(float))
    yv = d[y].astype(float)
    span_x = max(float(lx.max() - lx.min()), 1e-9)
    span_y = max(float(yv.max() - yv.min()), 1e-9)
    px = (lx - lx.min()) / span_x * width
    py = (yv.max() - yv) / span_y * height
    boxes: list[tuple[float, float, float, float]] = []
    for i in yv.sort_values(ascending=False).index:
        x0 = float(px[i]) + 6
        box = (x0, float(py[i]) - line_px / 2, x0 + char_px * len(str(d.at[i, "model"])), float(py[i]) + line_px / 2)
        if all(box[2] <= b[0] or box[0] >= b[2] or box[3] <= b[1] or box[1] >= b[3] for b in boxes):
            boxes.append(box)
            ok[i] = True
    return ok
