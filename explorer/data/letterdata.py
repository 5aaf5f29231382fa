"""LetterData: one split of a dataset as uint8 image and int64 label tensors (what the registry's loaders return)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


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
