"""Grad-CAM and other captum attributions, feature maps, filters and overlays.

Style of pytorch-grad-cam: a small base class `Attribution` whose subclasses override one
method (`attribute`), a registry of methods by name, and a context manager (`model_guard`)
that always leaves the model as it found it: same training flag, same in-place flags, no
hooks left behind (even if captum raised half way), no gradients accumulated.

Works on any ``nn.Module`` that maps (N, C, H, W) floats to (N, K) logits; for the letters
models (``LettersModel``) that is (N, 1, 28, 28) in [0, 1], and the attributions are
w.r.t. that 28×28 input, since the adapter's resize/normalise is part of the model.
"""

from __future__ import annotations

import contextlib
import warnings
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from explorer.explain.methods import METHOD_NAMES
from explorer.models.inference import model_device as _device
from explorer.models.inference import model_lock, probabilities, softmax_output

__all__ = [
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
]


class ExplainError(ValueError):
    """A user error in an explanation request (bad layer, bad method, bad target)."""


# --------------------------------------------------------------------------- input & model safety
def as_batch(x: Any, device: torch.device | str | None = None) -> torch.Tensor:
    """Return a float32 (1, C, H, W) batch from a (H, W), (C, H, W) or (1, C, H, W) image.

    uint8 input (array or tensor) is scaled to [0, 1]; float input is taken as is.
    """
    t = x if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x))
    if t.dtype == torch.uint8:
        t = t.float() / 255.0
    t = t.detach().to(torch.float32)
    if t.ndim == 2:
        t = t[None, None]
    elif t.ndim == 3:
        t = t[None]
    if t.ndim != 4 or t.shape[0] != 1:
        raise ExplainError(f"expected one image (H, W), (C, H, W) or (1, C, H, W); got shape {tuple(x.shape)}")
    return t.to(device) if device is not None else t


_HOOK_DICTS = (
    "_forward_hooks",
    "_forward_pre_hooks",
    "_backward_hooks",
    "_backward_pre_hooks",
    "_forward_hooks_with_kwargs",
    "_forward_hooks_always_called",
    "_forward_pre_hooks_with_kwargs",
)


@contextlib.contextmanager
def model_guard(model: nn.Module) -> Iterator[nn.Module]:
    """Put the model in eval mode with in-place activations off; restore everything on exit.

    On exit: the training flag and every module's ``inplace`` flag are restored, any hook
    registered inside the block is removed, and parameter ``.grad`` fields are put back.
    One explanation at a time per model: a cached model shared by two threads (two sessions,
    or a rerun that starts before the previous one ended) would otherwise see the other's hooks.
    """
    with model_lock(model), _guarded(model):
        yield model


@contextlib.contextmanager
def _guarded(model: nn.Module) -> Iterator[nn.Module]:
    modules = list(model.modules())
    was_training = [m.training for m in modules]
    inplace = [(m, m.inplace) for m in modules if isinstance(getattr(m, "inplace", None), bool)]
    hooks_before = [{name: set(getattr(m, name, {}).keys()) for name in _HOOK_DICTS} for m in modules]
    grads = [(p, p.grad) for p in model.parameters()]
    try:
        model.eval()
        for m, _ in inplace:
            m.inplace = False
        yield model
    finally:
        for m, before in zip(modules, hooks_before, strict=True):
            for name in _HOOK_DICTS:
                d = getattr(m, name, None)
                if d:
                    for key in [k for k in d if k not in before[name]]:
                        del d[key]
        for m, flag in inplace:
            m.inplace = flag
        for m, flag in zip(modules, was_training, strict=True):
            m.training = flag
        for p, g in grads:
            p.grad = g


@contextlib.contextmanager
def _capture(modules: dict[str, nn.Module]) -> Iterator[dict[str, torch.Tensor]]:
    """Record each named module's (last) output during the block; hooks removed on exit."""
    out: dict[str, torch.Tensor] = {}
    handles = []

    def make(name: str) -> Callable:
        def hook(_m: nn.Module, _inp: Any, o: Any) -> None:
            if isinstance(o, torch.Tensor):
                out[name] = o

        return hook

    try:
        for name, m in modules.items():
            handles.append(m.register_forward_hook(make(name)))
        yield out
    finally:
        for h in handles:
            h.remove()


# --------------------------------------------------------------------------- layers
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
    """True for 2-D convolutions: nn.Conv2d and subclasses (timm's too), or a module named *Conv2d*."""
    return isinstance(m, nn.Conv2d | nn.ConvTranspose2d) or "conv2d" in type(m).__name__.lower()


