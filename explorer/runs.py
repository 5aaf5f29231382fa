"""The runs store: one folder per run under a runs root (default ./runs, env EXPLORER_RUNS).

`Run` is the only code that knows the file names of a run folder (every write atomic: write a
temporary file, then rename): config.json, status.json, history.jsonl, weights_best.safetensors,
weights_last.safetensors, optimizer_last.pt (tensors and plain containers; loaded with
weights_only=True), metrics.json, predictions.npz, STOP. A checkpoint (weights_last, optimizer_last
and, when it improved, weights_best) is one unit: every file records its epoch, the new files are
written whole beside the old ones (*.next.*) before any is renamed into place, and a load picks the
newest epoch whose files agree. A run whose status says "running" but whose process is gone (or
whose heartbeat is stale) is reported as "interrupted". Nothing here unpickles untrusted data.
"""

from __future__ import annotations

import errno
import io
import json
import os
import platform
import re
import shutil
import socket
import tempfile
import time
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from explorer.io import (
    RUNS_ENV,
    DiskFullError,
    append_jsonl,
    atomic_path,
    atomic_write_json,
    atomic_write_text,
    clean_stale_temp,
    disk_full_guard,
    fault_point,
    is_live,
    process_start,
    runs_root,
    safe_name,
    temp_prefix,
)
from explorer.untrusted import CREATED_FORMAT, parse_created, run_strings_problems

STATUSES = ("running", "completed", "stopped", "failed", "interrupted")
ALLOWED_SUFFIXES = (".json", ".jsonl", ".safetensors", ".npz", ".pt")
MiB = 1 << 20
# What a real run folder needs, per file (the largest registry model, VGG-19 at 26 classes, is ~560 MB of float32
# weights; Adam keeps two more copies; history: at most 1000 epochs of ~1 KiB rows; predictions: the largest test
# split x its classes in float32). A zip asking for more is refused before anything is unpacked.
IMPORT_CAPS = {"config.json": 1 * MiB, "status.json": 1 * MiB, "metrics.json": 4 * MiB, "history.jsonl": 8 * MiB,
               "predictions.npz": 512 * MiB, "weights_best.safetensors": 1024 * MiB,
               "weights_last.safetensors": 1024 * MiB, "optimizer_last.pt": 3072 * MiB, "design.json": 64 * 1024}
MAX_IMPORT_BYTES = 4096 * MiB  # the whole folder
MAX_RATIO = 50.0  # uncompressed/compressed: weights and predictions barely compress, JSON about 5-10x
RATIO_FROM = 1 * MiB  # files smaller than this are not held to the ratio
STOP_FILE = "STOP"
CONFIG, STATUS, HISTORY, METRICS, PREDICTIONS = "config.json", "status.json", "history.jsonl", "metrics.json", "predictions.npz"
WEIGHTS = {"best": "weights_best.safetensors", "last": "weights_last.safetensors"}
OPTIMIZER = "optimizer_last.pt"
DESIGN = "design.json"  # the design a run of a design:NAME model trained (explorer.design), kept with the run
CACHE_DIR = "cache"  # derived results (trust figures, ...): cache/<name>.json, {"key": ..., "value": ...}
RUN_FILES = {CONFIG, STATUS, HISTORY, METRICS, PREDICTIONS, *WEIGHTS.values(), OPTIMIZER, DESIGN}
VAL_EPOCHS_DIR, VIEWS_DIR = "val_epochs", "inside"  # per-epoch validation predictions; stored inside-views
_VIEW_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,120}")


def versions() -> dict[str, str]:
    """Versions of the libraries a run depends on."""
    import timm
    import torch
    import torchvision

    import explorer

    return {"torch": torch.__version__, "torchvision": torchvision.__version__, "timm": timm.__version__,
            "explorer": explorer.__version__, "python": platform.python_version()}


def effective_status(status: dict[str, Any]) -> str:
    """The status to show: "running" becomes "interrupted" unless explorer.io.is_live says its worker is live
    (a recent heartbeat, not in the future, and on this host a live pid that is the process that wrote it)."""
    state = status.get("status", "interrupted")
    if state != "running":
        return state if state in STATUSES else "interrupted"
    here = status.get("host") == socket.gethostname()
    live = is_live(status.get("pid") if here else None, status.get("heartbeat"), started=status.get("pid_start"))
    return "running" if live else "interrupted"


OPTIMIZER_ADVICE = ("the run cannot resume from it: restore it from a backup or an export, or train a new run "
                    "with the same settings")
ADVICE = "restore it from a backup or an export, or delete the run (`python -m explorer runs delete RUN --yes`)"


class RunFileError(ValueError):
    """A file of a run folder cannot be used: the message names the file, what is wrong and what to do."""

    def __init__(self, path: str | os.PathLike, reason: str, advice: str = ADVICE) -> None:
        self.path, self.reason = Path(path), reason
        super().__init__(f"{path}: {reason}; {advice}")


