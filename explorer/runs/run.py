"""A run: one folder of the store read through its record (config.json, read and checked once per change) and
the checked readers of its status, history, metrics, predictions and weights; its writers; its test split.
Checkpoints are explorer.runs.checkpoint's, derived results explorer.runs.derived's (Run.derived)."""

from __future__ import annotations

import copy
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from explorer.io import append_jsonl, atomic_path, atomic_write_json
from explorer.runs import checkpoint as ckpt
from explorer.runs import split
from explorer.runs.checks import (
    RunFileError,
    check_metrics,
    check_status,
    effective_status,
    read_design,
    read_history,
    read_json,
    read_predictions,
)
from explorer.runs.derived import Derived
from explorer.runs.layout import CONFIG, DESIGN, HISTORY, METRICS, PREDICTIONS, STATUS, STOP_FILE, WEIGHTS
from explorer.runs.record import RunRecord, read_record
from explorer.runs.split import TestSplit
from explorer.untrusted import parse_created

__all__ = ["Predictions", "Run", "RunInfo", "weights_stamp"]


@dataclass(frozen=True)
class Predictions:
    """Test-set predictions of a run: enough to recompute every metric."""

    y_true: np.ndarray
    y_prob: np.ndarray
    indices: np.ndarray
    classes: list[str]


