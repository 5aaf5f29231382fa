"""An explanation's safety: one image as a batch, and a model left as it was found.

`model_guard` always leaves the model as it found it: same training flag, same in-place flags, no hooks
left behind (even if captum raised half way), no gradients accumulated; `capture` records module outputs
for the length of a block.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch
from torch import nn

from explorer.models.inference import model_lock

__all__ = ["ExplainError", "as_batch", "capture", "model_guard"]


class ExplainError(ValueError):
    """A user error in an explanation request (bad layer, bad method, bad target)."""


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
def capture(modules: dict[str, nn.Module]) -> Iterator[dict[str, torch.Tensor]]:
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