def _is_num(v: Any) -> bool:
    """A finite int or float (bool is not a number here)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v == v and abs(v) != float("inf")


def _is_int(v: Any) -> bool:
    """An int (bool is not)."""
    return isinstance(v, int) and not isinstance(v, bool)


def _type_name(v: Any) -> str:
    """A short description of a JSON value for messages: 'a list [1, 2]'."""
    kind = {dict: "an object", list: "a list", str: "text", bool: "true/false", type(None): "null"}
    return f"{kind.get(type(v), 'a number')} {json.dumps(v, default=str)[:40]}"


def _read_json(path: Path) -> Any:
    """Parse a JSON file of a run; RunFileError (never a traceback) when it is unreadable or not JSON."""
    try:
        return json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise
    except UnicodeDecodeError as exc:
        raise RunFileError(path, f"is not UTF-8 text (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise RunFileError(path, f"is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    except OSError as exc:
        raise RunFileError(path, f"cannot be read ({exc.strerror or exc})") from None


def _need(ok: bool, path: Path, what: str, value: Any) -> None:
    """Raise RunFileError(path, 'WHAT must be ..., got VALUE') unless ok."""
    if not ok:
        raise RunFileError(path, f"{what}, got {_type_name(value)}")


def check_config(cfg: Any, path: Path) -> dict[str, Any]:
    """The one type check of a run's config.json (and its TrainConfig's bounds); RunFileError if bad."""
    _need(isinstance(cfg, dict), path, "must hold a JSON object", cfg)
    for key in ("name", "created", "run_id"):
        _need(isinstance(cfg.get(key, ""), str), path, f'"{key}" must be text', cfg.get(key))
    tags, classes = cfg.get("tags") or [], cfg.get("classes") or []
    _need(isinstance(tags, list) and all(isinstance(t, str) for t in tags), path, '"tags" must be a list of text', tags)
    _need(isinstance(classes, list) and all(isinstance(c, (str, int)) and not isinstance(c, bool) for c in classes),
          path, '"classes" must be a list of names', classes)
    model = cfg.get("model") or {}
    _need(isinstance(model, dict), path, '"model" must be an object', model)
    k = model.get("num_classes")
    _need(k is None or (_is_int(k) and 0 < k <= 100_000), path, '"model.num_classes" must be a whole number > 0', k)
    train = cfg.get("train")
    _need(isinstance(train, dict), path, '"train" must be an object (the training settings)', train)
    try:
        from explorer.config import TrainConfig

        TrainConfig.from_dict(train).validate()
    except Exception as exc:  # from_dict/validate raise ValueError or TypeError for values of the wrong type
        raise RunFileError(path, f'"train" is not a valid training config ({str(exc)[:200]})') from None
    return cfg


def check_status(status: Any, path: Path) -> dict[str, Any]:
    """The one type check of status.json (status name, pid > 0, finite heartbeat, whole epoch); RunFileError."""
    _need(isinstance(status, dict), path, "must hold a JSON object", status)
    state = status.get("status")
    _need(state in STATUSES, path, f'"status" must be one of {", ".join(STATUSES)}', state)
    pid, beat = status.get("pid"), status.get("heartbeat")
    _need(pid is None or (_is_int(pid) and 0 < pid < 1 << 31), path, '"pid" must be a process id > 0 or null', pid)
    _need(beat is None or _is_num(beat), path, '"heartbeat" must be a time in seconds', beat)
    for key in ("epoch", "stage"):
        v = status.get(key)
        _need(v is None or (_is_int(v) and v >= 0), path, f'"{key}" must be a whole number >= 0', v)
    for key in ("error", "host", "phase", "device"):
        v = status.get(key)
        _need(v is None or isinstance(v, str), path, f'"{key}" must be text or null', v)
    return status


def check_history_row(row: Any, path: Path, line: int) -> dict[str, Any]:
    """One history.jsonl record: an object with a whole epoch >= 1 and numbers (or null) for its metrics."""
    _need(isinstance(row, dict), path, f"line {line} must be a JSON object", row)
    _need(_is_int(row.get("epoch")) and row["epoch"] >= 1, path, f'line {line}: "epoch" must be a whole number >= 1',
          row.get("epoch"))
    for key, v in row.items():
        if key != "stage_name" and v is not None:
            _need(isinstance(v, (int, float)), path, f'line {line}: "{key}" must be a number', v)
    return row


def check_metrics(metrics: Any, path: Path) -> dict[str, Any]:
    """metrics.json: an object whose accuracy, loss, size and time values are numbers (or null)."""
    _need(isinstance(metrics, dict), path, "must hold a JSON object", metrics)
    for key, v in metrics.items():
        if v is not None and key.endswith(("_acc", "_loss", "_size", "_s", "epoch")):
            _need(isinstance(v, (int, float)) and not isinstance(v, bool), path, f'"{key}" must be a number', v)
    return metrics


def config_classes(config: dict[str, Any]) -> list[str]:
    """Class names recorded in a run's config.json (empty before training has read its data)."""
    return [str(c) for c in config.get("classes") or []]


def config_num_classes(config: dict[str, Any]) -> int:
    """Outputs of a run's model: the config's model record, else its class count, else 26."""
    return int((config.get("model") or {}).get("num_classes") or len(config_classes(config)) or 26)


def config_model_name(config: dict[str, Any]) -> str:
    """The registry model name a run's config.json trains ("?" when unreadable)."""
    train = config.get("train")
    return str(train.get("model", "?")) if isinstance(train, dict) else "?"


def config_dataset(config: dict[str, Any]) -> str:
    """The dataset name a run's config.json trains and tests on ("?" when unreadable)."""
    train = config.get("train")
    data = train.get("data") if isinstance(train, dict) else None
    return str(data.get("name", "?")) if isinstance(data, dict) else "?"


@dataclass(frozen=True)
class Predictions:
    """Test-set predictions of a run: enough to recompute every metric."""

    y_true: np.ndarray
    y_prob: np.ndarray
    indices: np.ndarray
    classes: list[str]


@dataclass(frozen=True)
class Checkpoint:
    """The state a run resumes from: weights, optimizer and loop state of one completed epoch."""

    epoch: int
    weights: dict[str, Any]  # state_dict of the LettersModel (cpu tensors)
    optimizer: dict[str, Any]
    loop: dict[str, Any]
    history_row: dict[str, Any] | None = None


def _load_optimizer_file(path: Path) -> dict[str, Any]:
    """Load optimizer_last.pt (tensors and plain containers only; nothing else is unpickled); RunFileError
    naming the file when it is damaged, foreign or holds any other object."""
    import torch

    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # UnpicklingError (a foreign object, refused), EOFError, RuntimeError (truncated)
        raise RunFileError(path, f"is damaged or holds objects other than tensors and plain containers, which are "
                                 f"never loaded ({type(exc).__name__})", OPTIMIZER_ADVICE) from None
    loop = payload.get("loop") if isinstance(payload, dict) else None
    epoch = payload.get("epoch", (loop or {}).get("epoch")) if isinstance(loop, dict) else None
    if not (isinstance(loop, dict) and _is_int(epoch) and isinstance(payload.get("optimizer"), dict)):
        raise RunFileError(path, "is not a checkpoint of this app (no epoch, loop or optimizer state)", OPTIMIZER_ADVICE)
    return payload


def _pending(name: str) -> str:
    """The name a checkpoint file has while the checkpoint is being written: weights_last.next.safetensors."""
    stem, dot, suffix = name.partition(".")
    return f"{stem}.next{dot}{suffix}"


def _weights_epoch(path: Path) -> int | None:
    """The epoch recorded in a safetensors file's metadata (None: older file without it)."""
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as f:
            epoch = (f.metadata() or {}).get("epoch")
        return int(epoch) if epoch is not None else None
    except Exception as exc:  # SafetensorError for a truncated/foreign file, ValueError for a bad epoch
        raise RunFileError(path, f"is not a readable safetensors weights file ({type(exc).__name__})") from None


