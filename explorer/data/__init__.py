"""Datasets (built-in letters, EMNIST, scikit-learn digits, torchvision sets), splits, a device-side
loader with batched augmentation, and the one preprocessing path shared with the canvas.

Every dataset comes out the same way: uint8 (N, 28, 28) images, light strokes on dark, upright;
int64 labels from 0; class names. The model-facing tensor is uint8 / 255, float32 (1, 28, 28).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import torch

from explorer.data import builtin, emnist
from explorer.data.loader import Augment, DeviceLoader, augment_batch
from explorer.data.preprocess import (
    BlankImageError,
    ImageError,
    frame_ink,
    load_image_bytes,
    preprocess_array,
    preprocess_image,
)

__all__ = [
    "DATASET_NAMES",
    "DEFAULT_DATASET",
    "Augment",
    "BlankImageError",
    "DataSpec",
    "DatasetInfo",
    "DeviceLoader",
    "ImageError",
    "LetterData",
    "Splits",
    "augment_batch",
    "data_root",
    "frame_ink",
    "get_dataset_info",
    "list_datasets",
    "load_dataset",
    "load_image_bytes",
    "make_splits",
    "preprocess_array",
    "preprocess_image",
]

DEFAULT_DATASET = "letters-builtin"
DATA_ENV = "EXPLORER_DATA"


def data_root(root: str | os.PathLike | None = None) -> Path:
    """The data root: `root`, else $EXPLORER_DATA, else ./data."""
    return Path(root or os.environ.get(DATA_ENV) or "data").expanduser()


@dataclass(frozen=True)
class DatasetInfo:
    """What a dataset is, whether it is on this machine, and how to get it if not."""

    name: str
    title: str
    num_classes: int
    classes: list[str]
    image_size: int
    source: str
    description: str
    available: bool
    how_to_get: str
    network_only: bool = False
    train_size: int | None = None
    test_size: int | None = None


@dataclass
class LetterData:
    """One split of a dataset: uint8 (N, 28, 28) images, int64 (N,) labels, class names."""

    name: str
    split: str
    images: torch.Tensor
    labels: torch.Tensor
    classes: list[str]
    indices: torch.Tensor | None = None  # positions in the dataset's original split (val: in train)
    source: str = ""

    def __len__(self) -> int:
        """Number of images."""
        return len(self.labels)

    def subset(self, idx: np.ndarray | torch.Tensor, split: str | None = None) -> LetterData:
        """The samples at positions `idx` (kept in `indices` relative to the original split)."""
        idx_t = torch.as_tensor(np.asarray(idx), dtype=torch.int64)
        base = self.indices if self.indices is not None else torch.arange(len(self))
        return LetterData(
            self.name, split or self.split, self.images[idx_t], self.labels[idx_t], self.classes, base[idx_t], self.source
        )


_EMNIST_OTHER = {
    "emnist-balanced": ("balanced", "EMNIST Balanced (47 classes)"),
    "emnist-byclass": ("byclass", "EMNIST ByClass (62 classes)"),
    "emnist-digits": ("digits", "EMNIST Digits"),
}
DATASET_NAMES = [
    "letters-builtin",
    "emnist-letters",
    "digits",
    "emnist-balanced",
    "emnist-byclass",
    "emnist-digits",
    "mnist",
    "fashion-mnist",
]
_FASHION = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
_DIGITS = [str(i) for i in range(10)]


def _check_name(name: str) -> None:
    if name not in DATASET_NAMES:
        raise ValueError(f"unknown dataset {name!r}; choose from {', '.join(DATASET_NAMES)}")


def get_dataset_info(name: str, root: str | os.PathLike | None = None) -> DatasetInfo:
    """Describe a dataset and check (on disk only, never the network) whether it is available."""
    _check_name(name)
    root_p = data_root(root)
    letters = list(builtin.CLASSES)
    if name == "letters-builtin":
        n = builtin.DEFAULT_SIZE
        return DatasetInfo(
            name, "Built-in letters (offline)", 26, letters, 28, "generated from Hershey stroke fonts",
            "An EMNIST-like letters set generated on this machine: 26 classes A-Z (upper and lower case "
            "merged), light strokes on dark, framed and centred by EMNIST's conversion; letter forms from "
            "several stroke fonts with random stroke width, affine and elastic distortion and noise. "
            f"Deterministic from a seed, cached under {root_p / 'builtin'}. The default is {n:,} training "
            "images per class.",
            True, "Always available: generated on first use (about 30 s for 26,000 images on 2 cores).",
            train_size=n * 26, test_size=builtin.test_size_for(n) * 26,
        )  # fmt: skip
    if name == "emnist-letters":
        return DatasetInfo(
            name, "EMNIST letters", 26, letters, 28, emnist.EMNIST_URL,
            "Handwritten letters from NIST Special Database 19 (Cohen et al. 2017): 26 classes A-Z, upper "
            "and lower case merged, 124,800 train / 20,800 test, 28x28 grayscale. The dataset of the seed "
            "report. Images are stored transposed in the files; they are shown upright here.",
            emnist.emnist_available(root_p, "letters"), emnist.how_to_get_emnist(root_p),
            train_size=124_800, test_size=20_800,
        )  # fmt: skip
    if name == "digits":
        return DatasetInfo(
            name, "scikit-learn digits", 10, _DIGITS, 28, "sklearn.datasets.load_digits",
            "1,797 real handwritten digits that ship with scikit-learn (8x8, 17 grey levels), upsampled "
            "to 28x28 by the same EMNIST framing: a small real dataset for quick checks. Split 80/20 "
            "(stratified, fixed seed) into train and test.",
            True, "Always available: ships with scikit-learn.", train_size=1437, test_size=360,
        )  # fmt: skip
    if name in _EMNIST_OTHER:
        split, title = _EMNIST_OTHER[name]
        n_train, n_test, classes = emnist.EMNIST_SPLITS[split]
        return DatasetInfo(
            name, title, len(classes), list(classes), 28, emnist.EMNIST_URL,
            f"EMNIST {split}: {n_train:,} train / {n_test:,} test, loaded by the same code as EMNIST letters.",
            emnist.emnist_available(root_p, split), emnist.how_to_get_emnist(root_p), network_only=True,
            train_size=n_train, test_size=n_test,
        )  # fmt: skip
    title = "MNIST" if name == "mnist" else "Fashion-MNIST"
    classes = _DIGITS if name == "mnist" else _FASHION
    folder = emnist.TORCHVISION_SETS[name]
    return DatasetInfo(
        name, title, 10, classes, 28, f"torchvision.datasets.{folder}",
        f"{title} through torchvision: 60,000 train / 10,000 test, 28x28 grayscale.",
        emnist.torchvision_available(name, root_p),
        f"Needs a network on first use (torchvision downloads it into {root_p / folder / 'raw'}), or copy "
        "that folder from a machine that has it. Offline, use letters-builtin or digits.",
        network_only=True, train_size=60_000, test_size=10_000,
    )  # fmt: skip


def list_datasets(root: str | os.PathLike | None = None) -> list[DatasetInfo]:
    """All datasets, the default (letters-builtin) first, with their availability on this machine."""
    return [get_dataset_info(n, root) for n in DATASET_NAMES]


@lru_cache(maxsize=1)
def _digits_arrays() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """scikit-learn digits framed to 28x28, split 80/20 stratified with a fixed seed."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    bunch = load_digits()
    images = np.stack([frame_ink(img.astype(np.float32) / 16.0) for img in bunch.images])
    labels = bunch.target.astype(np.int64)
    idx = np.arange(len(labels))
    tr, te = train_test_split(idx, test_size=0.2, stratify=labels, random_state=0)
    tr, te = np.sort(tr), np.sort(te)
    return images[tr], labels[tr], images[te], labels[te]


