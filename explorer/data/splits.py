"""Loaded data: one split as uint8 tensors (LetterData), and the seeded train/val/test Splits of a DataSpec."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from explorer.data.letterdata import LetterData
from explorer.data.registry import load_dataset
from explorer.data.spec import DataSpec


@dataclass
class Splits:
    """Train / validation / test splits and the record that reproduces them."""

    train: LetterData
    val: LetterData
    test: LetterData
    record: dict[str, Any] = field(default_factory=dict)

    @property
    def classes(self) -> list[str]:
        """Class names."""
        return self.train.classes


def indices_hash(indices: np.ndarray | torch.Tensor) -> str:
    """sha256 (hex, first 16 chars) of sorted int64 indices: identifies a split exactly."""
    arr = np.sort(np.asarray(indices, dtype=np.int64))
    return hashlib.sha256(arr.astype("<i8").tobytes()).hexdigest()[:16]


def apply_exclude(spec: DataSpec, n_full: int, tr_idx: np.ndarray, va_idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Drop the spec's excluded positions from the train and validation indices (ValueError if any is gone)."""
    if not spec.exclude:
        return tr_idx, va_idx
    ex = np.asarray(spec.exclude, dtype=np.int64)
    missing = ex[ex >= n_full]
    if len(missing):
        raise ValueError(f"the exclusion list names {len(missing)} image(s) that no longer exist in {spec.name}'s train "
                         f"split of {n_full:,} images (e.g. {missing[:3].tolist()}); recompute the label issues or "
                         "clear the list")
    return np.setdiff1d(tr_idx, ex), np.setdiff1d(va_idx, ex)


def can_stratify(labels: np.ndarray, val_fraction: float) -> bool:
    """Whether a stratified split is possible: every class twice, and both parts at least one image per class
    (a tiny dataset, e.g. 4 images per class with 10% validation, gets a plain seeded random split instead)."""
    counts = np.bincount(labels)
    classes = int((counts > 0).sum())
    n_val = math.ceil(val_fraction * len(labels))
    return bool(classes) and counts[counts > 0].min() >= 2 and n_val >= classes and len(labels) - n_val >= classes


def make_splits(spec: DataSpec, progress: Callable[[int, int], None] | None = None) -> Splits:
    """Load a dataset and carve a seeded, stratified validation split out of its training split."""
    from sklearn.model_selection import train_test_split

    options = spec.load_options()
    if progress and spec.name == "letters-builtin":
        options["progress"] = progress
    full = load_dataset(spec.name, "train", spec.root, **options)
    options.pop("progress", None)
    test = load_dataset(spec.name, "test", spec.root, **options)
    idx = np.arange(len(full))
    labels = full.labels.numpy()
    if spec.val_fraction > 0:
        stratify = labels if can_stratify(labels, spec.val_fraction) else None
        tr_idx, va_idx = train_test_split(idx, test_size=spec.val_fraction, stratify=stratify, random_state=spec.seed)
        tr_idx, va_idx = np.sort(tr_idx), np.sort(va_idx)
    else:
        tr_idx, va_idx, stratify = idx, idx[:0], None
    tr_idx, va_idx = apply_exclude(spec, len(full), tr_idx, va_idx)
    train, val = full.subset(tr_idx, "train"), full.subset(va_idx, "val")
    test.indices = torch.arange(len(test))
    record = {
        "spec": spec.to_dict(),
        "dataset": spec.name,
        "source": full.source,
        "classes": list(full.classes),
        "counts": {"train": len(train), "val": len(val), "test": len(test)},
        "val_method": f"sklearn.model_selection.train_test_split(stratify={'labels' if stratify is not None else 'None'}, "
        "random_state=spec.seed) on the dataset's train split",
        "val_indices_sha256": indices_hash(va_idx),
        "train_full_size": len(full),
        "excluded": len(spec.exclude),
    }
    return Splits(train, val, test, record)