def _check_shapes(path: Path, want: dict[str, tuple[int, ...]], model: str) -> None:
    """RunFileError unless the safetensors file holds exactly the tensors (names, shapes) of the model."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        got = {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}  # noqa: SIM118 (not iterable)
    if got != want:
        diff = sorted(set(got.items()) ^ set(want.items()))[0][0]
        raise RunFileError(path, f"does not fit the run's model {model} (tensor {diff!r} is missing, extra or of "
                                 "another shape)", "it belongs to another model or is damaged; restore it or delete "
                                                   "the run")


def _save_weights(path: Path, weights: dict[str, Any], epoch: int) -> None:
    """Write a state dict as safetensors (epoch in the metadata), atomically; a full disk is a DiskFullError."""
    from safetensors.torch import save

    state = {k: v.detach().to("cpu").contiguous() for k, v in weights.items()}
    data = save(state, metadata={"format": "pt", "epoch": str(epoch)})  # bytes: our own write sees ENOSPC
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def _save_torch(path: Path, payload: dict[str, Any]) -> None:
    """torch.save a payload of tensors and plain containers, atomically (written by Python: ENOSPC is seen)."""
    import io

    import torch

    buf = io.BytesIO()
    torch.save(payload, buf)
    with atomic_path(path) as tmp:
        tmp.write_bytes(buf.getbuffer())


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


class Run:
    """A run folder: read its config, status, history, metrics, predictions and weights."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        if not (self.path / CONFIG).is_file():
            raise FileNotFoundError(f"{self.path} is not a run folder (no config.json)")

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r})"

    @property
    def run_id(self) -> str:
        """The run's id (its folder name)."""
        return self.path.name

    @property
    def config(self) -> dict[str, Any]:
        """config.json as a dict, type-checked (check_config); RunFileError names what is wrong."""
        return check_config(_read_json(self.path / CONFIG), self.path / CONFIG)

    @property
    def classes(self) -> list[str]:
        """The run's class names (config.json; empty before training has read its data)."""
        return config_classes(self.config)

    @property
    def num_classes(self) -> int:
        """Number of classes the run's model outputs (config's model record, else its classes, else 26)."""
        return config_num_classes(self.config)

    @property
    def model_name(self) -> str:
        """The registry model name the run trains."""
        return config_model_name(self.config)

    @property
    def dataset(self) -> str:
        """The dataset name the run trains and is tested on."""
        return config_dataset(self.config)

    def train_config(self) -> Any:
        """The run's TrainConfig, checked against every bound (ValueError naming the run and the value)."""
        from explorer.config import TrainConfig

        train = self.config.get("train")
        try:
            return TrainConfig.from_dict(train).validate()
        except (TypeError, ValueError) as exc:
            raise ValueError(f"run {self.run_id}: config.json has an invalid training config: {exc}") from exc

    def checked_status(self) -> dict[str, Any]:
        """status.json as written, type-checked (check_status); RunFileError when it is unreadable."""
        return check_status(_read_json(self.path / STATUS), self.path / STATUS)

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

    def history(self) -> list[dict[str, Any]]:
        """Per-epoch records (history.jsonl), type-checked; a torn last line is skipped, any other bad
        line is a RunFileError."""
        p = self.path / HISTORY
        try:
            text = p.read_text("utf-8")
        except FileNotFoundError:
            return []
        except (OSError, UnicodeDecodeError) as exc:
            raise RunFileError(p, f"cannot be read as text ({type(exc).__name__})") from None
        lines = text.splitlines()
        from explorer.config import MAX_TOTAL_EPOCHS

        rows_n = sum(1 for line in lines if line.strip())
        if rows_n > MAX_TOTAL_EPOCHS:  # one row per epoch: more than a run can have is a damaged or foreign file
            raise RunFileError(p, f"{rows_n:,} rows, more than the {MAX_TOTAL_EPOCHS:,} epochs a run can have")
        rows = []
        for i, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                if i == len(lines) and not text.endswith("\n"):
                    continue  # a torn last line from an older writer
                raise RunFileError(p, f"line {i} is not valid JSON ({exc.msg})") from None
            rows.append(check_history_row(row, p, i))
        return rows

    def metrics(self) -> dict[str, Any] | None:
        """Final test metrics (type-checked), or None when the run has not finished testing."""
        p = self.path / METRICS
        return check_metrics(_read_json(p), p) if p.is_file() else None

    @property
    def predictions_path(self) -> Path:
        """Where the test predictions are (or will be) saved: for cache keys and messages."""
        return self.path / PREDICTIONS

    def has_predictions(self) -> bool:
        """True when the run has saved test predictions."""
        return self.predictions_path.is_file()

    def predictions(self) -> Predictions | None:
        """Test-set predictions (predictions.npz, loaded without pickle), or None."""
        p = self.predictions_path
        if not p.is_file():
            return None
        try:
            with np.load(p, allow_pickle=False) as z:
                arrays = {k: z[k] for k in ("y_true", "y_prob", "indices")}
        except KeyError as exc:
            raise RunFileError(p, f"has no array {exc}") from None
        except Exception as exc:  # BadZipFile, EOFError, ValueError (a pickle, refused), OSError ...
            raise RunFileError(p, f"is damaged or not a predictions file ({type(exc).__name__})") from None
        return self._checked_predictions(p, arrays)

    def _checked_predictions(self, p: Path, a: dict[str, np.ndarray]) -> Predictions:
        """Check shapes, dtypes and ranges of loaded prediction arrays; RunFileError names the problem."""
        y_true, y_prob, indices = a["y_true"], a["y_prob"], a["indices"]
        k = self.num_classes
        if not all(x.dtype.kind in "iuf" for x in (y_true, y_prob, indices)):
            raise RunFileError(p, "holds arrays that are not numbers")
        n = len(y_true) if y_true.ndim == 1 else -1
        if n < 0 or y_prob.shape != (n, k) or indices.shape != (n,):
            raise RunFileError(p, f"has arrays of the wrong shapes (y_true {y_true.shape}, y_prob {y_prob.shape}, "
                                  f"indices {indices.shape}; expected (N,), (N, {k}), (N,))")
        if n and (y_true.min() < 0 or y_true.max() >= k or indices.min() < 0):
            raise RunFileError(p, f"has labels outside 0..{k - 1} or negative image indices")
        if not np.isfinite(y_prob).all():
            raise RunFileError(p, "has probabilities that are NaN or infinite")
        return Predictions(y_true.astype(np.int64), y_prob.astype(np.float32), indices.astype(np.int64), self.classes)

    def write_predictions(self, y_true: Any, y_prob: Any, indices: Any) -> Predictions:
        """Save test-set predictions atomically as predictions.npz (the format predictions() reads)."""
        arrays = {"y_true": np.asarray(y_true).astype(np.int64), "y_prob": np.asarray(y_prob).astype(np.float32),
                  "indices": np.asarray(indices).astype(np.int64)}
        with atomic_path(self.predictions_path) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, **arrays)
        return Predictions(arrays["y_true"], arrays["y_prob"], arrays["indices"], self.classes)

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

    def read_weights(self, which: str = "best", fallback: bool = True) -> dict[str, Any] | None:
        """The state dict in weights_best/last (best falls back to last unless fallback=False; None when
        there is no such file and no fallback)."""
        from safetensors.torch import load_file

        if not fallback and not (self.path / WEIGHTS[which]).is_file():
            return None
        path = self.weights_path(which)
        try:
            return load_file(str(path))
        except Exception as exc:  # SafetensorError, OSError ... for a truncated, empty or foreign file
            raise RunFileError(path, f"is not a readable safetensors weights file ({type(exc).__name__})") from None

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

    def splits(self) -> Any:
        """The run's data splits, rebuilt from its DataSpec (deterministic)."""
        from explorer.data import DataSpec, make_splits

        return make_splits(DataSpec.from_dict(self.config["train"]["data"]))

    def test_images(self) -> np.ndarray:
        """uint8 (N, 28, 28) test images, in the order of predictions.npz when present."""
        test = self.splits().test
        images = test.images.numpy()
        preds = self.predictions()
        if preds is not None and len(preds.indices) and preds.indices.max() >= len(images):
            raise RunFileError(self.predictions_path, f"points at test image {int(preds.indices.max())} but the "
                                                      f"test split has {len(images)} images")
        return images[preds.indices] if preds is not None else images

    def image_ref(self, ref: str) -> Any:
        """The (1, 28, 28) float image in [0, 1] for `ref`: "test:N" (the N-th image in test_images' order)
        or an image file (through the one preprocessing path). ValueError/FileNotFoundError say what to give."""
        if ref.startswith("test:"):
            try:
                index = int(ref[5:])
            except ValueError:
                raise ValueError(f"bad image reference {ref!r}: use test:N with N an integer") from None
            images = self.test_images()
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

    def info(self) -> RunInfo:
        """Summary row for lists; RunFileError when one of its files is unreadable (see list_runs)."""
        cfg = self.config
        if (self.path / STATUS).is_file():
            self.checked_status()
        train = cfg.get("train", {})
        hist = self.history()
        vals = [h.get("val_acc") for h in hist if h.get("val_acc") is not None]
        metrics = self.metrics() or {}
        stages = train.get("stages") or []
        epochs = sum(int(s.get("epochs", 0)) for s in stages) if stages else int(train.get("epochs", 0))
        return RunInfo(
            run_id=self.run_id, name=cfg.get("name") or self.run_id, model=self.model_name,
            dataset=self.dataset, status=self.status["status"],
            created=parse_created(cfg.get("created")), epochs_done=len(hist), epochs=epochs,
            best_val_acc=max(vals) if vals else None, test_acc=metrics.get("test_acc"),
            tags=list(cfg.get("tags") or []), path=str(self.path),
        )  # fmt: skip

    # ---- cached derived results (cache/<name>.json): recomputable, keyed, written atomically ----------
    def _cache_file(self, name: str) -> Path:
        """The file of cached result `name` (a safe file name under cache/)."""
        return self.path / CACHE_DIR / f"{safe_name(name, default='result', max_len=80)}.json"

    def read_cached(self, name: str, key: dict[str, Any]) -> Any | None:
        """The cached result `name` if it was stored under exactly `key` (else None; unreadable = None)."""
        try:
            data = json.loads(self._cache_file(name).read_text("utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("key") != json.loads(json.dumps(key)):
            return None
        return data.get("value")

    def write_cached(self, name: str, key: dict[str, Any], value: Any) -> None:
        """Store a derived result under `key` (JSON, atomically) in the run's cache folder."""
        f = self._cache_file(name)
        f.parent.mkdir(exist_ok=True)
        atomic_write_json(f, {"key": key, "value": value})

    # ---- writers (used by the training loop) ---------------------------------------------------
    def write_status(self, **fields: Any) -> dict[str, Any]:
        """Merge `fields` into status.json (atomically) and return the new status."""
        status = {**self.raw_status, **fields, "heartbeat": time.time()}
        atomic_write_json(self.path / STATUS, status)
        return status

    def update_config(self, **fields: Any) -> None:
        """Merge top-level `fields` into config.json (atomically)."""
        atomic_write_json(self.path / CONFIG, {**self.config, **fields})

    def append_history(self, row: dict[str, Any]) -> None:
        """Add one epoch's record to history.jsonl (atomically)."""
        append_jsonl(self.path / HISTORY, row)

    def write_metrics(self, metrics: dict[str, Any]) -> None:
        """Save the final test metrics (metrics.json, atomically)."""
        atomic_write_json(self.path / METRICS, metrics)

    # ---- derived results (explorer.inside): per-epoch validation predictions and stored views ------
    def write_val_epoch(self, epoch: int, y_true: Any, pred: Any, prob: Any) -> None:
        """Save one epoch's validation predictions compactly (atomically): true and predicted class (int16)
        and the predicted class's probability (float16), val_epochs/epoch-NNNN.npz."""
        arrays = {"y_true": np.asarray(y_true).astype(np.int16), "pred": np.asarray(pred).astype(np.int16),
                  "prob": np.asarray(prob).astype(np.float16)}
        with atomic_path(self.path / VAL_EPOCHS_DIR / f"epoch-{int(epoch):04d}.npz") as tmp, open(tmp, "wb") as fh:
            np.savez_compressed(fh, **arrays)

    def val_epochs(self) -> dict[int, dict[str, np.ndarray]]:
        """Stored validation predictions {epoch: {y_true, pred, prob}} of the epochs in history.jsonl; a file
        that is unreadable or whose arrays disagree in length is left out (never an exception)."""
        folder, out = self.path / VAL_EPOCHS_DIR, {}
        epochs = {int(r["epoch"]) for r in self.history() if isinstance(r.get("epoch"), int | float)}
        for epoch in sorted(epochs):
            try:
                with np.load(folder / f"epoch-{epoch:04d}.npz", allow_pickle=False) as z:
                    arrays = {k: np.asarray(z[k]) for k in ("y_true", "pred", "prob")}
            except Exception:  # missing, truncated, not an npz, wrong keys: that epoch has no stored predictions
                continue
            n = len(arrays["y_true"])
            if all(a.ndim == 1 and len(a) == n for a in arrays.values()):
                out[epoch] = {"y_true": arrays["y_true"].astype(np.int64), "pred": arrays["pred"].astype(np.int64),
                              "prob": arrays["prob"].astype(np.float32)}
        return out

    def val_epochs_bytes(self) -> int:
        """Bytes on disk of the stored per-epoch validation predictions."""
        folder = self.path / VAL_EPOCHS_DIR
        return sum(f.stat().st_size for f in folder.glob("epoch-*.npz")) if folder.is_dir() else 0

    def _view_path(self, name: str) -> Path:
        if not _VIEW_NAME.fullmatch(name):
            raise ValueError(f"bad stored-view name {name!r}: lower-case letters, digits, . _ - only")
        return self.path / VIEWS_DIR / f"{name}.npz"

    def write_view(self, name: str, arrays: dict[str, Any], meta: dict[str, Any]) -> None:
        """Store a computed view (explorer.inside) atomically as inside/<name>.npz: arrays plus JSON meta."""
        payload = {k: np.asarray(v) for k, v in arrays.items()}
        payload["__meta__"] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
        with atomic_path(self._view_path(name)) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, **payload)

    def read_view(self, name: str) -> tuple[dict[str, np.ndarray], dict[str, Any]] | None:
        """A stored view (arrays, meta), or None when it is missing or unreadable (the caller recomputes)."""
        try:
            with np.load(self._view_path(name), allow_pickle=False) as z:
                arrays = {k: np.asarray(z[k]) for k in z.files}
            meta = json.loads(arrays.pop("__meta__").tobytes().decode("utf-8"))
        except Exception:  # missing, truncated, not an npz, pickled, bad JSON: recompute
            return None
        return (arrays, meta) if isinstance(meta, dict) else None

    def model_spec(self) -> dict[str, Any] | None:
        """The design the run trained (design.json, checked like any untrusted file), or None for a built-in model.

        Every rebuild of the run's model passes it on, so the run works after its design is edited or deleted."""
        path = self.path / DESIGN
        if not path.is_file():
            return None
        from explorer.design import DesignError, read_design_file

        try:
            return read_design_file(path).to_dict()
        except DesignError as exc:
            raise RunFileError(path, str(exc), "restore the run's design.json or delete the run") from None

    def build_model(self) -> Any:
        """The run's model, untrained (the run's own design for a design:NAME model)."""
        from explorer.models import build_from_config

        model, _ = build_from_config(self.train_config(), self.num_classes, load_pretrained=False,
                                     spec=self.model_spec())
        return model

    # ---- checkpoints: one unit of weights_last (+ weights_best) and optimizer_last ------------------
    def check_resumable(self) -> None:
        """Read what a resume needs (config, history, weights headers, optimizer state) through their checks,
        so a damaged file is refused (RunFileError) before the run's status is touched."""
        self.history()
        weights = [self.path / n for n in WEIGHTS.values() if (self.path / n).is_file()]
        if weights:
            model = self.build_model()
            want = {k: tuple(v.shape) for k, v in model.state_dict().items()}
            for path in weights:
                _weights_epoch(path)
                _check_shapes(path, want, self.model_name)
        if (self.path / OPTIMIZER).is_file():
            _load_optimizer_file(self.path / OPTIMIZER)

    def has_checkpoint(self) -> bool:
        """True when the run has (possibly half-renamed) resume state on disk."""
        return any((self.path / n).is_file() for n in (OPTIMIZER, _pending(OPTIMIZER)))

    def save_checkpoint(self, weights: dict[str, Any], optimizer: dict[str, Any], loop: dict[str, Any],
                        history_row: dict[str, Any] | None = None, is_best: bool = False) -> None:
        """Save the checkpoint of completed epoch loop["epoch"]: every file is written whole under its
        pending name first, then renamed into place, so a kill at any instant leaves a loadable checkpoint."""
        epoch = int(loop["epoch"])
        pending = [_pending(WEIGHTS["last"]), _pending(OPTIMIZER)] + ([_pending(WEIGHTS["best"])] if is_best else [])
        try:
            _save_weights(self.path / pending[0], weights, epoch)
            fault_point(f"ckpt:pending-last@{epoch}")
            if is_best:
                _save_weights(self.path / pending[2], weights, epoch)
                fault_point(f"ckpt:pending-best@{epoch}")
            payload = {"epoch": epoch, "optimizer": optimizer, "loop": dict(loop), "history_row": history_row}
            _save_torch(self.path / pending[1], payload)
            fault_point(f"ckpt:pending-optimizer@{epoch}")
        except BaseException:
            for name in pending:  # a partial checkpoint is dropped: the previous one stays whole and in place
                (self.path / name).unlink(missing_ok=True)
            raise
        for name in (WEIGHTS["best"], WEIGHTS["last"], OPTIMIZER):
            if (self.path / _pending(name)).is_file():
                os.replace(self.path / _pending(name), self.path / name)
                fault_point(f"ckpt:renamed-{name.split('.')[0]}@{epoch}")

    def load_checkpoint(self) -> Checkpoint | None:
        """The newest checkpoint whose files record the same epoch (None when there is none); finishes
        the renames of a checkpoint that was whole when its writer died and drops a partial one."""

        states: dict[str, dict[str, Any]] = {}
        for name in (OPTIMIZER, _pending(OPTIMIZER)):
            if (self.path / name).is_file():
                states[name] = _load_optimizer_file(self.path / name)
        epochs = {name: int(p.get("epoch", p["loop"]["epoch"])) for name, p in states.items()}
        weights = {name: self._epoch_of(name) for name in (WEIGHTS["last"], _pending(WEIGHTS["last"]))}
        for name in sorted(states, key=lambda n: epochs[n], reverse=True):
            legacy = name == OPTIMIZER and weights[WEIGHTS["last"]] is None  # files from before epochs were recorded
            if epochs[name] in weights.values() or legacy:
                payload = states[name]
                best_epoch = int(payload["loop"].get("best_epoch") or 0)
                self._settle_checkpoint({WEIGHTS["last"]: epochs[name], OPTIMIZER: epochs[name],
                                         WEIGHTS["best"]: best_epoch}, epochs)
                state = self.read_weights("last")
                return Checkpoint(epochs[name], state, payload["optimizer"], dict(payload["loop"]),
                                  payload.get("history_row"))
        return None

    def _epoch_of(self, name: str) -> int | None | bool:
        """Epoch recorded in a weights file (None: written before epochs were recorded; False: no file)."""
        p = self.path / name
        return _weights_epoch(p) if p.is_file() else False

    def _settle_checkpoint(self, wanted: dict[str, int], optimizer_epochs: dict[str, int]) -> None:
        """Make the final file names hold the wanted epochs: rename pending files of those epochs in, drop others."""
        for name, want in wanted.items():
            pending = _pending(name)
            if not (self.path / pending).is_file():
                continue
            got = optimizer_epochs.get(pending) if name == OPTIMIZER else self._epoch_of(pending)
            if got == want:
                os.replace(self.path / pending, self.path / name)
            else:
                (self.path / pending).unlink()

    def sync_history(self, checkpoint: Checkpoint | None) -> None:
        """On resume: keep history rows up to the checkpoint's epoch and add its row if missing (no
        checkpoint: no history)."""
        if checkpoint is None:
            (self.path / HISTORY).unlink(missing_ok=True)
            return
        rows = [r for r in self.history() if int(r.get("epoch", 0)) <= checkpoint.epoch]
        if not any(int(r.get("epoch", 0)) == checkpoint.epoch for r in rows) and checkpoint.history_row:
            rows.append(dict(checkpoint.history_row))
        atomic_write_text(self.path / HISTORY, "".join(json.dumps(r) + "\n" for r in rows))


def create_run(config: Any, root: str | os.PathLike | None = None, name: str | None = None,
               tags: list[str] | None = None, sweep: dict[str, Any] | None = None,
               estimate: dict[str, Any] | None = None) -> Run:
    """Create a new run folder for a TrainConfig: config.json and status "running" (pid of this process).

    `sweep` ({"id", "point", "index"}) records the sweep a run belongs to (config.json "sweep"); `estimate`
    the time estimate shown before it started (explorer.train.estimate.RunEstimate.to_dict, config "estimate").
    """
    root_p = existing_runs_root(root)
    with disk_full_guard(root_p / CONFIG, "; no run was created"):
        root_p.mkdir(parents=True, exist_ok=True)
        label = name or getattr(config, "name", "") or ""
        base = f"{time.strftime('%Y%m%d-%H%M%S')}-{safe_name(label or config.model, default='run', max_len=48)}"
        clean = safe_name(label, default=base, max_len=80) if label else ""  # one cleaned name, top level and train
        cfg = {"run_id": base, "name": clean or base,
               "tags": [clean_tag(t) for t in tags or []],
               "created": time.strftime(CREATED_FORMAT), "train": {**config.to_dict(), "name": clean}, "data": {},
               "model": {"name": config.model}, "classes": [], "versions": versions(),
               **({"sweep": sweep} if sweep else {}), **({"estimate": estimate} if estimate else {})}
        spec = _model_spec(config.model)
        staging = Path(tempfile.mkdtemp(prefix=temp_prefix("creating"), dir=root_p))
        try:
            if spec is not None:
                atomic_write_json(staging / DESIGN, spec)
            atomic_write_json(staging / STATUS, {
                "status": "running", "error": None, "pid": os.getpid(), "pid_start": process_start(os.getpid()),
                "host": socket.gethostname(),
                "heartbeat": time.time(), "epoch": 0, "stage": 0, "phase": "starting",
            })  # fmt: skip
            return Run(_place_run(staging, root_p, base, cfg, keep_name=bool(label)))
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise


def _model_spec(model: str) -> dict[str, Any] | None:
    """What the run must keep of its model (a design's JSON); None for a built-in network or an unknown name."""
    from explorer.models import UnknownModelError, model_spec

    try:
        return model_spec(model)
    except UnknownModelError:
        return None


def _place_run(staging: Path, root_p: Path, base: str, cfg: dict[str, Any], keep_name: bool = True,
               suffix: str = "-") -> Path:
    """Rename a whole staged run folder to the first free id base, base-1, ... (config.json records the id);
    a run folder is never visible half-made."""
    for i in range(1000):
        run_id = base if i == 0 else f"{base}{suffix}{i}"
        if (root_p / run_id).exists():
            continue
        name = cfg.get("name") if keep_name else run_id
        atomic_write_json(staging / CONFIG, {**cfg, "run_id": run_id, "name": name})
        fault_point("create:staged")
        try:
            os.rename(staging, root_p / run_id)  # fails when another process took the id meanwhile
            return root_p / run_id
        except OSError:
            if not (root_p / run_id).exists():
                raise
    raise ValueError(f"could not find a free run id for {base!r} under {root_p}")


def open_run(ref: str | os.PathLike | Run, root: str | os.PathLike | None = None) -> Run:
    """Open a run by id (under the runs root) or by folder path."""
    if isinstance(ref, Run):
        return ref
    p = Path(ref)
    if (p / CONFIG).is_file():
        return Run(p)
    ref_s = str(ref)
    if "/" in ref_s or "\\" in ref_s or ".." in ref_s:
        raise FileNotFoundError(f"no run folder at {ref_s}")
    cand = runs_root(root) / ref_s
    if (cand / CONFIG).is_file():
        return Run(cand)
    matches = [r for r in run_dirs(root) if r.name.startswith(ref_s)]
    if len(matches) == 1:
        return Run(matches[0])
    hint = f" ({len(matches)} runs start with it)" if len(matches) > 1 else ""
    raise FileNotFoundError(f"no run {ref_s!r} under {runs_root(root)}{hint}; see `python -m explorer runs list`")


def existing_runs_root(root: str | os.PathLike | None = None) -> Path:
    """The runs root; NotADirectoryError (an OSError: one clear line) when that path is a file."""
    r = runs_root(root)
    if r.exists() and not r.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "the runs folder is a file, not a folder; point --runs or "
                                 f"${RUNS_ENV} at a folder", str(r))
    return r


