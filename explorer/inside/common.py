"""What every inside-view shares: the run's test split and model with InsideError refusals (Run.check_usable
owns "is this run usable", Run.test_split the test split, Run.weights_stamp the stamp of a stored view)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from explorer.runs import Run, TestSplit, open_run

Progress = Callable[[float, str], None]


class InsideError(ValueError):
    """A view cannot be computed for this run or layer; the message says why and what to do."""


def no_progress(_fraction: float, _text: str) -> None:
    """A progress callback that does nothing."""


def usable_run(ref: Any) -> Run:
    """Open a run and refuse (InsideError) one Run.check_usable refuses: still training, or no weights."""
    run = open_run(ref)
    try:
        run.check_usable()
    except (ValueError, FileNotFoundError) as exc:
        raise InsideError(str(exc)) from None
    return run


def test_split(run: Run) -> TestSplit:
    """The run's test split (Run.test_split, the one owner) with InsideError when it cannot be loaded."""
    try:
        return run.test_split()
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise InsideError(f"cannot load the test split of run {run.run_id}: {exc}") from None


def run_model(run: Run) -> torch.nn.Module:
    """The run's best model from the one model cache (InsideError for missing or corrupt weights)."""
    from explorer.run_models import WeightsError, load_run_model

    try:
        return load_run_model(run, "best")
    except (WeightsError, FileNotFoundError) as exc:
        raise InsideError(str(exc)) from None


def on_device(model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """The model itself on its own device, else an eval-mode copy on `device` (the cached model stays put)."""
    import copy

    from explorer.models.inference import model_device

    if model_device(model) == device:
        return model
    return copy.deepcopy(model).to(device).eval()
