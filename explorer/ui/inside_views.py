"""Shared widgets of the stored inside views (explorer.inside): confusion over epochs and robustness curves
(Results tabs), the robustness and PCA overlays of several runs (Compare runs), and the guards the Look inside
page uses too (view_stamp, guarded)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from explorer.charts import inside as charts
from explorer.inside.common import InsideError
from explorer.ui.layout import render_chart, render_wrapping_charts
from explorer.ui.view_jobs import render_background_view, render_followed_jobs, start_job_quietly
from explorer.untrusted import md_escape


def view_stamp(run: Any) -> float:
    """When the run's best weights were written (epoch seconds; 0 when missing): a view job older is stale."""
    try:
        return run.weights_path("best").stat().st_mtime
    except (OSError, ValueError):
        return 0.0


def guarded(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Call fn; an InsideError or a missing file becomes a warning and None (never a traceback)."""
    try:
        return fn(*args, **kwargs)
    except (InsideError, FileNotFoundError, ValueError) as exc:
        st.warning(md_escape(exc))
        return None


# ------------------------------------------------------------------------------------- Results tabs
def render_epochs_tab(run: Any, key: str = "results_epochs") -> None:
    """Confusion matrix by epoch (slider and play) and per-class accuracy by epoch."""
    from explorer.charts.evaluate import confusion_heatmap
    from explorer.evaluate import confusion
    from explorer.inside.epochs import bytes_per_epoch, epoch_predictions

    ep = epoch_predictions(run)
    if ep is None:
        st.info("This run was trained before the training loop kept each epoch's validation predictions, or "
                "it has no validation split: there is no confusion over epochs to show. Everything else on "
                "this page still works; retrain it to get this view.")
        return
    st.caption(md_escape(f"{len(ep.epochs)} epochs of validation predictions stored (predicted class and its "
                         f"probability per image: {bytes_per_epoch(ep) / 1024:.1f} KiB per epoch)."))
    holder = st.empty()

    def draw(epoch: int) -> None:
        cm = confusion(ep.y_true[epoch], ep.pred[epoch], ep.classes)
        acc = float(np.trace(cm.counts) / max(1, cm.counts.sum()))
        render_chart(confusion_heatmap(cm, normalized=True, size=460, selectable=False,
                                     title=f"Validation confusion, epoch {epoch} (accuracy {acc:.1%})"), where=holder)

    if len(ep.epochs) > 1:
        c1, c2 = st.columns([4, 1])
        epoch = c1.select_slider("Epoch", ep.epochs, value=ep.epochs[-1], key=f"{key}_epoch")
        if c2.button("▶ Play", key=f"{key}_play"):
            for e in ep.epochs:  # an animation, one frame per epoch
                draw(e)
                time.sleep(0.5)
    else:
        epoch = ep.epochs[0]
    draw(int(epoch))
    render_chart(charts.class_accuracy_chart(ep.per_class_accuracy()), key=f"{key}_classes")
    st.dataframe(ep.learned_at(), hide_index=True, key=f"{key}_learned",
                 column_config={"final accuracy": st.column_config.NumberColumn(format="%.3f")})
    st.caption("Learned at: the first epoch from which the class's validation accuracy stayed at 90 % or more.")


def render_robustness_tab(run: Any, key: str = "results_robust") -> None:
    """Robustness curves of one run (computed on request, then stored)."""
    from explorer.inside.robustness import run_robustness

    got = guarded(run_robustness, run, compute=False)
    if got is None:
        return
    table = got[0]
    if table is None:
        if not render_background_view("robustness", {"run": str(run.path)},
                               "Accuracy on the test split under 8 growing perturbations, 6 severities each "
                               "(stored in the run folder).", "Compute robustness curves", f"{key}_go",
                               stamp=view_stamp(run)):
            return
        got = guarded(run_robustness, run, compute=False)
        if got is None or got[0] is None:
            return
        table = got[0]
    render_wrapping_charts(charts.robustness_panels(table), key=f"{key}_chart", width=190, legend_below=False)
    wide = table.pivot_table(index=["label", "unit"], columns="severity", values="accuracy", sort=False)
    wide = wide.rename(columns=lambda s: f"severity {s}").reset_index()
    st.dataframe(wide, hide_index=True, key=f"{key}_table",
                 column_config={f"severity {s}": st.column_config.NumberColumn(format="%.3f") for s in range(6)})
    st.caption("Severity 0 is the untouched test split: it equals the run's test accuracy.")


# ------------------------------------------------------------------------------------- Compare runs
def _quiet(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, str | None]:
    """(fn's stored-or-computed result, None) or (None, the reason it is unavailable)."""
    try:
        return fn(*args, **kwargs)[0], None
    except (InsideError, FileNotFoundError, ValueError) as exc:
        return None, str(exc)


def render_compare_overlays(run_paths: Sequence[str], labels: Sequence[str], key: str = "cmp_inside") -> None:
    """Robustness curves of several runs on the same axes and the first two runs' PCA maps side by side
    (stored results; a button computes the missing ones)."""
    from explorer.inside.embedding import run_embedding
    from explorer.inside.robustness import run_robustness

    go = st.button("Compute the missing curves and maps (in the background)", key=f"{key}_go")
    frames, notes = [], []
    for path, label in zip(run_paths, labels, strict=True):
        table, why = _quiet(run_robustness, path, compute=False)
        if table is not None:
            frames.append(table.assign(run=label))
        else:
            notes.append(f"{label}: {why or start_job_quietly('robustness', {'run': str(path)}, go)}")
    render_followed_jobs([(kind, {"run": str(p), **extra}) for p in run_paths
                 for kind, extra in (("robustness", {}), ("embedding", {"method": "pca"}))], f"{key}_follow")
    st.markdown("**Robustness** (accuracy on the test split under growing perturbations)")
    if frames:
        render_wrapping_charts(charts.robustness_panels(pd.concat(frames)), key=f"{key}_robust", width=190, legend_below=False)
    for i, (col, path, label) in enumerate(zip(st.columns(2), run_paths[:2], labels[:2], strict=False)):
        emb, why = _quiet(run_embedding, path, "pca", compute=False)
        why = why or (start_job_quietly("embedding", {"run": str(path), "method": "pca"}, go) if emb is None else None)
        with col:
            if emb is not None:
                render_chart(charts.embedding_chart(emb.frame(), emb.centroids(), title=f"{label} (PCA)",
                                                       size=320, selectable=False), key=f"{key}_map_{i}")
            else:
                notes.append(f"{label}: {why or 'no embedding map stored yet'}")
    for note in dict.fromkeys(notes):
        st.caption(md_escape(note))