def run_dirs(root: str | os.PathLike | None = None) -> list[Path]:
    """Folders under the runs root that hold a config.json."""
    r = existing_runs_root(root)
    if not r.is_dir():
        return []
    # a name starting with "." is a run being created, imported or deleted (or the locks): never a run
    return sorted(p for p in r.iterdir() if not p.name.startswith(".") and p.is_dir() and (p / CONFIG).is_file())


def clean_stale(root: str | os.PathLike | None = None) -> list[Path]:
    """Remove what killed processes left under the runs root: half-made run folders (.creating-*), import
    and pull staging (.import-*, .pull-*), half-deleted runs (.deleting-*) and temporary files inside run folders. Only files
    whose writer (the pid in their name) is gone are touched; pending checkpoint files stay for load_checkpoint."""
    removed = clean_stale_temp(runs_root(root))
    for p in run_dirs(root):
        removed += clean_stale_temp(p)
    return removed


def list_runs(root: str | os.PathLike | None = None) -> list[RunInfo]:
    """Every run under the root, newest first. Each is read behind one guard: a run with an unreadable
    file is listed with status "unreadable" and `error` naming the file and the reason (after the others).
    Stale temporary files of killed writers are cleaned first."""
    clean_stale(root)
    out = [_guarded_info(p) for p in run_dirs(root)]
    return sorted(out, key=lambda r: (r.readable, r.created, r.run_id), reverse=True)