def conv_layers(model: nn.Module, input_size: Sequence[int] = (1, 28, 28)) -> list[LayerInfo]:
    """Return the conv layers run by a forward pass, in module order, with their output shapes."""
    key = tuple(int(s) for s in input_size)
    cached = _LAYER_CACHE.get(model, {}).get(key)
    if cached is not None:
        return list(cached)
    convs = {name: m for name, m in model.named_modules() if _is_conv(m)}
    x = torch.zeros((1, *key), device=_device(model))
    with model_guard(model), _capture(convs) as outs, torch.no_grad():
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


def _check_spatial(model: nn.Module, name: str, x: torch.Tensor) -> None:
    """Raise ExplainError if the layer's output for x has no spatial extent (Grad-CAM needs one)."""
    layer = get_layer(model, name)
    known = {info.name: info.out_shape for info in conv_layers(model, tuple(x.shape[1:]))}
    if name in known:
        shape = known[name]
    else:
        with model_guard(model), _capture({name: layer}) as outs, torch.no_grad():
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


# --------------------------------------------------------------------------- maps
def normalize_map(a: np.ndarray | torch.Tensor) -> np.ndarray:
    """Scale a map to [0, 1] by its min and max (an all-equal map becomes zeros)."""
    a = a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)
    a = np.nan_to_num(a.astype(np.float32))
    lo, hi = float(a.min()), float(a.max())
    if hi - lo <= 1e-12:
        return np.zeros_like(a, dtype=np.float32)
    return ((a - lo) / (hi - lo)).astype(np.float32)


def _resize(a: torch.Tensor, size: tuple[int, int], mode: str = "bilinear") -> torch.Tensor:
    """Resize a (1, C, h, w) map to size (H, W)."""
    if tuple(a.shape[-2:]) == tuple(size):
        return a
    kw = {"align_corners": False} if mode in ("bilinear", "bicubic") else {}
    return F.interpolate(a, size=size, mode=mode, **kw)


# --------------------------------------------------------------------------- methods
@dataclass
class Explanation:
    """One attribution of one image: a [0, 1] heatmap at the input's size, plus context."""

    heatmap: np.ndarray  # (H, W) float32 in [0, 1]
    method: str
    target: int
    predicted: int
    probs: np.ndarray  # (K,) softmax of the model's output
    layer: str | None = None  # the layer used (layer methods only)
    contrast: int | None = None  # "why target and not contrast?"
    raw: np.ndarray | None = None  # signed attribution before normalising (C, H, W) or (h, w)
    notes: list[str] = field(default_factory=list)


class Attribution:
    """Base class: subclasses override `attribute(x) -> Tensor (1, C', H', W')`.

    The base class provides the function captum attributes (`forward`): the model's logit of
    the target class (minus the contrast class's logit, if any) as an (N, 1) output, so captum
    is always called with ``target=0``. With no target given, the target is the predicted class,
    read from the first forward pass of the original image that captum makes itself, so
    Grad-CAM costs one forward and one partial backward. The base class also resizes the map
    to the input size and normalises it to [0, 1].
    """

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""  # how the UI and reports name the method, e.g. "Grad-CAM"
    uses_layer: ClassVar[bool] = False
    # captum's first forward call is on the original image (not on scaled/perturbed copies)
    first_call_is_input: ClassVar[bool] = True
    # how the signed map becomes a heatmap: "relu" keeps evidence for the target, "abs" magnitude
    reduce: ClassVar[str] = "abs"

    def __init__(
        self,
        model: nn.Module,
        layer: str | None = None,
        target: int | None = None,
        contrast: int | None = None,
    ) -> None:
        self.model = model
        self.layer_name = layer
        self.layer = get_layer(model, layer) if layer is not None else None
        self.target = target
        self.contrast = contrast
        self.logits: torch.Tensor | None = None

    def forward(self, inp: torch.Tensor) -> torch.Tensor:
        """Return (N, 1): logit[target] (- logit[contrast]); fixes target and logits on first call."""
        out = self.model(inp)
        if isinstance(out, tuple | list):  # e.g. Inception aux outputs
            out = out[0]
        if self.logits is None:
            self.logits = out[:1].detach()
            n = out.shape[1]
            for what, idx in (("target", self.target), ("contrast", self.contrast)):
                if idx is not None and not 0 <= idx < n:
                    raise ExplainError(f"{what} class index {idx} out of range 0..{n - 1}")
            if self.target is None:
                self.target = int(self.logits[0].argmax())
        sel = out[:, self.target]
        if self.contrast is not None:
            sel = sel - out[:, self.contrast]
        return sel[:, None]

    def prime(self, x: torch.Tensor) -> None:
        """Run the original image once (no grad) to fix the logits and target."""
        with torch.no_grad():
            self.forward(x)

    def attribute(self, x: torch.Tensor) -> torch.Tensor:
        """Return the attribution map for x w.r.t. `forward`'s output 0 (override in subclasses)."""
        raise NotImplementedError

    def to_heatmap(self, a: torch.Tensor, size: tuple[int, int]) -> np.ndarray:
        """Reduce channels, resize to the input size and normalise to [0, 1]."""
        a = a.detach().float()
        if self.reduce == "relu":
            a = a.sum(dim=1, keepdim=True).clamp(min=0)
        else:
            a = a.abs().amax(dim=1, keepdim=True)
        a = _resize(a, size)
        return normalize_map(a[0, 0].clamp(min=0))

    def __call__(self, x: torch.Tensor) -> tuple[torch.Tensor, np.ndarray]:
        """Return (raw attribution, heatmap at the input size) under `model_guard`."""
        size = (int(x.shape[-2]), int(x.shape[-1]))
        with model_guard(self.model), warnings.catch_warnings():
            # captum's notices about what model_guard already handles (input grads, ReLU hooks)
            warnings.filterwarnings("ignore", message=".*did not already require gradients.*")
            warnings.filterwarnings("ignore", message=".*Setting backward hooks on ReLU.*")
            if not self.first_call_is_input:
                self.prime(x)
            with torch.enable_grad():
                a = self.attribute(x)
        return a, self.to_heatmap(a, size)


