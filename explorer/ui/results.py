"""Streamlit helpers for the Results page: cached evaluation, missing predictions, confusion cells."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from explorer.charts import evaluate as charts
from explorer.evaluate import Evaluation, evaluate_all, mistakes, seed_result_table
from explorer.metrics import REPORT_TEXT
from explorer.names import format_duration, plural, run_title
from explorer.runs import Run
from explorer.ui.run_picker import render_page_link
from explorer.ui.run_state import evaluate_now, has_weights
from explorer.untrusted import md_code, md_escape


@st.cache_data(show_spinner=False, max_entries=16)
def cached_evaluation(run_path: str, stamp: float) -> Evaluation:
    """evaluate_all of a run's predictions.npz (cached per file and modification time)."""
    from explorer.runs import open_run

    preds = open_run(run_path).predictions()
    if preds is None:
        raise FileNotFoundError(f"{run_path} has no predictions.npz")
    return evaluate_all(preds.y_true, preds.y_prob, list(preds.classes) or None)


def evaluation_or_offer(run: Any) -> Evaluation | None:
    """Return the run's Evaluation; without saved predictions say what is missing and offer to evaluate now."""
    npz = run.predictions_path
    if not run.has_predictions():
        status = run.status.get("status", "unknown")
        if status == "running":
            st.info(f"Run **{run_title(run)}** is still training; its test predictions and every metric appear "
                    "here when it completes. Watch it live on the Train page.")
            render_page_link("train", "Watch it on the Train page", ":material/model_training:")
            return None
        if not has_weights(run):
            st.info(f"Run **{run_title(run)}** ({status}) has no saved weights (it ended before its first epoch "
                    "completed): there is nothing to evaluate. Its error and any curves are shown here.")
            return None
        st.warning(
            f"Run **{run_title(run)}** has no saved test predictions (`predictions.npz`); its status is "
            f"**{status}** - it failed or stopped before the test pass. Evaluating it now runs its saved "
            "weights over its test split."
        )
        if not evaluate_now(run):
            return None
    try:
        return cached_evaluation(str(run.path), npz.stat().st_mtime)
    except (OSError, ValueError, KeyError) as exc:
        st.error(f"Cannot read {md_code(npz)}: {md_escape(exc)}")
        return None


def render_summary_metrics(ev: Evaluation, metrics: dict[str, Any] | None) -> None:
    """Two rows of st.metric: accuracy and macro/weighted P/R/F1; top-k, test size, training time, device."""
    r, m = ev.report, metrics or {}
    rows = [
        [("Accuracy", r.accuracy), ("Precision (macro)", r.precision_macro), ("Recall (macro)", r.recall_macro),
         ("F1 (macro)", r.f1_macro), ("Precision (weighted)", r.precision_weighted),
         ("Recall (weighted)", r.recall_weighted), ("F1 (weighted)", r.f1_weighted)],
        [(f"Top-{k} accuracy", f"{v:.2%}") for k, v in sorted(r.top_k.items()) if k > 1],
    ]
    with st.container(horizontal=True, gap="small"):  # metric rows wrap on a narrow screen
        for label, value in rows[0]:
            st.metric(label, f"{value:.2%}", width=150)
    train_s = m.get("train_time_s")
    rows[1] += [("Test images", f"{r.n:,}"), ("Training time", format_duration(train_s) if train_s is not None else "—")]
    with st.container(horizontal=True, gap="small"):
        for label, value in rows[1]:
            st.metric(label, value, width=150)
    st.caption(f"Device: {md_escape(m.get('device') or 'not recorded')}. Precision, recall and F1: macro = mean over classes, "
               "weighted = by each class's number of test images.")
    for note in r.notes:
        st.caption(md_escape(note))


def render_estimate_caption(run: Any) -> None:
    """"Time: estimated 4m 10s (3m 20s to 7m 30s), took 6m 38s" when the run recorded its estimate."""
    from explorer.train.estimate import estimate_vs_actual

    versus = estimate_vs_actual(run)
    if versus:
        st.caption(f":material/timer: Time: {md_escape(versus)}.")


def confusion_cell_picker(ev: Evaluation, chart_key: str, key: str) -> tuple[int, int]:
    """Two selectboxes (true, predicted) for the cell to show; a click on the heatmap sets them.

    Call before the chart is drawn: the chart's last click is read from session state and copied into
    the selectboxes once, so the boxes and the chart never disagree. Default: the most confused cell.
    """
    names = ev.report.classes
    cell = charts.selected_cell(st.session_state.get(chart_key))
    if cell is not None and cell != st.session_state.get(f"{key}_clicked"):
        st.session_state[f"{key}_true"], st.session_state[f"{key}_pred"] = names[cell[0]], names[cell[1]]
    st.session_state[f"{key}_clicked"] = cell
    if f"{key}_true" not in st.session_state:
        off = ev.confusion.counts.copy()
        np.fill_diagonal(off, -1)
        t, p = np.unravel_index(int(off.argmax()), off.shape)
        st.session_state[f"{key}_true"], st.session_state[f"{key}_pred"] = names[t], names[p]
    c1, c2 = st.columns(2)
    true = c1.selectbox("True class", names, key=f"{key}_true")
    pred = c2.selectbox("Predicted class", names, key=f"{key}_pred")
    return names.index(true), names.index(pred)


