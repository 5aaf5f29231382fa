"""A run's test split: the ONE path from a run to its test images (Run.test_split, Run.test_images,
Run.image_ref delegate here). The split is rebuilt from the run's DataSpec (deterministic) and the last few are
kept in memory per data spec, so pages and views that revisit a run do not reload the dataset."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from explorer.runs.checks import RunFileError

if TYPE_CHECKING:
    from explorer.runs.run import Run

__all__ = ["TestSplit", "image_ref", "test_images", "test_split"]


@dataclass(frozen=True)
class TestSplit:
    """A run's test split: uint8 images (N, 28, 28), int64 labels and indices (split order), class names.
    The arrays are shared between callers (cached per data spec): never write into them."""

    images: np.ndarray
    labels: np.ndarray
    indices: np.ndarray
    classes: list[str]


@functools.lru_cache(maxsize=4)
def _test_split(spec_json: str, classes: tuple[str, ...]) -> TestSplit:
    """The test split of a data spec (the cached body of test_split)."""
    from explorer.data import DataSpec, make_splits

    test = make_splits(DataSpec.from_dict(json.loads(spec_json))).test
    images = np.asarray(test.images.numpy() if hasattr(test.images, "numpy") else test.images, np.uint8)
    labels = np.asarray(test.labels.numpy() if hasattr(test.labels, "numpy") else test.labels, np.int64)
    indices = getattr(test, "indices", None)
    indices = np.arange(len(images)) if indices is None else np.asarray(indices, np.int64)
    for a in (images, labels, indices):
        a.flags.writeable = False  # shared between callers
    return TestSplit(images, labels, indices, list(classes))


def test_split(run: Run) -> TestSplit:
    """The run's test split with its class names (its class count as numbers when it never recorded names)."""
    classes = tuple(run.classes or [str(i) for i in range(run.num_classes)])
    return _test_split(json.dumps(run.record.train.data.to_dict(), sort_keys=True), classes)


def test_images(run: Run) -> np.ndarray:
    """uint8 (N, 28, 28) test images, in the order of predictions.npz when present."""
    images = test_split(run).images
    preds = run.predictions()
    if preds is not None and len(preds.indices) and preds.indices.max() >= len(images):
        raise RunFileError(run.predictions_path, f"points at test image {int(preds.indices.max())} but the "
                                                 f"test split has {len(images)} images")
    return images[preds.indices] if preds is not None else images.copy()


def image_ref(run: Run, ref: str) -> Any:
    """The (1, 28, 28) float image in [0, 1] for `ref`: "test:N" (the N-th image in test_images' order)
    or an image file (through the one preprocessing path). ValueError/FileNotFoundError say what to give."""
    if ref.startswith("test:"):
        try:
            index = int(ref[5:])
        except ValueError:
            raise ValueError(f"bad image reference {ref!r}: use test:N with N an integer") from None
        images = test_images(run)
        if not 0 <= index < len(images):
            raise ValueError(f"test image {index} out of range: the run's test split has {len(images)} images "
                             f"(use test:0 to test:{len(images) - 1})")
        from explorer.models.inference import to_batch

        return to_batch(images[index])[0]
    path = Path(ref)
    if not path.is_file():
        raise FileNotFoundError(f"image file not found: {ref} (give a file, or test:N for a test image)")
    from explorer.data import preprocess_image

    return preprocess_image(path.read_bytes())
