"""Grad-CAM and other captum attributions, feature maps, first-layer filters, overlays.

The names load on first use (PEP 562, explorer.lazy), so the `explain` command registers without torch;
the methods' names alone are explorer.explain.methods.METHOD_NAMES."""

from __future__ import annotations

from explorer.explain.methods import METHOD_NAMES
from explorer.lazy import lazy_names

_LAZY = {
    **dict.fromkeys(["METHODS", "method_title", "Attribution", "Explanation"], "attributions"),
    **dict.fromkeys(["ExplainError", "as_batch", "model_guard"], "guard"),
    **dict.fromkeys(
        ["LayerInfo", "card_layer", "conv_layers", "default_target_layer", "first_layer_filters", "get_layer"],
        "layers",
    ),
    **dict.fromkeys(["heatmap_rgb", "normalize_map", "overlay", "to_png"], "maps"),
    **dict.fromkeys(["FeatureMaps", "explain", "feature_maps", "top_k"], "core"),
}
__getattr__, __dir__ = lazy_names(__name__, _LAZY)
__all__ = ["METHOD_NAMES", *_LAZY]