def _guarded_info(path: Path) -> RunInfo:
    """Run(path).info(), or an "unreadable" row whose error says which file and why; never raises."""
    try:
        return Run(path).info()
    except Exception as exc:  # the one guard: whatever a damaged or foreign run folder holds
        msg = str(exc) if isinstance(exc, (RunFileError, OSError)) else f"{path}: {type(exc).__name__}: {exc}"
        return RunInfo(run_id=path.name, name=path.name, model="?", dataset="?", status="unreadable", created="",
                       epochs_done=0, epochs=0, best_val_acc=None, test_acc=None, path=str(path), error=msg[:500])


def rename_run(ref: str | Run, new_name: str, root: str | os.PathLike | None = None) -> Run:
    """Set a run's display name (made safe; the folder, i.e. the run id, stays)."""
    run = open_run(ref, root)
    run.update_config(name=safe_name(new_name, default=run.run_id))
    return run


def clean_tag(tag: str) -> str:
    """A tag as stored: safe_name of it (any script kept; separators and control characters refused)."""
    return safe_name(tag, default="tag", max_len=40)


def tag_run(ref: str | Run, add: list[str] | None = None, remove: list[str] | None = None,
            root: str | os.PathLike | None = None) -> Run:
    """Add and/or remove tags of a run."""
    run = open_run(ref, root)
    gone = {clean_tag(t) for t in remove or []} | set(remove or [])  # cleaned the same way as on add
    tags = [t for t in run.config.get("tags", []) if t not in gone]
    for t in add or []:
        t = clean_tag(t)
        if t not in tags:
            tags.append(t)
    run.update_config(tags=tags)
    return run