@dataclass(frozen=True)
class RunInfo:
    """One row of the runs list."""

    run_id: str
    name: str
    model: str
    dataset: str
    status: str
    created: str
    epochs_done: int
    epochs: int
    best_val_acc: float | None
    test_acc: float | None
    tags: list[str] = field(default_factory=list)
    path: str = ""
    error: str = ""  # set for a run that cannot be read: which file and why (status is then "unreadable")

    @property
    def readable(self) -> bool:
        """False for a run listed as unreadable (see `error`)."""
        return not self.error

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (for DataFrames)."""
        return dict(self.__dict__)


def weights_stamp(path: str | os.PathLike) -> tuple[int, int]:
    """(size, mtime in ns) of a weights file: the ONE stamp that ties a loaded model, a stored view or a cached
    result to the weights it came from (a rewritten file has another stamp)."""
    st = os.stat(path)
    return int(st.st_size), int(st.st_mtime_ns)


class Run:
    """A run folder: read its record, status, history, metrics, predictions and weights; write them."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        if not (self.path / CONFIG).is_file():
            raise FileNotFoundError(f"{self.path} is not a run folder (no config.json)")
        self.derived = Derived(self.path)

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r})"

    @property
    def run_id(self) -> str:
        """The run's id (its folder name)."""
        return self.path.name

    # ---- the record (config.json, read and checked once per change) --------------------------------
    @property
    def record(self) -> RunRecord:
        """The run's RunRecord; RunFileError names what is wrong with config.json."""
        return read_record(self.path)

    @property
    def config(self) -> dict[str, Any]:
        """A copy of config.json as checked (prefer `record`'s typed fields)."""
        return self.record.config()

    @property
    def classes(self) -> list[str]:
        """The run's class names (empty before training has read its data)."""
        return list(self.record.classes)

    @property
    def num_classes(self) -> int:
        """Number of classes the run's model outputs (config's model record, else its classes, else 26)."""
        return self.record.num_classes

    @property
    def model_name(self) -> str:
        """The registry model name the run trains."""
        return self.record.model_name

    @property
    def dataset(self) -> str:
        """The dataset name the run trains and is tested on."""
        return self.record.dataset

    def train_config(self) -> Any:
        """The run's TrainConfig, checked against every bound (RunFileError naming the file and the value)."""
        return self.record.train

    # ---- status -----------------------------------------------------------------------------------
    def checked_status(self) -> dict[str, Any]:
        """status.json as written, type-checked (check_status); RunFileError when it is unreadable."""
        return check_status(read_json(self.path / STATUS), self.path / STATUS)

    @property
    def raw_status(self) -> dict[str, Any]:
        """status.json as written (no liveness check); a missing or invalid one reads as interrupted with
        the reason as its error, so stop, resume and delete still work on the run."""
        try:
            return self.checked_status()
        except FileNotFoundError:
            return {"status": "interrupted", "error": f"{self.path / STATUS} is missing"}
        except RunFileError as exc:
            return {"status": "interrupted", "error": str(exc)}

    @property
    def status(self) -> dict[str, Any]:
        """status.json with "status" replaced by the effective status (running -> interrupted when dead)."""
        raw = self.raw_status
        return {**raw, "status": effective_status(raw)}

    def check_usable(self) -> None:
        """The ONE rule of "is this run usable" for views of its trained model: ValueError while it is still
        training (its weights change every epoch), FileNotFoundError when it has no saved weights yet."""
        status = self.status
        if status.get("status") == "running":
            raise ValueError(f"run {self.run_id} is still training (epoch {status.get('epoch', '?')}): its weights "
                             "change every epoch; use it once it has finished or been stopped")
        self.weights_path("best")

    @property
    def stop_requested(self) -> bool:
        """True when a STOP file asks the worker to stop."""
        return (self.path / STOP_FILE).exists()

    def request_stop(self) -> None:
        """Ask the run's worker to stop cleanly between steps (the STOP file)."""
        (self.path / STOP_FILE).touch()

    def clear_stop(self) -> None:
        """Withdraw a stop request (before a resume)."""
        (self.path / STOP_FILE).unlink(missing_ok=True)

    # ---- results ----------------------------------------------------------------------------------
    def history(self) -> list[dict[str, Any]]:
        """Per-epoch records (history.jsonl), type-checked (checks.read_history)."""
        return read_history(self.path / HISTORY)

    def metrics(self) -> dict[str, Any] | None:
        """Final test metrics (type-checked), or None when the run has not finished testing."""
        p = self.path / METRICS
        return check_metrics(read_json(p), p) if p.is_file() else None

    @property
    def predictions_path(self) -> Path:
        """Where the test predictions are (or will be) saved: for cache keys and messages."""
        return self.path / PREDICTIONS

    def has_predictions(self) -> bool:
        """True when the run has saved test predictions."""
        return self.predictions_path.is_file()

    def predictions(self) -> Predictions | None:
        """Test-set predictions (predictions.npz, loaded without pickle, checked), or None."""
        p = self.predictions_path
        return Predictions(*read_predictions(p, self.num_classes), self.classes) if p.is_file() else None

    # ---- weights and the model --------------------------------------------------------------------
    def weights_path(self, which: str = "best") -> Path:
        """Path of weights_best/last.safetensors (best falls back to last)."""
        if which not in ("best", "last"):
            raise ValueError(f"which must be 'best' or 'last', got {which!r}")
        p = self.path / WEIGHTS[which]
        if not p.is_file() and which == "best":
            p = self.path / WEIGHTS["last"]
        if not p.is_file():
            raise FileNotFoundError(f"run {self.run_id} has no saved weights yet (no completed epoch)")
        return p

    def weights_stamp(self, which: str = "best") -> tuple[int, int]:
        """weights_stamp of the weights file weights_path(which) picks (FileNotFoundError when there is none)."""
        return weights_stamp(self.weights_path(which))

    def read_weights(self, which: str = "best", fallback: bool = True) -> dict[str, Any] | None:
        """The state dict in weights_best/last (best falls back to last unless fallback=False; None when
        there is no such file and no fallback)."""
        if not fallback and not (self.path / WEIGHTS[which]).is_file():
            return None
        return ckpt.read_weights_file(self.weights_path(which))

    def model_spec(self) -> dict[str, Any] | None:
        """The design the run trained (design.json, checked), or None: every rebuild of its model passes it on."""
        return read_design(self.path / DESIGN)

    def build_model(self) -> Any:
        """The run's model, untrained (the run's own design for a design:NAME model)."""
        from explorer.models import build_from_config

        model, _ = build_from_config(self.record.train, self.num_classes, load_pretrained=False,
                                     spec=self.model_spec())
        return model

    def load_model(self, which: str = "best", device: str = "cpu") -> Any:
        """The trained LettersModel (eval mode) on `device`, weights from safetensors."""
        model = self.build_model()
        try:
            model.load_state_dict(self.read_weights(which))
        except RuntimeError as exc:  # size mismatch, missing or unexpected keys
            reason = str(exc).replace("\n", " ").replace("\t", "")[:240]
            raise RunFileError(self.weights_path(which), f"does not fit the run's model {self.model_name} ({reason})",
                               "it belongs to another model or is damaged; retrain the run or delete it") from None
        return model.to(device).eval()

    # ---- data -------------------------------------------------------------------------------------
    def splits(self) -> Any:
        """The run's data splits (explorer.data.Splits), rebuilt from its DataSpec (deterministic)."""
        from explorer.data import make_splits

        return make_splits(self.record.train.data)

    def test_split(self) -> TestSplit:
        """The ONE way to the run's test split (explorer.runs.split.test_split: numpy, split order, cached)."""
        return split.test_split(self)

    def test_images(self) -> np.ndarray:
        """uint8 (N, 28, 28) test images, in the order of predictions.npz when present."""
        return split.test_images(self)

    def image_ref(self, ref: str) -> Any:
        """The (1, 28, 28) float image for "test:N" or an image file (explorer.runs.split.image_ref)."""
        return split.image_ref(self, ref)

    def info(self) -> RunInfo:
        """Summary row for lists; RunFileError when one of its files is unreadable (see list_runs)."""
        rec = self.record
        if (self.path / STATUS).is_file():
            self.checked_status()
        hist = self.history()
        vals = [h.get("val_acc") for h in hist if h.get("val_acc") is not None]
        return RunInfo(run_id=self.run_id, name=rec.name, model=rec.model_name, dataset=rec.dataset,
                       status=self.status["status"], created=parse_created(rec.created), epochs_done=len(hist),
                       epochs=rec.train.total_epochs, best_val_acc=max(vals) if vals else None,
                       test_acc=(self.metrics() or {}).get("test_acc"), tags=list(rec.tags), path=str(self.path))

    # ---- writers (the training loop, evaluate-now, the store) -------------------------------------
    def write_status(self, **fields: Any) -> dict[str, Any]:
        """Merge `fields` into status.json (atomically) and return the new status."""
        status = {**self.raw_status, **fields, "heartbeat": time.time()}
        atomic_write_json(self.path / STATUS, status)
        return status

    def update_config(self, **fields: Any) -> RunRecord:
        """Merge top-level `fields` into config.json (atomically) and return the record read back."""
        atomic_write_json(self.path / CONFIG, {**self.record.raw, **copy.deepcopy(fields)})
        return self.record

    def append_history(self, row: dict[str, Any]) -> None:
        """Add one epoch's record to history.jsonl (atomically)."""
        append_jsonl(self.path / HISTORY, row)

    def write_metrics(self, metrics: dict[str, Any]) -> None:
        """Save the final test metrics (metrics.json, atomically)."""
        atomic_write_json(self.path / METRICS, metrics)

    def write_predictions(self, y_true: Any, y_prob: Any, indices: Any) -> Predictions:
        """Save test-set predictions atomically as predictions.npz (the format predictions() reads)."""
        arrays = {"y_true": np.asarray(y_true).astype(np.int64), "y_prob": np.asarray(y_prob).astype(np.float32),
                  "indices": np.asarray(indices).astype(np.int64)}
        with atomic_path(self.predictions_path) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, **arrays)
        return Predictions(arrays["y_true"], arrays["y_prob"], arrays["indices"], self.classes)

    # ---- checkpoints (explorer.runs.checkpoint owns the protocol) ----------------------------------
    def check_resumable(self) -> None:
        """Read what a resume needs through their checks, so a damaged file is refused (RunFileError) before
        the run's status is touched."""
        self.history()
        has_weights = any((self.path / n).is_file() for n in WEIGHTS.values())
        want = {k: tuple(v.shape) for k, v in self.build_model().state_dict().items()} if has_weights else None
        ckpt.check_files(self.path, want, self.model_name)

    def has_checkpoint(self) -> bool:
        """True when the run has (possibly half-renamed) resume state on disk."""
        return ckpt.has_checkpoint(self.path)

    def save_checkpoint(self, weights: dict[str, Any], optimizer: dict[str, Any], loop: dict[str, Any],
                        history_row: dict[str, Any] | None = None, is_best: bool = False) -> None:
        """Save the checkpoint of completed epoch loop["epoch"] (checkpoint.save_checkpoint)."""
        ckpt.save_checkpoint(self.path, weights, optimizer, loop, history_row, is_best)

    def load_checkpoint(self) -> ckpt.Checkpoint | None:
        """The newest whole checkpoint, settled (checkpoint.load_checkpoint), or None."""
        return ckpt.load_checkpoint(self.path)

    def sync_history(self, checkpoint: ckpt.Checkpoint | None) -> None:
        """On resume: history.jsonl cut back to the checkpoint's epoch (checkpoint.sync_history)."""
        ckpt.sync_history(self.path, self.history() if checkpoint is not None else [], checkpoint)
