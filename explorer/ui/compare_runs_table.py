"""Compare runs for many runs: a sortable, filterable table of every run (tag, sweep, status, any
setting), the best run of each sweep marked, parallel coordinates, the effect of each setting
(mean ± std over seeds and the other settings) and a group-by table. Reads the runs folder once per
change (cached by the run folders' modification times)."""

from __future__ import annotations

import os
from typing import Any

import pandas as pd
import streamlit as st

from explorer.charts.sweep import effect_chart, parallel_coordinates
from explorer.names import plural
from explorer.runs import runs_root
from explorer.runs_table import (
    CFG,
    METRICS,
    MISSING_TEXT,
    all_tags,
    effects,
    filter_runs,
    group_stats,
    mark_best,
    parallel_frame,
    runs_table_frame,
    setting_columns,
    values_of,
    varying,
)
from explorer.ui.layout import render_chart

STATUSES = ("completed", "running", "stopped", "failed", "interrupted")


def folder_stamp(root: str) -> tuple[tuple[str, int], ...]:
    """(name, mtime) of every run folder: atomic writes rename into the folder, so any change shows."""
    try:
        with os.scandir(root) as it:
            return tuple(sorted((e.name, e.stat().st_mtime_ns) for e in it if e.is_dir() and e.name[0] != "."))
    except OSError:
        return ()


@st.cache_data(show_spinner=False, max_entries=4)
def cached_frame(root: str, stamp: tuple[tuple[str, int], ...]) -> pd.DataFrame:
    """runs_table_frame, cached until a run folder changes."""
    return runs_table_frame(root)


def _short(col: str) -> str:
    return col.removeprefix(CFG)


def _filters(df: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """Filter widgets -> (filtered rows, metric)."""
    c = st.columns(2) + st.columns(2)  # two rows of two: readable at 800 px
    sweeps = sorted(s for s in df["sweep"].unique() if s)
    chosen_sweeps = c[0].multiselect("Sweep", sweeps, key="mr_sweeps")
    tags = c[1].multiselect("Tags (all of)", all_tags(df), key="mr_tags")
    statuses = c[2].multiselect("Status", [s for s in STATUSES if s in set(df["status"])], key="mr_status")
    metric = c[3].selectbox("Metric", list(METRICS), key="mr_metric",
                            format_func={"test_acc": "test accuracy", "best_val_acc": "best val accuracy"}.get)
    c = st.columns(2)
    settings = setting_columns(df)
    field = c[0].selectbox("Setting filter", ["(none)", *settings], key="mr_field",
                           format_func=lambda s: _short(s) if s != "(none)" else s)
    where: dict[str, list[Any]] = {}
    if field != "(none)":
        values = values_of(df, field)
        where[field] = c[1].multiselect(f"{_short(field)} is one of", values, key=f"mr_values_{field}")
    return filter_runs(df, tags, chosen_sweeps, statuses, where), metric


def _table(rows: pd.DataFrame, metric: str, show_all: bool) -> None:
    """The runs table (sortable by clicking a header) and its CSV download."""
    marked = mark_best(rows, metric).sort_values(metric, ascending=False, na_position="last")
    settings = setting_columns(rows) if show_all else varying(rows, exclude=())
    cols = ["best", "name", "status", metric, *[m for m in METRICS if m != metric], *settings, "sweep", "tags",
            "epochs_done", "created", "run_id"]
    view = marked[cols].rename(columns={c: _short(c) for c in settings})
    st.dataframe(view, hide_index=True, height=min(400, 36 * (len(view) + 1) + 2), placeholder=MISSING_TEXT,
                 column_config={
        "best": st.column_config.TextColumn("best", help="★ best run of its sweep (and of the runs outside sweeps)",
                                            width="small"),
        metric: st.column_config.NumberColumn(format="%.4f"),
        **{m: st.column_config.NumberColumn(format="%.4f") for m in METRICS}})
    st.caption(f"A setting a run's config leaves out shows the value it used (the default); {MISSING_TEXT} = the "
               "setting does not apply to that run (images per class outside the built-in letters).")
    st.download_button("Download table (CSV)", view.to_csv(index=False).encode(), "runs.csv", "text/csv",
                       key="mr_csv")


def _analyses(rows: pd.DataFrame, metric: str) -> None:
    """Parallel coordinates, effect of each setting and group-by, on the filtered runs."""
    scored = rows[rows[metric].notna()]
    moving = varying(scored)
    if scored.empty or not moving:
        st.info("Parallel coordinates, effects and group-by need finished runs whose settings differ "
                "(e.g. a sweep); filter to one sweep for its view.")
        return
    t1, t2, t3 = st.tabs(["Parallel coordinates", "Effect of each setting", "Group by"])
    with t1:
        axes = st.multiselect("Axes", moving, default=moving[:6], key="mr_axes", wrap=True, format_func=_short)
        lines, ticks = parallel_frame(scored, axes, metric)
        render_chart(parallel_coordinates(lines, ticks, metric))
    with t2:
        eff = effects(scored, metric, moving)
        render_chart(effect_chart(eff, metric))
        st.dataframe(eff, hide_index=True, column_config={c: st.column_config.NumberColumn(format="%.4f")
                                                          for c in ("mean", "std")})
    with t3:
        by = st.multiselect("Group by", setting_columns(scored), default=moving[:1], key="mr_group", wrap=True,
                            format_func=_short)
        if by:
            table = group_stats(scored, by, metric).rename(columns={b: _short(b) for b in by})
            st.dataframe(table, hide_index=True, column_config={c: st.column_config.NumberColumn(format="%.4f")
                                                                for c in ("mean", "std", "min", "max")})


def render_many_runs(root: str | None = None) -> None:
    """The all-runs section of Compare runs."""
    root_s = str(runs_root(root))
    df = cached_frame(root_s, folder_stamp(root_s))
    st.subheader(f"All runs ({len(df)})")
    if df.empty:
        st.info("No saved runs yet. Train some on the Train page, or start a sweep there.")
        return
    rows, metric = _filters(df)
    show_all = st.toggle("Show every setting (not only those that differ)", key="mr_all")
    st.caption(f"{len(rows)} of {plural(len(df), 'run')} shown, best first. Click a column header to sort.")
    _table(rows, metric, show_all)
    _analyses(rows, metric)
