"""Streamlit helpers for the Compare-runs page: run choice, cached run data and one renderer per section."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import streamlit as st

from explorer.charts import compare as charts
from explorer.compare import (
    COMPARISONS,
    METRIC_ROWS,
    Comparison,
    RunData,
    confusion_diff,
    curves_frame,
    load_run_data,
    roc_frame,
    to_csv,
    to_markdown,
)
from explorer.config import setting_label
from explorer.names import short_titles, title_line, unique_titles
from explorer.runs import RunInfo, list_runs, runs_root
from explorer.ui.curves import render_training_curves
from explorer.ui.layout import render_chart, render_wrapping_charts
from explorer.ui.run_picker import render_page_link, render_unreadable_runs_note
from explorer.untrusted import md_code, md_escape


def _stamp(info: RunInfo) -> float:
    """Latest modification time of the files a comparison reads (the cache key part that changes)."""
    from pathlib import Path

    p = Path(info.path)
    return max((f.stat().st_mtime for f in p.iterdir() if f.is_file()), default=0.0)


@st.cache_data(show_spinner=False, max_entries=64)
def cached_run_data(path: str, stamp: float, title: str) -> RunData:
    """One run's comparison data under its readable title (cached by folder, latest file change and title)."""
    return load_run_data(path, title=title)


def pick_runs(key: str = "cmp_runs") -> list[RunData]:
    """A multiselect over the saved runs -> their data; messages when too few. Preselected: the run every page
    opens on and the best other completed run (explorer.pin.default_pair), never a stopped or failed one."""
    all_infos = list_runs()
    render_unreadable_runs_note(all_infos)
    infos = [i for i in all_infos if i.readable]
    if len(infos) < 2:
        st.info(f"Comparing needs two or more saved runs; the runs folder `{runs_root()}` has {len(infos)}. "
                "Train some on the **Train** page (or `python -m explorer train`).")
        render_page_link("train", "Go to the Train page", ":material/model_training:")
        return []
    by_id = {i.run_id: i for i in infos}
    if key not in st.session_state:
        from explorer.pin import default_pair

        st.session_state[key] = default_pair(infos)
    st.session_state[key] = [r for r in st.session_state[key] if r in by_id]
    ids = st.multiselect("Runs to compare (the first is the reference)", list(by_id), key=key, wrap=True,
                         format_func=lambda r: title_line(by_id[r]))
    if len(ids) < 2:
        st.info("Pick two or more runs.")
        return []
    out = []
    titles = dict(zip(ids, short_titles(unique_titles([by_id[r] for r in ids])), strict=True))  # legends keep them apart
    with st.spinner("Reading runs..."):
        for r in ids:
            try:
                out.append(cached_run_data(by_id[r].path, _stamp(by_id[r]), titles[r]))
            except (OSError, ValueError, KeyError) as exc:
                st.warning(f"Run {md_escape(titles[r])} ({md_code(r)}) is unreadable and left out: {md_escape(exc)}")
    return out if len(out) >= 2 else []


def render_evaluate_offer(runs: Sequence[RunData]) -> None:
    """For each picked run without test predictions but with weights: an "Evaluate now" button (then the page
    compares it like the others); one without weights is said to have nothing to evaluate."""
    from explorer.ui.run_state import evaluate_now, has_weights

    for r in runs:
        if r.predictions() is not None or r.status.get("status") == "running":
            continue
        if not has_weights(r):
            st.info(f"**{md_escape(r.title)}** ({md_escape(r.status.get('status'))}) has no saved weights: no test "
                    "predictions to compare; only its settings and curves are shown.")
            continue
        st.warning(f"**{md_escape(r.title)}** ({md_escape(r.status.get('status'))}) has no test predictions, so "
                   "per-class, confusion, ROC and image-by-image comparisons leave it out. Evaluate it now with its "
                   "saved weights:")
        if evaluate_now(r, f"Evaluate {r.title} now"):
            st.rerun()  # its comparison data is read again (the cache key holds the folder's latest file time)


def render_notes(notes: dict[str, str | None]) -> None:
    """Say which comparisons do not apply to these runs, and why."""
    for key, why in notes.items():
        if why:
            st.warning(f"**{COMPARISONS[key].capitalize()}**: {md_escape(why)}")


def _fmt_metrics(df: pd.DataFrame) -> pd.DataFrame:
    out = df.drop(columns=["run_id"]).set_index("run").T.rename(index=dict(METRIC_ROWS))
    return out.map(lambda v: "" if v is None or (isinstance(v, float) and pd.isna(v))
                   else (f"{v:.4f}" if isinstance(v, float) and abs(v) < 10 else
                         (f"{v:,.0f}" if isinstance(v, int | float) else str(v))))


def render_tables(comp: Comparison) -> None:
    """Final metrics side by side, the settings that differ (highlighted) and the equal ones collapsed."""
    st.subheader("Final metrics")
    table = _fmt_metrics(comp.metrics)
    st.dataframe(table, width="stretch", height=35 * (len(table) + 1) + 3)
    st.subheader("Settings that differ")
    d = labelled_settings(comp.config.differ)
    if len(d):
        st.dataframe(d.style.set_properties(**{"background-color": "#fff3cd"}), width="stretch")
    else:
        st.success("Every compared setting is equal.")
    with st.expander(f"{len(comp.config.equal)} settings equal in every run"):
        st.dataframe(labelled_settings(comp.config.equal), width="stretch")


