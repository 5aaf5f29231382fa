"""Streamlit helpers for the Data page: cached loading and error display."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import streamlit as st

from explorer.data import DataSpec, Splits, make_splits, preprocess
from explorer.data import view as dv
from explorer.progress import clamp01


@st.cache_resource(show_spinner=False, max_entries=4)
def load_splits(spec_json: str) -> Splits:
    """make_splits for a DataSpec given as JSON (cached per process)."""
    return make_splits(DataSpec.from_dict(json.loads(spec_json)))


def _builtin_args(spec: DataSpec) -> tuple[Path, int, int]:
    """(data root, images per class, generator seed) of a letters-builtin spec."""
    from explorer.data import data_root
    from explorer.data.builtin import DEFAULT_SIZE

    return data_root(spec.root), int(spec.size or DEFAULT_SIZE), int(spec.gen_seed or 0)


def builtin_cached(spec: DataSpec) -> bool:
    """True when the built-in letters of this spec are already on disk (built once, then read in a second)."""
    from explorer.data.builtin import cache_path

    return cache_path(*_builtin_args(spec)).is_file()


def build_builtin_with_progress(spec: DataSpec) -> None:
    """The built-in letters' first build (then cached on disk, written atomically), with stages on a progress bar."""
    from explorer.data.builtin import load_or_generate

    n = int(_builtin_args(spec)[1]) * 26
    bar = st.progress(0.0, text=f"Step 1 of 2: drawing {n:,} training letters and their test set "
                                "(first time only; saved to disk for next time)…")

    def progress(done: int, total: int) -> None:
        bar.progress(clamp01(done / max(total, 1)),
                     text=f"Step 1 of 2: drawing letters, {done:,} of {total:,} (first time only; saved to disk)")

    load_or_generate(*_builtin_args(spec), progress=progress)
    bar.progress(1.0, text="Step 2 of 2: reading them back and splitting off the validation set…")


def splits_or_error(spec: DataSpec) -> Splits | None:
    """Load splits; the built-in letters' first build shows its stages and a progress bar; errors as st.error."""
    spec_json = json.dumps(spec.to_dict(), sort_keys=True)
    try:
        if spec.name == "letters-builtin" and not builtin_cached(spec):
            holder = st.empty()
            with holder.container():
                build_builtin_with_progress(spec)
                splits = load_splits(spec_json)
            holder.empty()
            return splits
        with st.spinner(f"Loading {spec.name}..."):
            return load_splits(spec_json)
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


def render_image_error(exc: Exception) -> None:
    """Show a bad-input error (ImageError, BlankImageError) as a message, never a traceback."""
    if isinstance(exc, preprocess.BlankImageError):
        st.info(str(exc))
    else:
        st.error(str(exc))
