"""The attribution methods: a base class that owns the model guard, the target and the heatmap,
and one subclass per captum method that overrides `attribute` (as pytorch-grad-cam's BaseCAM)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import torch
from torch import nn

from explorer.explain.guard import ExplainError, model_guard
from explorer.explain.layers import get_layer
from explorer.explain.maps import normalize_map, resize_map
from explorer.explain.methods import METHOD_NAMES

__all__ = [
    "METHODS",
    "Attribution",
    "Explanation",
    "GradCAM",
    "GuidedGradCAM",
    "IntegratedGradientsMap",
    "OcclusionMap",
    "SaliencyMap",
    "method_title",
]


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
        a = resize_map(a, size)
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
