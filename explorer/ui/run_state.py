"""Shared widgets (Results, Explain, Compare runs): what pages show about a run's saved state: its test split
(cached, in predictions.npz order), its weights (has_weights, weights_error) and the Evaluate-now button."""

from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

from explorer.names import run_title
from explorer.ui.run_picker import file_stamp
from explorer.untrusted import md_escape


@st.cache_data(show_spinner=False, max_entries=4)
def cached_test_set(run_path: str, stamp: float) -> tuple[np.ndarray, np.ndarray]:
    """(uint8 images (N, 28, 28), labels (N,)) of a run's test split, in predictions.npz order when present."""
    from explorer.runs import open_run

    run = open_run(run_path)
    test = run.splits().test
    images, labels = test.images.numpy(), test.labels.numpy().astype(np.int64)
    preds = run.predictions()
    if preds is not None:
        if len(preds.indices) and preds.indices.max() >= len(images):
            raise ValueError(f"{run.predictions_path}: points at test image {int(preds.indices.max())} but the test "
                             f"split has {len(images)}; restore the file or delete the run")
        images, labels = images[preds.indices], labels[preds.indices]
    return images, labels


def test_set(run: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """The run's test images and labels with a spinner; an st.error (not a traceback) if they cannot be built."""
    try:
        with st.spinner("Loading the run's test split..."):
            return cached_test_set(str(run.path), file_stamp(run.predictions_path))
    except (OSError, ValueError, KeyError) as exc:
        st.error(f"Cannot rebuild the test split of {md_escape(run.run_id)}: {md_escape(exc)}")
        return None


def weights_error(run: Any, exc: BaseException, which: str = "best") -> str:
    """A message naming the weights file and why it could not be used."""
    try:
        path = run.weights_path(which)
    except (FileNotFoundError, ValueError):
        state = run.status.get("status", "")
        if state == "running":
            return f"Run {run_title(run)} is still training and has no completed epoch yet; pick a finished run."
        return f"Run {run_title(run)} has no saved weights (no completed epoch)."
    from explorer.run_models import WeightsError

    if isinstance(exc, WeightsError):  # already names the file and what is wrong with it
        return str(exc)
    reason = str(exc) or type(exc).__name__
    if type(exc).__name__ == "SafetensorError":
        reason = f"not a valid safetensors file ({reason}); it may be truncated or corrupt"
    return f"Cannot load the weights file `{path}`: {reason}"


def has_weights(run: Any) -> bool:
    """The run has saved weights (a completed epoch) to evaluate."""
    try:
        run.weights_path("best")
        return True
    except (FileNotFoundError, ValueError):
        return False


def evaluate_now(run: Any, label: str = "Evaluate now") -> bool:
    """An "Evaluate now" button: runs the run's saved weights over its test split and saves predictions.npz
    (explorer.evaluate.predict_run), with a spinner and a message, never a traceback; True once they are saved."""
    if not st.button(label, key=f"evaluate-now-{run.run_id}", type="primary", icon=":material/play_arrow:"):
        return False
    from explorer.evaluate import predict_run

    try:
        with st.spinner(f"Predicting the test split with the saved weights of {run_title(run)}..."):
            predict_run(run)
    except FileNotFoundError as exc:
        st.error(f"Could not evaluate {md_escape(run_title(run))}: {md_escape(exc)}")
        return False
    except Exception as exc:  # corrupt weights, architecture mismatch: say which file and why
        st.error(md_escape(weights_error(run, exc)))
        return False
    st.success(f"Saved the test predictions of {run_title(run)} to `predictions.npz`.")
    return True
