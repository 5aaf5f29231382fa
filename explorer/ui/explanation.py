"""Shared widget (Explain, Look inside): one attribution overlay of one image, cached per run, weights and
arguments, with its deletion curve; weights_stamp is the cache's key of the run's weights."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import streamlit as st

from explorer.explain import ExplainError, Explanation, explain, method_title, overlay
from explorer.untrusted import md_escape


@st.cache_data(show_spinner=False, max_entries=64)
def cached_explanation(run_path: str, stamp: tuple[int, int], image: bytes, method: str, target: int | None,
                       layer: str | None, contrast: int | None) -> Explanation:
    """explain() of one (1, 28, 28) float32 image given as bytes (cached per run, weights and arguments)."""
    from explorer.run_models import load_run_model

    model = load_run_model(run_path, "best")
    x = np.frombuffer(image, dtype=np.float32).reshape(1, 28, 28).copy()
    return explain(model, x, method, target=target, layer=layer, contrast=contrast)


def render_explanation(run: Any, stamp: tuple[int, int], x: np.ndarray, method: str, target: int | None = None,
                      layer: str | None = None, contrast: int | None = None,
                      classes: Sequence[str] | None = None, title: str | None = None, scale: int = 6) -> None:
    """One overlay of one method; an ExplainError (e.g. a layer with no spatial extent) is a message, not a crash."""
    try:
        ex = cached_explanation(str(run.path), stamp, x.astype(np.float32).tobytes(), method, target, layer,
                                contrast)
    except ExplainError as exc:
        st.warning(f"{method_title(method)}: {md_escape(exc)}")
        return
    names = list(classes) if classes is not None else [str(i) for i in range(len(ex.probs))]
    what = (f"{md_escape(names[ex.target])} and not {md_escape(names[ex.contrast])}" if ex.contrast is not None
            else md_escape(names[ex.target]))
    where = f" at {md_escape(ex.layer)}" if ex.layer else ""
    st.image(overlay(x, ex.heatmap, scale=scale), width="stretch",
             caption=f"{title or method_title(method)}: {what}{where} (p={ex.probs[ex.target]:.2f})")
    for note in ex.notes:
        st.caption(md_escape(note))
    from explorer.run_models import load_run_model
    from explorer.ui.trust import render_deletion_figure

    render_deletion_figure(load_run_model(run), x, ex, key=f"deletion_{title or method}_{target}_{contrast}_{run.run_id}")


def weights_stamp(run: Any) -> tuple[int, int]:
    """Run.weights_stamp of the run's best (else last) weights, (0, 0) when it has none: a cache-key part."""
    try:
        return run.weights_stamp()
    except (FileNotFoundError, ValueError):
        return (0, 0)
