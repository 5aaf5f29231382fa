"""Grad-CAM and other captum attributions, feature maps, first-layer filters, overlays.

The names load on first use (PEP 562, explorer.lazy), so the `explain` command registers without torch;
the methods' names alone are explorer.explain.methods.METHOD_NAMES."""

from __future__ import annotations

from explorer.explain.methods import METHOD_NAMES
from explorer.lazy import lazy_names

_LAZY = dict.fromkeys([
    "METHODS",
    "method_title",
    "Attribution",
    "ExplainError",
    "Explanation",
    "FeatureMaps",
    "LayerInfo",
    "as_batch",
    "conv_layers",
    "default_target_layer",
    "explain",
    "feature_maps",
    "first_layer_filters",
    "get_layer",
    "heatmap_rgb",
    "model_guard",
    "normalize_map",
    "overlay",
    "to_png",
    "top_k",
], "core")
__getattr__, __dir__ = lazy_names(__name__, _LAZY)
__all__ = ["METHOD_NAMES", *_LAZY]
