"""What every inside-view shares: the run's test split, its model, the stamp that ties a stored
view to the weights it was computed from, and the refusals (run still training, no weights)."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from explorer.runs import Run, open_run

Progress = Callable[[float, str], None]


class InsideError(ValueError):
    """A view cannot be computed for this run or layer; the message says why and what to do."""


def no_progress(_fraction: float, _text: str) -> None:
    """A progress callback that does nothing."""


@dataclass(frozen=True)
class TestSplit:
    """A run's test images (uint8 (N, 28, 28), split order) with their labels and class names."""

    images: np.ndarray
    labels: np.ndarray
    classes: list[str]


def usable_run(ref: Any) -> Run:
    """Open a run and refuse one that is still training or has no weights (InsideError)."""
    run = open_run(ref)
    status = run.status
    if status.get("status") == "running":
        raise InsideError(f"run {run.run_id} is still training (epoch {status.get('epoch', '?')}); its weights "
                          "change every epoch. Look inside it once it has finished or been stopped.")
    try:
        run.weights_path("best")
    except FileNotFoundError as exc:
        raise InsideError(str(exc)) from None
    return run


def test_split(run: Run) -> TestSplit:
    """The run's test split rebuilt from its data spec (InsideError when it cannot be loaded); the last
    few are kept in memory, keyed by the data spec, so a revisit does not reload the dataset."""
    spec = (run.config.get("train") or {}).get("data")
    classes = tuple(run.classes or [str(i) for i in range(run.num_classes)])
    try:
        return _test_split(json.dumps(spec, sort_keys=True), classes)
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise InsideError(f"cannot load the test split of run {run.run_id}: {exc}") from None


@functools.lru_cache(maxsize=4)
def _test_split(spec: str, classes: tuple[str, ...]) -> TestSplit:
    """test_split's cached body (the arrays are shared: callers must not write into them)."""
    from explorer.data import DataSpec, make_splits

    test = make_splits(DataSpec.from_dict(json.loads(spec))).test
    images = np.asarray(test.images.numpy() if isinstance(test.images, torch.Tensor) else test.images, np.uint8)
    labels = np.asarray(test.labels.numpy() if isinstance(test.labels, torch.Tensor) else test.labels, np.int64)
    return TestSplit(images, labels, list(classes))


def weights_stamp(run: Run) -> list[int]:
    """[size, mtime_ns] of the run's best weights: a stored view with another stamp is stale."""
    st = run.weights_path("best").stat()
    return [int(st.st_size), int(st.st_mtime_ns)]


def run_model(run: Run) -> torch.nn.Module:
    """The run's best model from the one model cache (InsideError for missing or corrupt weights)."""
    from explorer.run_models import WeightsError, load_run_model

    try:
        return load_run_model(run, "best")
    except (WeightsError, FileNotFoundError) as exc:
        raise InsideError(str(exc)) from None


def pick_device(device: str | None = None) -> torch.device:
    """`device` through explorer.devices.resolve_device (one ValueError for "foo" or "cuda" without a GPU),
    else cuda when available, else cpu."""
    from explorer.devices import resolve_device

    return resolve_device(device or "auto")


def on_device(model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """The model itself on its own device, else an eval-mode copy on `device` (the cached model stays put)."""
    import copy

    from explorer.models.inference import model_device

    if model_device(model) == device:
        return model
    return copy.deepcopy(model).to(device).eval()