def labelled_settings(df: pd.DataFrame) -> pd.DataFrame:
    """A settings table indexed by readable labels (explorer.config.setting_label: the fields' own labels); the raw key as the last column."""
    out = df.copy()
    out["key"] = list(df.index)
    out.index = pd.Index([setting_label(str(k)) for k in df.index], name="setting")
    return out


def render_curves(runs: Sequence[RunData]) -> None:
    """Loss and accuracy of every run against epoch and against wall time."""
    df = curves_frame(runs)
    if df.empty:
        st.info("No completed epochs to plot yet.")
        return
    st.subheader("Training curves")
    by_epoch, by_time = st.tabs(["against epoch", "against wall time"])
    with by_epoch:
        render_training_curves(df, "cmp_curves_epoch", "epoch", ("loss", "accuracy"))
    with by_time:
        render_training_curves(df, "cmp_curves_time", "time_s", ("loss", "accuracy"))


def render_per_class(comp: Comparison) -> None:
    """Per-class F1 of every run and the change against the reference run."""
    st.subheader("Per-class F1")
    if comp.f1.empty:
        return
    render_chart(charts.f1_grouped_chart(comp.f1).properties(width="container"))
    render_chart(charts.f1_diff_chart(comp.f1_diff, comp.titles[0]).properties(width="container"))
    st.markdown(f"Against the reference run **{md_escape(comp.titles[0])}**:")
    for run, better, worse in better_worse(comp.f1_diff):
        st.markdown(f"- **{md_escape(run)}** got better on {md_escape(better) or 'no class'}; worse on {md_escape(worse) or 'no class'}")


def better_worse(f1_diff: pd.DataFrame, top: int = 5) -> list[tuple[str, str, str]]:
    """Per compared run: (run, its `top` most improved classes, its `top` most worsened), as "A +0.12, B +0.05"."""
    out = []
    for run, d in f1_diff.groupby("run", sort=False):
        d = d.sort_values("diff")
        better, worse = d[d["diff"] > 0].tail(top)[::-1], d[d["diff"] < 0].head(top)
        fmt = lambda rows: ", ".join(f"{r['class']} {r['diff']:+.2f}" for _, r in rows.iterrows())  # noqa: E731
        out.append((str(run), fmt(better), fmt(worse)))
    return out


def render_confusion(comp: Comparison) -> None:
    """Two runs' confusion matrices side by side, and their difference."""
    st.subheader("Confusion matrices")
    labels = comp.titles
    c1, c2 = st.columns(2)
    a = c1.selectbox("Left", labels, index=0, key="cmp_conf_a")
    b = c2.selectbox("Right", labels, index=1, key="cmp_conf_b")
    ra, rb = comp.runs[labels.index(a)], comp.runs[labels.index(b)]
    from explorer.evaluate import confusion

    with st.container(horizontal=True, gap="medium"):  # side by side when they fit, one under the other when not
        for lab, r in ((a, ra), (b, rb)):
            preds = r.predictions()
            cm = confusion(preds.y_true, preds.y_prob, r.classes)
            chart = charts.confusion_share_heatmap(cm.to_frame(), [lab, "row shares"], size=360)
            render_chart(chart.configure_legend(orient="bottom"))
    if a != b:
        diff = charts.confusion_diff_heatmap(confusion_diff(ra, rb), a, b, size=360)  # 26 letters on each axis
        render_chart(diff.configure_legend(orient="bottom"))  # fits 800 px


def render_roc(runs: Sequence[RunData]) -> None:
    """Micro/macro ROC of every run with their AUC."""
    st.subheader("ROC / AUC")
    points, areas = roc_frame(runs)
    if areas.empty:
        return
    render_wrapping_charts(charts.roc_compare_chart(points, areas), key="cmp_roc", width=340)
    st.dataframe(areas.pivot(index="run", columns="curve", values="auc").round(4), width="stretch")


def render_cost(comp: Comparison) -> None:
    """Test accuracy against parameters and against MACs."""
    st.subheader("Accuracy against cost")
    with st.container(horizontal=True, gap="medium"):
        render_chart(charts.cost_scatter(comp.metrics, "params", width=320))
        render_chart(charts.cost_scatter(comp.metrics, "macs", width=320))


def render_export_buttons(comp: Comparison) -> None:
    """Download the comparison as CSV and as Markdown."""
    row = st.container(horizontal=True, gap="small")  # buttons as wide as their labels (columns cut them to "Do...")
    row.download_button("Download CSV", to_csv(comp), "comparison.csv", "text/csv", key="cmp_csv",
                       icon=":material/download:")
    row.download_button("Download Markdown", to_markdown(comp), "comparison.md", "text/markdown", key="cmp_md",
                       icon=":material/download:")


def render_section(name: str, notes: dict[str, str | None], render: Any, *args: Any) -> None:
    """Render a section unless its comparison does not apply (then the reason was shown above)."""
    why = notes.get(name)
    if why and name in ("per_class", "confusion"):
        return
    render(*args)
