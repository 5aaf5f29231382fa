"""Charts of a measured profile: share of time beside share of MACs per block, GFLOP/s per layer."""

from __future__ import annotations

import altair as alt
import pandas as pd

from explorer.inspect.profile import Profile


def share_table(p: Profile) -> pd.DataFrame:
    """Long table (block, measure, percent) for the grouped bar chart, blocks in execution order."""
    b = p.blocks()
    b["order"] = range(len(b))
    long = b.melt(id_vars=["Block", "order"], value_vars=["Time %", "MACs %"], var_name="share", value_name="percent")
    return long


def time_vs_macs_chart(p: Profile) -> alt.Chart:
    """Per block: share of measured forward time next to share of MACs (where the counts mislead)."""
    df = share_table(p)
    order = list(dict.fromkeys(df.sort_values("order")["Block"]))
    return (
        alt.Chart(df)
        .mark_bar()
        .encode(
            y=alt.Y("Block:N", sort=order, title=None),
            x=alt.X("percent:Q", title="% of network"),
            yOffset=alt.YOffset("share:N"),
            color=alt.Color("share:N", title=None, scale=alt.Scale(range=["#e45756", "#4c78a8"])),
            tooltip=["Block", "share", alt.Tooltip("percent:Q", format=".1f")],
        )
        .properties(title=f"{p.model_name}: time vs MACs per block ({p.device})", width=420)
    )


def gflops_chart(p: Profile) -> alt.Chart:
    """Achieved GFLOP/s of every layer that does counted work (conv, linear), in execution order."""
    df = p.to_dataframe().reset_index(names="order")
    df = df[df["GFLOP/s"].notna()]
    return (
        alt.Chart(df)
        .mark_bar()
        .encode(
            x=alt.X("Layer:N", sort=df["Layer"].tolist(), title=None, axis=alt.Axis(labelAngle=-60)),
            y=alt.Y("GFLOP/s:Q"),
            color=alt.Color("Type:N"),
            tooltip=["Layer", "Type", alt.Tooltip("Forward ms:Q", format=".3f"), alt.Tooltip("GFLOP/s:Q", format=".2f")],
        )
        .properties(title="Achieved GFLOP/s per layer (FLOPs = 2 x MACs)")
    )