RUN_DIRS = {CACHE_DIR, VAL_EPOCHS_DIR, VIEWS_DIR, "evaluation"}  # folders a run folder may hold (evaluate's default)
RUN_EXTRA = {STOP_FILE, "worker.log"}  # files a run folder may hold besides RUN_FILES


def _run_entry(p: Path) -> bool:
    """True for what the store itself puts into a run folder (its files, pending checkpoint files, temp files)."""
    name = p.name
    if p.is_symlink():
        return False
    if name.startswith("."):  # atomic writers' temporary files
        return p.is_file()
    if p.is_dir():
        return name in RUN_DIRS
    return name in RUN_FILES or name in RUN_EXTRA or name in {_pending(n) for n in RUN_FILES}


def check_deletable(run: Run, root: str | os.PathLike | None = None) -> None:
    """Refuse (ValueError naming why) to delete what is not a run of the store: a folder outside the runs
    root, a link, a hidden name, or a folder holding anything a run folder never holds (a project's src/)."""
    root_p = runs_root(root).resolve()
    if run.path.is_symlink():
        raise ValueError(f"refused: {run.path} is a link, not a run folder of the store; remove the link itself")
    real = run.path.resolve()
    if real.parent != root_p or real.name.startswith("."):
        raise ValueError(f"refused: {run.path} is not a run of the runs folder {root_p}; only runs that "
                         "`python -m explorer runs list` shows there are deleted (pass --runs for another folder)")
    foreign = sorted(p.name + ("/" if p.is_dir() else "") for p in real.iterdir() if not _run_entry(p))
    if foreign:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        raise ValueError(f"refused: {real} holds {shown}, which a run folder never holds; it is not deleted "
                         "(move what you want to keep out of it, or delete it by hand)")


def delete_run(ref: str | Run, root: str | os.PathLike | None = None, confirm: bool = False) -> None:
    """Delete a run of the store (check_deletable); needs confirm=True and refuses a run that is still running."""
    run = open_run(ref, root)
    if not confirm:
        raise ValueError(f"deleting run {run.run_id} needs confirmation (confirm=True / --yes)")
    check_deletable(run, root)
    if run.status["status"] == "running":
        raise ValueError(f"run {run.run_id} is still running; stop it first")
    # Rename first so a half-deleted folder never looks like a run.
    trash = run.path.with_name(f"{temp_prefix('deleting')}{run.run_id}")
    os.replace(run.path, trash)
    shutil.rmtree(trash, ignore_errors=True)


def _inside_run(path: Path) -> Path | None:
    """The run folder that `path` lies in (a folder holding config.json and status.json), if any."""
    for parent in path.resolve().parents:
        if _is_run_folder(parent):
            return parent
    return None


