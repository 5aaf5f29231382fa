"""Streamlit helpers for the Explain page: cached models, method panels, feature-map grids."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import streamlit as st

from explorer.explain import (
    METHODS,
    ExplainError,
    conv_layers,
    explain,
    feature_maps,
    first_layer_filters,
    heatmap_rgb,
    overlay,
)

METHOD_TITLES = {
    "gradcam": "Grad-CAM",
    "guided_gradcam": "Guided Grad-CAM",
    "saliency": "Saliency",
    "integrated_gradients": "Integrated Gradients",
    "occlusion": "Occlusion",
}


@st.cache_resource(show_spinner=False, max_entries=4)
def cached_model(run_path: str, which: str = "best", stamp: float = 0.0) -> Any:
    """A run's model in eval mode (cached per run, weights file and its modification time)."""
    from explorer.runs import open_run

    return open_run(run_path).load_model(which=which)


def layer_options(model: Any) -> list[str]:
    """Labels "name (C×h×w)" of the model's conv layers, for a selectbox."""
    return [f"{i.name} ({'×'.join(map(str, i.out_shape))})" for i in conv_layers(model)]


def method_panels(model: Any, x: Any, methods: Sequence[str] = tuple(METHODS), target: Any = None,
                  layer: str | None = None, contrast: Any = None, classes: Sequence[str] | None = None,
                  scale: int = 6) -> None:
    """Show one overlay per attribution method side by side; a bad layer gives a message, not a crash."""
    cols = st.columns(len(methods))
    for col, method in zip(cols, methods, strict=True):
        with col:
            try:
                ex = explain(model, x, method, target=target, layer=layer, contrast=contrast, classes=classes)
            except ExplainError as exc:
                st.warning(str(exc))
                continue
            st.image(overlay(x, ex.heatmap, scale=scale), caption=METHOD_TITLES.get(method, method))


def grid(maps: np.ndarray, ncols: int = 8, scale: int = 3, pad: int = 1) -> np.ndarray:
    """Tile (C, h, w) maps, each normalised to [0, 1], into one uint8 grey image."""
    c, h, w = maps.shape
    rows = -(-c // ncols)
    out = np.full((rows * (h + pad) - pad, ncols * (w + pad) - pad), 255, dtype=np.uint8)
    for i in range(c):
        m = maps[i].astype(np.float32)
        lo, hi = float(m.min()), float(m.max())
        m = (m - lo) / (hi - lo) if hi > lo else np.zeros_like(m)
        r, q = divmod(i, ncols)
        out[r * (h + pad) : r * (h + pad) + h, q * (w + pad) : q * (w + pad) + w] = (m * 255).round()
    return out.repeat(scale, axis=0).repeat(scale, axis=1)


def feature_map_grid(model: Any, x: Any, layer: str, limit: int = 64, ncols: int = 8) -> None:
    """Show a layer's channels for this image, the most active first."""
    try:
        fm = feature_maps(model, x, layer)
    except ExplainError as exc:
        st.warning(str(exc))
        return
    shown = fm.ordered(limit)
    scale = max(1, 48 // max(shown.shape[1], 1))
    st.image(grid(shown, ncols=ncols, scale=scale),
             caption=f"{layer}: {len(shown)} of {fm.maps.shape[0]} channels, most active first")


def first_filters(model: Any, ncols: int = 8) -> None:
    """Show the first conv layer's learned filters (mean over input channels)."""
    name, w = first_layer_filters(model)
    st.image(grid(w.mean(axis=1), ncols=ncols, scale=max(1, 32 // w.shape[-1])),
             caption=f"{name}: {w.shape[0]} filters of {w.shape[2]}×{w.shape[3]}")


__all__ = ["METHOD_TITLES", "cached_model", "feature_map_grid", "first_filters", "grid", "heatmap_rgb",
           "layer_options", "method_panels"]
