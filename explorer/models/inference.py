"""The one inference path: images -> the letters models' batch -> softmax probabilities.

Every consumer (evaluate's predict_proba, the Draw page's predict_image, explain's top-k, and the
training loop's validation) feeds its images through `to_batch` and runs the model through
`probabilities` (or, inside a loop of its own, `eval_mode` + `softmax_output`), so the numbers they
show for the same model and image are the same numbers.

A loaded model may be shared between threads (Streamlit sessions and reruns share cached models):
`model_lock(model)` is one re-entrant lock per model object, held while a forward pass or an
explanation (which adds hooks and flips flags) uses it.
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch import nn

from explorer.devices import model_device

__all__ = ["IMAGE_SIZE", "eval_mode", "model_device", "model_lock", "probabilities", "softmax_output", "to_batch"]

IMAGE_SIZE = (28, 28)
_RANGE_TOLERANCE = 1e-4  # float images may overshoot [0, 1] by rounding, not by a wrong scale

_LOCKS: weakref.WeakKeyDictionary[nn.Module, threading.RLock] = weakref.WeakKeyDictionary()
_LOCKS_LOCK = threading.Lock()


def model_lock(model: nn.Module) -> threading.RLock:
    """One re-entrant lock per model object (models are shared between Streamlit sessions/reruns)."""
    with _LOCKS_LOCK:
        lock = _LOCKS.get(model)
        if lock is None:
            lock = _LOCKS[model] = threading.RLock()
        return lock


def _as_tensor(images: Any) -> torch.Tensor:
    """A torch view of a tensor, numpy array or nested list, without copying where possible."""
    if isinstance(images, torch.Tensor):
        return images.detach()
    arr = np.asarray(images)
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise ValueError(f"images must be a numeric array or tensor, got dtype {arr.dtype}")
    return torch.from_numpy(np.ascontiguousarray(arr))


def _check_range(x: torch.Tensor) -> None:
    """ValueError unless every value of a float batch lies in [0, 1] (NaN and 0..255 floats included)."""
    if x.numel() == 0:
        return
    lo, hi = torch.aminmax(x)
    lo, hi = float(lo), float(hi)
    if not (lo >= -_RANGE_TOLERANCE and hi <= 1.0 + _RANGE_TOLERANCE):
        hint = " (0..255 floats: pass uint8, or divide by 255)" if hi > 1.5 else ""
        raise ValueError(f"float images must be in [0, 1], got values from {lo:g} to {hi:g}{hint}")


def to_batch(images: Any, size: tuple[int, int] = IMAGE_SIZE) -> torch.Tensor:
    """Any letter image(s) -> float32 (N, 1, H, W) in [0, 1], the input every letters model takes.

    Accepts a numpy array or torch tensor of rank 2 (H, W), 3 (N, H, W) or 4 (N, 1, H, W); uint8 is
    scaled by 1/255, float16/32/64 must already lie in [0, 1]. (H, W) must equal ``size``. Anything
    else (other ranks, channels, sizes, dtypes, out-of-range floats) raises a ValueError saying what.
    """
    x = _as_tensor(images)
    shape = tuple(x.shape)
    if x.ndim == 2:
        x = x[None, None]
    elif x.ndim == 3:
        x = x[:, None]
    elif x.ndim != 4 or x.shape[1] != 1:
        raise ValueError(f"images must be (H, W), (N, H, W) or (N, 1, H, W) with one channel; got shape {shape}")
    if tuple(x.shape[-2:]) != tuple(size):
        raise ValueError(f"images must be {size[0]}x{size[1]} (letters models' input); got shape {shape}. "
                         "Preprocess other images with explorer.data.preprocess_image.")
    if x.dtype == torch.uint8:
        return x.float().div_(255.0)
    if not x.is_floating_point():
        raise ValueError(f"images must be uint8 (0..255) or float in [0, 1]; got dtype {x.dtype}")
    x = x.to(torch.float32)
    _check_range(x)
    return x


def softmax_output(out: Any) -> torch.Tensor:
    """Float32 softmax over classes of a model's output (logits, or a tuple/list whose first item is)."""
    if isinstance(out, tuple | list):  # e.g. Inception's (logits, aux)
        out = out[0]
    return torch.softmax(out.float(), dim=1)


@contextlib.contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Hold the model's lock, put it in eval mode, and restore its training flag on exit."""
    with model_lock(model):
        was_training = model.training
        model.eval()
        try:
            yield model
        finally:
            model.train(was_training)


def probabilities(model: nn.Module, x: Any, batch_size: int = 512, device: str | torch.device | None = None
                  ) -> np.ndarray:
    """Softmax probabilities float32 (N, K) of the model for images in any form `to_batch` takes.

    Runs in eval mode under inference_mode and the model's lock, ``batch_size`` images at a time on
    ``device`` (default: the model's); the model's training flag is left as it was.
    """
    batch = to_batch(x)
    if batch.shape[0] == 0:
        raise ValueError("no images to predict")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    dev = torch.device(device) if device is not None else model_device(model)
    out = []
    with eval_mode(model), torch.inference_mode():
        for i in range(0, batch.shape[0], batch_size):
            out.append(softmax_output(model(batch[i : i + batch_size].to(dev))).cpu())
    return torch.cat(out).numpy()
