"""Streamlit helpers for the Results page: cached evaluation, missing predictions, confusion cells."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st

from explorer.charts import evaluate as charts
from explorer.evaluate import Evaluation, evaluate_all, mistakes


@st.cache_data(show_spinner=False, max_entries=8)
def cached_evaluation(run_path: str, stamp: float) -> Evaluation:
    """evaluate_all of a run's predictions.npz (cached per file and modification time)."""
    from explorer.runs import open_run

    preds = open_run(run_path).predictions()
    if preds is None:
        raise FileNotFoundError(f"{run_path} has no predictions.npz")
    return evaluate_all(preds.y_true, preds.y_prob, list(preds.classes) or None)


def evaluation_or_offer(run: Any) -> Evaluation | None:
    """Return the run's Evaluation; without saved predictions say what is missing and offer to evaluate now."""
    npz = Path(run.path) / "predictions.npz"
    if not npz.is_file():
        status = run.status.get("status", "unknown")
        st.warning(
            f"Run **{run.run_id}** has no saved test predictions (`predictions.npz`); its status is "
            f"**{status}** - it failed or stopped before the test pass. Evaluating it now runs its saved "
            "weights over its test split."
        )
        if not st.button("Evaluate now", key=f"evaluate-now-{run.run_id}"):
            return None
        from explorer.evaluate import predict_run

        try:
            with st.spinner("Predicting the test split..."):
                predict_run(run)
        except (FileNotFoundError, ValueError, RuntimeError) as exc:
            st.error(f"Could not evaluate {run.run_id}: {exc}")
            return None
    return cached_evaluation(str(run.path), npz.stat().st_mtime)


def selected_cell(event: Any) -> tuple[int, int] | None:
    """(true index, predicted index) of the clicked confusion cell from st.altair_chart's event, or None."""
    try:
        points = event.selection[charts.CONFUSION_SELECTION]
    except (AttributeError, KeyError, TypeError):
        return None
    if not points:
        return None
    p = points[0]
    if "true_index" in p and "predicted_index" in p:
        return int(p["true_index"]), int(p["predicted_index"])
    return None


def image_gallery(images: np.ndarray, indices: np.ndarray, captions: list[str], per_row: int = 8,
                  width: int = 84) -> None:
    """Show images[indices] in rows of ``per_row`` with captions."""
    if len(indices) == 0:
        st.caption("No images.")
        return
    for start in range(0, len(indices), per_row):
        cols = st.columns(per_row)
        for col, i, cap in zip(cols, indices[start : start + per_row], captions[start : start + per_row],
                               strict=False):
            col.image(images[int(i)], caption=cap, width=width)


def cell_examples(ev: Evaluation, y_true: np.ndarray, y_prob: np.ndarray, images: np.ndarray,
                  true_idx: int, pred_idx: int, top: int = 16) -> None:
    """Show the misclassified images of one confusion cell, most confident first."""
    names = ev.report.classes
    if true_idx == pred_idx:
        st.info(f"{names[true_idx]} → {names[pred_idx]} is the diagonal: those are correct predictions.")
        return
    idx = mistakes(y_true, y_prob, top=top, true_class=true_idx, pred_class=pred_idx)
    st.markdown(f"**True {names[true_idx]}, predicted {names[pred_idx]}**: "
                f"{int(ev.confusion.counts[true_idx, pred_idx])} images (showing {len(idx)})")
    image_gallery(images, idx, [f"#{i} p={y_prob[i, pred_idx]:.2f}" for i in idx])


def per_class_table(per_class: Any, worst: int = 5) -> Any:
    """A Styler of the per-class report: the ``worst`` classes by F1 shaded red (st.dataframe sorts it)."""
    present = per_class[per_class["support"] > 0]
    bad = set(present.nsmallest(worst, "f1").index)

    def shade(row: Any) -> list[str]:
        return ["background-color: #f8d7da" if row.name in bad else ""] * len(row)

    return per_class.style.apply(shade, axis=1).format({"precision": "{:.4f}", "recall": "{:.4f}", "f1": "{:.4f}"})