def load_dataset(
    name: str = DEFAULT_DATASET,
    split: str = "train",
    root: str | os.PathLike | None = None,
    **options: Any,
) -> LetterData:
    """Load a dataset split ("train" or "test") as uint8 tensors.

    Options: letters-builtin: size (images per class), seed, progress(done, total);
    EMNIST: path (zip, folder or idx files), download (default False), strict (official counts);
    mnist / fashion-mnist: download (default False).
    """
    _check_name(name)
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    root_p = data_root(root)
    info_classes: list[str]
    if name == "letters-builtin":
        allowed = {"size", "seed", "progress"}
        _check_options(name, options, allowed)
        size = int(options.get("size") or builtin.DEFAULT_SIZE)
        arrays = builtin.load_or_generate(root_p, size, int(options.get("seed") or 0), options.get("progress"))
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        info_classes, source = list(builtin.CLASSES), str(builtin.cache_path(root_p, size, int(options.get("seed") or 0)))
    elif name == "digits":
        _check_options(name, options, set())
        tr_x, tr_y, te_x, te_y = _digits_arrays()
        images, labels = (tr_x, tr_y) if split == "train" else (te_x, te_y)
        info_classes, source = list(_DIGITS), "sklearn.datasets.load_digits"
    elif name == "emnist-letters" or name in _EMNIST_OTHER:
        _check_options(name, options, {"path", "download", "strict", "progress"})
        emnist_split = "letters" if name == "emnist-letters" else _EMNIST_OTHER[name][0]
        images, labels, info_classes = emnist.load_emnist(
            emnist_split, split, root_p, path=options.get("path"), strict=options.get("strict", True),
            download=bool(options.get("download", False)), progress=options.get("progress"),
        )  # fmt: skip
        source = emnist.EMNIST_URL
    else:
        _check_options(name, options, {"download"})
        images, labels, info_classes = emnist.load_torchvision(name, split, root_p, bool(options.get("download", False)))
        source = f"torchvision.datasets.{emnist.TORCHVISION_SETS[name]}"
    return LetterData(
        name, split, torch.from_numpy(np.ascontiguousarray(images)), torch.from_numpy(np.asarray(labels, dtype=np.int64)),
        info_classes, None, source,
    )  # fmt: skip


