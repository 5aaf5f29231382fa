"""MNIST and Fashion-MNIST through torchvision (a network on first use, or torchvision's raw files copied in)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from explorer.data.registry import DatasetCard, register_dataset

if TYPE_CHECKING:  # numpy loads when data is made, so listing datasets stays light
    import numpy as np

TORCHVISION_SETS = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}
# The raw files torchvision keeps in <root>/<class name>/raw (its `resources`, unzipped; the same for both
# sets; tests/test_data_registry.py checks them against torchvision), so `data list` needs no torchvision.
RAW_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def load_torchvision(
    name: str, part: str, root: str | os.PathLike, download: bool = True
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """MNIST / Fashion-MNIST through torchvision (downloads with a network) -> (images, labels, classes)."""
    import numpy as np
    from torchvision import datasets

    cls = getattr(datasets, TORCHVISION_SETS[name])
    try:
        ds = cls(str(root), train=(part == "train"), download=download)
    except (RuntimeError, OSError) as exc:
        raise FileNotFoundError(
            f"{name} is not in {Path(root) / cls.__name__ / 'raw'} and could not be downloaded ({exc}). "
            f"Copy torchvision's {cls.__name__}/raw folder there from a machine with a network, or use the "
            "built-in offline datasets: letters-builtin or digits."
        ) from exc
    classes = [c.split(" - ")[-1] for c in ds.classes]
    return ds.data.numpy().astype(np.uint8), ds.targets.numpy().astype(np.int64), classes


def torchvision_available(name: str, root: str | os.PathLike) -> bool:
    """True if torchvision's raw files for MNIST/Fashion-MNIST are on disk."""
    raw = Path(root) / TORCHVISION_SETS[name] / "raw"
    return all((raw / f).is_file() for f in RAW_FILES)


def _loader(name: str):
    def load(split: str, root: Path, download: bool = False) -> tuple[np.ndarray, np.ndarray, str]:
        images, labels, _ = load_torchvision(name, split, root, bool(download))
        return images, labels, f"torchvision.datasets.{TORCHVISION_SETS[name]}"

    return load


def _how_to_get(folder: str):
    return lambda root: (
        f"Needs a network on first use (torchvision downloads it into {root / folder / 'raw'}), or copy "
        "that folder from a machine that has it. Offline, use letters-builtin or digits."
    )


FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                   "Ankle boot")
for _order, _name, _title, _classes in ((6, "mnist", "MNIST", tuple(str(i) for i in range(10))),
                                         (7, "fashion-mnist", "Fashion-MNIST", FASHION_CLASSES)):
    register_dataset(DatasetCard(
        name=_name, title=_title, classes=_classes, source=f"torchvision.datasets.{TORCHVISION_SETS[_name]}",
        description=f"{_title} through torchvision: 60,000 train / 10,000 test, 28x28 grayscale.",
        train_size=60_000, test_size=10_000, offline=False, load=_loader(_name),
        available=lambda root, n=_name: torchvision_available(n, root), how_to_get=_how_to_get(TORCHVISION_SETS[_name]),
        options=frozenset({"download"}), network_only=True, order=_order,
    ))  # fmt: skip