class GradCAM(Attribution):
    """Grad-CAM (captum LayerGradCam): channel weights = mean gradient, ReLU of the weighted sum."""

    name = "gradcam"
    title = "Grad-CAM"
    uses_layer = True
    reduce = "relu"

    def attribute(self, x: torch.Tensor) -> torch.Tensor:
        """Return the (1, 1, h, w) Grad-CAM map at the layer's resolution."""
        from captum.attr import LayerGradCam

        return LayerGradCam(self.forward, self.layer).attribute(x, target=0, relu_attributions=True)


class GuidedGradCAM(Attribution):
    """Guided Grad-CAM (captum GuidedGradCam): guided backprop × upsampled Grad-CAM."""

    name = "guided_gradcam"
    title = "Guided Grad-CAM"
    uses_layer = True

    def attribute(self, x: torch.Tensor) -> torch.Tensor:
        """Return the (1, C, H, W) Guided Grad-CAM map at the input's resolution."""
        from captum.attr import GuidedGradCam

        method = GuidedGradCam(self.model, self.layer)
        # guided backprop hooks the model's ReLU modules; captum calls our forward function
        method.grad_cam.forward_func = self.forward
        method.guided_backprop.forward_func = self.forward
        return method.attribute(x, target=0, interpolate_mode="bilinear")


class SaliencyMap(Attribution):
    """Saliency (captum Saliency): |d logit / d input|."""

    name = "saliency"
    title = "Saliency"

    def attribute(self, x: torch.Tensor) -> torch.Tensor:
        """Return the (1, C, H, W) absolute input gradient."""
        from captum.attr import Saliency

        return Saliency(self.forward).attribute(x, target=0, abs=True)


class IntegratedGradientsMap(Attribution):
    """Integrated Gradients (captum) from a black baseline."""

    name = "integrated_gradients"
    title = "Integrated Gradients"
    first_call_is_input = False
    n_steps: ClassVar[int] = 32

    def attribute(self, x: torch.Tensor) -> torch.Tensor:
        """Return the (1, C, H, W) integrated gradients."""
        from captum.attr import IntegratedGradients

        return IntegratedGradients(self.forward).attribute(
            x, baselines=torch.zeros_like(x), target=0, n_steps=self.n_steps, internal_batch_size=16
        )


