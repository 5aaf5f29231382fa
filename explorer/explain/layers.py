"""Which layers an explanation uses: conv layers by module type, the model card's first conv.

Layers are found structurally (isinstance of nn.Conv2d, the output shape of a real forward pass) or read
from the model card (`first_conv`, as timm's pretrained_cfg): nothing matches a layer by its class's name.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from explorer.explain.guard import ExplainError, as_batch, capture, model_guard
from explorer.models.cards import ModelCard
from explorer.models.inference import model_device
from explorer.models.registry import model_card

__all__ = [
    "LayerInfo",
    "card_layer",
    "check_spatial",
    "conv_layers",
    "default_target_layer",
    "first_layer_filters",
    "get_layer",
]


@dataclass(frozen=True)
class LayerInfo:
    """A conv layer of a model and the shape of its output for one input image."""

    name: str
    type: str
    out_shape: tuple[int, ...]  # (C, h, w) without the batch dimension

    @property
    def spatial(self) -> bool:
        """True when the output still has spatial extent larger than 1×1."""
        return len(self.out_shape) == 3 and self.out_shape[1] * self.out_shape[2] > 1


# model -> {input shape: [LayerInfo]}; weak keys so a cache entry never keeps a model alive
_LAYER_CACHE: weakref.WeakKeyDictionary[nn.Module, dict[tuple, list[LayerInfo]]] = weakref.WeakKeyDictionary()


def _is_conv(m: nn.Module) -> bool:
    """True for 2-D convolutions by type: nn.Conv2d and its subclasses (timm's too), nn.ConvTranspose2d, and a
    module that declares itself one (`is_conv2d = True`, as LeNet-5's sparse C3); never by a class's name."""
    return isinstance(m, nn.Conv2d | nn.ConvTranspose2d) or getattr(type(m), "is_conv2d", False) is True


def conv_layers(model: nn.Module, input_size: Sequence[int] = (1, 28, 28)) -> list[LayerInfo]:
    """Return the conv layers run by a forward pass, in module order, with their output shapes."""
    key = tuple(int(s) for s in input_size)
    cached = _LAYER_CACHE.get(model, {}).get(key)
    if cached is not None:
        return list(cached)
    convs = {name: m for name, m in model.named_modules() if _is_conv(m)}
    x = torch.zeros((1, *key), device=model_device(model))
    with model_guard(model), capture(convs) as outs, torch.no_grad():
        model(x)
    infos = [
        LayerInfo(name, type(convs[name]).__name__, tuple(int(s) for s in outs[name].shape[1:]))
        for name in convs
        if name in outs
    ]
    _LAYER_CACHE.setdefault(model, {})[key] = infos
    return list(infos)


def default_target_layer(model: nn.Module, x: Any = None) -> str:
    """Return the name of the last conv layer whose output still has spatial extent > 1×1."""
    size = (1, 28, 28) if x is None else tuple(as_batch(x).shape[1:])
    layers = conv_layers(model, size)
    spatial = [info for info in layers if info.spatial]
    if not spatial:
        raise ExplainError(
            f"{type(model).__name__} has no conv layer with spatial output for input {size}; "
            "Grad-CAM needs one"
        )
    return spatial[-1].name


def get_layer(model: nn.Module, name: str) -> nn.Module:
    """Return the sub-module called ``name``; a clear ExplainError names the conv layers if not found."""
    modules = dict(model.named_modules())
    if name not in modules or name == "":
        convs = [n for n, m in modules.items() if _is_conv(m)]
        shown = ", ".join(convs[-8:])
        raise ExplainError(f"no layer named {name!r} in {type(model).__name__}; conv layers include: {shown}")
    return modules[name]


def check_spatial(model: nn.Module, name: str, x: torch.Tensor) -> None:
    """Raise ExplainError if the layer's output for x has no spatial extent (Grad-CAM needs one)."""
    layer = get_layer(model, name)
    known = {info.name: info.out_shape for info in conv_layers(model, tuple(x.shape[1:]))}
    if name in known:
        shape = known[name]
    else:
        with model_guard(model), capture({name: layer}) as outs, torch.no_grad():
            model(x)
        if name not in outs:
            raise ExplainError(f"layer {name!r} is not run by the forward pass; choose another layer")
        shape = tuple(outs[name].shape[1:])
    if len(shape) != 3 or shape[1] * shape[2] <= 1:
        good = [i.name for i in conv_layers(model, tuple(x.shape[1:])) if i.spatial]
        raise ExplainError(
            f"layer {name!r} outputs {shape}: no spatial extent, so Grad-CAM has nothing to localise; "
            f"choose a layer with spatial output, e.g. {', '.join(good[-3:]) or '(none)'}"
        )


def card_layer(model: nn.Module, which: str = "first_conv") -> str:
    """The module path in `model` of the layer its model card names (`first_conv` or `classifier`).

    A built LettersModel carries its card (explorer.models.model_card); the card's paths are in the
    network (`model.net`), so the path returned is prefixed "net.". A model without a card, or a card that
    does not name the layer, is an ExplainError that says so and how to name the layer instead.
    """
    if which not in ("first_conv", "classifier"):
        raise ExplainError(f"a model card names 'first_conv' and 'classifier', not {which!r}")
    try:
        card = model_card(model)  # the card it carries, else the registry's card of its name
    except (KeyError, ValueError):
        card = None
    if not isinstance(card, ModelCard):
        raise ExplainError(
            f"{type(model).__name__} carries no model card, so its {which} is unknown; "
            f"pass the layer by name (conv layers: {', '.join(n for n, m in model.named_modules() if _is_conv(m))})"
        )
    path = getattr(card, which)
    if not path:
        raise ExplainError(f"the model card of {card.name!r} names no {which}; pass the layer by name")
    net = getattr(model, "net", None)
    full = f"net.{path}" if isinstance(net, nn.Module) else path
    get_layer(model, full)  # a card that names a missing module is a clear error too
    return full


def first_layer_filters(model: nn.Module, layer: str | None = None) -> tuple[str, np.ndarray]:
    """Return (name, weights (out, in, kh, kw)) of the model card's `first_conv` (or of `layer`)."""
    name = layer if layer is not None else card_layer(model, "first_conv")
    module = get_layer(model, name)
    weight = getattr(module, "weight", None)
    if not isinstance(module, nn.Conv2d | nn.ConvTranspose2d) or not isinstance(weight, torch.Tensor) or weight.ndim != 4:
        raise ExplainError(f"layer {name!r} of {type(model).__name__} is a {type(module).__name__}, not a 2-D convolution")
    return name, weight.detach().float().cpu().numpy().copy()