def _check_options(name: str, options: dict[str, Any], allowed: set[str]) -> None:
    unknown = set(options) - allowed
    if unknown:
        raise ValueError(f"{name} does not take option(s) {sorted(unknown)}; it takes {sorted(allowed) or 'none'}")


@dataclass(frozen=True)
class DataSpec:
    """Which data a run uses: dataset, data root, built-in size, split seed, validation fraction."""

    name: str = DEFAULT_DATASET
    root: str | None = None
    size: int | None = None  # letters-builtin: training images per class (None = default)
    seed: int = 0  # seed of the train/validation split
    val_fraction: float = 0.1
    gen_seed: int = 0  # letters-builtin: seed of the generated images

    def __post_init__(self) -> None:
        _check_name(self.name)
        if not 0.0 <= self.val_fraction < 1.0:
            raise ValueError(f"val_fraction must be in [0, 1), got {self.val_fraction}")
        if self.size is not None and self.size < 1:
            raise ValueError(f"size must be >= 1 images per class, got {self.size}")

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON configs."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DataSpec:
        """Build from a dict made by to_dict (unknown keys are an error)."""
        names = {f.name for f in fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown DataSpec keys {sorted(unknown)}; valid keys: {sorted(names)}")
        return cls(**d)

    def load_options(self) -> dict[str, Any]:
        """The load_dataset options this spec implies."""
        if self.name == "letters-builtin":
            return {"size": self.size or builtin.DEFAULT_SIZE, "seed": self.gen_seed}
        return {}


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
        counts = np.bincount(labels)
        stratify = labels if counts[counts > 0].min() >= 2 else None
        tr_idx, va_idx = train_test_split(idx, test_size=spec.val_fraction, stratify=stratify, random_state=spec.seed)
        tr_idx, va_idx = np.sort(tr_idx), np.sort(va_idx)
    else:
        tr_idx, va_idx = idx, idx[:0]
    train, val = full.subset(tr_idx, "train"), full.subset(va_idx, "val")
    test.indices = torch.arange(len(test))
    record = {
        "spec": spec.to_dict(),
        "dataset": spec.name,
        "source": full.source,
        "classes": list(full.classes),
        "counts": {"train": len(train), "val": len(val), "test": len(test)},
        "val_method": "sklearn.model_selection.train_test_split(stratify=labels, random_state=spec.seed) on the "
        "dataset's train split",
        "val_indices_sha256": indices_hash(va_idx),
        "train_full_size": len(full),
    }
    return Splits(train, val, test, record)
