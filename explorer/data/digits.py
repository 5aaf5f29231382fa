"""scikit-learn's 1,797 handwritten digits, framed to 28x28 like EMNIST: a small real offline set."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from explorer.data.registry import DatasetCard, register_dataset

if TYPE_CHECKING:  # numpy loads when data is made, so listing datasets stays light
    import numpy as np

SOURCE = "sklearn.datasets.load_digits"


@lru_cache(maxsize=1)
def digits_arrays() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """scikit-learn digits framed to 28x28, split 80/20 stratified with a fixed seed."""
    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    from explorer.data.preprocess import frame_ink

    bunch = load_digits()
    images = np.stack([frame_ink(img.astype(np.float32) / 16.0) for img in bunch.images])
    labels = bunch.target.astype(np.int64)
    idx = np.arange(len(labels))
    tr, te = train_test_split(idx, test_size=0.2, stratify=labels, random_state=0)
    tr, te = np.sort(tr), np.sort(te)
    return images[tr], labels[tr], images[te], labels[te]


def _load(split: str, root: Path) -> tuple[np.ndarray, np.ndarray, str]:
    tr_x, tr_y, te_x, te_y = digits_arrays()
    images, labels = (tr_x, tr_y) if split == "train" else (te_x, te_y)
    return images, labels, SOURCE


register_dataset(DatasetCard(
    name="digits", title="scikit-learn digits", classes=tuple(str(i) for i in range(10)), source=SOURCE,
    description="1,797 real handwritten digits that ship with scikit-learn (8x8, 17 grey levels), upsampled "
    "to 28x28 by the same EMNIST framing: a small real dataset for quick checks. Split 80/20 "
    "(stratified, fixed seed) into train and test.",
    train_size=1437, test_size=360, offline=True, order=2, load=_load, available=lambda root: True,
    how_to_get=lambda root: "Always available: ships with scikit-learn.",
))  # fmt: skip
