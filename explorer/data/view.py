"""Plain-data views of a dataset for pages and notebooks: class counts, samples, mean images, montages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch


def class_counts(splits: dict[str, torch.Tensor | np.ndarray], classes: Sequence[str]) -> pd.DataFrame:
    """Long table (class, split, count, fraction) of images per class for each split."""
    rows = []
    for split, labels in splits.items():
        counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=len(classes))
        total = max(int(counts.sum()), 1)
        rows += [
            {"class": c, "split": split, "count": int(n), "fraction": n / total}
            for c, n in zip(classes, counts, strict=True)
        ]
    return pd.DataFrame(rows, columns=["class", "split", "count", "fraction"])


def class_samples(labels: torch.Tensor | np.ndarray, per_class: int, num_classes: int, seed: int = 0) -> np.ndarray:
    """Indices (num_classes, per_class) of random samples of each class; -1 where a class has too few."""
    labels = np.asarray(labels, dtype=np.int64)
    rng = np.random.default_rng(seed)
    out = np.full((num_classes, per_class), -1, dtype=np.int64)
    for c in range(num_classes):
        idx = np.flatnonzero(labels == c)
        pick = rng.choice(idx, size=min(per_class, len(idx)), replace=False) if len(idx) else idx
        out[c, : len(pick)] = pick
    return out


def mean_images(images: torch.Tensor | np.ndarray, labels: torch.Tensor | np.ndarray, num_classes: int) -> np.ndarray:
    """Mean image per class, float32 (num_classes, H, W) in [0, 255] (zeros for an empty class)."""
    images = torch.as_tensor(images)
    labels = torch.as_tensor(labels, dtype=torch.int64)
    sums = torch.zeros((num_classes, *images.shape[1:]), dtype=torch.float64)
    sums.index_add_(0, labels, images.to(torch.float64))
    counts = torch.bincount(labels, minlength=num_classes).clamp_min(1).to(torch.float64)
    return (sums / counts.view(-1, *([1] * (images.ndim - 1)))).float().numpy()


def montage(images: np.ndarray, ncols: int, pad: int = 1, scale: int = 1, pad_value: int = 60) -> np.ndarray:
    """Tile images (N, H, W) into one uint8 picture with `ncols` columns, a `pad`-pixel grid, upscaled."""
    images = np.asarray(images)
    if images.dtype != np.uint8:
        images = np.clip(images, 0, 255).round().astype(np.uint8)
    n, h, w = images.shape
    nrows = max(1, -(-n // ncols))
    out = np.full((nrows * (h + pad) + pad, ncols * (w + pad) + pad), pad_value, dtype=np.uint8)
    for i, img in enumerate(images):
        r, c = divmod(i, ncols)
        out[pad + r * (h + pad) : pad + r * (h + pad) + h, pad + c * (w + pad) : pad + c * (w + pad) + w] = img
    if scale > 1:
        out = np.kron(out, np.ones((scale, scale), dtype=np.uint8))
    return out


def sample_grid(images: torch.Tensor | np.ndarray, index_grid: np.ndarray, scale: int = 2) -> np.ndarray:
    """Montage of a (classes, per_class) index grid (from class_samples): one row per class."""
    images = np.asarray(images)
    blank = np.zeros(images.shape[1:], dtype=np.uint8)
    tiles = np.stack([images[i] if i >= 0 else blank for i in index_grid.ravel()])
    return montage(tiles, index_grid.shape[1], scale=scale)


def model_names() -> list[str]:
    """Names of the registry's models."""
    from explorer.models import list_models

    return list(list_models())


def model_input(x: torch.Tensor, model_name: str) -> tuple[torch.Tensor, str]:
    """The exact tensor a registry model's network sees for letters x (N, 1, 28, 28), and how it was made.

    Uses the model's own adapter (explorer.models), so pages never re-implement resizing,
    channel repeat or normalisation.
    """
    from explorer.models import LettersAdapter, get_card

    adaptation = get_card(model_name).letters
    with torch.no_grad():
        out = LettersAdapter(adaptation)(x)
    return out, adaptation.describe()


def styled_pixels(image: np.ndarray, digits: int = 3) -> Any:
    """A DataFrame of pixel values with a background gradient, for st.dataframe."""
    df = pd.DataFrame(np.asarray(image, dtype=np.float64)).round(digits)
    return df.style.background_gradient(cmap="gray", axis=None).format(f"{{:.{digits}f}}")


def to_display(image: np.ndarray) -> np.ndarray:
    """Scale any 2-D array to uint8 0..255 (min..max) for st.image."""
    image = np.asarray(image, dtype=np.float64)
    lo, hi = image.min(), image.max()
    return ((image - lo) / (hi - lo if hi > lo else 1.0) * 255).round().astype(np.uint8)