class OcclusionMap(Attribution):
    """Occlusion (captum): drop of the target's logit when a patch is blacked out."""

    name = "occlusion"
    title = "Occlusion"
    reduce = "relu"

    def attribute(self, x: torch.Tensor) -> torch.Tensor:
        """Return the (1, C, H, W) occlusion map (window ~H/7, stride half the window)."""
        from captum.attr import Occlusion

        c, h, w = x.shape[1:]
        win = max(2, round(min(h, w) / 7))
        stride = max(1, win // 2)
        with torch.no_grad():
            return Occlusion(self.forward).attribute(
                x,
                target=0,
                sliding_window_shapes=(c, win, win),
                strides=(c, stride, stride),
                baselines=0.0,
                perturbations_per_eval=32,
            )


METHODS: dict[str, type[Attribution]] = {
    cls.name: cls for cls in (GradCAM, GuidedGradCAM, SaliencyMap, IntegratedGradientsMap, OcclusionMap)
}
if tuple(METHODS) != METHOD_NAMES:  # the light table the CLI offers must name exactly these classes
    raise ImportError(f"explorer.explain.methods.METHOD_NAMES {METHOD_NAMES} != the Attribution classes {tuple(METHODS)}")


def method_title(method: str) -> str:
    """The display title of an attribution method (its class's `title`), e.g. "Grad-CAM"."""
    return METHODS[method].title if method in METHODS else method


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
    batch = as_batch(x, _device(model))
    if cls.uses_layer:
        layer = layer or default_target_layer(model, batch)
        _check_spatial(model, layer, batch)
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


# --------------------------------------------------------------------------- feature maps, filters, top-k
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
    batch = as_batch(x, _device(model))
    layer = layer or default_target_layer(model, batch)
    module = get_layer(model, layer)
    with model_guard(model), _capture({layer: module}) as outs, torch.no_grad():
        model(batch)
    if layer not in outs:
        raise ExplainError(f"layer {layer!r} is not run by the forward pass; choose another layer")
    out = outs[layer][0].float().cpu()
    if out.ndim != 3:
        raise ExplainError(f"layer {layer!r} outputs shape {tuple(out.shape)}, not channel maps (C, h, w)")
    maps = out.numpy()
    mean = maps.reshape(maps.shape[0], -1).mean(axis=1)
    return FeatureMaps(layer=layer, maps=maps, order=np.argsort(-mean, kind="stable"), mean=mean)


def first_layer_filters(model: nn.Module) -> tuple[str, np.ndarray]:
    """Return (name, weights (out, in, kh, kw)) of the model's first Conv2d."""
    for name, m in model.named_modules():
        if isinstance(m, nn.Conv2d):
            return name, m.weight.detach().float().cpu().numpy().copy()
    raise ExplainError(f"{type(model).__name__} has no Conv2d layer")


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


# --------------------------------------------------------------------------- overlay
def overlay(
    image: Any, heatmap: np.ndarray, alpha: float = 0.5, cmap: str = "jet", scale: int = 1
) -> np.ndarray:
    """Return an RGB uint8 (H*scale, W*scale, 3) image: the heatmap coloured over the grey image."""
    from matplotlib import colormaps

    img = np.asarray(image.detach().cpu() if isinstance(image, torch.Tensor) else image)
    img = np.squeeze(img)
    if img.ndim == 3:  # (C, H, W) -> grey
        img = img.mean(axis=0)
    if img.ndim != 2:
        raise ExplainError(f"overlay needs a (H, W) image, got shape {img.shape}")
    img = img.astype(np.float32) / 255.0 if img.dtype == np.uint8 else img.astype(np.float32)
    img = np.clip(img, 0.0, 1.0)
    heat = np.asarray(heatmap, dtype=np.float32)
    if heat.shape != img.shape:
        heat = _resize(torch.from_numpy(heat)[None, None], img.shape).numpy()[0, 0]
    heat = np.clip(heat, 0.0, 1.0)
    colour = colormaps[cmap](heat)[..., :3]
    rgb = (1 - alpha) * img[..., None] + alpha * colour
    out = (np.clip(rgb, 0, 1) * 255).round().astype(np.uint8)
    if scale > 1:
        out = out.repeat(scale, axis=0).repeat(scale, axis=1)
    return out


def heatmap_rgb(heatmap: np.ndarray, cmap: str = "jet", scale: int = 1) -> np.ndarray:
    """Return a heatmap alone as an RGB uint8 image."""
    from matplotlib import colormaps

    out = (colormaps[cmap](np.clip(np.asarray(heatmap, dtype=np.float32), 0, 1))[..., :3] * 255).round()
    out = out.astype(np.uint8)
    if scale > 1:
        out = out.repeat(scale, axis=0).repeat(scale, axis=1)
    return out


def to_png(rgb: np.ndarray) -> bytes:
    """Encode an RGB/grey uint8 array as PNG bytes."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.asarray(rgb)).save(buf, format="PNG")
    return buf.getvalue()
