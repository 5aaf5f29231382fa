"""Altair charts of explorer.trust: deletion curves, sanity-check correlations, disagreement counts per letter.

Pure functions: dataclasses / DataFrames from explorer.trust in, ``alt.Chart`` out.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

__all__ = ["deletion_chart", "deletion_frame", "disagreement_chart", "sanity_chart", "sanity_frame"]


def deletion_frame(d: Any) -> pd.DataFrame:
    """Long table of a Deletion: removed (share of pixels), probability, order (attribution / random)."""
    att, rnd = "map order", "random order"  # short: the legend fits a narrow column; the areas are in the caption
    return pd.concat([
        pd.DataFrame({"removed": d.fractions, "probability": d.curve, "order": att}),
        pd.DataFrame({"removed": d.fractions, "probability": d.random_curve, "order": rnd}),
    ], ignore_index=True)  # fmt: skip


def deletion_chart(d: Any, title: str = "Deletion curve", width: int | str = 220, height: int = 150) -> alt.Chart:
    """Compact deletion figure: target probability as pixels are removed, attribution order vs random."""
    df = deletion_frame(d)
    return (
        alt.Chart(df).mark_line(point=alt.OverlayMarkDef(size=12))
        .encode(x=alt.X("removed:Q", title="pixels removed", axis=alt.Axis(format="%")),
                y=alt.Y("probability:Q", title="class probability", scale=alt.Scale(domain=[0, 1])),
                color=alt.Color("order:N", title=None, legend=alt.Legend(orient="bottom", direction="vertical"),
                                scale=alt.Scale(range=["#d62728", "#7f7f7f"])),
                strokeDash=alt.StrokeDash("order:N", legend=None),
                tooltip=["order:N", alt.Tooltip("removed:Q", format=".0%"), alt.Tooltip("probability:Q", format=".3f")])
        .properties(width=width, height=height, title=title)
    )  # fmt: skip


def sanity_frame(s: Any) -> pd.DataFrame:
    """Table of a Sanity check: step, layers randomised (cumulative, top first), rank correlation."""
    return pd.DataFrame({"step": range(1, len(s.rank_corr) + 1), "randomised up to": s.blocks,
                         "rank correlation": [round(v, 4) for v in s.rank_corr]})


def sanity_chart(s: Any, limit: float, width: int | str = 320, height: int = 160) -> alt.Chart:
    """Rank correlation with the trained map as layers are randomised from the top; a rule at the flag limit."""
    df = sanity_frame(s)
    line = (
        alt.Chart(df).mark_line(point=True)
        .encode(x=alt.X("step:O", title="layers randomised (cumulative, from the top)"),
                y=alt.Y("rank correlation:Q", scale=alt.Scale(domain=[-1, 1])),
                tooltip=["step:O", "randomised up to:N", alt.Tooltip("rank correlation:Q", format=".3f")])
    )  # fmt: skip
    rule = alt.Chart(pd.DataFrame({"limit": [limit]})).mark_rule(strokeDash=[4, 3], color="#d62728").encode(y="limit:Q")
    return (line + rule).properties(width=width, height=height, title="Sanity check (Adebayo et al. 2018)")


def disagreement_chart(counts: pd.DataFrame, width: int | str = 760, height: int = 200) -> alt.Chart:
    """Grouped bars per true letter: images only run A gets right, and only run B."""
    order = list(dict.fromkeys(counts["letter"]))
    return (
        alt.Chart(counts).mark_bar()
        .encode(x=alt.X("letter:N", sort=order, title="true letter"), xOffset=alt.XOffset("kind:N"),
                y=alt.Y("count:Q", title="test images", axis=alt.Axis(format="d", tickMinStep=1)),
                color=alt.Color("kind:N", title=None, scale=alt.Scale(range=["#1f77b4", "#ff7f0e"])),
                tooltip=["letter:N", "kind:N", "count:Q"])
        .properties(width=width, height=height, title="Where the runs disagree, per letter")
    )  # fmt: skip
