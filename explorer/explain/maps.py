"""Heatmaps as numbers and pictures: normalise, resize, colour over the image, encode as PNG."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from explorer.explain.guard import ExplainError

__all__ = ["heatmap_rgb", "normalize_map", "overlay", "resize_map", "to_png"]


def normalize_map(a: np.ndarray | torch.Tensor) -> np.ndarray:
    """Scale a map to [0, 1] by its min and max (an all-equal map becomes zeros)."""
    a = a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)
    a = np.nan_to_num(a.astype(np.float32))
    lo, hi = float(a.min()), float(a.max())
    if hi - lo <= 1e-12:
        return np.zeros_like(a, dtype=np.float32)
    return ((a - lo) / (hi - lo)).astype(np.float32)


def resize_map(a: torch.Tensor, size: tuple[int, int], mode: str = "bilinear") -> torch.Tensor:
    """Resize a (1, C, h, w) map to size (H, W)."""
    if tuple(a.shape[-2:]) == tuple(size):
        return a
    kw = {"align_corners": False} if mode in ("bilinear", "bicubic") else {}
    return F.interpolate(a, size=size, mode=mode, **kw)


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
        heat = resize_map(torch.from_numpy(heat)[None, None], img.shape).numpy()[0, 0]
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