def check_output(path: str | os.PathLike, force: bool = False, flag: str = "--out", folder: bool = False,
                 writes: tuple[str, ...] = (), allow: str | os.PathLike | None = None) -> Path:
    """The ONE guard of every output path a command writes (returns it as a Path; ValueError -> exit 2): never
    inside a run folder nor a run folder itself (`allow`: the one folder inside a run that the command owns,
    evaluate's RUN/evaluation), never over an existing file without force. A file output must not be a folder;
    a folder output (folder=True) must not be a file, and the names it `writes` there must not exist without force."""
    p = Path(path)
    owned = allow is not None and p.resolve() == Path(allow).resolve()
    owner = None if owned else (_inside_run(p) or (p.resolve() if _is_run_folder(p.resolve()) else None))
    if owner is not None:
        raise ValueError(f"refused: {flag} {p} lies inside the run folder {owner}, whose files it would damage; "
                         "write somewhere else")
    if folder:
        if p.exists() and not p.is_dir():
            raise ValueError(f"refused: {flag} {p} is a file, not a folder; give a folder")
        there = [n for n in writes if (p / n).exists() or (p / n).is_symlink()]
        if there and not force and not owned:
            raise ValueError(f"refused: {p} already holds {', '.join(there)}; choose another folder or pass --force "
                             "to replace")
        return p
    if p.is_dir():
        raise ValueError(f"refused: {flag} {p} is a folder; give a file name such as {p / 'out'}")
    if (p.exists() or p.is_symlink()) and not force:
        raise ValueError(f"refused: {flag} {p} already exists; choose another name or pass --force to replace it")
    return p


def _is_run_folder(path: Path) -> bool:
    """A folder holding config.json and status.json (what _inside_run looks for)."""
    return (path / CONFIG).is_file() and (path / STATUS).is_file()


def export_run(ref: str | Run, dest: str | os.PathLike | None = None, root: str | os.PathLike | None = None,
               force: bool = False) -> Path:
    """Write one zip of the run's files (folder <run_id>/ inside); returns its path. An existing file is
    replaced only with force=True; nothing is ever written inside a run folder. A full disk is a DiskFullError."""
    run = open_run(ref, root)
    dest_p = Path(dest) if dest else Path(f"{run.run_id}.zip")
    if dest_p.is_dir():
        dest_p = dest_p / f"{run.run_id}.zip"
    check_output(dest_p, force, flag="--output")
    with atomic_path(dest_p) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(RUN_FILES):
            f = run.path / name
            if f.is_file():
                zf.write(f, f"{run.run_id}/{name}")
    return dest_p


def _check_member(info: zipfile.ZipInfo) -> tuple[str, str]:
    """Validate one zip member name -> (folder, file name) or raise ValueError."""
    name = info.filename
    if name.startswith(("/", "\\")) or "\\" in name or ":" in name:
        raise ValueError(f"refused: zip member {name!r} has an absolute or Windows path")
    parts = name.split("/")
    if any(p in ("..", ".", "") for p in parts):
        raise ValueError(f"refused: zip member {name!r} has '..', '.' or an empty path part")
    if len(parts) != 2:
        raise ValueError(f"refused: zip member {name!r} is not <run_id>/<file>")
    folder, fname = parts
    if fname not in RUN_FILES or not fname.endswith(ALLOWED_SUFFIXES):
        raise ValueError(f"refused: zip member {name!r} is not a run file ({', '.join(sorted(RUN_FILES))})")
    if safe_name(folder) != folder:
        raise ValueError(f"refused: run folder name {folder!r} is not safe")
    return folder, fname


def _verify_file(path: Path) -> None:
    """Check that an imported file parses as what its name says, without unpickling anything."""
    import torch

    name = path.name
    try:
        if name.endswith(".jsonl"):
            for line in path.read_text("utf-8").splitlines():
                if line.strip():
                    json.loads(line)
        elif name.endswith(".json"):
            json.loads(path.read_text("utf-8"))
        elif name.endswith(".npz"):
            with np.load(path, allow_pickle=False) as z:
                for k in z.files:
                    _ = z[k]
        elif name.endswith(".safetensors"):
            from safetensors import safe_open

            with safe_open(str(path), framework="pt") as f:
                list(f.keys())
        elif name.endswith(".pt"):
            torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        first = next((ln.strip() for ln in str(exc).splitlines() if ln.strip()), "")[:200]  # one line (torch's are long)
        raise ValueError(f"refused: {name} is not a valid {path.suffix} file ({type(exc).__name__}: {first})") from exc


def import_run(zip_path: str | os.PathLike | bytes | BinaryIO, root: str | os.PathLike | None = None) -> Run:
    """Import a run zip made by export_run (a path, or its bytes: nothing is written outside the runs
    root); every member is checked (names, sizes, formats, display strings) before anything lands in
    the runs root. The data root becomes the local one. A clashing run id gets a suffix."""
    label = "the upload" if isinstance(zip_path, bytes | bytearray) or hasattr(zip_path, "read") else str(zip_path)
    source: Any = io.BytesIO(zip_path) if isinstance(zip_path, bytes | bytearray) else zip_path
    if not zipfile.is_zipfile(source):
        raise ValueError(f"{label} is not a zip file; choose a run zip made by Export (runs export)")
    with zipfile.ZipFile(source) as zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        if not infos:
            raise ValueError(f"{label} is empty")
        folders = {_check_member(i)[0] for i in infos}
        if len(folders) != 1:
            raise ValueError(f"refused: the zip holds {len(folders)} top-level folders; expected one run")
        _check_sizes(infos)
        folder = folders.pop()
        if CONFIG not in {i.filename.split("/")[1] for i in infos}:
            raise ValueError("refused: the zip has no config.json")
        root_p = existing_runs_root(root)
        root_p.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=temp_prefix("import"), dir=root_p))
        try:
            with disk_full_guard(staging, "; nothing was imported"):
                for info in infos:
                    _, fname = _check_member(info)
                    _unpack_member(zf, info, staging / fname)
                path = _admit_staged(staging, root_p, folder, suffix="-imported-")
        except DiskFullError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise DiskFullError(root_p / exc.path.name, "; nothing was imported") from exc
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return Run(path)


def portable_files(entries: list[tuple[str, bool, int]]) -> list[tuple[str, int]]:
    """Of a run folder's listing from elsewhere [(name, is_folder, declared bytes)], the run files to bring
    (RUN_FILES, checked against the caps of an import): what only a local run folder holds (STOP, worker.log,
    temporary and pending files, cache/, val_epochs/, ...) is left behind; any other name is refused."""
    take: list[tuple[str, int]] = []
    for name, is_folder, size in entries:
        if not name or "/" in name or "\\" in name or ":" in name or name in (".", ".."):
            raise ValueError(f"refused: the run folder holds {name!r}, a name with a path in it")
        if is_folder:
            if name not in RUN_DIRS:
                raise ValueError(f"refused: the run folder holds a folder {name!r}, which a run folder never holds")
        elif name in RUN_FILES:
            take.append((name, int(size or 0)))
        elif not (name in RUN_EXTRA or name.startswith(".") or name in {_pending(n) for n in RUN_FILES}):
            raise ValueError(f"refused: the run folder holds {name!r}, which is not a run file "
                             f"({', '.join(sorted(RUN_FILES))})")
    _check_declared(take)
    if CONFIG not in {n for n, _ in take}:
        raise ValueError("refused: the run folder has no config.json")
    return take


