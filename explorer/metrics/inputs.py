"""The inputs every metric takes: ``y_true`` int (N,), ``y_prob`` float (N, K), ``classes`` (names or K), checked once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ['check_predictions', 'class_names', 'one_hot']


def class_names(classes: Sequence[str] | int, n_columns: int | None = None) -> list[str]:
    """Return the class names as a list (an int K gives "0".."K-1"); checks the column count."""
    names = [str(i) for i in range(classes)] if isinstance(classes, int) else [str(c) for c in classes]
    if n_columns is not None and len(names) != n_columns:
        raise ValueError(f"{len(names)} class names for {n_columns} probability columns")
    return names


def check_predictions(y_true: Any, y_prob: Any, classes: Sequence[str] | int | None = None
                      ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Validate and convert inputs -> (y_true int64 (N,), y_prob float64 (N, K), names)."""
    y_true = np.asarray(y_true)
    y_prob = np.asarray(y_prob, dtype=np.float64)
    if y_prob.ndim != 2:
        raise ValueError(f"y_prob must be 2-D (N, K), got shape {y_prob.shape}")
    if y_true.ndim != 1 or y_true.shape[0] != y_prob.shape[0]:
        raise ValueError(f"y_true must be 1-D with {y_prob.shape[0]} entries, got shape {y_true.shape}")
    if y_true.size == 0:
        raise ValueError("no predictions to evaluate (empty test set)")
    if not np.issubdtype(y_true.dtype, np.integer) and not np.all(np.mod(y_true, 1) == 0):
        raise ValueError("y_true must hold integer class indices")
    y_true = y_true.astype(np.int64)
    k = y_prob.shape[1]
    if y_true.min() < 0 or y_true.max() >= k:
        raise ValueError(f"y_true holds class indices outside 0..{k - 1}")
    names = class_names(classes if classes is not None else k, k)
    return y_true, y_prob, names


def one_hot(y_true: np.ndarray, k: int) -> np.ndarray:
    """Return a (N, K) 0/1 int8 matrix."""
    out = np.zeros((y_true.shape[0], k), dtype=np.int8)
    out[np.arange(y_true.shape[0]), y_true] = 1
    return out
