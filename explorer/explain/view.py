"""Plain-array views of explanations for pages and notebooks: feature maps and filters as one image."""

from __future__ import annotations

import numpy as np

from explorer.data.view import montage


def feature_grid(maps: np.ndarray, ncols: int = 8, scale: int = 3, pad: int = 1) -> np.ndarray:
    """Tile (C, h, w) maps, each scaled to its own min..max, into one uint8 grey image with white gaps."""
    maps = np.asarray(maps, dtype=np.float32)
    lo = maps.min(axis=(1, 2), keepdims=True)
    span = maps.max(axis=(1, 2), keepdims=True) - lo
    norm = np.divide(maps - lo, span, out=np.zeros_like(maps), where=span > 0)
    out = montage((norm * 255).round().astype(np.uint8), ncols, pad=pad, scale=scale, pad_value=255)
    edge = pad * scale  # montage frames the tiles; the grid has gaps only between them
    return out[edge : out.shape[0] - edge, edge : out.shape[1] - edge]