def _check_declared(files: list[tuple[str, int]]) -> None:
    """Refuse files whose (declared or actual) sizes pass a run file's cap or the whole folder's."""
    total = 0
    for fname, size in files:
        cap = IMPORT_CAPS.get(fname, 1 * MiB)
        if size > cap:
            raise ValueError(f"refused: {fname} is {size / MiB:,.1f} MiB; a run's {fname} is at most "
                             f"{cap / MiB:,.0f} MiB")
        total += size
    if total > MAX_IMPORT_BYTES:
        raise ValueError(f"refused: the run holds {total / MiB:,.0f} MiB; a run folder is at most "
                         f"{MAX_IMPORT_BYTES / MiB:,.0f} MiB")


def admit_staged(staging: str | os.PathLike, root: str | os.PathLike | None, base: str, suffix: str,
                 origin: dict[str, Any] | None = None) -> Run:
    """Admit a folder of run files from elsewhere (staged in the runs root, e.g. by `runs pull`) through the
    checks of an import; `origin` is recorded in its config.json. The staged folder is moved or removed."""
    root_p = existing_runs_root(root)
    staging_p = Path(staging)
    if root_p.resolve() not in staging_p.resolve().parents:  # the final rename stays on one filesystem
        raise ValueError(f"staged run folder {staging_p} must lie in the runs root {root_p}")
    try:
        with disk_full_guard(staging_p, "; nothing was pulled"):
            return Run(_admit_staged(staging_p, root_p, base, suffix, origin))
    finally:
        shutil.rmtree(staging_p, ignore_errors=True)


def _admit_staged(staging: Path, root_p: Path, base: str, suffix: str, origin: dict[str, Any] | None = None) -> Path:
    """The one check of a run from elsewhere (import, pull) before it lands: only run files, within their caps,
    each parsing as what its name says (nothing unpickled), a valid config and design, short plain display
    strings; then the data root becomes the local one and the folder is placed under a free run id."""
    if safe_name(base) != base or base.startswith("."):
        raise ValueError(f"refused: run id {base!r} is not safe")
    entries = [(f.name, f.is_dir() and not f.is_symlink(), 0) for f in staging.iterdir()]
    if any(f.is_symlink() or not (f.is_file() or f.is_dir()) for f in staging.iterdir()):
        raise ValueError("refused: the run folder holds a link or a special file")
    if any(is_dir or name not in RUN_FILES for name, is_dir, _ in entries):
        bad = sorted(n for n, d, _ in entries if d or n not in RUN_FILES)
        raise ValueError(f"refused: {bad[0]!r} is not a run file ({', '.join(sorted(RUN_FILES))})")
    _check_declared([(f.name, f.stat().st_size) for f in staging.iterdir()])
    if not (staging / CONFIG).is_file():
        raise ValueError("refused: the run has no config.json")
    for f in sorted(staging.iterdir()):
        _verify_file(f)
    cfg = _imported_config(staging)
    if (staging / DESIGN).is_file():
        from explorer.design import DesignError, read_design_file

        try:
            read_design_file(staging / DESIGN)
        except DesignError as exc:
            raise ValueError(f"refused: design.json is not a valid design ({exc})") from None
    st = staging / STATUS
    status = json.loads(st.read_text("utf-8")) if st.is_file() else {"status": "interrupted"}
    if not isinstance(status, dict):
        raise ValueError("refused: status.json is not a JSON object")
    problems = run_strings_problems(cfg, status)
    if problems:
        raise ValueError("refused: names, class names, tags and messages must be short plain text: "
                         + "; ".join(problems[:5]) + ("; ..." if len(problems) > 5 else ""))
    if cfg.get("created"):
        cfg["created"] = min(str(cfg["created"]), time.strftime(CREATED_FORMAT))  # not in the future
    if isinstance(cfg["train"].get("data"), dict):
        cfg["train"]["data"]["root"] = None  # the local data root, never a path from elsewhere
    if origin is not None:
        cfg["origin"] = origin
    status.pop("pid", None)  # a pid from another machine means nothing here
    atomic_write_json(st, status)
    return _place_run(staging, root_p, base, cfg, suffix=suffix)


def _check_sizes(infos: list[zipfile.ZipInfo]) -> None:
    """Refuse a zip from its declared sizes: per-file caps, the folder cap and the compression ratio."""
    total = 0
    for info in infos:
        fname = info.filename.split("/")[-1]
        cap = IMPORT_CAPS.get(fname, 1 * MiB)
        if info.file_size > cap:
            raise ValueError(f"refused: {fname} would unpack to {info.file_size / MiB:,.1f} MiB; a run's "
                             f"{fname} is at most {cap / MiB:,.0f} MiB")
        if info.file_size > RATIO_FROM and info.file_size > MAX_RATIO * max(1, info.compress_size):
            raise ValueError(f"refused: {fname} is compressed {info.file_size / max(1, info.compress_size):,.0f}x "
                             f"(at most {MAX_RATIO:g}x for a run file): a zip bomb")
        total += info.file_size
    if total > MAX_IMPORT_BYTES:
        raise ValueError(f"refused: the zip unpacks to {total / MiB:,.0f} MiB; a run folder is at most "
                         f"{MAX_IMPORT_BYTES / MiB:,.0f} MiB")


def _unpack_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, dest: Path) -> None:
    """Copy one member, counting the bytes streamed: more than its declared size or its cap is refused."""
    fname = dest.name
    limit = min(info.file_size, IMPORT_CAPS.get(fname, 1 * MiB))
    done = 0
    try:
        with zf.open(info) as src, open(dest, "wb") as dst:
            while chunk := src.read(1 << 20):
                done += len(chunk)
                if done > limit:
                    raise ValueError(f"refused: {fname} unpacks to more than its declared {info.file_size:,} "
                                     f"bytes (cap {IMPORT_CAPS.get(fname, 1 * MiB) / MiB:,.0f} MiB): a zip bomb")
                dst.write(chunk)
    except (zipfile.BadZipFile, EOFError, zlib.error, NotImplementedError) as exc:  # a size or CRC that lies: the stream disagrees
        raise ValueError(f"refused: {fname} in the zip is damaged or lies about its size ({exc})") from exc


def _imported_config(staging: Path) -> dict[str, Any]:
    """The imported config.json, its training config checked against every bound (ValueError when refused)."""
    from explorer.config import TrainConfig

    cfg = json.loads((staging / CONFIG).read_text("utf-8"))
    if not isinstance(cfg, dict) or not isinstance(cfg.get("train"), dict):
        raise ValueError("refused: config.json has no 'train' section")
    try:
        TrainConfig.from_dict(cfg["train"]).validate()
    except (TypeError, ValueError) as exc:
        raise ValueError(f"refused: config.json has an invalid training config: {exc}") from exc
    return cfg


def export_run_bytes(ref: str | Run, root: str | os.PathLike | None = None) -> tuple[str, bytes]:
    """The run zip of export_run built in memory (no file left anywhere) -> (file name, bytes)."""
    run = open_run(ref, root)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(RUN_FILES):
            f = run.path / name
            if f.is_file():
                zf.write(f, f"{run.run_id}/{name}")
    return f"{run.run_id}.zip", buf.getvalue()
