"""Altair charts for training: loss and accuracy per epoch, train vs validation, stages marked."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import altair as alt
import pandas as pd


def history_frame(history: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Long table (epoch, stage, stage_name, metric, split, value) from history.jsonl records."""
    rows = []
    for h in history:
        for metric in ("loss", "acc"):
            for split in ("train", "val"):
                value = h.get(f"{split}_{metric}")
                if value is not None:
                    rows.append({"epoch": int(h["epoch"]), "stage": int(h.get("stage", 0)),
                                 "stage_name": h.get("stage_name", ""), "metric": metric,
                                 "split": "validation" if split == "val" else "train", "value": float(value)})
    return pd.DataFrame(rows, columns=["epoch", "stage", "stage_name", "metric", "split", "value"])


def stage_starts(history: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """First epoch of every stage after the first (where the curves change recipe), minus 0.5."""
    out, prev = [], None
    for h in history:
        s = int(h.get("stage", 0))
        if prev is not None and s != prev:
            out.append({"epoch": int(h["epoch"]) - 0.5, "stage_name": h.get("stage_name", f"stage {s + 1}")})
        prev = s
    return pd.DataFrame(out, columns=["epoch", "stage_name"])


def _panel(df: pd.DataFrame, starts: pd.DataFrame, metric: str, title: str, fmt: str) -> alt.Chart:
    data = df[df["metric"] == metric]
    line = (
        alt.Chart(data, title=title)
        .mark_line(point=True)
        .encode(
            x=alt.X("epoch:Q", title="epoch", axis=alt.Axis(tickMinStep=1)),
            y=alt.Y("value:Q", title=title, scale=alt.Scale(zero=False)),
            color=alt.Color("split:N", sort=["train", "validation"], title=None,
                            scale=alt.Scale(domain=["train", "validation"], range=["#2563eb", "#f97316"])),
            tooltip=["epoch", "stage_name", "split", alt.Tooltip("value:Q", format=fmt)],
        )
    )
    if starts.empty:
        return line.properties(height=240)
    rule = alt.Chart(starts).mark_rule(strokeDash=[4, 4], color="gray").encode(x="epoch:Q", tooltip=["stage_name"])
    text = (
        alt.Chart(starts)
        .mark_text(align="left", dx=4, dy=-4, color="gray", baseline="top")
        .encode(x="epoch:Q", y=alt.value(0), text="stage_name:N")
    )
    return alt.layer(line, rule, text).properties(height=240)


def history_chart(history: Iterable[Mapping[str, Any]]) -> alt.HConcatChart:
    """Loss and accuracy curves side by side (train vs validation), stage boundaries as dashed rules."""
    history = list(history)
    df, starts = history_frame(history), stage_starts(history)
    return alt.hconcat(_panel(df, starts, "loss", "loss", ".4f"), _panel(df, starts, "acc", "accuracy", ".2%"))


def lr_chart(history: Iterable[Mapping[str, Any]]) -> alt.Chart:
    """Learning rate at the end of each epoch (log scale)."""
    df = pd.DataFrame([{"epoch": h["epoch"], "lr": h["lr"]} for h in history if h.get("lr")])
    return (
        alt.Chart(df, title="learning rate").mark_line(point=True)
        .encode(x="epoch:Q", y=alt.Y("lr:Q", scale=alt.Scale(type="log")), tooltip=["epoch", alt.Tooltip("lr:Q", format=".2e")])
        .properties(height=160)
    )
