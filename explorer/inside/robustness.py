"""Robustness curves: accuracy on the test split under growing rotation, shift, scale, Gaussian
noise, blur, thicker and thinner strokes and an occluding patch, six severities each (0 = the
untouched image, so severity 0 is the plain test accuracy). Transforms run in batch on the device
(affine_grid/grid_sample, convolutions, max-pooling); stored in the run folder (Run.derived.write_arrays)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from explorer.devices import resolve_device
from explorer.inside.common import (
    Progress,
    no_progress,
    on_device,
    run_model,
    test_split,
    usable_run,
)

SEVERITIES = 6  # 0 .. 5
# transform -> (label, parameter at severities 0..5, unit)
TRANSFORMS: dict[str, tuple[str, tuple[float, ...], str]] = {
    "rotation": ("rotation", (0, 10, 20, 30, 45, 60), "degrees"),
    "shift": ("shift", (0, 1, 2, 3, 4, 6), "pixels right and down"),
    "scale": ("scale", (1.0, 0.9, 0.8, 0.7, 0.6, 0.5), "size factor"),
    "noise": ("Gaussian noise", (0, 0.1, 0.2, 0.3, 0.4, 0.5), "std (image in [0, 1])"),
    "blur": ("blur", (0, 0.5, 1.0, 1.5, 2.0, 2.5), "Gaussian sigma (pixels)"),
    "dilation": ("thicker strokes", (0, 0.2, 0.4, 0.6, 0.8, 1.0), "blend towards one 3x3 dilation"),
    "erosion": ("thinner strokes", (0, 0.2, 0.4, 0.6, 0.8, 1.0), "blend towards one 3x3 erosion"),
    "occlusion": ("occluding patch", (0, 4, 8, 12, 16, 20), "side of a centred black square (pixels)"),
}
VERSION = 2


def _affine(x: torch.Tensor, angle: float = 0.0, shift: float = 0.0, scale: float = 1.0) -> torch.Tensor:
    """Rotate (degrees), shift (pixels) and scale a (N, 1, 28, 28) batch about its centre (zeros outside)."""
    a = math.radians(angle)
    size = x.shape[-1]
    theta = torch.tensor([[math.cos(a) / scale, -math.sin(a) / scale, -2 * shift / size],
                          [math.sin(a) / scale, math.cos(a) / scale, -2 * shift / size]], device=x.device)
    grid = F.affine_grid(theta.expand(len(x), 2, 3), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def _blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Gaussian blur with standard deviation `sigma` pixels (separable, zero padding)."""
    r = max(1, int(math.ceil(3 * sigma)))
    t = torch.arange(-r, r + 1, dtype=x.dtype, device=x.device)
    k = torch.exp(-(t**2) / (2 * sigma**2))
    k = k / k.sum()
    x = F.conv2d(x, k.view(1, 1, 1, -1), padding=(0, r))
    return F.conv2d(x, k.view(1, 1, -1, 1), padding=(r, 0))


def perturb(x: torch.Tensor, transform: str, severity: int, seed: int = 0) -> torch.Tensor:
    """A (N, 1, 28, 28) batch in [0, 1] under `transform` at `severity` (0 returns the batch unchanged)."""
    if transform not in TRANSFORMS:
        raise ValueError(f"unknown transform {transform!r}; choose one of: {', '.join(TRANSFORMS)}")
    if not 0 <= severity < SEVERITIES:
        raise ValueError(f"severity must be 0..{SEVERITIES - 1}, got {severity}")
    v = TRANSFORMS[transform][1][severity]
    if severity == 0:
        return x
    if transform in ("rotation", "shift", "scale"):
        kw = {"rotation": {"angle": v}, "shift": {"shift": v}, "scale": {"scale": v}}[transform]
        return _affine(x, **kw).clamp(0, 1)
    if transform == "noise":
        g = torch.Generator(device=x.device).manual_seed(seed)
        return (x + v * torch.randn(x.shape, generator=g, device=x.device)).clamp(0, 1)
    if transform == "blur":
        return _blur(x, v).clamp(0, 1)
    if transform in ("dilation", "erosion"):  # one full 3x3 dilation already loses half the accuracy: blend
        sign = 1 if transform == "dilation" else -1
        return (1 - v) * x + v * sign * F.max_pool2d(sign * x, 3, stride=1, padding=1)
    out = x.clone()  # occlusion: a centred black square of side v
    lo = (x.shape[-1] - int(v)) // 2
    out[..., lo:lo + int(v), lo:lo + int(v)] = 0
    return out