def render_image_gallery(images: np.ndarray, indices: np.ndarray, captions: list[str], width: int = 84) -> None:
    """Show images[indices] with captions, `width` px each, in a row that wraps to the space it has (fixed
    columns overlapped on a narrow window and their captions collided)."""
    if len(indices) == 0:
        st.caption("No images.")
        return
    with st.container(horizontal=True, gap="small"):
        for i, cap in zip(indices, captions, strict=False):
            with st.container(width=width, gap=None):
                st.image(images[int(i)], caption=cap, width=width)


def render_cell_examples(ev: Evaluation, y_true: np.ndarray, y_prob: np.ndarray, images: np.ndarray,
                  true_idx: int, pred_idx: int, top: int = 16) -> None:
    """Show the misclassified images of one confusion cell, most confident first."""
    names = ev.report.classes
    if true_idx == pred_idx:
        st.info(f"{md_escape(names[true_idx])} → {md_escape(names[pred_idx])} is the diagonal: those are correct predictions.")
        return
    idx = mistakes(y_true, y_prob, top=top, true_class=true_idx, pred_class=pred_idx)
    st.markdown(f"**True {md_escape(names[true_idx])}, predicted {md_escape(names[pred_idx])}**: "
                f"{plural(int(ev.confusion.counts[true_idx, pred_idx]), 'image')} (showing {len(idx)})")
    render_image_gallery(images, idx, [f"#{i} p={y_prob[i, pred_idx]:.2f}" for i in idx])


def render_mistakes_gallery(names: list[str], y_true: np.ndarray, y_prob: np.ndarray, images: np.ndarray,
                     top: int = 48) -> None:
    """Every misclassified test image, the most confident mistakes first."""
    idx = mistakes(y_true, y_prob, top=top)
    total = int((y_prob.argmax(axis=1) != y_true).sum())
    st.markdown(f"**{plural(total, 'misclassified test image')}**, the most confident first (showing {len(idx)}).")
    pred = y_prob.argmax(axis=1)
    render_image_gallery(images, idx, [f"{md_escape(names[y_true[i]])}→{md_escape(names[pred[i]])} {y_prob[i, pred[i]]:.2f}"
                                for i in idx])


def render_published_results(table: pd.DataFrame) -> None:
    """The EMNIST-letters report's published figures, with the user's runs beneath them (shaded)."""
    st.caption(REPORT_TEXT + " Your saved runs with test predictions are listed beneath them; only runs on "
               "emnist-letters are directly comparable with the report's figures.")
    st.dataframe(charts.seed_table_style(table), hide_index=True, key="results_seed_table", placeholder="—")


def seed_table_from_runs(infos: list[Any], average: str = "macro") -> pd.DataFrame:
    """The seed report's result table with one row per saved run that has test predictions (percent)."""
    rows = []
    for info in infos:
        if info.error:
            continue
        npz = Run(info.path).predictions_path
        if not npz.is_file():
            continue
        try:
            rep = cached_evaluation(info.path, npz.stat().st_mtime).report
        except (OSError, ValueError, KeyError):
            continue
        rows.append({"model": f"{run_title(info)} ({info.model})", "accuracy": rep.accuracy, "run_id": info.run_id,
                     "dataset": info.dataset,
                     "precision": getattr(rep, f"precision_{average}"), "recall": getattr(rep, f"recall_{average}"),
                     "f1": getattr(rep, f"f1_{average}")})
    return seed_result_table(rows, average=average)


def render_export(run: Any) -> None:
    """Results page: export the run to ONNX (verified by onnxruntime) and push it to MLflow."""
    from explorer.export.mlflow import INSTALL_HINT, mlflow_available
    from explorer.export.onnx import ExportError, export_onnx

    with st.expander("Export: ONNX file and MLflow", icon=":material/ios_share:"):
        out = st.text_input("Output folder", str(Path("exports") / run.run_id), key=f"export_out_{run.run_id}")
        if st.button("Export to ONNX", key=f"export_onnx_{run.run_id}"):
            try:
                with st.spinner("Exporting and checking with onnxruntime on the test split..."):
                    r = export_onnx(run, out)
                st.success(f"Wrote {r.path}: top-1 identical to torch on {r.top1_agree}/{r.images} test images, "
                           f"max probability difference {r.max_prob_diff:.3g}; model card beside it.")
            except (ExportError, FileNotFoundError, ValueError) as exc:
                st.error(str(exc))
        if not mlflow_available():
            st.info(INSTALL_HINT)
            return
        uri = st.text_input("MLflow tracking URI or folder", "./mlruns", key=f"mlflow_uri_{run.run_id}")
        if st.button("Push to MLflow", key=f"mlflow_push_{run.run_id}"):
            from explorer.export.mlflow import push_run

            try:
                with st.spinner("Pushing..."):
                    r = push_run(run, uri)
                st.success(f"MLflow run {r.mlflow_run_id}: " + ("pushed" if r.created else "already there; not duplicated"))
            except (ValueError, OSError) as exc:
                st.error(f"Push failed: {exc}")
