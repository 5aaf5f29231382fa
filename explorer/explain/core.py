"""Explain one image: an attribution method's heatmap, a layer's feature maps, the top classes.

Style of pytorch-grad-cam: the methods are subclasses of one base class (explain/attributions.py), the
model is always left as it was found (explain/guard.py), layers come from a forward pass or the model card
(explain/layers.py), and maps become pictures in explain/maps.py. This module is what callers use; it
re-exports those modules' public names, so `from explorer.explain.core import X` keeps working.

Works on any ``nn.Module`` that maps (N, C, H, W) floats to (N, K) logits; for the letters
models (``LettersModel``) that is (N, 1, 28, 28) in [0, 1], and the attributions are
w.r.t. that 28×28 input, since the adapter's resize/normalise is part of the model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from explorer.explain.attributions import METHODS, Attribution, Explanation, method_title
from explorer.explain.guard import ExplainError, as_batch, capture, model_guard
from explorer.explain.layers import (
    LayerInfo,
    card_layer,
    check_spatial,
    conv_layers,
    default_target_layer,
    first_layer_filters,
    get_layer,
)
from explorer.explain.maps import heatmap_rgb, normalize_map, overlay, to_png
from explorer.models.inference import model_device, probabilities, softmax_output

__all__ = [
    "METHODS",
    "method_title",
    "Attribution",
    "ExplainError",
    "Explanation",
    "FeatureMaps",
    "LayerInfo",
    "as_batch",
    "card_layer",
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
]


def _resolve_class(value: int | str | None, classes: Sequence[str] | None, what: str) -> int | None:
    """Turn a class index or name into an index, or raise ExplainError."""
    if value is None:
        return None
    if isinstance(value, str) and not value.strip().lstrip("-").isdigit():
        if classes is None or value not in classes:
            raise ExplainError(f"unknown {what} class {value!r}; classes: {', '.join(classes or [])}")
        return list(classes).index(value)
    return int(value)


def explain(
    model: nn.Module,
    x: Any,
    method: str = "gradcam",
    target: int | str | None = None,
    layer: str | None = None,
    contrast: int | str | None = None,
    classes: Sequence[str] | None = None,
) -> Explanation:
    """Return the attribution of one image for ``target`` (default: the predicted class).

    ``layer`` (Grad-CAM methods) defaults to the last conv layer with spatial output;
    ``contrast`` explains "why target and not contrast?" (attributes logit_t - logit_c).
    The model is left unchanged (see `model_guard`).
    """
    if method not in METHODS:
        raise ExplainError(f"unknown method {method!r}; choose one of: {', '.join(METHODS)}")
    cls = METHODS[method]
    batch = as_batch(x, model_device(model))
    if cls.uses_layer:
        layer = layer or default_target_layer(model, batch)
        check_spatial(model, layer, batch)
    else:
        layer = None
    attr = cls(
        model,
        layer=layer,
        target=_resolve_class(target, classes, "target"),
        contrast=_resolve_class(contrast, classes, "contrast"),
    )
    a, heat = attr(batch)
    assert attr.logits is not None and attr.target is not None
    probs = softmax_output(attr.logits)[0].cpu().numpy()
    notes = []
    if float(heat.max()) == 0.0:
        notes.append(
            f"{method} is zero everywhere for class {attr.target}"
            + (f" at layer {layer}" if layer else "")
            + ": no positive evidence found (try another layer or method)"
        )
    return Explanation(
        heatmap=heat,
        method=method,
        target=attr.target,
        predicted=int(probs.argmax()),
        probs=probs,
        layer=layer,
        contrast=attr.contrast,
        raw=a.detach()[0].cpu().numpy(),
        notes=notes,
    )


@dataclass
class FeatureMaps:
    """A layer's activations for one image, channels ordered most active first."""

    layer: str
    maps: np.ndarray  # (C, h, w) float32, in the original channel order
    order: np.ndarray  # channel indices sorted by mean activation, descending
    mean: np.ndarray  # (C,) mean activation per channel

    def ordered(self, limit: int | None = None) -> np.ndarray:
        """Return the maps sorted most active first (at most ``limit``)."""
        idx = self.order if limit is None else self.order[:limit]
        return self.maps[idx]


def feature_maps(model: nn.Module, x: Any, layer: str | None = None) -> FeatureMaps:
    """Return one layer's output channels for one image (default layer: the Grad-CAM default)."""
    batch = as_batch(x, model_device(model))
    layer = layer or default_target_layer(model, batch)
    module = get_layer(model, layer)
    with model_guard(model), capture({layer: module}) as outs, torch.no_grad():
        model(batch)
    if layer not in outs:
        raise ExplainError(f"layer {layer!r} is not run by the forward pass; choose another layer")
    out = outs[layer][0].float().cpu()
    if out.ndim != 3:
        raise ExplainError(f"layer {layer!r} outputs shape {tuple(out.shape)}, not channel maps (C, h, w)")
    maps = out.numpy()
    mean = maps.reshape(maps.shape[0], -1).mean(axis=1)
    return FeatureMaps(layer=layer, maps=maps, order=np.argsort(-mean, kind="stable"), mean=mean)


def top_k(
    model: nn.Module, x: Any, k: int = 5, classes: Sequence[str] | None = None
) -> list[tuple[int, str, float]]:
    """Return the k most probable classes as (index, name, probability), highest first.

    The probabilities are explorer.models.probabilities' (the one inference path) for this one image.
    """
    probs = torch.from_numpy(probabilities(model, as_batch(x)))[0]
    k = min(k, probs.shape[0])
    vals, idx = probs.topk(k)
    names = list(classes) if classes is not None else [str(i) for i in range(probs.shape[0])]
    return [(int(i), names[int(i)], float(v)) for v, i in zip(vals, idx, strict=True)]