def sweep(model: torch.nn.Module, images: np.ndarray, labels: np.ndarray, transforms: tuple[str, ...] | None = None,
          batch_size: int = 1024, device: str | None = None, progress: Progress = no_progress) -> pd.DataFrame:
    """Accuracy per transform and severity: long table (transform, label, severity, parameter, unit, accuracy)."""
    from explorer.models.inference import eval_mode, softmax_output, to_batch

    names = tuple(transforms or TRANSFORMS)
    dev = resolve_device(device)
    net = on_device(model, dev)
    y = torch.as_tensor(labels, device=dev)
    correct = torch.zeros(len(names), SEVERITIES, device=dev)
    plain: torch.Tensor | None = None
    with eval_mode(net), torch.inference_mode():
        for start in range(0, len(images), batch_size):
            x, yb = to_batch(images[start:start + batch_size]).to(dev), y[start:start + batch_size]
            for ti, name in enumerate(names):
                for s in range(SEVERITIES):
                    if s == 0 and plain is not None:
                        correct[ti, 0] += plain
                        continue
                    hit = (softmax_output(net(perturb(x, name, s, seed=start))).argmax(1) == yb).sum()
                    correct[ti, s] += hit
                    if s == 0:
                        plain = hit
            plain = None
            progress(min(1.0, (start + len(x)) / len(images)), f"{start + len(x):,} / {len(images):,} images")
    acc = (correct / max(1, len(images))).cpu().numpy()
    rows = [{"transform": n, "label": TRANSFORMS[n][0], "severity": s, "parameter": TRANSFORMS[n][1][s],
             "unit": TRANSFORMS[n][2], "accuracy": float(acc[i, s])} for i, n in enumerate(names)
            for s in range(SEVERITIES)]
    return pd.DataFrame(rows)


def run_robustness(ref: Any, device: str | None = None, progress: Progress = no_progress,
                   compute: bool = True) -> tuple[pd.DataFrame | None, bool]:
    """A run's robustness table (stored when valid, else computed and stored unless compute=False, then
    None) -> (table, was_stored)."""
    run = usable_run(ref)
    key = {"version": VERSION, "stamp": run.weights_stamp(), "transforms": list(TRANSFORMS)}
    stored = run.derived.read_arrays("robustness", key)
    if stored is not None:
        acc = stored[0].get("accuracy")
        if acc is not None and acc.shape == (len(TRANSFORMS), SEVERITIES) and np.isfinite(acc).all() \
                and (acc >= 0).all() and (acc <= 1).all():
            return _table(acc), True
    if not compute:
        return None, False
    split = test_split(run)
    table = sweep(run_model(run), split.images, split.labels, device=device, progress=progress)
    acc = table.pivot(index="transform", columns="severity", values="accuracy").loc[list(TRANSFORMS)].to_numpy()
    run.derived.write_arrays("robustness", key, {"accuracy": acc.astype(np.float64)})
    return table, False


def _table(acc: np.ndarray) -> pd.DataFrame:
    """The long table from a (transforms, severities) accuracy array."""
    return pd.DataFrame([{"transform": n, "label": TRANSFORMS[n][0], "severity": s, "parameter": TRANSFORMS[n][1][s],
                          "unit": TRANSFORMS[n][2], "accuracy": float(acc[i, s])}
                         for i, n in enumerate(TRANSFORMS) for s in range(SEVERITIES)])
