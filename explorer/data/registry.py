"""The dataset registry: name -> card (what the dataset is) + loader, like the model registry.

Dataset modules (builtin, emnist, digits, torchvision_sets) call `register_dataset` when imported;
the package face (explorer/data/__init__.py) imports them eagerly. This module imports no dataset
module and no torch, so configs can check a dataset name cheaply.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from explorer.io import DATA_ENV, data_root  # noqa: F401  (the one rule for the data root; re-exported here)

if TYPE_CHECKING:
    import numpy as np

    from explorer.data.letterdata import LetterData

DEFAULT_DATASET = "letters-builtin"

# (split, data root, **options) -> (uint8 (N, 28, 28) upright images, int64 (N,) labels, source)
Loader = Callable[..., "tuple[np.ndarray, np.ndarray, str]"]


@dataclass(frozen=True)
class DatasetCard:
    """What a dataset is (as data) and how to load it; `description` may use {root}."""

    name: str
    title: str
    classes: tuple[str, ...]
    source: str
    description: str
    train_size: int | None
    test_size: int | None
    offline: bool  # always on this machine (generated or shipped with a library), no download ever
    load: Loader
    available: Callable[[Path], bool]
    how_to_get: Callable[[Path], str]
    options: frozenset[str] = frozenset()  # the load options it takes
    network_only: bool = False  # the app offers no offline way in (no file upload)
    image_size: int = 28
    order: int = 100  # position in lists (the default dataset first)


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


_DATASETS: dict[str, DatasetCard] = {}
DATASET_NAMES: list[str] = []  # by card order, the default first (kept in step with the registry)


def register_dataset(card: DatasetCard) -> None:
    """Add a dataset to the registry (called by dataset modules at import)."""
    if card.name in _DATASETS:
        raise ValueError(f"dataset {card.name!r} registered twice")
    _DATASETS[card.name] = card
    DATASET_NAMES[:] = sorted(_DATASETS, key=lambda n: _DATASETS[n].order)


def check_name(name: str) -> None:
    """Raise ValueError naming the valid datasets if `name` is not registered."""
    if name not in _DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose from {', '.join(DATASET_NAMES)}")


def get_dataset_card(name: str) -> DatasetCard:
    """The card of a registered dataset."""
    check_name(name)
    return _DATASETS[name]


def get_dataset_info(name: str, root: str | os.PathLike | None = None) -> DatasetInfo:
    """Describe a dataset and check (on disk only, never the network) whether it is available."""
    card = get_dataset_card(name)
    root_p = data_root(root)
    return DatasetInfo(
        card.name, card.title, len(card.classes), list(card.classes), card.image_size, card.source,
        card.description.format(root=root_p), card.available(root_p), card.how_to_get(root_p),
        network_only=card.network_only, train_size=card.train_size, test_size=card.test_size,
    )  # fmt: skip


def list_datasets(root: str | os.PathLike | None = None) -> list[DatasetInfo]:
    """All datasets, the default (letters-builtin) first, with their availability on this machine."""
    return [get_dataset_info(n, root) for n in DATASET_NAMES]


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
    import numpy as np
    import torch

    from explorer.data.letterdata import LetterData

    card = get_dataset_card(name)
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    unknown = set(options) - card.options
    if unknown:
        raise ValueError(f"{name} does not take option(s) {sorted(unknown)}; it takes {sorted(card.options) or 'none'}")
    images, labels, source = card.load(split, data_root(root), **options)
    return LetterData(
        name, split, torch.from_numpy(np.ascontiguousarray(images)), torch.from_numpy(np.asarray(labels, dtype=np.int64)),
        list(card.classes), None, source,
    )  # fmt: skip
