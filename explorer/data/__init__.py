"""Datasets (built-in letters, EMNIST, scikit-learn digits, torchvision sets), splits, a device-side
loader with batched augmentation, and the one preprocessing path shared with the canvas.

Every dataset comes out the same way: uint8 (N, 28, 28) images, light strokes on dark, upright;
int64 labels from 0; class names. The model-facing tensor is uint8 / 255, float32 (1, 28, 28).

Package face: re-exports only. The dataset modules register themselves in the dataset registry
when imported here (eagerly, like explorer.models). The names that need numpy, PIL or torch
(preprocess, loader, splits) are imported on first use (PEP 562, explorer.lazy), so `explorer.config`
(which builds on DataSpec/Augment) and `explorer data list` stay light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

# Dataset modules, in no particular order: each registers its cards (the card's `order` sorts lists).
from explorer.data import builtin, digits, emnist, torchvision_sets  # noqa: F401
from explorer.data.registry import (
    DATASET_NAMES,
    DEFAULT_DATASET,
    DatasetCard,
    DatasetInfo,
    data_root,
    get_dataset_card,
    get_dataset_info,
    list_datasets,
    load_dataset,
    register_dataset,
)
from explorer.data.spec import Augment, DataSpec
from explorer.lazy import lazy_names

if TYPE_CHECKING:
    from explorer.data.loader import DeviceLoader, augment_batch
    from explorer.data.preprocess import (
        BlankImageError,
        ImageError,
        frame_ink,
        load_image_bytes,
        preprocess_array,
        preprocess_image,
    )
    from explorer.data.splits import LetterData, Splits, indices_hash, make_splits

_LAZY = {
    **dict.fromkeys(["DeviceLoader", "augment_batch"], "loader"),
    **dict.fromkeys(["LetterData", "Splits", "indices_hash", "make_splits"], "splits"),
    **dict.fromkeys(["BlankImageError", "ImageError", "frame_ink", "load_image_bytes", "preprocess_array",
                     "preprocess_image"], "preprocess"),
}

__all__ = [
    "DATASET_NAMES",
    "DEFAULT_DATASET",
    "Augment",
    "BlankImageError",
    "DataSpec",
    "DatasetCard",
    "DatasetInfo",
    "DeviceLoader",
    "ImageError",
    "LetterData",
    "Splits",
    "augment_batch",
    "data_root",
    "frame_ink",
    "get_dataset_card",
    "get_dataset_info",
    "indices_hash",
    "list_datasets",
    "load_dataset",
    "load_image_bytes",
    "make_splits",
    "preprocess_array",
    "preprocess_image",
    "register_dataset",
]

__getattr__, __dir__ = lazy_names(__name__, _LAZY)
