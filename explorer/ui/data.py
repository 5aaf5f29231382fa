"""Streamlit helpers for the Data page: cached loading and error display."""

from __future__ import annotations

import json

import numpy as np
import streamlit as st

from explorer.data import DataSpec, Splits, make_splits, preprocess
from explorer.data import view as dv


@st.cache_resource(show_spinner=False, max_entries=4)
def load_splits(spec_json: str) -> Splits:
    """make_splits for a DataSpec given as JSON (cached per process)."""
    return make_splits(DataSpec.from_dict(json.loads(spec_json)))


def splits_or_error(spec: DataSpec) -> Splits | None:
    """Load splits with a spinner; show st.error with the fix instead of a traceback."""
    if spec.name == "letters-builtin":
        n = (spec.size or 1000) * 26
        msg = f"Loading the built-in letters ({n:,} training images; generated once, then read from the cache)..."
    else:
        msg = f"Loading {spec.name}..."
    try:
        with st.spinner(msg):
            return load_splits(json.dumps(spec.to_dict(), sort_keys=True))
    except (ValueError, FileNotFoundError, OSError) as exc:
        st.error(f"Could not load {spec.name}: {exc}")
        return None


@st.cache_data(show_spinner=False, max_entries=8)
def sample_grid(spec_json: str, per_class: int, seed: int) -> np.ndarray:
    """Montage of random training samples, one row per class."""
    s = load_splits(spec_json)
    grid = dv.class_samples(s.train.labels, per_class, len(s.classes), seed)
    return dv.sample_grid(s.train.images, grid, scale=2)


@st.cache_data(show_spinner=False, max_entries=8)
def mean_grid(spec_json: str, ncols: int = 13) -> np.ndarray:
    """Montage of the mean training image of each class."""
    s = load_splits(spec_json)
    means = dv.mean_images(s.train.images, s.train.labels, len(s.classes))
    means = means * (255.0 / max(float(means.max()), 1e-6))
    return dv.montage(means, ncols, scale=3)


def show_image_error(exc: Exception) -> None:
    """Show a bad-input error (ImageError, BlankImageError) as a message, never a traceback."""
    if isinstance(exc, preprocess.BlankImageError):
        st.info(str(exc))
    else:
        st.error(str(exc))
